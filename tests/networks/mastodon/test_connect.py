"""Mastodon: naming a server, registering the app there once, OAuth with and without PKCE,
driven through the app against a fake Mastodon server on 127.0.0.1.

The fake is plain http on 127.0.0.1, which the outbound guard refuses: the test config turns
on ``ALLOW_INSECURE_INSTANCES`` and names the fake (host and port) in
``OUTBOUND_ALLOWED_HOSTS``, and nothing else; the guard stays on. The SSRF tests at the end
prove that nothing else on 127.0.0.1 is ever reached."""

from __future__ import annotations

import csv
import html
import io
import re
import time
from collections.abc import Iterator
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
from tests.fakes.listener import Listener
from tests.fakes.mastodon import REMOTE_TEXT, FakeMastodon, pkce_challenge
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
def config_overrides(masto) -> dict[str, Any]:
    return {
        "ALLOW_INSECURE_INSTANCES": True,
        "OUTBOUND_ALLOWED_HOSTS": f"127.0.0.1:{masto.port}",
        "HTTP_BACKOFF": 0.01,
    }


def allow(app, *entries: str) -> None:
    """Name more hosts in ``OUTBOUND_ALLOWED_HOSTS``."""
    app.config["OUTBOUND_ALLOWED_HOSTS"] = ",".join(
        [app.config["OUTBOUND_ALLOWED_HOSTS"], *entries]
    )


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


def test_unreachable_server(app, auth, client, user):
    allow(app, "127.0.0.1:9")  # allowed, but nothing listens there
    auth.login()
    page = submit(client, "http://127.0.0.1:9").get_data(as_text=True)
    assert "127.0.0.1:9 could not be reached." in page
    assert db.session.scalar(select(func.count(MastodonApp.id))) == 0


def test_not_a_mastodon_server(app, auth, client, user):
    auth.login()
    with FakeBluesky(small_world()) as other:
        allow(app, f"127.0.0.1:{other.port}")
        page = submit(client, other.url).get_data(as_text=True)
    assert "does not look like a Mastodon server" in page


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (422, "{host} refused to register MD Analytics (HTTP 422)."),
        (403, "{host} refused to register MD Analytics (HTTP 403)."),
        (503, "{host} could not be reached."),
    ],
)
def test_registration_refused(auth, client, user, masto, status, message):
    masto.fail_next(1, status=status, path="/api/v1/apps")
    auth.login()
    page = submit(client, masto.url).get_data(as_text=True)
    assert message.format(host=f"127.0.0.1:{masto.port}") in page
    assert "Server Error" not in page  # the fake's own words
    assert db.session.scalar(select(func.count(MastodonApp.id))) == 0


def test_registration_refusal_does_not_show_the_servers_words(auth, client, user, masto):
    auth.login()
    masto._register = lambda request: type(masto._metadata())(422, {"error": REMOTE_TEXT})  # type: ignore[method-assign]
    page = submit(client, masto.url).get_data(as_text=True)
    assert "refused to register MD Analytics (HTTP 422)." in page
    assert REMOTE_TEXT not in page


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
    page = client.get(CONNECT).get_data(as_text=True)
    assert "Mastodon refused the sign-in. Nothing was connected" in page
    assert "invalid_grant" not in page and "grant is invalid" not in page  # the server's words
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


# -- the outbound guard: nothing on this machine or its network is reached -----------------

PRIVATE = "{host} is a private or local address; MD Analytics only connects to public servers."
NUMERIC = "Write the server's address as a name, like mastodon.social, or as a plain IP address."
MALFORMED = "That does not look like a server address."
PORTS = "MD Analytics only connects to servers on the standard ports (443 for https, 80 for http)."
UNREACHABLE = "{host} could not be reached."


def form_errors(response) -> list[str]:
    """The messages under the server field."""
    page = response.get_data(as_text=True)
    return [html.unescape(m) for m in re.findall(r'class="invalid-feedback">([^<]*)<', page)]


def resolver(host: str, port: int) -> list[str]:
    """Names a hostile DNS would answer (``OUTBOUND_RESOLVER``); anything else is unknown."""
    table = {
        "rebind.example": ["127.0.0.1"],
        "rebind6.example": ["::1"],
        "metadata.example": ["169.254.169.254"],
        "mixed.example": ["93.184.215.14", "10.0.0.7"],
        "mapped.example": ["::ffff:127.0.0.1"],
    }
    if host not in table:
        raise OSError(f"{host} is unknown")
    return table[host]


