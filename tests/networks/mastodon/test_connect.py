"""Mastodon: naming a server, registering the app there once, OAuth with and without PKCE,
driven through the app against a fake Mastodon server on 127.0.0.1."""

from __future__ import annotations

import csv
import io
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from sqlalchemy import func, insert, select

from app.extensions import db
from app.models import Connection, MastodonApp, SyncRun
from app.networks.mastodon import fetcher as mastodon_fetcher
from tests.conftest import AuthActions, csrf_token
from tests.factories import UserFactory
from tests.fakes.bluesky import FakeBluesky
from tests.fakes.mastodon import FakeMastodon, pkce_challenge
from tests.fakes.world import small_world
from tests.oauth import provider_answer

NETWORK_PAGE = "/dashboard/user/mastodon"
CONNECT = "/dashboard/user/mastodon/connect"
CALLBACK = "/dashboard/user/mastodon/callback"


@pytest.fixture
def masto():
    with FakeMastodon(small_world()) as server:
        yield server


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {"ALLOW_INSECURE_INSTANCES": True, "HTTP_BACKOFF": 0.01}


def submit(client, instance: str):
    token = csrf_token(client, CONNECT)
    return client.post(CONNECT, data={"instance": instance, "csrf_token": token})


def consent(authorize_url: str) -> str:
    return provider_answer(authorize_url, CALLBACK)


def dance(client, instance: str):
    response = submit(client, instance)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client.get(consent(response.headers["Location"]))


def connections() -> list[Connection]:
    return list(db.session.scalars(select(Connection)))


def test_connect_page_has_the_server_form(auth, client, user):
    auth.login()
    page = client.get(CONNECT).get_data(as_text=True)
    assert 'name="instance"' in page and "Sign in with Mastodon" in page


def test_full_dance_with_pkce_connects_and_syncs(auth, client, user, masto):
    auth.login()
    start = submit(client, masto.url)
    authorize = urlsplit(start.headers["Location"])
    query = parse_qs(authorize.query)
    assert (
        f"{authorize.scheme}://{authorize.netloc}{authorize.path}" == f"{masto.url}/oauth/authorize"
    )
    assert query["scope"] == ["read"] and query["code_challenge_method"] == ["S256"]
    assert query["redirect_uri"] == [f"http://localhost{CALLBACK}"]
    assert query["state"][0]

    response = client.get(consent(start.headers["Location"]))
    assert response.status_code == 302 and response.headers["Location"] == NETWORK_PAGE
    (exchange,) = [r for r in masto.requests if r.path == "/oauth/token"]
    verifier = exchange.form()["code_verifier"]
    assert pkce_challenge(verifier) == query["code_challenge"][0]

    app_row = db.session.scalars(select(MastodonApp)).one()
    assert (app_row.instance_url, app_row.supports_pkce, app_row.scopes) == (
        masto.url,
        True,
        "read",
    )
    assert app_row.client_secret == masto.apps[app_row.client_id]["client_secret"]
    (connection,) = connections()
    host = urlsplit(masto.url).netloc
    assert (connection.source, connection.status, connection.instance_url) == (
        "live",
        "ok",
        masto.url,
    )
    assert (connection.external_id, connection.handle) == ("1", f"me@{host}")
    assert connection.access_token == masto.issued_tokens[-1]

    run = db.session.scalars(select(SyncRun)).one()
    assert (run.status, run.error) == ("done", None)
    snapshot = connection.current_snapshot
    assert (snapshot.followers_count, snapshot.friends_count, snapshot.posts_count) == (5, 4, 6)
    body = client.get(f"{NETWORK_PAGE}/export/followers.csv").get_data(as_text=True)
    followers = {row["handle"]: row for row in csv.DictReader(io.StringIO(body))}
    assert followers[f"andrew@{host}"]["my_followers_they_follow"] == "2"
    # Rick hides his lists: his number is unknown, not zero, and the page says why.
    assert followers[f"rick@{host}"]["my_followers_they_follow"] == ""
    page = client.get(NETWORK_PAGE).get_data(as_text=True)
    assert "1 person hides whom they follow" in page


