"""X: the read budget on the connect page, the OAuth 2.0 PKCE dance, refresh and refusals,
driven through the app against a fake X on 127.0.0.1.

The app sends the browser to the fake's authorize URL, ``requests`` reads the fake's redirect
back (no consent page), and the test client follows it to the app's callback, which checks
state, trades the code with the PKCE verifier (checked by the fake) and syncs inline.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from sqlalchemy import func, select, text

from app.crypto import fernet_for
from app.extensions import db
from app.models import Connection, Snapshot, SyncRun
from app.networks import CONNECTORS
from app.networks.x.fetcher import (
    CREDITS_NOTE,
    FOLLOWERS_PLAN_NOTE,
    TIMELINE_NOTE,
    USAGE_CAP_MESSAGE,
)
from app.sync import tokens
from app.sync.runner import start_sync
from tests.conftest import csrf_token
from tests.fakes.world import small_world
from tests.fakes.x import FakeX, s256
from tests.oauth import bad_state, provider_answer, tampered

NETWORK_PAGE = "/dashboard/user/x"
CONNECT = "/dashboard/user/x/connect"
AUTHORIZE = "/dashboard/user/x/authorize"
CALLBACK = "/dashboard/user/x/callback"
#: Billed reads of a small-world sync: 1 profile + 6 posts + 5 followers + 4 friends.
SYNC_READS = 16


@pytest.fixture
def fx():
    with FakeX(small_world()) as server:
        yield server


@pytest.fixture
def config_overrides(fx) -> dict[str, Any]:
    return {
        "X_CLIENT_ID": "x-client",
        "X_CLIENT_SECRET": "x-secret",
        "X_API_URL": fx.url,
        "X_AUTHORIZE_URL": f"{fx.url}/i/oauth2/authorize",
        "X_TOKEN_URL": f"{fx.url}/2/oauth2/token",
        "X_MAX_READS": 2000,
        "GRAPH_MAX_PEOPLE": 200,
        "HTTP_BACKOFF": 0.01,
    }


def to_x(client, graph_edges: bool = False) -> str:
    """Post the connect form; return the fake authorize URL the app redirects to."""
    data = {"csrf_token": csrf_token(client, CONNECT)}
    if graph_edges:
        data["include_graph_edges"] = "y"
    response = client.post(AUTHORIZE, data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def consent(authorize_url: str) -> str:
    return provider_answer(authorize_url, CALLBACK)


def dance(client, graph_edges: bool = False):
    return client.get(consent(to_x(client, graph_edges)))


def connections() -> list[Connection]:
    return list(db.session.scalars(select(Connection)))


def flashed(client, url: str = CONNECT) -> str:
    return client.get(url).get_data(as_text=True)


def sync(client) -> SyncRun:
    client.post(f"{NETWORK_PAGE}/sync", data={"csrf_token": csrf_token(client, NETWORK_PAGE)})
    return db.session.scalars(select(SyncRun).order_by(SyncRun.id.desc())).first()


def expire_token(fx: FakeX, connection: Connection) -> None:
    """Two hours pass: the fake refuses the token and the app knows it has run out."""
    fx.advance(7300)
    connection.token_expires_at = datetime.now(UTC) - timedelta(minutes=1)
    db.session.commit()


# -- the connect page -----------------------------------------------------------------------


def test_connect_page_shows_the_budget_before_anything_is_read(auth, client, user, fx):
    auth.login()
    page = client.get(CONNECT).get_data(as_text=True)
    assert f'action="{AUTHORIZE}"' in page
    assert "tweet.read users.read follows.read offline.access" in page
    assert "2,000 reads" in page and "$20.00" in page  # 2,000 user reads at $0.010
    assert "$0.005" in page and "$0.010" in page
    assert "Also read who my followers follow (graph edges)" in page
    # up to 200 people (the graph limit), 500 reads each, 15 lists per 15 minutes
    assert "200 people: about 100,000 reads ($1000.00) and 195 minutes" in page
    assert 'type="checkbox"' in page and "checked" not in page
    assert "not configured" not in page
    assert fx.requests == []  # nothing read yet


def test_connect_page_without_client_id_explains_setup(app, auth, client, user, fx):
    app.config["X_CLIENT_ID"] = None
    auth.login()
    page = client.get(CONNECT).get_data(as_text=True)
    assert AUTHORIZE not in page and "2,000 reads" not in page
    assert "X_CLIENT_ID" in page and "X_CLIENT_SECRET" in page
    assert f"http://localhost{CALLBACK}" in page
    assert "docs/closed_networks.rst" in page
    assert 'href="/dashboard/user/x/import"' in page
    token = csrf_token(client, "/dashboard/user")
    for response in (
        client.post(AUTHORIZE, data={"csrf_token": token}),
        client.get(f"{CALLBACK}?code=x&state=y"),
    ):
        assert response.status_code == 302 and response.headers["Location"] == CONNECT
    assert "X / Twitter sign-in is not configured on this server yet" in flashed(client)
    assert connections() == []


def test_routes_need_sign_in(client, user):
    token = csrf_token(client, "/signin")
    for response in (
        client.post(AUTHORIZE, data={"csrf_token": token}),
        client.get(f"{CALLBACK}?code=x&state=y"),
    ):
        assert response.status_code == 302 and "/signin" in response.headers["Location"]


def test_authorize_needs_the_form_token(auth, client, user, fx):
    auth.login()
    assert client.post(AUTHORIZE, data={"include_graph_edges": "y"}).status_code == 400
    with client.session_transaction() as sess:
        assert "x_oauth" not in sess
    assert fx.requests == []


def test_authorize_redirect_is_pkce_with_the_read_scopes(auth, client, user, fx):
    auth.login()
    url = urlsplit(to_x(client))
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{fx.url}/i/oauth2/authorize"
    assert query["client_id"] == "x-client"
    assert query["scope"] == "tweet.read users.read follows.read offline.access"
    assert query["redirect_uri"] == f"http://localhost{CALLBACK}"
    assert query["code_challenge_method"] == "S256"
    with client.session_transaction() as sess:
        pending = sess["x_oauth"]
    assert query["state"] == pending["state"] and len(pending["state"]) >= 20
    assert query["code_challenge"] == s256(pending["verifier"])
    assert pending["verifier"] not in url.query  # the verifier never leaves the server
    assert pending["options"]["include_graph_edges"] is False


# -- the dance ------------------------------------------------------------------------------


def test_full_dance_stores_tokens_and_syncs_inside_the_budget(app, auth, client, user, fx):
    auth.login()
    before = datetime.now(UTC)
    response = dance(client)
    assert response.status_code == 302 and response.headers["Location"] == NETWORK_PAGE

    (connection,) = connections()
    assert (connection.network, connection.source, connection.status) == ("x", "live", "ok")
    assert (connection.external_id, connection.handle) == ("1", "me")
    assert connection.access_token in fx.issued
    assert connection.refresh_token in fx.refresh_tokens
    expires = connection.token_expires_at
    assert before + timedelta(hours=2) <= expires <= datetime.now(UTC) + timedelta(hours=2)
    assert connection.options == {"include_graph_edges": False, "read_cap": None}
    stored = db.session.execute(text("SELECT access_token, refresh_token FROM connections")).one()
    key = fernet_for(app.config["TOKEN_ENCRYPTION_KEY"])
    for plain, cipher in zip(
        (connection.access_token, connection.refresh_token), stored, strict=True
    ):
        assert plain not in cipher
        assert key.decrypt(cipher.encode()).decode() == plain
    exchange = [r for r in fx.requests if r.path == "/2/oauth2/token"]
    assert exchange[0].headers["authorization"].startswith("Basic ")

    run = db.session.scalars(select(SyncRun)).one()
    assert (run.kind, run.status, run.error) == ("live", "done", None)
    assert run.params == {"max_reads": 1999}  # the connect's profile read came out of it
    snapshot = connection.current_snapshot
    assert (snapshot.followers_count, snapshot.friends_count, snapshot.posts_count) == (5, 4, 6)
    assert fx.total_reads() == 1 + SYNC_READS
    assert fx.count("/2/users/1/following") == 1  # no graph edges unless asked for
    page = client.get(NETWORK_PAGE).get_data(as_text=True)
    assert "X / Twitter connected as @me" in page
    assert TIMELINE_NOTE in page


def test_graph_edges_opt_in_is_saved_and_read(auth, client, user, fx):
    auth.login()
    with client.session_transaction():
        pass
    url = to_x(client, graph_edges=True)
    with client.session_transaction() as sess:
        assert sess["x_oauth"]["options"]["include_graph_edges"] is True
    client.get(consent(url))
    (connection,) = connections()
    assert connection.options["include_graph_edges"] is True
    run = db.session.scalars(select(SyncRun)).one()
    assert run.status == "done"
    # following lists of the people were read (each person's own /following path)
    assert fx.total_reads("/2/users/4/following") > 0
    assert connection.current_snapshot.results is not None
    page = client.get(CONNECT).get_data(as_text=True)
    assert "checked" in page  # the choice is shown again on the connect page
    assert "Your last sync" in page  # the estimate now uses the stored counts


@pytest.mark.parametrize("budget", [5, 12, 30])
def test_budget_is_never_exceeded_through_the_app(app, auth, client, user, fx, budget):
    app.config["X_MAX_READS"] = budget
    auth.login()
    dance(client, graph_edges=True)
    run = db.session.scalars(select(SyncRun)).one()
    assert run.status == "done"
    assert fx.total_reads() <= budget  # connect + first sync
    assert fx.total_reads() >= budget - 5  # and the budget was used, not wasted
    spent = fx.total_reads()
    sync(client)
    assert fx.total_reads() - spent <= budget  # every later sync on its own
    if budget < 1 + SYNC_READS:
        page = client.get(NETWORK_PAGE).get_data(as_text=True)
        assert "Stopped at the read budget" in page


def test_the_users_own_lower_cap_wins(auth, client, user, fx):
    auth.login()
    dance(client)
    (connection,) = connections()
    connection.options = {**connection.options, "read_cap": 3}
    db.session.commit()
    spent = fx.total_reads()
    assert sync(client).status == "done"
    assert fx.total_reads() - spent == 3


def test_the_cap_is_chosen_on_the_connect_page(auth, client, user, fx):
    auth.login()
    token = csrf_token(client, CONNECT)
    response = client.post(AUTHORIZE, data={"csrf_token": token, "read_cap": "0"})
    assert response.headers["Location"] == CONNECT
    assert "Enter a number above 0." in flashed(client)
    response = client.post(AUTHORIZE, data={"csrf_token": token, "read_cap": "25"})
    client.get(consent(response.headers["Location"]))
    (connection,) = connections()
    assert connection.options == {"include_graph_edges": False, "read_cap": 25}
    run = db.session.scalars(select(SyncRun)).one()
    assert run.params == {"max_reads": 24}


def test_raising_the_server_budget_reaches_existing_connections(app, auth, client, user, fx):
    auth.login()
    dance(client)
    app.config["X_MAX_READS"] = 4
    spent = fx.total_reads()
    assert sync(client).status == "done"
    assert fx.total_reads() - spent == 4
    app.config["X_MAX_READS"] = 6
    spent = fx.total_reads()
    assert sync(client).status == "done"
    assert fx.total_reads() - spent == 6  # not held at the connect-time value


def test_denied_consent_stores_nothing(auth, client, user, fx):
    auth.login()
    fx.deny_consent = True
    response = dance(client)
    assert response.headers["Location"] == CONNECT
    assert "You did not allow MD Analytics to read your X account" in flashed(client)
    assert connections() == []
    assert fx.count("/2/oauth2/token") == 0


@bad_state
def test_bad_state_stores_nothing(auth, client, user, fx, tamper):
    auth.login()
    response = client.get(tampered(consent(to_x(client)), tamper))
    assert response.headers["Location"] == CONNECT
    assert "could not be verified" in flashed(client)
    assert connections() == []
    assert fx.count("/2/oauth2/token") == 0


def test_callback_without_a_pending_sign_in(auth, client, user, fx):
    auth.login()
    response = client.get(f"{CALLBACK}?code=abc&state=abc")
    assert response.headers["Location"] == CONNECT
    assert "could not be verified" in flashed(client)


def test_verifier_mismatch_is_refused_by_x(auth, client, user, fx):
    auth.login()
    callback = consent(to_x(client))
    with client.session_transaction() as sess:
        pending = dict(sess["x_oauth"])
        pending["verifier"] = "x" * 64
        sess["x_oauth"] = pending
    response = client.get(callback)
    assert response.headers["Location"] == CONNECT
    page = flashed(client)
    assert "X refused the sign-in" in page and "code verifier did not match" in page
    assert connections() == []
    assert fx.issued == {}


def test_callback_cannot_be_replayed(auth, client, user, fx):
    auth.login()
    callback = consent(to_x(client))
    assert client.get(callback).headers["Location"] == NETWORK_PAGE
    assert client.get(callback).headers["Location"] == CONNECT
    assert "could not be verified" in flashed(client)
    assert len(fx.issued) == 1


def test_callback_without_code(auth, client, user, fx):
    auth.login()
    back = urlsplit(consent(to_x(client)))
    query = {k: v for k, v in parse_qs(back.query).items() if k != "code"}
    response = client.get(f"{back.path}?{urlencode(query, doseq=True)}")
    assert response.headers["Location"] == CONNECT
    assert "X sent no sign-in code" in flashed(client)
    assert connections() == []


def test_token_error_stores_nothing(app, auth, client, user, fx):
    app.config["X_CLIENT_SECRET"] = "not-the-secret"
    auth.login()
    response = dance(client)
    assert response.headers["Location"] == CONNECT
    page = flashed(client)
    assert "X refused the sign-in" in page and "Missing valid authorization header" in page
    assert connections() == []


def test_token_endpoint_failure_stores_nothing(auth, client, user, fx):
    auth.login()
    fx.fail_next(1, status=502, path="/2/oauth2/token")
    assert dance(client).headers["Location"] == CONNECT
    assert "X refused the sign-in" in flashed(client)
    assert connections() == []


def test_profile_read_failure_stores_nothing(auth, client, user, fx):
    auth.login()
    fx.fail_next(10, path="/2/users/me")
    assert dance(client).headers["Location"] == CONNECT
    assert "X did not answer properly" in flashed(client)
    assert connections() == []


def test_profile_that_is_not_a_user_stores_nothing(auth, client, user, fx, monkeypatch):
    def broken(self, client, config) -> None:
        raise KeyError("username")

    monkeypatch.setattr(type(CONNECTORS["x"]), "whoami", broken)
    auth.login()
    assert dance(client).headers["Location"] == CONNECT
    assert "X answered with something that is not a user" in flashed(client)
    assert connections() == []


def test_public_client_sends_no_secret(app, auth, client, user, fx):
    app.config["X_CLIENT_ID"] = "x-public"
    app.config["X_CLIENT_SECRET"] = None
    auth.login()
    assert dance(client).headers["Location"] == NETWORK_PAGE
    exchange = [r for r in fx.requests if r.path == "/2/oauth2/token"]
    assert "authorization" not in exchange[0].headers
    assert exchange[0].form()["client_id"] == "x-public"


def test_another_account_on_the_same_dashboard_is_refused(auth, client, user, fx):
    db.session.add(Connection(user_id=user.id, network="x", source="import", handle="someone"))
    db.session.commit()
    auth.login()
    assert dance(client).headers["Location"] == CONNECT
    assert "already holds @someone" in flashed(client)
    assert db.session.scalar(select(func.count(SyncRun.id))) == 0


# -- tokens during syncs ----------------------------------------------------------------------


def test_expired_token_is_refreshed_and_the_rotated_one_stored(auth, client, user, fx):
    auth.login()
    dance(client)
    (connection,) = connections()
    old_access, old_refresh = connection.access_token, connection.refresh_token
    expire_token(fx, connection)

    run = sync(client)
    assert (run.status, run.error) == ("done", None)
    db.session.refresh(connection)
    assert connection.access_token != old_access and connection.access_token in fx.issued
    assert connection.refresh_token != old_refresh
    assert connection.refresh_token in fx.refresh_tokens  # X rotated it; the new one is kept
    assert old_refresh not in fx.refresh_tokens
    assert connection.token_expires_at > datetime.now(UTC) + timedelta(hours=1)
    assert fx.count("/2/oauth2/token") == 2


def test_token_running_out_mid_sync_is_refreshed(auth, client, user, fx, monkeypatch):
    auth.login()
    dance(client)
    (connection,) = connections()
    calls = {"n": 0}

    def clock() -> datetime:
        calls["n"] += 1
        if calls["n"] == 4:  # the third API request of the sync: two hours have passed
            fx.advance(7300)
        return datetime.now(UTC) + timedelta(seconds=7300 if calls["n"] == 4 else 0)

    monkeypatch.setattr(tokens, "now", clock)
    run = sync(client)
    assert (run.status, run.error) == ("done", None)
    assert fx.count("/2/oauth2/token") == 2
    db.session.refresh(connection)
    assert connection.current_snapshot.followers_count == 5


def test_a_401_with_a_working_refresh_token_refreshes_once_and_goes_on(auth, client, user, fx):
    auth.login()
    dance(client)
    (connection,) = connections()
    old_access = connection.access_token
    fx.tokens.discard(old_access)  # X revoked the access token early; the refresh token works
    fx.issued.pop(old_access, None)

    run = sync(client)
    assert (run.status, run.error) == ("done", None)
    db.session.refresh(connection)
    assert connection.status == "ok"
    assert connection.access_token != old_access and connection.access_token in fx.issued
    assert fx.count("/2/oauth2/token") == 2  # the code exchange, then one refresh
    assert connection.current_snapshot.followers_count == 5


def test_a_failed_run_records_every_request_it_made(auth, client, user, fx):
    auth.login()
    dance(client)
    fx.reset_log()
    fx.fail_next(4, status=503, path="/2/users/me")  # four tries, all refused
    run = sync(client)
    assert run.status == "failed"
    assert run.requests == len(fx.requests) == 4


def test_refused_refresh_asks_to_reconnect_and_keeps_the_data(auth, client, user, fx):
    auth.login()
    dance(client)
    (connection,) = connections()
    first = connection.current_snapshot_id
    fx.refresh_tokens.clear()  # the user revoked the app on X
    expire_token(fx, connection)

    run = sync(client)
    assert run.status == "failed" and "X would not renew the saved sign-in" in run.error
    db.session.refresh(connection)
    assert connection.status == "reconnect"
    assert connection.current_snapshot_id == first
    page = client.get(CONNECT).get_data(as_text=True)
    assert "Reconnect X" in page
    assert dance(client).headers["Location"] == NETWORK_PAGE
    db.session.refresh(connection)
    assert connection.status == "ok" and connection.current_snapshot_id != first


def test_expired_token_without_refresh_token_asks_to_reconnect(auth, client, user, fx):
    auth.login()
    dance(client)
    (connection,) = connections()
    connection.refresh_token = None
    expire_token(fx, connection)
    run = sync(client)
    assert "cannot be renewed" in run.error
    db.session.refresh(connection)
    assert connection.status == "reconnect"


def test_connection_without_token_asks_to_reconnect(user, fx):
    connection = Connection(user_id=user.id, network="x", source="live", handle="me")
    db.session.add(connection)
    db.session.commit()
    run = start_sync(connection, "live")
    assert run.status == "failed" and "can no longer be used" in run.error
    assert connection.status == "reconnect"


# -- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "note"),
    [
        ("not-enrolled", FOLLOWERS_PLAN_NOTE),
        ("credits", CREDITS_NOTE.format(stage="followers were refused")),
    ],
)
def test_refused_followers_keep_the_posts_and_say_so(auth, client, user, fx, kind, note):
    fx.refuse("/2/users/1/followers", kind)
    auth.login()
    dance(client)
    run = db.session.scalars(select(SyncRun)).one()
    assert run.status == "done"
    (connection,) = connections()
    snapshot = connection.current_snapshot
    assert snapshot.posts_count == 6
    assert snapshot.followers_count is None  # unknown, never a made-up zero
    page = client.get(NETWORK_PAGE).get_data(as_text=True)
    assert note in page


def test_usage_cap_fails_the_run_and_keeps_earlier_data(auth, client, user, fx):
    auth.login()
    dance(client)
    (connection,) = connections()
    first = connection.current_snapshot_id
    fx.refuse("/2/users/me", "usage-cap")
    run = sync(client)
    assert (run.status, run.error) == ("failed", USAGE_CAP_MESSAGE)
    db.session.refresh(connection)
    assert connection.status == "ok"  # nothing wrong with the sign-in
    assert connection.current_snapshot_id == first
    assert db.session.scalar(select(func.count(Snapshot.id))) == 1
    page = client.get(NETWORK_PAGE).get_data(as_text=True)
    assert "monthly usage cap" in page
    assert "Last sync failed" in page
