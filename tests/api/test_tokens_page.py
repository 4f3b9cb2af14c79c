"""/settings/tokens: a token is shown once, stored hashed, listed with its last use, and
revoked by its owner only."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.api import tokens
from app.extensions import db
from app.models import ApiToken
from tests.api.conftest import DEMO_PASSWORD, OTHER_PASSWORD
from tests.conftest import csrf_token

TOKEN_RE = re.compile(r'id="new-token">(mda_[A-Za-z0-9_-]+)<')


def sign_in(client, login, password):
    token = csrf_token(client, "/signin")
    client.post("/signin", data={"login": login, "password": password, "csrf_token": token})


def make_token(client, name="notebook"):
    data = {"name": name, "csrf_token": csrf_token(client, "/settings/tokens")}
    return client.post("/settings/tokens", data=data)


def test_the_page_needs_signing_in(client, demo):
    response = client.get("/settings/tokens")
    assert response.status_code == 302
    assert "/signin" in response.headers["Location"]


def test_settings_links_to_the_tokens_page(client, demo):
    sign_in(client, "demo", DEMO_PASSWORD)
    assert 'href="/settings/tokens"' in client.get("/user/demo").get_data(as_text=True)


def test_a_new_token_is_shown_once_and_works(client, demo):
    sign_in(client, "demo", DEMO_PASSWORD)
    response = make_token(client)
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    token = TOKEN_RE.search(page).group(1)
    row = db.session.scalar(select(ApiToken).where(ApiToken.user_id == demo.id))
    assert row.name == "notebook" and row.token_hash == tokens.hash_token(token)
    listing = client.get("/settings/tokens").get_data(as_text=True)
    assert token not in listing  # never shown again
    assert row.prefix in listing and "notebook" in listing and "never" in listing
    client.post("/logout", data={"csrf_token": csrf_token(client, "/dashboard/user")})
    api = client.get("/api/v1/connections", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200


def test_a_token_needs_a_name_and_csrf(client, demo):
    sign_in(client, "demo", DEMO_PASSWORD)
    assert make_token(client, name="").status_code == 400
    assert client.post("/settings/tokens", data={"name": "x"}).status_code == 400
    assert db.session.scalar(select(ApiToken)) is None


def test_revoking_from_the_page(client, demo):
    sign_in(client, "demo", DEMO_PASSWORD)
    token = TOKEN_RE.search(make_token(client).get_data(as_text=True)).group(1)
    row = db.session.scalar(select(ApiToken).where(ApiToken.user_id == demo.id))
    data = {"csrf_token": csrf_token(client, "/settings/tokens")}
    response = client.post(f"/settings/tokens/{row.id}/revoke", data=data)
    assert response.status_code == 302
    db.session.refresh(row)
    assert row.revoked_at is not None
    assert "revoked" in client.get("/settings/tokens").get_data(as_text=True)
    api = client.get("/api/v1/connections", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 401


def test_another_users_token_cannot_be_revoked(client, demo, other):
    row, _ = tokens.create_token(demo, "demo's")
    sign_in(client, "other", OTHER_PASSWORD)
    data = {"csrf_token": csrf_token(client, "/settings/tokens")}
    assert client.post(f"/settings/tokens/{row.id}/revoke", data=data).status_code == 404
    db.session.refresh(row)
    assert row.revoked_at is None
    assert "demo&#39;s" not in client.get("/settings/tokens").get_data(as_text=True)


def test_tokens_go_with_their_user(client, demo):
    tokens.create_token(demo, "gone")
    db.session.delete(demo)
    db.session.commit()
    assert db.session.scalar(select(ApiToken)) is None


def test_the_number_of_tokens_is_capped(client, demo, monkeypatch):
    monkeypatch.setattr(tokens, "MAX_TOKENS", 2)
    sign_in(client, "demo", DEMO_PASSWORD)
    assert make_token(client, "one").status_code == 201
    assert make_token(client, "two").status_code == 201
    assert make_token(client, "three").status_code == 400
