"""Registration, sign-in, sign-out, throttling and redirects."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.auth.views import is_local_path
from app.extensions import db
from app.models import User
from tests.conftest import csrf_token
from tests.factories import PASSWORD, UserFactory


def test_register_signs_in_and_lands_on_dashboard(client, auth):
    response = auth.register()
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard/user"
    page = client.get("/dashboard/user").get_data(as_text=True)
    assert "Hello, alice" in page
    saved = db.session.scalar(select(User).where(User.username == "alice"))
    assert saved.email == "alice@example.com"
    assert saved.password_hash.startswith("scrypt:")
    assert PASSWORD not in saved.password_hash


@pytest.mark.parametrize(
    ("username", "email", "password", "confirm", "message"),
    [
        ("", "a@example.com", PASSWORD, PASSWORD, "Choose a username."),
        ("ab", "a@example.com", PASSWORD, PASSWORD, "Usernames are 3 to 40 characters"),
        ("bad name!", "a@example.com", PASSWORD, PASSWORD, "Usernames are 3 to 40 characters"),
        ("admin", "a@example.com", PASSWORD, PASSWORD, "That username is reserved"),
        ("bob", "", PASSWORD, PASSWORD, "Enter your email address."),
        ("bob", "not-an-email", PASSWORD, PASSWORD, "Enter a valid email address"),
        ("bob", "a@example.com", "short", "short", "Passwords need at least 8 characters."),
        ("bob", "a@example.com", "x" * 129, "x" * 129, "at most 128 characters"),
        ("bob", "a@example.com", PASSWORD, PASSWORD + "!", "The two passwords do not match."),
    ],
)
def test_register_validation(auth, username, email, password, confirm, message):
    response = auth.register(username, email, password, confirm)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(User.id)) is None


@pytest.mark.parametrize(
    ("username", "email", "message"),
    [
        ("USER0", "other@example.com", "That username is taken."),
        ("newbie", "User0@Example.COM", "An account with that email already exists."),
    ],
)
def test_register_duplicates_are_case_insensitive(auth, user, username, email, message):
    response = auth.register(username, email)
    assert message in response.get_data(as_text=True)
    assert len(db.session.scalars(select(User)).all()) == 1


def test_register_without_csrf_token_is_refused(client):
    response = client.post(
        "/register",
        data={
            "username": "eve",
            "email": "eve@example.com",
            "password": PASSWORD,
            "confirm": PASSWORD,
        },
    )
    assert response.status_code == 400
    assert "CSRF token is missing" in response.get_data(as_text=True)
    assert db.session.scalar(select(User.id)) is None


@pytest.mark.parametrize("login", ["user0", "USER0", "user0@example.com", "User0@Example.com"])
def test_signin_with_username_or_email(auth, user, login):
    response = auth.login(login)
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard/user"


@pytest.mark.parametrize(("login", "password"), [("user0", "wrong password"), ("nobody", PASSWORD)])
def test_signin_wrong_credentials(auth, client, user, login, password):
    response = auth.login(login, password)
    assert response.status_code == 200
    assert "Wrong username, email or password." in response.get_data(as_text=True)
    assert client.get("/dashboard/user").status_code == 302


def test_signin_remember_me_sets_cookie(auth, client, user):
    response = auth.login(remember="y")
    cookies = response.headers.getlist("Set-Cookie")
    remember = [c for c in cookies if c.startswith("remember_token=")]
    assert remember and "HttpOnly" in remember[0]


def test_signin_follows_local_next(client, user):
    token = csrf_token(client, "/signin?next=/user/user0")
    response = client.post(
        "/signin?next=/user/user0",
        data={"login": "user0", "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/user/user0"


@pytest.mark.parametrize(
    "target", ["https://evil.example", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"]
)
def test_signin_ignores_foreign_next(client, user, target):
    token = csrf_token(client, "/signin")
    response = client.post(
        "/signin",
        query_string={"next": target},
        data={"login": "user0", "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/dashboard/user"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/dashboard/user", True),
        ("/a?b=c", True),
        ("", False),
        (None, False),
        ("http://x/", False),
        ("//x", False),
        ("dashboard", False),
    ],
)
def test_is_local_path(target, expected):
    assert is_local_path(target) is expected


def test_login_required_redirects_with_next(client):
    response = client.get("/dashboard/user")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/signin?next=")


def test_signed_in_user_skips_forms(auth, client, user):
    auth.login()
    assert client.get("/signin").headers["Location"] == "/dashboard/user"
    assert client.get("/register").headers["Location"] == "/dashboard/user"


def test_logout_by_post_returns_to_landing(auth, client, user):
    auth.login()
    response = auth.logout()
    assert response.headers["Location"] == "/"
    assert client.get("/dashboard/user").status_code == 302


def test_logout_by_get_is_refused(auth, client, user):
    auth.login()
    assert client.get("/logout").status_code == 405
    assert client.get("/dashboard/user").status_code == 200


def test_logout_without_csrf_is_refused(auth, client, user):
    auth.login()
    assert client.post("/logout").status_code == 400
    assert client.get("/dashboard/user").status_code == 200


class TestThrottle:
    @pytest.fixture
    def config_overrides(self):
        return {
            "SIGNIN_LIMIT_PER_ACCOUNT": "3 per 10 minutes",
            "SIGNIN_LIMIT_PER_IP": "5 per 10 minutes",
        }

    def test_account_throttle_trips_after_failures(self, auth, user):
        for _ in range(3):
            assert auth.login(password="nope nope").status_code == 200
        response = auth.login()  # even the right password waits now
        assert response.status_code == 429
        assert "Too many failed sign-ins for this account" in response.get_data(as_text=True)

    def test_ip_throttle_trips_across_accounts(self, auth, user):
        for n in range(5):
            assert auth.login(f"someone{n}", "nope nope").status_code == 200
        response = auth.login("another", "nope nope")
        assert response.status_code == 429
        assert "Too many failed sign-ins from your address" in response.get_data(as_text=True)

    def test_successful_signins_do_not_count(self, auth, user):
        for _ in range(4):
            assert auth.login().status_code == 302
            auth.logout()
        assert auth.login().status_code == 302


def test_password_change_signs_out_other_sessions(app, auth, client, user):
    auth.login()
    other = app.test_client()
    token = csrf_token(other, "/signin")
    other.post("/signin", data={"login": "user0", "password": PASSWORD, "csrf_token": token})
    assert other.get("/dashboard/user").status_code == 200
    token = csrf_token(client, "/user/user0")
    response = client.post(
        "/user/user0/password",
        data={
            "current": PASSWORD,
            "new": "a brand new secret",
            "confirm": "a brand new secret",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    assert client.get("/dashboard/user").status_code == 200
    assert other.get("/dashboard/user").status_code == 302


def test_unique_indexes_hold_in_the_database(app, user):
    db.session.add(User(username="User0", email="x@example.com", password_hash="x"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert UserFactory(username="user1").id != user.id
