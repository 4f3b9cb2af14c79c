"""GitHub: the OAuth web flow driven through the app against a fake GitHub on 127.0.0.1.

Each test runs the real redirects: the app sends the browser to the fake's authorize URL,
``requests`` reads the fake's redirect back (no consent page), and the test client follows it
to the app's callback, which exchanges the code and syncs inline.
"""

from __future__ import annotations

import csv
import io
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select, text

from app.crypto import fernet_for
from app.extensions import db
from app.models import Connection, Person, Snapshot, SyncRun
from tests.conftest import AuthActions, csrf_token
from tests.factories import UserFactory
from tests.fakes.github import FakeGitHub
from tests.fakes.world import small_world
from tests.oauth import bad_state, provider_answer, tampered

NETWORK_PAGE = "/dashboard/user/github"
CONNECT = "/dashboard/user/github/connect"
AUTHORIZE = "/dashboard/user/github/authorize"
CALLBACK = "/dashboard/user/github/callback"
#: Requests a sync of the small world costs: /user, 1 page of followers and of friends,
#: 7 profiles, 6 following lists (Gus follows nobody, so his is not read), 1 page of events.
SMALL_WORLD_REQUESTS = 17


@pytest.fixture
def gh():
    with FakeGitHub(small_world()) as server:
        yield server


@pytest.fixture
def config_overrides(gh) -> dict[str, Any]:
    return {
        "GITHUB_CLIENT_ID": "gh-client",
        "GITHUB_CLIENT_SECRET": "gh-secret",
        "GITHUB_API_URL": gh.url,
        "GITHUB_AUTHORIZE_URL": f"{gh.url}/login/oauth/authorize",
        "GITHUB_TOKEN_URL": f"{gh.url}/login/oauth/access_token",
        "HTTP_BACKOFF": 0.01,
    }


def to_github(client) -> str:
    """GET the app's authorize route; return the fake authorize URL it redirects to."""
    response = client.get(AUTHORIZE)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def consent(authorize_url: str) -> str:
    return provider_answer(authorize_url, CALLBACK)


def dance(client):
    """The whole round trip; returns the app's answer to the callback."""
    return client.get(consent(to_github(client)))


def csv_rows(client, dataset: str) -> dict[str, dict[str, str]]:
    body = client.get(f"{NETWORK_PAGE}/export/{dataset}.csv").get_data(as_text=True)
    return {row["handle"]: row for row in csv.DictReader(io.StringIO(body))}


def connections() -> list[Connection]:
    return list(db.session.scalars(select(Connection)))


def flashed(client, url: str = CONNECT) -> str:
    return client.get(url).get_data(as_text=True)


# -- the connect page ---------------------------------------------------------------------


def test_connect_page_offers_github_sign_in(auth, client, user):
    auth.login()
    page = client.get(CONNECT).get_data(as_text=True)
    assert f'href="{AUTHORIZE}"' in page
    assert "read:user" in page
    assert "not configured" not in page


def test_connect_page_without_client_id_explains_setup(app, auth, client, user):
    app.config["GITHUB_CLIENT_ID"] = None
    auth.login()
    page = client.get(CONNECT).get_data(as_text=True)
    assert AUTHORIZE not in page
    assert "GITHUB_CLIENT_ID" in page and "GITHUB_CLIENT_SECRET" in page
    assert "http://localhost/dashboard/user/github/callback" in page
    assert "docs/networks.rst" in page
    for url in (AUTHORIZE, f"{CALLBACK}?code=x&state=y"):
        response = client.get(url)
        assert response.status_code == 302 and response.headers["Location"] == CONNECT
    assert "not configured on this server yet" in flashed(client)
    assert connections() == []


def test_connect_routes_need_sign_in(client, user):
    for url in (CONNECT, AUTHORIZE, f"{CALLBACK}?code=x&state=y"):
        response = client.get(url)
        assert response.status_code == 302 and "/signin" in response.headers["Location"]


def test_github_connect_page_takes_no_form(auth, client, user):
    auth.login()
    token = csrf_token(client, "/dashboard/user")
    assert client.post(CONNECT, data={"csrf_token": token}).status_code == 405


