"""The unhappy paths in the browser: wrong password, throttled sign-in, a forgotten password
reset through the mail, denied consent, hostile archives, and another user's URLs."""

from __future__ import annotations

import email
import email.policy
import re
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Session
from tests.e2e.helpers import LINKEDIN_PEOPLE, PASSWORD, linkedin_zip, x_zip, zip_bomb

pytestmark = pytest.mark.e2e

WRONG = "Wrong username, email or password."


def test_wrong_password_then_right_one(session: Session) -> None:
    page = session.page
    session.register("uh_wrong", PASSWORD)
    session.logout()
    session.signin("uh_wrong", "not the password")
    assert WRONG in page.inner_text("main")
    assert session.path() == "/signin"
    session.shot("signin-error")
    session.signin("uh_wrong@example.com", PASSWORD)
    page.wait_for_url("**/dashboard/user")


def test_throttled_sign_in(session: Session) -> None:
    """SIGNIN_LIMIT_PER_ACCOUNT is "3 per 10 minutes" on the e2e servers."""
    page = session.page
    session.register("uh_throttle", PASSWORD)
    session.logout()
    for _ in range(3):
        session.signin("uh_throttle", "wrong password")
        assert WRONG in page.inner_text("main")
    session.signin("uh_throttle", PASSWORD)  # even the right password waits now
    text = page.inner_text("main")
    assert "Too many failed sign-ins for this account" in text, text
    assert "429" in text
    session.shot("signin-throttled")
    session.goto("/dashboard/user")
    assert session.path().startswith("/signin")


def test_denied_consent_shows_message(session: Session, github: Any) -> None:
    page = session.page
    session.register("uh_denied", PASSWORD)
    session.goto("/dashboard/user/github/connect")
    github.deny_consent = True
    try:
        page.locator("#connect-live").get_by_role("link", name="Connect GitHub").click()
        page.wait_for_url("**/dashboard/user/github/connect")
    finally:
        github.deny_consent = False
    assert "You did not allow MD Analytics to read your GitHub account" in page.inner_text(
        ".alert-warning"
    )
    session.goto("/dashboard/user")
    card = page.locator("section.network-card", has=page.locator("#card-github"))
    assert "Not connected." in card.inner_text()
    assert session.goto("/dashboard/user/github").status == 404


def imported_followers(session: Session) -> str:
    session.page.locator("#stat-followers").wait_for(timeout=60_000)
    return session.page.inner_text("#stat-followers")


def upload(session: Session, archive: Path) -> None:
    page = session.page
    session.goto("/dashboard/user/linkedin/import")
    page.set_input_files("#archive", str(archive))
    page.locator("main input[type=submit]").click()
    page.wait_for_url("**/dashboard/user/linkedin")
    page.wait_for_function(
        "() => !document.querySelector('.sync-status[data-active=true]')", timeout=60_000
    )


def test_hostile_archives_are_refused_and_data_kept(session: Session, tmp_path: Path) -> None:
    page = session.page
    session.register("uh_hostile", PASSWORD)
    upload(session, linkedin_zip(tmp_path / "linkedin.zip"))
    before = imported_followers(session)
    assert before == str(len(LINKEDIN_PEOPLE))

    for archive, message in (
        (zip_bomb(tmp_path / "bomb.zip"), "zip bomb"),
        (x_zip(tmp_path / "twitter-archive.zip"), "X"),
    ):
        upload(session, archive)
        alert = page.locator(".sync-status .alert-danger")
        alert.wait_for(timeout=10_000)
        assert "Last sync failed" in alert.inner_text() and message in alert.inner_text()
        assert imported_followers(session) == before  # the stored data did not change
        if message == "zip bomb":
            session.shot("import-refused")
    export = page.request.get(session.stack.url + "/dashboard/user/linkedin/export/followers.json")
    assert export.ok and len(export.json()) == len(LINKEDIN_PEOPLE)


def test_another_users_urls_are_404(browser: Any, stack: Any, tmp_path: Path) -> None:
    owner = Session(browser, stack)
    stranger = Session(browser, stack)
    try:
        owner.register("uh_owner", PASSWORD)
        upload(owner, linkedin_zip(tmp_path / "linkedin.zip"))
        assert imported_followers(owner) == str(len(LINKEDIN_PEOPLE))
        stranger.register("uh_stranger", PASSWORD)
        for path in (
            "/user/uh_owner",
            "/dashboard/user/linkedin",
            "/dashboard/user/linkedin/status.json",
            "/dashboard/user/linkedin/export/followers.csv",
            "/dashboard/user/linkedin/graph/followers.json",
        ):
            response = stranger.goto(path)
            assert response.status == 404, path
        assert "Page not found" in stranger.page.inner_text("main")
        # The owner still sees their own pages.
        assert owner.goto("/user/uh_owner").status == 200
    finally:
        owner.close()
        stranger.close()


def test_a_forgotten_password_is_reset_through_the_mail(session: Session, stack: Any) -> None:
    """Without a mail server the app writes each message to instance/mail: the test reads
    the reset link there, as a person would read it in their inbox."""
    page = session.page
    session.register("uh_forgot", PASSWORD)
    session.logout()
    mail_dir = Path(stack.workdir) / "instance" / "mail"
    before = set(mail_dir.glob("*.eml")) if mail_dir.exists() else set()
    session.goto("/signin")
    page.click("text=Forgot your password?")
    page.fill("input[name=email]", "uh_forgot@example.com")
    page.click("button[type=submit], input[type=submit]")
    assert "If an account uses that address" in page.inner_text("main")
    (new_mail,) = set(mail_dir.glob("*.eml")) - before
    message = email.message_from_bytes(new_mail.read_bytes(), policy=email.policy.default)
    body = message.get_body(preferencelist=("plain",)).get_content()
    path = re.search(r"https?://[^/\s]+(/reset/\S+)", body).group(1)
    session.goto(path)
    new = "a fresh passphrase for e2e"
    page.fill("input[name=new]", new)
    page.fill("input[name=confirm]", new)
    page.click("button[type=submit], input[type=submit]")
    assert "Your password is changed" in page.inner_text("main")
    session.signin("uh_forgot", new)
    page.wait_for_url("**/dashboard/user")
