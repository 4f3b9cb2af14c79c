"""LinkedIn: Sign In with LinkedIn using OpenID Connect and the profile-only sync, through the
app against a fake LinkedIn (authorization, accessToken, userinfo) on 127.0.0.1."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Connection, SyncRun
from app.networks import CONNECTORS
from app.networks.linkedin.fetcher import CONNECTIONS_NOTE, POSTS_NOTE
from app.sync.runner import start_sync
from tests.conftest import csrf_token
from tests.fakes.linkedin import EXPIRES_IN, FakeLinkedIn
from tests.fakes.world import small_world
from tests.oauth import bad_state, provider_answer, tampered

NETWORK_PAGE = "/dashboard/user/linkedin"
CONNECT = "/dashboard/user/linkedin/connect"
AUTHORIZE = "/dashboard/user/linkedin/authorize"
CALLBACK = "/dashboard/user/linkedin/callback"
IMPORT = "/dashboard/user/linkedin/import"


@pytest.fixture
def li():
    with FakeLinkedIn(small_world()) as server:
        yield server


@pytest.fixture
def config_overrides(li) -> dict[str, Any]:
    return {
        "LINKEDIN_CLIENT_ID": "li-client",
        "LINKEDIN_CLIENT_SECRET": "li-secret",
        "LINKEDIN_AUTHORIZE_URL": f"{li.url}/oauth/v2/authorization",
        "LINKEDIN_TOKEN_URL": f"{li.url}/oauth/v2/accessToken",
        "LINKEDIN_USERINFO_URL": li.userinfo_url,
        "HTTP_BACKOFF": 0.01,
    }


def to_linkedin(client) -> str:
    response = client.get(AUTHORIZE)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def consent(authorize_url: str) -> str:
    return provider_answer(authorize_url, CALLBACK)


def dance(client):
    return client.get(consent(to_linkedin(client)))


def connections() -> list[Connection]:
    return list(db.session.scalars(select(Connection)))


def flashed(client, url: str = CONNECT) -> str:
    return client.get(url).get_data(as_text=True)


def test_connect_page_explains_the_export(auth, client, user):
    auth.login()
    page = client.get(CONNECT).get_data(as_text=True)
    assert f'href="{AUTHORIZE}"' in page
    assert "openid profile email" in page
    assert "Connections.csv" in page and f'href="{IMPORT}"' in page
    assert "not configured" not in page


def test_connect_page_without_client_id_explains_setup(app, auth, client, user):
    app.config["LINKEDIN_CLIENT_ID"] = ""
    auth.login()
    page = client.get(CONNECT).get_data(as_text=True)
    assert AUTHORIZE not in page
    assert "LINKEDIN_CLIENT_ID" in page and "LINKEDIN_CLIENT_SECRET" in page
    assert f"http://localhost{CALLBACK}" in page
    assert f'href="{IMPORT}"' in page
    for url in (AUTHORIZE, f"{CALLBACK}?code=x&state=y"):
        assert client.get(url).headers["Location"] == CONNECT
    assert "LinkedIn sign-in is not configured on this server yet" in flashed(client)


def test_authorize_redirect_is_openid_connect(auth, client, user, li):
    auth.login()
    url = urlsplit(to_linkedin(client))
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{li.url}/oauth/v2/authorization"
    assert query["client_id"] == "li-client"
    assert query["scope"] == "openid profile email"
    assert query["redirect_uri"] == f"http://localhost{CALLBACK}"
    assert query["response_type"] == "code"
    assert len(query["state"]) >= 20 and query["nonce"]


def test_full_dance_stores_the_profile_only(auth, client, user, li):
    auth.login()
    before = datetime.now(UTC)
    assert dance(client).headers["Location"] == NETWORK_PAGE
    (connection,) = connections()
    assert (connection.network, connection.source, connection.status) == ("linkedin", "live", "ok")
    assert (connection.external_id, connection.handle) == ("li-000001", "me-myself")
    assert connection.display_name == "Me Myself"
    assert connection.avatar_url == "https://media.licdn.com/dms/image/1/profile.jpg"
    assert connection.access_token in li.tokens
    lifetime = timedelta(seconds=EXPIRES_IN)
    assert before + lifetime - timedelta(seconds=5) <= connection.token_expires_at
    assert connection.token_expires_at <= datetime.now(UTC) + lifetime
    exchange = [r for r in li.requests if r.path == "/oauth/v2/accessToken"]
    assert exchange[0].form()["client_secret"] == "li-secret"

    run = db.session.scalars(select(SyncRun)).one()
    assert (run.status, run.error) == ("done", None)
    snapshot = connection.current_snapshot
    # not published: unknown, never zero
    assert (snapshot.followers_count, snapshot.friends_count) == (None, None)
    page = client.get(NETWORK_PAGE).get_data(as_text=True)
    assert "LinkedIn connected as @me-myself" in page
    assert CONNECTIONS_NOTE in page and POSTS_NOTE in page


def test_cancelled_consent_stores_nothing(auth, client, user, li):
    li.deny_consent = True
    auth.login()
    assert dance(client).headers["Location"] == CONNECT
    assert "You did not allow MD Analytics to read your LinkedIn account" in flashed(client)
    assert connections() == []
    assert li.count("/oauth/v2/accessToken") == 0


@bad_state
def test_bad_state_stores_nothing(auth, client, user, li, tamper):
    auth.login()
    response = client.get(tampered(consent(to_linkedin(client)), tamper))
    assert response.headers["Location"] == CONNECT
    assert "could not be verified" in flashed(client)
    assert connections() == []


def test_token_error_stores_nothing(app, auth, client, user, li):
    app.config["LINKEDIN_CLIENT_SECRET"] = "not-the-secret"
    auth.login()
    assert dance(client).headers["Location"] == CONNECT
    assert "LinkedIn refused the sign-in (Client authentication failed)" in flashed(client)
    assert connections() == []


def test_token_without_access_token_stores_nothing(auth, client, user, li, monkeypatch):
    from authlib.integrations.flask_client import FlaskOAuth2App

    monkeypatch.setattr(FlaskOAuth2App, "authorize_access_token", lambda self: {"token": "?"})
    auth.login()
    assert dance(client).headers["Location"] == CONNECT
    assert "LinkedIn sent no access token" in flashed(client)


def test_userinfo_refused_stores_nothing(auth, client, user, li):
    li.scopes = {"openid", "email"}  # the member did not grant the profile
    auth.login()
    assert dance(client).headers["Location"] == CONNECT
    assert "LinkedIn refused the request (403" in flashed(client)
    assert connections() == []


def test_userinfo_that_is_not_a_profile_stores_nothing(auth, client, user, li, monkeypatch):
    def broken(self, client, config) -> None:
        raise KeyError("sub")

    monkeypatch.setattr(type(CONNECTORS["linkedin"]), "whoami", broken)
    auth.login()
    assert dance(client).headers["Location"] == CONNECT
    assert "LinkedIn answered with something that is not a profile" in flashed(client)


def test_expired_token_asks_to_reconnect_and_keeps_data(auth, client, user, li):
    auth.login()
    dance(client)
    (connection,) = connections()
    first = connection.current_snapshot_id
    li.expire()
    token = csrf_token(client, NETWORK_PAGE)
    client.post(f"{NETWORK_PAGE}/sync", data={"csrf_token": token})
    run = db.session.scalars(select(SyncRun).order_by(SyncRun.id.desc())).first()
    assert run.status == "failed" and "no longer accepts the saved login" in run.error
    db.session.refresh(connection)
    assert connection.status == "reconnect" and connection.current_snapshot_id == first
    assert "Reconnect LinkedIn" in client.get(CONNECT).get_data(as_text=True)


def test_connection_without_token_asks_to_reconnect(user):
    connection = Connection(user_id=user.id, network="linkedin", source="live", handle="me")
    db.session.add(connection)
    db.session.commit()
    run = start_sync(connection, "live")
    assert run.status == "failed" and "can no longer be used" in run.error