@pytest.fixture
def listeners() -> Iterator[tuple[Listener, Listener]]:
    """Two ports on this machine a request must never reach (a VNC on 5901, a Redis...)."""
    with Listener() as v4, Listener("::1") as v6:
        yield v4, v6


SSRF_SPELLINGS = [
    # loopback, as a name and as an address, with the port of a local service
    ("127.0.0.1:{p}", PORTS),
    ("http://127.0.0.1:{p}", PORTS),
    ("https://127.0.0.1:{p}", PORTS),
    ("HTTP://127.0.0.1:{p}/", PORTS),
    ("localhost:{p}", PORTS),
    ("@me@localhost:{p}", PORTS),
    ("http://LocalHost:{p}", PORTS),
    ("http://api.localhost:{p}", PORTS),
    ("http://localhost.:{p}", MALFORMED),
    ("http://[::1]:{p6}", PORTS),
    # ... on the standard ports
    ("https://127.0.0.1", PRIVATE.format(host="127.0.0.1")),
    ("http://127.0.0.1", PRIVATE.format(host="127.0.0.1")),
    ("localhost", PRIVATE.format(host="localhost")),
    ("http://localhost", PRIVATE.format(host="localhost")),
    ("http://api.localhost", PRIVATE.format(host="api.localhost")),
    ("https://[::1]", PRIVATE.format(host="::1")),
    ("http://[0:0:0:0:0:0:0:1]", PRIVATE.format(host="::1")),
    ("http://0.0.0.0", PRIVATE.format(host="0.0.0.0")),
    ("http://0.0.0.0:{p}", PORTS),
    ("0.0.0.0:5432", PORTS),
    ("localhost:6379", PORTS),
    ("http://[::ffff:127.0.0.1]:{p}", PORTS),
    ("http://[::]", PRIVATE.format(host="::")),
    ("http://[::ffff:127.0.0.1]", PRIVATE.format(host="::ffff:7f00:1")),
    ("http://[::ffff:7f00:1]", PRIVATE.format(host="::ffff:7f00:1")),
    ("http://[::127.0.0.1]", PRIVATE.format(host="::7f00:1")),
    ("http://[2002:7f00:1::]", PRIVATE.format(host="2002:7f00:1::")),
    ("http://[64:ff9b::127.0.0.1]", PRIVATE.format(host="64:ff9b::7f00:1")),
    # numeric spellings the C library reads as 127.0.0.1
    ("http://127.1", NUMERIC),
    ("http://127.0.1", NUMERIC),
    ("http://0x7f.0.0.1", NUMERIC),
    ("http://0x7f.1", NUMERIC),
    ("http://0x7f000001", NUMERIC),
    ("http://2130706433", NUMERIC),
    ("http://0177.0.0.1", NUMERIC),
    ("http://017700000001", NUMERIC),
    ("http://127.000.000.001", NUMERIC),
    ("http://0", NUMERIC),
    ("http://2130706433:{p}", NUMERIC),
    ("http://%31%32%37.0.0.1", MALFORMED),
    ("http://[fe80::1%25lo]", MALFORMED),
    # private networks, link-local, cloud metadata, CGNAT, multicast
    ("http://10.0.0.1", PRIVATE.format(host="10.0.0.1")),
    ("http://172.16.0.1", PRIVATE.format(host="172.16.0.1")),
    ("http://192.168.0.1", PRIVATE.format(host="192.168.0.1")),
    ("http://100.64.0.1", PRIVATE.format(host="100.64.0.1")),
    ("169.254.169.254", PRIVATE.format(host="169.254.169.254")),
    ("http://169.254.169.254", PRIVATE.format(host="169.254.169.254")),
    ("http://169.254.169.254:{p}", PORTS),
    ("http://[fd00:ec2::254]", PRIVATE.format(host="fd00:ec2::254")),
    ("http://[fe80::1]", PRIVATE.format(host="fe80::1")),
    ("http://224.0.0.1", PRIVATE.format(host="224.0.0.1")),
    ("http://10.0.0.1:5432", PORTS),
    # names that resolve to such addresses: refused after resolving, before connecting
    ("rebind.example", UNREACHABLE.format(host="rebind.example")),
    ("http://rebind.example", UNREACHABLE.format(host="rebind.example")),
    ("https://rebind6.example", UNREACHABLE.format(host="rebind6.example")),
    ("metadata.example", UNREACHABLE.format(host="metadata.example")),
    ("mixed.example", UNREACHABLE.format(host="mixed.example")),
    ("mapped.example", UNREACHABLE.format(host="mapped.example")),
    ("unknown.example", UNREACHABLE.format(host="unknown.example")),
    ("http://rebind.example:{p}", PORTS),
]