# -- the dance ------------------------------------------------------------------------------


def test_authorize_redirect_asks_for_read_user_with_state(auth, client, user, gh):
    auth.login()
    url = urlsplit(to_github(client))
    query = parse_qs(url.query)
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{gh.url}/login/oauth/authorize"
    assert query["client_id"] == ["gh-client"]
    assert query["scope"] == ["read:user"]
    assert query["redirect_uri"] == [f"http://localhost{CALLBACK}"]
    assert len(query["state"][0]) >= 20


def test_full_dance_connects_and_syncs_the_exact_graph(app, auth, client, user, gh):
    auth.login()
    response = dance(client)
    assert response.status_code == 302 and response.headers["Location"] == NETWORK_PAGE

    (connection,) = connections()
    token = gh.issued_tokens[-1]
    assert (connection.network, connection.source, connection.status) == ("github", "live", "ok")
    assert (connection.external_id, connection.handle) == ("1", "me")
    assert connection.display_name == "Me Myself"
    assert connection.access_token == token
    stored = db.session.execute(text("SELECT access_token FROM connections")).scalar_one()
    assert token not in stored  # encrypted at rest
    assert fernet_for(app.config["TOKEN_ENCRYPTION_KEY"]).decrypt(stored.encode()).decode() == token
    exchange = [r for r in gh.requests if r.path == "/login/oauth/access_token"]
    assert exchange[0].form()["client_secret"] == "gh-secret"

    run = db.session.scalars(select(SyncRun)).one()
    assert (run.kind, run.status, run.error) == ("live", "done", None)
    assert run.requests == SMALL_WORLD_REQUESTS
    snapshot = connection.current_snapshot
    assert (snapshot.followers_count, snapshot.friends_count, snapshot.mutuals_count) == (5, 4, 2)

    followers = csv_rows(client, "followers")
    assert set(followers) == {"bob", "rick", "andrew", "dave", "erin"}
    assert followers["andrew"]["my_followers_they_follow"] == "2"  # Bob and Rick
    assert followers["dave"]["my_followers_they_follow"] == "1"  # Andrew
    assert followers["bob"]["my_followers_they_follow"] == "0"
    assert followers["bob"]["followers_count"] == "3"  # Andrew, Carol, Frank
    assert followers["andrew"]["following_count"] == "4"
    friends = csv_rows(client, "friends")
    assert set(friends) == {"carol", "dave", "andrew", "gus"}
    assert friends["carol"]["common_friends"] == "1"  # we both follow Dave
    assert friends["dave"]["common_friends"] == "1"  # we both follow Andrew
    assert friends["gus"]["common_friends"] == "0" and friends["gus"]["following_count"] == "0"

    page = client.get(NETWORK_PAGE).get_data(as_text=True)
    assert "GitHub connected as @me" in page
    assert "90 days" in page


def test_denied_consent_stores_nothing(auth, client, user, gh):
    auth.login()
    gh.deny_consent = True
    response = dance(client)
    assert response.status_code == 302 and response.headers["Location"] == CONNECT
    assert "You did not allow MD Analytics to read your GitHub account" in flashed(client)
    assert connections() == []
    assert gh.count("/login/oauth/access_token") == 0


@bad_state
def test_bad_state_stores_nothing(auth, client, user, gh, tamper):
    auth.login()
    response = client.get(tampered(consent(to_github(client)), tamper))
    assert response.status_code == 302 and response.headers["Location"] == CONNECT
    assert "could not be verified" in flashed(client)
    assert connections() == []
    assert gh.count("/login/oauth/access_token") == 0


def test_callback_cannot_be_replayed(auth, client, user, gh):
    auth.login()
    callback = consent(to_github(client))
    assert client.get(callback).headers["Location"] == NETWORK_PAGE
    replay = client.get(callback)
    assert replay.headers["Location"] == CONNECT
    assert "could not be verified" in flashed(client)
    assert len(gh.issued_tokens) == 1


def test_state_from_another_browser_is_refused(app, auth, client, user, gh):
    auth.login()
    callback = consent(to_github(client))
    other = app.test_client()
    UserFactory(username="mallory")
    AuthActions(other).login("mallory")
    response = other.get(callback)
    assert response.headers["Location"] == CONNECT
    assert connections() == []


