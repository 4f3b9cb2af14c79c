"""Facebook: Facebook Login's code flow, the long-lived token swap and the sync, through the
app against a fake Facebook (login dialog, token endpoint, Graph API) on 127.0.0.1."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select, text

from app.crypto import fernet_for
from app.extensions import db
from app.models import Connection, SyncRun
from app.networks import CONNECTORS
from app.networks.facebook.fetcher import NO_EDGES_NOTE, POSTS_NOTE
from tests.conftest import csrf_token
from tests.fakes.facebook import LONG_LIVED, FakeFacebook
from tests.fakes.world import small_world
from tests.oauth import bad_state, provider_answer, tampered

NETWORK_PAGE = "/dashboard/user/facebook"
CONNECT = "/dashboard/user/facebook/connect"
AUTHORIZE = "/dashboard/user/facebook/authorize"
CALLBACK = "/dashboard/user/facebook/callback"
IMPORT = "/dashboard/user/facebook/import"
#: The owner's friends (followers and friends of the small world together): 7; the fake
#: lists only Bob and Andrew, who use the app.
PARTIAL_NOTE = (
    "Facebook lists only the 2 of your 7 friends who also use this app; "
    "import your archive for the rest."
)


@pytest.fixture
def fb():
    with FakeFacebook(small_world()) as server:
        yield server


@pytest.fixture
def config_overrides(fb) -> dict[str, Any]:
    return {
        "FACEBOOK_CLIENT_ID": "fb-app",
        "FACEBOOK_CLIENT_SECRET": "fb-secret",
        "FACEBOOK_GRAPH_URL": fb.graph_url,
        "FACEBOOK_AUTHORIZE_URL": f"{fb.graph_url}/dialog/oauth",
        "FACEBOOK_TOKEN_URL": f"{fb.graph_url}/oauth/access_token",
        "HTTP_BACKOFF": 0.01,
    }


def to_facebook(client) -> str:
    response = client.get(AUTHORIZE)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def consent(authorize_url: str) -> str:
    return provider_answer(authorize_url, CALLBACK, fragment="_=_")


def dance(client):
    return client.get(consent(to_facebook(client)))


def connections() -> list[Connection]:
    return list(db.session.scalars(select(Connection)))


def flashed(client, url: str = CONNECT) -> str:
    return client.get(url).get_data(as_text=True)


def sync(client) -> SyncRun:
    client.post(f"{NETWORK_PAGE}/sync", data={"csrf_token": csrf_token(client, NETWORK_PAGE)})
    return db.session.scalars(select(SyncRun).order_by(SyncRun.id.desc())).first()


def test_connect_page_offers_login_and_the_import(auth, client, user):
    auth.login()
    page = client.get(CONNECT).get_data(as_text=True)
    assert f'href="{AUTHORIZE}"' in page
    assert "only the friends who also use this app" in page
    assert f'href="{IMPORT}"' in page
    assert "not configured" not in page


def test_connect_page_without_client_id_explains_setup(app, auth, client, user):
    app.config["FACEBOOK_CLIENT_SECRET"] = None
    auth.login()
    page = client.get(CONNECT).get_data(as_text=True)
    assert AUTHORIZE not in page
    assert "FACEBOOK_CLIENT_ID" in page and "FACEBOOK_CLIENT_SECRET" in page
    assert f"http://localhost{CALLBACK}" in page
    assert f'href="{IMPORT}"' in page
    for url in (AUTHORIZE, f"{CALLBACK}?code=x&state=y"):
        response = client.get(url)
        assert response.status_code == 302 and response.headers["Location"] == CONNECT
    assert "Facebook sign-in is not configured on this server yet" in flashed(client)


def test_routes_need_sign_in(client, user):
    for url in (AUTHORIZE, f"{CALLBACK}?code=x&state=y"):
        response = client.get(url)
        assert response.status_code == 302 and "/signin" in response.headers["Location"]


def test_authorize_redirect_asks_for_read_permissions(auth, client, user, fb):
    auth.login()
    url = urlsplit(to_facebook(client))
    query = parse_qs(url.query)
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{fb.graph_url}/dialog/oauth"
    assert query["client_id"] == ["fb-app"]
    assert query["scope"] == ["public_profile user_friends user_posts"]
    assert query["redirect_uri"] == [f"http://localhost{CALLBACK}"]
    assert len(query["state"][0]) >= 20


def test_full_dance_swaps_for_a_long_lived_token_and_syncs(app, auth, client, user, fb):
    auth.login()
    before = datetime.now(UTC)
    response = dance(client)
    assert response.headers["Location"] == NETWORK_PAGE

    (connection,) = connections()
    assert (connection.network, connection.source, connection.status) == ("facebook", "live", "ok")
    assert (connection.external_id, connection.handle) == ("10000001", "me.myself")
    assert len(fb.exchanged) == 1  # the short-lived token was swapped
    assert connection.access_token.startswith("EAAL") and connection.access_token in fb.tokens
    assert connection.access_token != fb.exchanged[0]
    assert connection.refresh_token is None
    lifetime = timedelta(seconds=LONG_LIVED)
    assert before + lifetime <= connection.token_expires_at <= datetime.now(UTC) + lifetime
    stored = db.session.execute(text("SELECT access_token FROM connections")).scalar_one()
    key = fernet_for(app.config["TOKEN_ENCRYPTION_KEY"])
    assert key.decrypt(stored.encode()).decode() == connection.access_token

    run = db.session.scalars(select(SyncRun)).one()
    assert (run.status, run.error) == ("done", None)
    snapshot = connection.current_snapshot
    # the listed friends are stored; the total of 7 is said by the note
    assert (snapshot.followers_count, snapshot.friends_count) == (2, 2)
    assert snapshot.posts_count is None  # posts were refused: unknown, never a made-up 0
    page = client.get(NETWORK_PAGE).get_data(as_text=True)
    assert "Facebook connected as @me.myself" in page
    for note in (PARTIAL_NOTE, POSTS_NOTE, NO_EDGES_NOTE):
        assert note in page


def test_granted_posts_are_read(auth, client, user, fb):
    fb.granted.add("user_posts")
    auth.login()
    dance(client)
    (connection,) = connections()
    assert connection.current_snapshot.posts_count == 6
    assert POSTS_NOTE not in client.get(NETWORK_PAGE).get_data(as_text=True)


def test_denied_consent_stores_nothing(auth, client, user, fb):
    fb.deny_consent = True
    auth.login()
    assert dance(client).headers["Location"] == CONNECT
    assert "You did not allow MD Analytics to read your Facebook account" in flashed(client)
    assert connections() == []
    assert fb.count("/v21.0/oauth/access_token") == 0


@bad_state
def test_bad_state_stores_nothing(auth, client, user, fb, tamper):
    auth.login()
    response = client.get(tampered(consent(to_facebook(client)), tamper))
    assert response.headers["Location"] == CONNECT
    assert "could not be verified" in flashed(client)
    assert connections() == []
    assert fb.count("/v21.0/oauth/access_token") == 0


def test_code_exchange_error_stores_nothing(app, auth, client, user, fb):
    app.config["FACEBOOK_CLIENT_SECRET"] = "not-the-secret"
    auth.login()
    assert dance(client).headers["Location"] == CONNECT
    page = flashed(client)
    assert "Facebook refused the sign-in" in page
    assert "(Error validating client secret.)" in page
    assert connections() == []


def test_token_endpoint_unreachable_stores_nothing(auth, client, user, fb):
    fb.fail_next(1, status=502, path="/v21.0/oauth/access_token")
    auth.login()
    assert dance(client).headers["Location"] == CONNECT
    assert "Facebook could not be reached to finish the sign-in" in flashed(client)
    assert connections() == []


def test_failed_long_lived_swap_stores_nothing(auth, client, user, fb):
    fb.expired = True  # the short-lived token is refused by the swap
    auth.login()
    assert dance(client).headers["Location"] == CONNECT
    assert "no longer accepts the saved login" in flashed(client)
    assert connections() == []


def test_refused_profile_stores_nothing(auth, client, user, fb):
    fb.graph_limit_next(1, code=100, path="me")
    auth.login()
    assert dance(client).headers["Location"] == CONNECT
    assert "Facebook refused to share the profile" in flashed(client)
    assert connections() == []


def test_profile_that_is_not_a_user_stores_nothing(auth, client, user, fb, monkeypatch):
    def broken(self, client, config) -> None:
        raise KeyError("id")

    monkeypatch.setattr(type(CONNECTORS["facebook"]), "whoami", broken)
    auth.login()
    assert dance(client).headers["Location"] == CONNECT
    assert "not a profile" in flashed(client)


def test_expired_token_during_sync_asks_to_reconnect_and_keeps_data(auth, client, user, fb):
    auth.login()
    dance(client)
    (connection,) = connections()
    first = connection.current_snapshot_id
    fb.expire()
    run = sync(client)
    assert run.status == "failed" and "no longer accepts the saved login" in run.error
    db.session.refresh(connection)
    assert connection.status == "reconnect" and connection.current_snapshot_id == first
    page = client.get(CONNECT).get_data(as_text=True)
    assert "Reconnect Facebook" in page


def test_token_past_its_sixty_days_is_not_sent(auth, client, user, fb):
    auth.login()
    dance(client)
    (connection,) = connections()
    connection.token_expires_at = datetime.now(UTC) - timedelta(days=1)
    db.session.commit()
    graph_reads = fb.count("/v21.0/me")
    run = sync(client)
    assert "has run out" in run.error
    assert fb.count("/v21.0/me") == graph_reads
    db.session.refresh(connection)
    assert connection.status == "reconnect"
