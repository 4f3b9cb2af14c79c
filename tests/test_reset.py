"""Password reset and email confirmation through the mail a real SMTP server on 127.0.0.1
receives: signed, single-use, expiring links; the same answer for unknown addresses."""

from __future__ import annotations

import re

from app.extensions import db
from app.models import User
from tests.conftest import PASSWORD, csrf_token
from tests.test_mail import inbox, parts  # noqa: F401 - the SMTP server fixture

NEW = "a brand new passphrase 42"


def link_in(message) -> str:
    text, _ = parts(message)
    match = re.search(r"http://localhost(/[^\s]+)", text)
    assert match, text
    return match.group(1)


def ask_reset(client, address: str):
    token = csrf_token(client, "/reset")
    return client.post("/reset", data={"csrf_token": token, "email": address})


def test_a_forgotten_password_is_reset_through_the_mail(app, client, user, inbox):  # noqa: F811
    old_token = user.session_token
    response = ask_reset(client, user.email.upper())
    assert response.headers["Location"] == "/signin"
    (message,) = inbox.messages
    assert message["To"] == user.email and message["Subject"] == "Reset your MD Analytics password"
    path = link_in(message)
    assert path.startswith("/reset/")

    page = client.get(path).get_data(as_text=True)
    assert "Choose a new password" in page
    token = csrf_token(client, path)
    weak = client.post(path, data={"csrf_token": token, "new": "password", "confirm": "password"})
    assert "common" in weak.get_data(as_text=True).lower()
    done = client.post(path, data={"csrf_token": token, "new": NEW, "confirm": NEW})
    assert done.headers["Location"] == "/signin"
    db.session.refresh(user)
    assert user.check_password(NEW) and user.session_token != old_token

    used = client.get(path)  # single use: the password it replaces is gone
    assert used.status_code == 400 and "expired or was already used" in used.get_data(as_text=True)
    signin = csrf_token(client, "/signin")
    response = client.post(
        "/signin", data={"login": user.username, "password": NEW, "csrf_token": signin}
    )
    assert response.headers["Location"] == "/dashboard/user"


def test_the_same_answer_whether_or_not_the_address_exists(app, client, user, inbox):  # noqa: F811
    known = ask_reset(client, user.email)
    known_page = client.get("/signin").get_data(as_text=True)
    unknown = ask_reset(client, "nobody@example.com")
    unknown_page = client.get("/signin").get_data(as_text=True)
    assert known.status_code == unknown.status_code == 302
    flash = "If an account uses that address"
    assert flash in known_page and flash in unknown_page
    assert len(inbox.messages) == 1  # only the real account got mail


def test_forged_and_expired_links_are_refused(app, client, user, inbox):  # noqa: F811
    assert client.get("/reset/forged.token").status_code == 400
    ask_reset(client, user.email)
    path = link_in(inbox.messages[0])
    app.config["RESET_MAX_AGE"] = -1
    assert client.get(path).status_code == 400
    db.session.refresh(user)
    assert user.check_password(PASSWORD)


def test_reset_requests_are_throttled(app, client, user, inbox):  # noqa: F811
    app.config["RESET_LIMIT_PER_IP"] = "2 per hour"
    codes = [ask_reset(client, f"x{i}@example.com").status_code for i in range(3)]
    assert codes == [302, 302, 429]


def test_a_new_address_applies_once_confirmed(app, auth, client, user, inbox):  # noqa: F811
    auth.login()
    url = f"/user/{user.username}"
    token = csrf_token(client, url)
    client.post(
        url,
        data={
            "csrf_token": token,
            "display_name": "",
            "email": "new@example.com",
            "timezone": "UTC",
            "current_password": PASSWORD,
            "digest": "y",
        },
    )
    db.session.refresh(user)
    assert user.email != "new@example.com"  # not before it is confirmed
    assert user.digest is True and user.digest_next_at is not None
    (message,) = inbox.messages
    assert message["To"] == "new@example.com"
    path = link_in(message)
    assert "Use this address" in client.get(path).get_data(as_text=True)
    db.session.refresh(user)
    assert user.email != "new@example.com"  # opening the link changes nothing by itself
    client.post(path, data={"csrf_token": csrf_token(client, path)})
    db.session.refresh(user)
    assert user.email == "new@example.com"
    again = client.post(path, data={"csrf_token": csrf_token(client, "/dashboard/user")})
    assert again.headers["Location"] == "/dashboard/user"  # used: the address it replaced changed


def test_registration_offers_the_digest(app, client, inbox):  # noqa: F811
    token = csrf_token(client, "/register")
    client.post(
        "/register",
        data={
            "csrf_token": token,
            "username": "newbie",
            "email": "newbie@example.com",
            "password": NEW,
            "confirm": NEW,
            "digest": "y",
        },
    )
    user = User.find_by_login("newbie")
    assert user is not None and user.digest is True and user.digest_next_at is not None