def test_server_without_pkce_gets_plain_oauth(auth, client, user, masto):
    masto.supports_pkce = False
    auth.login()
    start = submit(client, masto.url)
    assert "code_challenge" not in parse_qs(urlsplit(start.headers["Location"]).query)
    response = client.get(consent(start.headers["Location"]))
    assert response.headers["Location"] == NETWORK_PAGE
    assert db.session.scalars(select(MastodonApp)).one().supports_pkce is False
    (exchange,) = [r for r in masto.requests if r.path == "/oauth/token"]
    assert "code_verifier" not in exchange.form()
    assert connections()[0].current_snapshot.followers_count == 5


def test_registration_is_reused_for_a_second_user(app, auth, client, user, masto):
    auth.login()
    dance(client, masto.url)
    auth.logout()
    UserFactory(username="user7")
    auth.login("user7")
    assert (
        dance(client, masto.url.replace("http://", "HTTP://") + "/").headers["Location"]
        == NETWORK_PAGE
    )
    assert masto.count("/api/v1/apps") == 1
    assert len(masto.apps) == 1
    assert db.session.scalar(select(func.count(MastodonApp.id))) == 1
    assert len(connections()) == 2


def test_registration_for_an_old_callback_url_is_replaced(auth, client, user, masto):
    db.session.add(
        MastodonApp(
            instance_url=masto.url,
            redirect_uri="https://old.example/callback",
            client_id="gone",
            client_secret="gone",
        )
    )
    db.session.commit()
    auth.login()
    assert dance(client, masto.url).headers["Location"] == NETWORK_PAGE
    app_row = db.session.scalars(select(MastodonApp)).one()
    assert app_row.client_id in masto.apps
    assert app_row.redirect_uri == f"http://localhost{CALLBACK}"


@pytest.mark.parametrize(
    ("instance", "message"),
    [
        ("", "Enter the address of your Mastodon server"),
        ("mastodon .social", "cannot contain spaces"),
        ("ftp://mastodon.social", "Use the server&#39;s https:// address"),
        ("mastodon.social/@me", "without a path"),
        ("https://me@mastodon.social", "without a user name"),
        ("not_a_host", "does not look like a server address"),
    ],
)
def test_invalid_server_names(auth, client, user, instance, message):
    auth.login()
    response = submit(client, instance)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(MastodonApp.id))) == 0


def test_plain_http_needs_the_development_switch(app, auth, client, user, masto):
    app.config["ALLOW_INSECURE_INSTANCES"] = False
    auth.login()
    page = submit(client, masto.url).get_data(as_text=True)
    assert "plain http is not allowed" in page
    assert masto.count() == 0


def test_unreachable_server(auth, client, user):
    auth.login()
    page = submit(client, "http://127.0.0.1:9").get_data(as_text=True)
    assert "127.0.0.1:9 could not be reached" in page
    assert db.session.scalar(select(func.count(MastodonApp.id))) == 0


def test_not_a_mastodon_server(auth, client, user):
    auth.login()
    with FakeBluesky(small_world()) as other:
        page = submit(client, other.url).get_data(as_text=True)
    assert "does not look like a Mastodon server" in page


@pytest.mark.parametrize(
    ("status", "message"),
    [(422, "refused to register MD Analytics"), (503, "could not be reached")],
)
def test_registration_refused(auth, client, user, masto, status, message):
    masto.fail_next(1, status=status, path="/api/v1/apps")
    auth.login()
    page = submit(client, masto.url).get_data(as_text=True)
    assert message in page
    assert db.session.scalar(select(func.count(MastodonApp.id))) == 0


def test_broken_pkce_metadata_falls_back_to_plain_oauth(auth, client, user, masto):
    masto.fail_next(5, path="/.well-known/")
    auth.login()
    assert dance(client, masto.url).headers["Location"] == NETWORK_PAGE
    assert db.session.scalars(select(MastodonApp)).one().supports_pkce is False


def test_denied_consent_stores_nothing(auth, client, user, masto):
    masto.deny_consent = True
    auth.login()
    response = dance(client, masto.url)
    assert response.headers["Location"] == CONNECT
    page = client.get(CONNECT).get_data(as_text=True)
    assert "You did not allow MD Analytics to read your Mastodon account" in page
    assert connections() == []