@pytest.mark.parametrize(("typed", "message"), SSRF_SPELLINGS)
def test_ssrf_spellings_reach_nothing(app, auth, client, user, listeners, typed, message):
    """Every spelling of a local, private or metadata address, or a name resolving to one,
    ends on the form with a fixed sentence, and nothing reaches the local listeners."""
    v4, v6 = listeners
    app.config["OUTBOUND_RESOLVER"] = resolver
    auth.login()
    response = submit(client, typed.format(p=v4.port, p6=v6.port))
    assert response.status_code == 200
    assert form_errors(response) == [message]
    assert "Error" not in response.get_data(as_text=True)  # no exception class names
    assert (v4.connections, v6.connections) == (0, 0)
    assert db.session.scalar(select(func.count(MastodonApp.id))) == 0


def test_the_listeners_would_tell(app, auth, client, user, listeners):
    """The control for the test above: a listener named in OUTBOUND_ALLOWED_HOSTS is
    reached, and the page says only that it could not be reached (it hung up)."""
    v4, v6 = listeners
    allow(app, v4.netloc, v6.netloc)
    auth.login()
    for listener in (v4, v6):
        response = submit(client, f"http://{listener.netloc}")
        assert form_errors(response) == [UNREACHABLE.format(host=listener.netloc)]
    assert (v4.connections, v6.connections) == (1, 1)


def test_the_checked_address_is_connected_and_the_name_kept(app, auth, client, user, masto):
    """``pinned.example`` resolves (through the guard's resolver only) to the fake: the whole
    sign-in and the first sync work, so every connection went to the checked address, and
    the server was always addressed by its name."""
    app.config["OUTBOUND_RESOLVER"] = lambda host, port: ["127.0.0.1"]
    allow(app, f"pinned.example:{masto.port}")
    instance = f"http://pinned.example:{masto.port}"
    auth.login()
    authorize = submit(client, instance).headers["Location"]
    assert authorize.startswith(f"{instance}/oauth/authorize?")
    # the browser's DNS is not the guard's: it goes to the fake by its address
    callback = consent(authorize.replace(instance, masto.url))
    assert client.get(callback).headers["Location"] == NETWORK_PAGE
    (connection,) = connections()
    assert connection.instance_url == instance
    assert connection.handle == f"me@pinned.example:{masto.port}"
    assert db.session.scalars(select(SyncRun)).one().status == "done"
    server_side = [r for r in masto.requests if r.path != "/oauth/authorize"]
    assert {r.path for r in server_side} >= {"/api/v1/apps", "/oauth/token"}
    assert {r.headers["host"] for r in server_side} == {f"pinned.example:{masto.port}"}


def test_a_redirect_at_registration_is_not_followed(app, auth, client, user, masto, listeners):
    """A server named in the allow-list answers 307 to a port on this machine that is not:
    the second one is never reached and nothing the first one said is shown."""
    inside, _ = listeners
    masto.redirects["/api/v1/apps"] = f"http://{inside.netloc}/api/v1/apps"
    auth.login()
    response = submit(client, masto.url)
    host = f"127.0.0.1:{masto.port}"
    assert form_errors(response) == [
        f"{host} sent MD Analytics to another address; enter the address of your Mastodon "
        "server itself."
    ]
    page = response.get_data(as_text=True)
    assert REMOTE_TEXT not in page and str(inside.port) not in page
    assert inside.connections == 0
    assert masto.count("/api/v1/apps") == 1


def test_a_redirect_to_another_allowed_server_is_not_followed_either(
    app, auth, client, user, masto
):
    with FakeMastodon(small_world()) as other:
        allow(app, f"127.0.0.1:{other.port}")
        masto.redirects["/api/v1/apps"] = f"{other.url}/api/v1/apps"
        auth.login()
        assert "sent MD Analytics to another address" in form_errors(submit(client, masto.url))[0]
        assert other.count() == 0


def test_a_redirect_of_the_code_exchange_is_not_followed(app, auth, client, user, masto, listeners):
    inside, _ = listeners
    masto.redirects["/oauth/token"] = f"http://{inside.netloc}/oauth/token"
    auth.login()
    assert dance(client, masto.url).headers["Location"] == CONNECT
    page = client.get(CONNECT).get_data(as_text=True)
    assert "Mastodon could not be reached to finish the sign-in." in page
    assert REMOTE_TEXT not in page and "Error" not in page
    assert inside.connections == 0
    assert connections() == []


