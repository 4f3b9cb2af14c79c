"""The settings page: profile, password change, account deletion, and nobody else's page."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import User
from tests.conftest import csrf_token
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
    )
    assert response.status_code == 302
    db.session.refresh(signed_in)
    assert (signed_in.display_name, signed_in.email, signed_in.timezone) == (
        "Ada L.",
        "ada@example.com",
        "Europe/Zurich",
    )
    assert "Hello, Ada L." in client.get("/dashboard/user").get_data(as_text=True)


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
    response = post_form(client, "/user/user0", **data)
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
