"""Registration modes, invites (command line and admin page), and the first account as admin."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Invite, User, hash_invite_token, utcnow
from tests.conftest import AuthActions, csrf_token
from tests.factories import PASSWORD, UserFactory

LINK_RE = re.compile(r"/register\?invite=([A-Za-z0-9_-]+)")


def register(client, username, token=None, password=PASSWORD):
    """Post the registration form as the page serves it (with the invite, if any)."""
    url = f"/register?invite={token}" if token else "/register"
    form_token = csrf_token(client, "/signin")  # the session's token (a refusal has no form)
    data = {
        "username": username,
        "email": f"{username}@example.com",
        "password": password,
        "confirm": password,
        "csrf_token": form_token,
        "invite": token or "",
    }
    return client.post(url, data=data)


def user_count():
    return db.session.scalar(select(func.count(User.id)))


def cli_invite(runner, *args):
    result = runner.invoke(args=["invite", *args])
    assert result.exit_code == 0, result.output
    match = LINK_RE.search(result.output)
    assert match, result.output
    return match.group(1), result.output


# --- The first account is the admin ---------------------------------------------------------


def test_first_registered_account_is_admin(app):
    first, second = app.test_client(), app.test_client()
    assert register(first, "owner").status_code == 302
    assert register(second, "guest").status_code == 302
    admins = db.session.scalars(select(User.username).where(User.is_admin)).all()
    assert admins == ["owner"]


def test_first_account_from_the_command_line_is_admin(runner):
    result = runner.invoke(
        args=["create-user", "owner", "--email", "o@example.com", "--password", PASSWORD]
    )
    assert result.exit_code == 0, result.output
    assert "owner is an admin" in result.output
    result = runner.invoke(
        args=["create-user", "second", "--email", "s@example.com", "--password", PASSWORD]
    )
    assert "is an admin" not in result.output
    result = runner.invoke(
        args=[
            "create-user",
            "third",
            "--email",
            "t@example.com",
            "--password",
            PASSWORD,
            "--admin",
        ]
    )
    assert "third is an admin" in result.output
    admins = db.session.scalars(select(User.username).where(User.is_admin)).all()
    assert sorted(admins) == ["owner", "third"]


# --- REGISTRATION=closed ------------------------------------------------------------------


class TestClosed:
    @pytest.fixture
    def config_overrides(self):
        return {"REGISTRATION": "closed"}

    def test_page_says_closed(self, client):
        page = client.get("/register")
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        assert "Registration is closed" in text
        assert 'name="username"' not in text

    def test_no_register_links(self, client):
        for path in ("/", "/signin"):
            text = client.get(path).get_data(as_text=True)
            assert 'href="/register"' not in text, path
            assert 'href="/signin"' in text

    def test_post_is_refused(self, client):
        token = csrf_token(client, "/signin")
        response = client.post(
            "/register",
            data={
                "username": "eve",
                "email": "eve@example.com",
                "password": PASSWORD,
                "confirm": PASSWORD,
                "csrf_token": token,
            },
        )
        assert response.status_code == 403
        assert user_count() == 0

    def test_invites_do_not_open_it(self, runner, client):
        token, output = cli_invite(runner)
        assert "REGISTRATION is 'closed'" in output
        assert register(client, "eve", token).status_code == 403
        assert user_count() == 0

    def test_command_line_still_creates_accounts(self, runner):
        result = runner.invoke(
            args=["create-user", "owner", "--email", "o@example.com", "--password", PASSWORD]
        )
        assert result.exit_code == 0
        assert user_count() == 1


# --- REGISTRATION=invite --------------------------------------------------------------------


class TestInviteOnly:
    @pytest.fixture
    def config_overrides(self):
        return {"REGISTRATION": "invite"}

    @pytest.fixture
    def owner(self, app):
        return UserFactory(username="owner", is_admin=True)

    def test_first_account_needs_no_invite(self, client):
        page = client.get("/register").get_data(as_text=True)
        assert "the first account needs none" in page
        assert register(client, "owner").status_code == 302
        assert db.session.scalar(select(User.is_admin).where(User.username == "owner")) is True

    def test_page_says_invite_only(self, client, owner):
        page = client.get("/register")
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        assert "Registration is by invitation" in text
        assert 'name="username"' not in text

    def test_post_without_invite_is_refused(self, client, owner):
        assert register(client, "eve").status_code == 403
        assert user_count() == 1

    def test_cli_invite_registers_once(self, app, runner, client, owner):
        token, output = cli_invite(runner, "--url", "https://md.example.org/", "--days", "2")
        assert f"https://md.example.org/register?invite={token}" in output
        invite = db.session.scalar(select(Invite))
        assert invite.token_hash == hash_invite_token(token)
        assert token not in invite.token_hash  # only the hash is stored
        page = client.get(f"/register?invite={token}").get_data(as_text=True)
        assert "You have been invited" in page
        assert register(client, "guest", token).status_code == 302
        guest = db.session.scalar(select(User).where(User.username == "guest"))
        assert guest.is_admin is False
        db.session.refresh(invite)
        assert invite.used_by_id == guest.id and invite.status == "used"
        # The same link again, from another browser: refused.
        again = app.test_client()
        refused = again.get(f"/register?invite={token}").get_data(as_text=True)
        assert "This invite link does not work" in refused
        assert register(again, "third", token).status_code == 403
        assert user_count() == 2

    def test_expired_invite_is_refused(self, client, runner, owner):
        token, _ = cli_invite(runner, "--days", "1")
        invite = db.session.scalar(select(Invite))
        invite.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        assert "This invite link does not work" in client.get(f"/register?invite={token}").get_data(
            as_text=True
        )
        assert register(client, "late", token).status_code == 403
        assert user_count() == 1

    @pytest.mark.parametrize("token", ["wrong-token", "x" * 5000])
    def test_wrong_token_is_refused(self, client, runner, owner, token):
        cli_invite(runner)
        assert register(client, "guess", token).status_code == 403
        assert user_count() == 1

    def test_invite_is_used_up_even_if_redeemed_twice_at_once(self, app, owner):
        """Two registrations racing with one invite: the second redeem finds it used."""
        invite, _ = Invite.create(days=1)
        db.session.commit()
        first = UserFactory(username="first")
        second = UserFactory(username="second")
        stale = db.session.get(Invite, invite.id)
        assert invite.redeem(first) is True
        db.session.commit()
        assert stale.redeem(second) is False

    def test_register_form_errors_keep_the_invite(self, client, runner, owner):
        token, _ = cli_invite(runner)
        response = register(client, "guest", token, password="password")
        assert response.status_code == 200
        text = response.get_data(as_text=True)
        assert "most common" in text
        assert f'value="{token}"' in text
        assert register(client, "guest", token).status_code == 302


# --- The admin page -------------------------------------------------------------------------


@pytest.fixture
def admin(app):
    return UserFactory(username="owner", is_admin=True)


@pytest.fixture
def admin_client(app, admin):
    client = app.test_client()
    assert AuthActions(client).login("owner").status_code == 302
    return client


def create_invite_on_page(client, **data):
    token = csrf_token(client, "/admin/invites")
    return client.post("/admin/invites", data={"csrf_token": token, **data})


def test_admin_page_needs_an_admin(app, client, auth, admin):
    assert client.get("/admin/invites").headers["Location"].startswith("/signin")
    UserFactory(username="plain")
    assert auth.login("plain").status_code == 302
    assert client.get("/admin/invites").status_code == 404
    token = csrf_token(client, "/dashboard/user")
    response = client.post("/admin/invites", data={"csrf_token": token, "days": "3"})
    assert response.status_code == 404
    assert db.session.scalar(select(func.count(Invite.id))) == 0


def test_settings_link_to_admin_page_only_for_admins(app, admin_client, admin):
    page = admin_client.get("/user/owner").get_data(as_text=True)
    assert 'href="/admin/invites"' in page
    UserFactory(username="plain")
    other = app.test_client()
    AuthActions(other).login("plain")
    assert 'href="/admin/invites"' not in other.get("/user/plain").get_data(as_text=True)


class TestAdminInvites:
    @pytest.fixture
    def config_overrides(self):
        return {"REGISTRATION": "invite"}

    def test_create_on_the_page_and_register_with_it(self, app, admin_client):
        response = create_invite_on_page(admin_client, note="for Ada", days="3")
        assert response.status_code == 200
        text = response.get_data(as_text=True)
        token = LINK_RE.search(text).group(1)
        assert "http://localhost/register?invite=" in text
        assert "shown only this once" in text
        invite = db.session.scalar(select(Invite))
        assert invite.note == "for Ada" and invite.created_by_id is not None
        assert timedelta(days=2.9) < invite.expires_at - utcnow() <= timedelta(days=3)
        listing = admin_client.get("/admin/invites").get_data(as_text=True)
        assert "for Ada" in listing and token not in listing  # never shown again
        guest = app.test_client()
        assert register(guest, "ada", token).status_code == 302
        listing = admin_client.get("/admin/invites").get_data(as_text=True)
        assert "used by ada" in listing

    @pytest.mark.parametrize("days", ["0", "91", "soon", ""])
    def test_bad_days_are_refused(self, admin_client, days):
        response = create_invite_on_page(admin_client, days=days)
        assert response.status_code == 400
        assert db.session.scalar(select(func.count(Invite.id))) == 0

    def test_revoke(self, app, admin_client):
        text = create_invite_on_page(admin_client, days="3").get_data(as_text=True)
        token = LINK_RE.search(text).group(1)
        invite = db.session.scalar(select(Invite))
        form_token = csrf_token(admin_client, "/admin/invites")
        response = admin_client.post(
            f"/admin/invites/{invite.id}/revoke", data={"csrf_token": form_token}
        )
        assert response.status_code == 302
        assert db.session.scalar(select(func.count(Invite.id))) == 0
        assert register(app.test_client(), "late", token).status_code == 403

    def test_revoke_needs_csrf(self, admin_client):
        create_invite_on_page(admin_client, days="3")
        invite = db.session.scalar(select(Invite))
        assert admin_client.post(f"/admin/invites/{invite.id}/revoke").status_code == 400
        assert db.session.scalar(select(func.count(Invite.id))) == 1


def test_register_links_shown_while_open(client):
    for path in ("/", "/signin"):
        assert 'href="/register"' in client.get(path).get_data(as_text=True), path


def _register_while_another_commits(app, client, username):
    """Post a registration while another session has created an admin and not yet
    committed (as a second registration at the same moment would); commit it meanwhile."""
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from app.auth.views import REGISTRATION_LOCK

    token = csrf_token(client, "/signin")
    result = {}
    with Session(db.engine) as other:
        if db.engine.dialect.name == "postgresql":
            other.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": REGISTRATION_LOCK})
        rival = User(username="rival", email="rival@example.com", is_admin=True)
        rival.set_password(PASSWORD)
        other.add(rival)
        other.flush()

        def post():
            data = {
                "username": username,
                "email": f"{username}@example.com",
                "password": PASSWORD,
                "confirm": PASSWORD,
                "csrf_token": token,
            }
            result["status"] = client.post("/register", data=data).status_code

        thread = threading.Thread(target=post)
        thread.start()
        thread.join(1.5)  # the registration waits for the lock the rival holds
        assert thread.is_alive()
        other.commit()
    thread.join(10)
    db.session.rollback()
    return result["status"]


def test_two_first_registrations_at_once_make_one_admin(app, client):
    assert _register_while_another_commits(app, client, "second") == 302
    admins = db.session.scalars(select(User.username).where(User.is_admin)).all()
    assert admins == ["rival"]
    assert user_count() == 2


@pytest.mark.parametrize("config_overrides", [{"REGISTRATION": "invite"}])
def test_invite_only_first_place_is_taken_once(app, client, config_overrides):
    assert _register_while_another_commits(app, client, "second") == 403
    assert db.session.scalars(select(User.username)).all() == ["rival"]