def test_tampered_state_stores_nothing(auth, client, user, masto):
    auth.login()
    back = urlsplit(consent(submit(client, masto.url).headers["Location"]))
    query = {**parse_qs(back.query), "state": ["forged"]}
    response = client.get(f"{back.path}?{urlencode(query, doseq=True)}")
    assert response.headers["Location"] == CONNECT
    assert "could not be verified" in client.get(CONNECT).get_data(as_text=True)
    assert connections() == [] and masto.count("/oauth/token") == 0


def test_wrong_code_verifier_is_refused(auth, client, user, masto):
    auth.login()
    start = submit(client, masto.url)
    callback = consent(start.headers["Location"])
    with client.session_transaction() as session:
        for key, value in session.items():
            if key.startswith("_state_mastodon_"):
                value["data"]["code_verifier"] = "x" * 48
                session[key] = value
    response = client.get(callback)
    assert response.headers["Location"] == CONNECT
    assert "Mastodon refused the sign-in" in client.get(CONNECT).get_data(as_text=True)
    assert connections() == []


def test_account_read_failure_stores_nothing(auth, client, user, masto):
    masto.fail_next(10, path="/api/v1/accounts/verify_credentials")
    auth.login()
    assert dance(client, masto.url).headers["Location"] == CONNECT
    assert "did not answer properly" in client.get(CONNECT).get_data(as_text=True)
    assert connections() == []


def test_a_different_server_on_the_same_dashboard_is_refused(auth, client, user, masto):
    db.session.add(
        Connection(
            user_id=user.id,
            network="mastodon",
            source="live",
            external_id="1",
            handle="me@elsewhere.example",
            instance_url="https://elsewhere.example",
        )
    )
    db.session.commit()
    auth.login()
    assert dance(client, masto.url).headers["Location"] == CONNECT
    assert "already holds @me@elsewhere.example" in client.get(CONNECT).get_data(as_text=True)
    assert connections()[0].instance_url == "https://elsewhere.example"


def test_reconnect_prefills_the_server_and_restores_the_connection(auth, client, user, masto):
    auth.login()
    dance(client, masto.url)
    (connection,) = connections()
    first = connection.current_snapshot_id
    masto.tokens.clear()
    client.post(f"{NETWORK_PAGE}/sync", data={"csrf_token": csrf_token(client, NETWORK_PAGE)})
    db.session.refresh(connection)
    assert connection.status == "reconnect" and connection.current_snapshot_id == first

    page = client.get(CONNECT).get_data(as_text=True)
    assert "Reconnect Mastodon" in page and f'value="{masto.url}"' in page
    assert dance(client, masto.url).headers["Location"] == NETWORK_PAGE
    db.session.refresh(connection)
    assert connection.status == "ok" and connection.current_snapshot_id != first


def test_callback_from_another_browser_is_refused(app, auth, client, user, masto):
    auth.login()
    callback = consent(submit(client, masto.url).headers["Location"])
    other = app.test_client()
    UserFactory(username="mallory")
    AuthActions(other).login("mallory")
    assert other.get(callback).headers["Location"] == CONNECT
    assert connections() == []


def test_registration_race_keeps_the_first_row(app, auth, client, user, masto, monkeypatch):
    """Two people start on a new server at once: the second registration yields to the first."""
    register = mastodon_fetcher.register_app

    def register_while_another_request_does(instance_url, redirect_uri, *args, **kwargs):
        with db.engine.begin() as other:
            other.execute(
                insert(MastodonApp).values(
                    instance_url=instance_url,
                    redirect_uri=redirect_uri,
                    client_id="first",
                    client_secret="first-secret",
                    scopes="read",
                    supports_pkce=False,
                )
            )
        return register(instance_url, redirect_uri, *args, **kwargs)

    monkeypatch.setattr(mastodon_fetcher, "register_app", register_while_another_request_does)
    auth.login()
    response = submit(client, masto.url)
    assert response.status_code == 302
    assert parse_qs(urlsplit(response.headers["Location"]).query)["client_id"] == ["first"]
    assert db.session.scalars(select(MastodonApp)).one().client_id == "first"