def test_token_exchange_error_stores_nothing(app, auth, client, user, gh):
    app.config["GITHUB_CLIENT_SECRET"] = "not-the-secret"
    auth.login()
    response = dance(client)
    assert response.headers["Location"] == CONNECT
    page = flashed(client)
    assert "GitHub refused the sign-in" in page
    assert "client_secret passed are incorrect" in page
    assert connections() == []


def test_token_endpoint_failure_stores_nothing(auth, client, user, gh):
    auth.login()
    gh.fail_next(1, status=502, path="/login/oauth/access_token")
    response = dance(client)
    assert response.headers["Location"] == CONNECT
    assert "GitHub could not be reached to finish the sign-in" in flashed(client)
    assert connections() == []


def test_profile_read_failure_stores_nothing(auth, client, user, gh):
    auth.login()
    gh.fail_next(10, path="/user")
    response = dance(client)
    assert response.headers["Location"] == CONNECT
    assert "GitHub did not answer properly" in flashed(client)
    assert connections() == []


# -- connecting again -----------------------------------------------------------------------


def test_connecting_the_same_account_again_refreshes_the_token(auth, client, user, gh):
    auth.login()
    dance(client)
    first_token = gh.issued_tokens[-1]
    dance(client)
    (connection,) = connections()
    assert connection.access_token == gh.issued_tokens[-1] != first_token
    assert db.session.scalar(select(func.count(Snapshot.id))) == 2
    assert connection.current_snapshot.followers_count == 5


def test_another_account_on_the_same_dashboard_is_refused(auth, client, user, gh):
    other = Connection(
        user_id=user.id,
        network="github",
        source="live",
        external_id="999",
        handle="someone",
        access_token="old-token",
    )
    db.session.add(other)
    db.session.commit()
    auth.login()
    response = dance(client)
    assert response.headers["Location"] == CONNECT
    assert "already holds @someone" in flashed(client)
    db.session.refresh(other)
    assert (other.external_id, other.access_token) == ("999", "old-token")
    assert db.session.scalar(select(func.count(SyncRun.id))) == 0


def test_two_users_may_connect_the_same_account(app, auth, client, user, gh):
    auth.login()
    dance(client)
    auth.logout()
    UserFactory(username="user9")
    auth.login("user9")
    assert dance(client).headers["Location"] == NETWORK_PAGE
    assert {c.user_id for c in connections()} == {user.id, user.id + 1}


def test_revoked_token_then_reconnect_keeps_data_until_the_new_sync(auth, client, user, gh):
    auth.login()
    dance(client)
    (connection,) = connections()
    first = connection.current_snapshot_id

    gh.tokens.clear()  # the user revoked the app on GitHub
    token = csrf_token(client, NETWORK_PAGE)
    client.post(f"{NETWORK_PAGE}/sync", data={"csrf_token": token})
    db.session.refresh(connection)
    assert connection.status == "reconnect"
    assert connection.current_snapshot_id == first
    assert db.session.scalar(select(func.count(Person.id))) == 7  # old rows kept
    page = client.get(NETWORK_PAGE).get_data(as_text=True)
    assert "Reconnect</a> to sync again" in page
    assert "no longer accepts the saved login" in page

    connect_page = client.get(CONNECT).get_data(as_text=True)
    assert "Reconnect GitHub" in connect_page and "stays on your page" in connect_page
    assert dance(client).headers["Location"] == NETWORK_PAGE
    db.session.refresh(connection)
    assert connection.status == "ok"
    assert connection.current_snapshot_id != first
    assert connection.current_snapshot.followers_count == 5


def test_token_exchange_has_a_timeout(app, auth, client, user, gh):
    app.config["HTTP_TIMEOUT"] = 0.2
    auth.login()
    gh.slow_next(1, delay=1.0, path="/login/oauth/access_token")
    response = dance(client)
    assert response.headers["Location"] == CONNECT
    assert "GitHub could not be reached to finish the sign-in" in flashed(client)
    assert connections() == []
