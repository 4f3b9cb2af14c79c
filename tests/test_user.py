"""The settings page: profile, password change, account deletion, and nobody else's page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.auth import throttle
from app.extensions import db, limiter
from app.models import User
from tests.conftest import AuthActions, csrf_token
from tests.factories import PASSWORD, UserFactory


@pytest.fixture
def signed_in(auth, user):
    auth.login()
    return user


def post_form(client, url, **data):
    token = csrf_token(client, "/user/user0")
    return client.post(url, data={**data, "csrf_token": token})


def test_settings_page_shows_own_details(client, signed_in):
    page = client.get("/user/user0").get_data(as_text=True)
    assert "Settings for user0" in page
    assert 'value="user0@example.com"' in page
    assert 'href="/user/user0"' in page  # the nav's settings link


def test_other_users_settings_are_404(client, signed_in):
    UserFactory(username="bob")
    assert client.get("/user/bob").status_code == 404
    assert client.get("/user/nobody").status_code == 404
    assert (
        post_form(client, "/user/bob/delete", confirm_username="bob", password=PASSWORD).status_code
        == 404
    )
    assert db.session.scalar(select(User).where(User.username == "bob")) is not None


def test_settings_needs_sign_in(client, user):
    assert client.get("/user/user0").headers["Location"].startswith("/signin")


def test_profile_update(client, signed_in):
    response = post_form(
        client,
        "/user/user0",
        display_name="  Ada L.  ",
        email="Ada@Example.com",
        timezone="Europe/Zurich",
        current_password=PASSWORD,
    )
    assert response.status_code == 302
    db.session.refresh(signed_in)
    assert (signed_in.display_name, signed_in.email, signed_in.timezone) == (
        "Ada L.",
        "user0@example.com",  # the new address applies once its confirmation link is used
        "Europe/Zurich",
    )
    page = client.get("/dashboard/user").get_data(as_text=True)
    assert "Hello, Ada L." in page and "We mailed ada@example.com a link" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"email": "taken@example.com", "timezone": "UTC"},
            "An account with that email already exists.",
        ),
        ({"email": "nope", "timezone": "UTC"}, "Enter a valid email address"),
        ({"email": "ok@example.com", "timezone": "Mars/Base"}, "Not a valid choice"),
    ],
)
def test_profile_update_errors(client, signed_in, data, message):
    UserFactory(username="other", email="taken@example.com")
    response = post_form(client, "/user/user0", current_password=PASSWORD, **data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    db.session.refresh(signed_in)
    assert signed_in.email == "user0@example.com"


def test_password_change_then_sign_in_with_new(auth, client, signed_in):
    response = post_form(
        client,
        "/user/user0/password",
        current=PASSWORD,
        new="new password 123",
        confirm="new password 123",
    )
    assert response.status_code == 302
    auth.logout()
    assert auth.login(password=PASSWORD).status_code == 200
    assert auth.login(password="new password 123").status_code == 302


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"current": "wrong one!", "new": "abcdefghi", "confirm": "abcdefghi"},
            "That is not your current password.",
        ),
        ({"current": PASSWORD, "new": "short", "confirm": "short"}, "at least 8 characters"),
        ({"current": PASSWORD, "new": "password", "confirm": "password"}, "most common"),
        ({"current": PASSWORD, "new": "12345678", "confirm": "12345678"}, "most common"),
        (
            {"current": PASSWORD, "new": "user0@example.com", "confirm": "user0@example.com"},
            "not your username or email address",
        ),
        (
            {"current": PASSWORD, "new": "abcdefghi", "confirm": "abcdefghj"},
            "The two passwords do not match.",
        ),
    ],
)
def test_password_change_errors(client, signed_in, data, message):
    response = post_form(client, "/user/user0/password", **data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    db.session.refresh(signed_in)
    assert signed_in.check_password(PASSWORD)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"confirm_username": "user1", "password": PASSWORD}, "Type user0 exactly to confirm."),
        ({"confirm_username": "user0", "password": "wrong one!"}, "That is not your password."),
    ],
)
def test_delete_needs_confirmation(client, signed_in, data, message):
    response = post_form(client, "/user/user0/delete", **data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(User.id))) == 1


def test_delete_account_removes_user_and_signs_out(client, signed_in):
    keep = UserFactory(username="keeper")
    response = post_form(client, "/user/user0/delete", confirm_username="user0", password=PASSWORD)
    assert response.headers["Location"] == "/"
    assert db.session.scalars(select(User.username)).all() == [keep.username]
    assert client.get("/dashboard/user").status_code == 302


# --- The email needs the current password -------------------------------------------------


def test_display_name_and_time_zone_need_no_password(client, signed_in):
    response = post_form(
        client, "/user/user0", display_name="Ada", email="user0@example.com", timezone="UTC"
    )
    assert response.status_code == 302
    db.session.refresh(signed_in)
    assert signed_in.display_name == "Ada"


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("", "Enter your current password to change your email address."),
        ("wrong one!", "That is not your current password."),
    ],
)
def test_email_change_needs_the_current_password(client, signed_in, password, message):
    response = post_form(
        client, "/user/user0", email="new@example.com", timezone="UTC", current_password=password
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    db.session.refresh(signed_in)
    assert signed_in.email == "user0@example.com"


def test_email_change_with_the_password(app, client, signed_in):
    response = post_form(
        client, "/user/user0", email="New@Example.com", timezone="UTC", current_password=PASSWORD
    )
    assert response.status_code == 302
    db.session.refresh(signed_in)
    assert signed_in.email == "user0@example.com"  # until the link mailed to it is used
    (saved,) = Path(app.config["MAIL_FOLDER"]).glob("*.eml")
    assert "To: new@example.com" in saved.read_text()


def test_settings_page_asks_for_the_password_with_the_email(client, signed_in):
    page = client.get("/user/user0").get_data(as_text=True)
    assert "Needed only to change your email address" in page


# --- Wrong current passwords are throttled per account ---------------------------------------


class TestReauthThrottle:
    @pytest.fixture
    def config_overrides(self):
        return {
            "SIGNIN_LIMIT_PER_ACCOUNT": "3 per hour",
            "SIGNIN_BACKOFF_FIRST": 60,
            "SIGNIN_BACKOFF_MAX": 600,
        }

    def change_password(self, client, current):
        new = "another long secret"
        return post_form(client, "/user/user0/password", current=current, new=new, confirm=new)

    def test_password_form_waits_after_wrong_guesses(self, client, signed_in):
        for _ in range(3):
            response = self.change_password(client, "wrong guess")
            assert response.status_code == 400
        response = self.change_password(client, PASSWORD)  # the right one waits too
        assert response.status_code == 429
        assert "Too many wrong passwords. Wait 1 minute and try again." in response.get_data(
            as_text=True
        )
        db.session.refresh(signed_in)
        assert signed_in.check_password(PASSWORD)
        # The wait over, the right password works and clears the count.
        limiter.storage.clear(throttle.wait_key(throttle.account_key(signed_in)))
        assert self.change_password(client, PASSWORD).status_code == 302
        assert throttle.failures(throttle.account_key(signed_in)) == 0

    def test_guesses_count_with_failed_sign_ins(self, app, client, signed_in):
        other = AuthActions(app.test_client())
        for _ in range(2):
            assert other.login(password="wrong guess").status_code == 200
        assert self.change_password(client, "wrong guess").status_code == 400
        assert other.login().status_code == 429

    def test_delete_and_email_forms_are_throttled_too(self, client, signed_in):
        for _ in range(3):
            response = post_form(
                client, "/user/user0/delete", confirm_username="user0", password="wrong guess"
            )
            assert response.status_code == 400
        response = post_form(
            client, "/user/user0/delete", confirm_username="user0", password=PASSWORD
        )
        assert response.status_code == 429
        response = post_form(
            client,
            "/user/user0",
            email="new@example.com",
            timezone="UTC",
            current_password=PASSWORD,
        )
        assert response.status_code == 429
        assert "Too many wrong passwords" in response.get_data(as_text=True)
        assert db.session.scalar(select(func.count(User.id))) == 1


def test_settings_page_password_fields_have_their_own_ids(client, signed_in):
    page = client.get("/user/user0").get_data(as_text=True)
    ids = re.findall(r'\bid="([^"]+)"', page)
    for field_id in ("current_password", "current", "password"):
        assert ids.count(field_id) == 1, field_id
