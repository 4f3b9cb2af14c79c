"""Mail against a real SMTP server on 127.0.0.1 (aiosmtpd): text and HTML parts, the folder
used when no server is set, the weekly digest, alerts, and one-click unsubscribe."""

from __future__ import annotations

import email
import io
import os
import socket
import stat
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from app.extensions import db
from app.mail import MailError, mail
from app.mail.notices import plan_digest, send_due_digests, unsubscribe_token
from app.models import Connection, User
from app.networks.base import AccountData, Person, Post
from app.sync import producers
from app.sync.runner import start_sync
from app.sync.schedule import WARN_AFTER, tick


class Inbox:
    """An aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=default))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def inbox(app):
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config.update(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=controller.port,
        MAIL_USE_TLS=False,
        MAIL_USERNAME=None,
        MAIL_FROM="robot@md.example",
        SITE_URL="https://md.example",
    )
    yield handler
    controller.stop()


def parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


def test_a_message_has_a_text_and_an_html_part(app, user, inbox):
    with app.test_request_context():
        mail(
            user.email,
            "Hello",
            "alert",
            user=user,
            reason="Because.",
            network="GitHub",
            page_url="https://md.example/x",
            unsubscribe_url="https://md.example/u",
        )
    (message,) = inbox.messages
    assert message["To"] == user.email and message["Subject"] == "Hello"
    assert message["From"] == "MD Analytics <robot@md.example>"
    text, html = parts(message)
    assert "Because." in text and "Because." in html and "<html" in html


def test_without_a_server_mail_goes_to_a_folder(app, user, tmp_path):
    app.config.update(MAIL_SERVER=None, MAIL_FOLDER=str(tmp_path / "mail"))
    with app.test_request_context():
        mail(
            user.email,
            "Saved",
            "alert",
            user=user,
            reason="R",
            network="X",
            page_url="u",
            unsubscribe_url="v",
        )
    (saved,) = list((tmp_path / "mail").iterdir())
    assert stat.S_IMODE(os.stat(saved).st_mode) == 0o600
    assert email.message_from_bytes(saved.read_bytes(), policy=default)["Subject"] == "Saved"


def test_a_refusing_server_raises_a_clear_error(app, user):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), MAIL_TIMEOUT=2)
    with app.test_request_context(), pytest.raises(MailError, match="did not take the message"):
        mail(
            user.email,
            "Nope",
            "alert",
            user=user,
            reason="R",
            network="X",
            page_url="u",
            unsubscribe_url="v",
        )


# -- digests and alerts --------------------------------------------------------------------


def account(followers: list[str], posts: int = 0) -> AccountData:
    people = {pid: Person(pid, f"user{pid}") for pid in followers}
    return AccountData(
        owner=Person("me", "me", followers_count=len(followers)),
        people=people,
        followers=list(followers),
        friends=[],
        posts=[
            Post(f"p{i}", datetime.now(UTC) - timedelta(hours=i), "A happy day", like_count=i)
            for i in range(posts)
        ],
    )


def syncs(user: User, monkeypatch, *reads: AccountData) -> Connection:
    connection = Connection(user_id=user.id, network="github", source="demo", handle="me")
    db.session.add(connection)
    db.session.commit()
    box: list[Any] = []
    monkeypatch.setitem(producers.PRODUCERS, "demo", lambda c, r, p: box.pop(0))
    for read in reads:
        box.append(read)
        start_sync(connection, "demo")
    return connection


def test_the_weekly_digest_names_who_came_and_left(app, user, inbox, monkeypatch):
    user.digest = True
    db.session.commit()
    syncs(user, monkeypatch, account(["1", "2", "3"]), account(["2", "3", "4"], posts=2))
    user.digest_next_at = datetime.now(UTC) - timedelta(minutes=1)
    db.session.commit()
    assert send_due_digests() == 1
    (message,) = inbox.messages
    text, html = parts(message)
    assert "1 new follower: @user4" in text and "1 left: @user1" in text
    assert "@user4" in html and "Best post" in text
    assert message["List-Unsubscribe"].startswith("<https://md.example/unsubscribe/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    now = datetime.now(UTC)
    assert now < user.digest_next_at <= now + timedelta(days=7)  # the user's own weekly slot


def test_no_digest_when_nothing_changed_or_not_asked(app, user, inbox, monkeypatch):
    syncs(user, monkeypatch, account(["1"]))
    user.digest, user.digest_next_at = True, datetime.now(UTC) + timedelta(days=30)
    other = User(username="quiet", email="quiet@example.com", digest=False)
    other.set_password("a long enough password")
    db.session.add(other)
    db.session.commit()
    assert send_due_digests(datetime.now(UTC) + timedelta(days=40)) == 0  # nothing this week
    assert inbox.messages == []


def test_the_scheduler_round_sends_due_digests(app, user, inbox, monkeypatch):
    user.digest = True
    db.session.commit()
    syncs(user, monkeypatch, account(["1"]), account(["1", "2"]))
    plan_digest(user, datetime.now(UTC) - timedelta(days=8))
    db.session.commit()
    assert tick("test", timedelta(minutes=3)) == []
    assert len(inbox.messages) == 1


def test_alerts_on_repeated_failures_and_unusual_loss(app, user, inbox, monkeypatch):
    user.alerts = True
    db.session.commit()
    many = [str(i) for i in range(100)]
    connection = syncs(user, monkeypatch, account(many), account(many[:90]))
    (loss,) = inbox.messages
    assert "10 of your 100 GitHub followers left in one sync" in parts(loss)[0]

    def fails(c: Connection, r: Any, p: Any) -> AccountData:
        from app.networks.base import NetworkError

        raise NetworkError("GitHub is down.")

    monkeypatch.setitem(producers.PRODUCERS, "demo", fails)
    for _ in range(WARN_AFTER + 1):
        start_sync(connection, "demo")
    assert len(inbox.messages) == 2  # once, when the count reaches the warning
    assert (
        f"The last {WARN_AFTER} syncs of GitHub failed: GitHub is down."
        in parts(inbox.messages[1])[0]
    )


def test_no_alerts_unless_asked(app, user, inbox, monkeypatch):
    many = [str(i) for i in range(100)]
    syncs(user, monkeypatch, account(many), account(many[:50]))
    assert inbox.messages == []


def test_one_click_unsubscribe(app, client, user):
    user.digest = user.alerts = True
    db.session.commit()
    with app.test_request_context():
        token = unsubscribe_token(user, "digest")
    page = client.get(f"/unsubscribe/{token}").get_data(as_text=True)
    assert "Stop this kind of mail" in page
    db.session.refresh(user)
    assert user.digest is True  # a GET (a link scanner) changes nothing
    response = client.post(f"/unsubscribe/{token}")
    assert response.status_code == 200 and "gets no more of the weekly digest" in response.get_data(
        as_text=True
    )
    db.session.refresh(user)
    assert (user.digest, user.alerts) == (False, True)
    assert client.post("/unsubscribe/forged-token").status_code == 404


def test_the_dashboard_says_what_changed_since_the_last_visit(app, auth, client, user, monkeypatch):
    auth.login()
    syncs(user, monkeypatch, account(["1", "2"]))
    assert "Since your last visit" not in client.get("/dashboard/user").get_data(as_text=True)
    connection = db.session.scalars(db.select(Connection)).one()
    monkeypatch.setitem(producers.PRODUCERS, "demo", lambda c, r, p: account(["2", "3"]))
    start_sync(connection, "demo")
    page = client.get("/dashboard/user").get_data(as_text=True)
    assert "Since your last visit" in page
    assert "1 new follower (@user3)" in page and "1 left (@user1)" in page
    assert "Since your last visit" not in client.get("/dashboard/user").get_data(as_text=True)


def test_the_digest_attaches_the_pdf_report(app, user, inbox, monkeypatch):
    pytest.importorskip("pypdf")
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError):
        pytest.skip("PDF reports need Pango and the Noto fonts: run `make pdf-deps`")
    from pypdf import PdfReader

    user.digest = True
    db.session.commit()
    syncs(user, monkeypatch, account(["1", "2"]), account(["2", "3"]))
    user.digest_next_at = datetime.now(UTC) - timedelta(minutes=1)
    db.session.commit()
    assert send_due_digests() == 1
    (message,) = inbox.messages
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == f"md-analytics-{user.username}.pdf"
    reader = PdfReader(io.BytesIO(attachment.get_content()))
    assert "GitHub" in "".join(page.extract_text() for page in reader.pages)