def test_the_code_exchange_is_checked_again(app, auth, client, user, masto):
    """The server was allowed when the sign-in started and is not when the browser comes
    back: the code exchange is refused before anything is sent."""
    auth.login()
    callback = consent(submit(client, masto.url).headers["Location"])
    app.config["OUTBOUND_ALLOWED_HOSTS"] = ""
    assert client.get(callback).headers["Location"] == CONNECT
    page = client.get(CONNECT).get_data(as_text=True)
    assert "Mastodon could not be reached to finish the sign-in." in page
    assert masto.count("/oauth/token") == 0
    assert connections() == []


def test_a_redirect_of_the_profile_read_is_not_followed(app, auth, client, user, masto, listeners):
    inside, _ = listeners
    masto.redirects["/api/v1/accounts/verify_credentials"] = f"http://{inside.netloc}/"
    auth.login()
    assert dance(client, masto.url).headers["Location"] == CONNECT
    page = html.unescape(client.get(CONNECT).get_data(as_text=True))
    host = f"127.0.0.1:{masto.port}"
    assert (
        f"{host} answered with a redirect (HTTP 307), which is not followed. Nothing was "
        "connected." in page
    )
    assert REMOTE_TEXT not in page
    assert inside.connections == 0
    assert connections() == []


def test_a_slow_server_is_given_up_on_quickly(app, auth, client, user, masto):
    """Registration waits OUTBOUND_TIMEOUT, not HTTP_TIMEOUT (30 s), for a slow server."""
    app.config.update(OUTBOUND_TIMEOUT=0.5, HTTP_TIMEOUT=30)
    masto.slow_next(delay=5, path="/api/v1/apps")
    auth.login()
    started = time.monotonic()
    response = submit(client, masto.url)
    elapsed = time.monotonic() - started
    host = f"127.0.0.1:{masto.port}"
    assert form_errors(response) == [f"{host} did not answer in time; please try again later."]
    assert 0.5 <= elapsed < 4  # the server answers after 5 s
    assert masto.count("/api/v1/apps") == 1  # a registration is never sent twice
    assert db.session.scalar(select(func.count(MastodonApp.id))) == 0


def test_slow_pkce_metadata_falls_back_quickly(app, auth, client, user, masto):
    app.config.update(OUTBOUND_TIMEOUT=0.5, HTTP_TIMEOUT=30)
    masto.slow_next(delay=5, path="/.well-known/")
    auth.login()
    started = time.monotonic()
    assert submit(client, masto.url).status_code == 302
    assert time.monotonic() - started < 4
    assert db.session.scalars(select(MastodonApp)).one().supports_pkce is False


def test_a_slow_profile_read_is_given_up_on_quickly(app, auth, client, user, masto):
    app.config.update(OUTBOUND_TIMEOUT=0.5, HTTP_TIMEOUT=30)
    auth.login()
    callback = consent(submit(client, masto.url).headers["Location"])
    masto.slow_next(2, delay=5, path="/api/v1/accounts/verify_credentials")
    started = time.monotonic()
    assert client.get(callback).headers["Location"] == CONNECT
    assert time.monotonic() - started < 4  # two tries of 0.5 s, not four of 30 s
    page = client.get(CONNECT).get_data(as_text=True)
    assert f"127.0.0.1:{masto.port} did not answer in time. Nothing was connected." in page
    assert connections() == []


def start_sync_of(client) -> SyncRun:
    client.post(f"{NETWORK_PAGE}/sync", data={"csrf_token": csrf_token(client, NETWORK_PAGE)})
    return db.session.scalars(select(SyncRun).order_by(SyncRun.id.desc())).first()


def test_a_sync_of_a_server_no_longer_allowed_reaches_nothing(auth, client, user, listeners):
    """A connection stored for a server the guard now refuses (saved before the guard, or
    the allow-list changed): its syncs fail without a connection being made."""
    inside, _ = listeners
    db.session.add(
        Connection(
            user_id=user.id,
            network="mastodon",
            source="live",
            external_id="1",
            handle="me@inside",
            access_token="test-token",
            instance_url=f"http://{inside.netloc}",
        )
    )
    db.session.commit()
    auth.login()
    run = start_sync_of(client)
    assert (run.status, run.error) == ("failed", f"{inside.netloc} could not be reached.")
    assert inside.connections == 0


def test_a_sync_does_not_follow_a_redirect(auth, client, user, masto, listeners):
    inside, _ = listeners
    auth.login()
    dance(client, masto.url)
    masto.redirects["/api/v1/accounts/1/followers"] = f"http://{inside.netloc}/"
    run = start_sync_of(client)
    assert run.status == "failed"
    assert run.error == (
        f"127.0.0.1:{masto.port} answered with a redirect (HTTP 307), which is not followed."
    )
    assert inside.connections == 0
