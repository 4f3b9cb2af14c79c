"""fetch_mastodon and the instance / app / OAuth helpers against the fake Mastodon."""

from __future__ import annotations

import math
import secrets
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from app.networks.base import AuthExpired, Follow, NetworkError, NotAvailable
from app.networks.http import HttpError
from app.networks.mastodon.fetcher import (
    fetch_mastodon,
    html_to_text,
    instance_supports_pkce,
    normalise_instance,
    register_app,
)
from app.networks.outbound import OutboundPolicy, parse_allowed_hosts
from tests.fakes.mastodon import FakeMastodon, pkce_challenge
from tests.fakes.world import World, big_world

STRICT = OutboundPolicy()
#: Development: plain http on, and two local servers named in OUTBOUND_ALLOWED_HOSTS.
DEV = OutboundPolicy(
    allow_insecure=True,
    allowed=parse_allowed_hosts("127.0.0.1:8123, localhost:3000, [::1]:4000, social.example:8443"),
)


@pytest.fixture
def local(mastodon: FakeMastodon) -> OutboundPolicy:
    """The policy of a test config: the fake (plain http on 127.0.0.1) named explicitly."""
    return OutboundPolicy(
        allow_insecure=True, allowed=parse_allowed_hosts(f"127.0.0.1:{mastodon.port}")
    )


def str_edges(edges: set[tuple[int, int]]) -> set[Follow]:
    return {Follow(str(s), str(t)) for s, t in edges}


def test_small_world_with_token(mastodon: FakeMastodon, world: World, progress, api) -> None:
    data = fetch_mastodon(api(mastodon.url, token="test-token", progress=progress))
    host = f"127.0.0.1:{mastodon.port}"
    assert data.owner.handle == f"me@{host}"
    assert data.owner.posts_count == 6
    assert data.followers == ["7", "6", "4", "3", "2"]  # newest follow first
    assert data.friends == ["10", "4", "6", "5"]
    assert set(data.people) == {"2", "3", "4", "5", "6", "7", "10"}
    assert data.people["5"].handle == "carol@other.example"
    assert (data.people["4"].followers_count, data.people["4"].following_count) == (2, 4)
    # only the verified field becomes a link, plus the profile URL
    assert data.people["2"].links == ("https://bob.example", f"http://{host}/@bob")
    # Rick hides his lists: his edge to me is unknown and his list is not "fetched";
    # Carol is remote: only her follows of local accounts are known.
    expected = str_edges(world.circle_edges()) - {Follow("3", "1")}
    assert data.follows == expected
    assert data.lists_fetched == {"2", "4", "6", "7", "10"}
    assert data.notes == [
        "1 person lives on other servers: your server only knows the follows it has seen, "
        "so their following lists may be incomplete.",
        "1 person hides whom they follow; their links are unknown.",
    ]
    assert mastodon.count("/api/v1/accounts/10/following") == 0  # Gus follows nobody
    assert progress.requests == len(mastodon.requests)


def test_posts_mapping(mastodon: FakeMastodon, api) -> None:
    posts = {p.external_id: p for p in fetch_mastodon(api(mastodon.url, token="test-token")).posts}
    assert len(posts) == 6
    reply = posts["106"]
    assert (reply.kind, reply.text, reply.in_reply_to, reply.like_count) == (
        "reply",
        "Thanks Bob & <co>!",
        "9001",
        2,
    )
    boost = posts["105"]
    assert boost.is_repost and boost.kind == "repost"
    assert boost.text == "Boosted thing"
    assert boost.url == "https://other.example/@someone/105"
    post = posts["104"]
    assert post.text == "First paragraph.\n\nSecond paragraph\nwith a break."
    assert (post.reply_count, post.like_count, post.repost_count) == (3, 10, 4)
    assert post.url == f"{mastodon.url}/@me/104"


@pytest.mark.parametrize(
    ("content", "text"),
    [
        ("<p>a &amp; b</p><p>c<br>d</p>", "a & b\n\nc\nd"),
        ("<p>&lt;p&gt; is literal</p>", "<p> is literal"),
        (
            '<p><a href="https://x"><span class="invisible">https://</span>x.org</a></p>',
            "https://x.org",
        ),
        ("", ""),
    ],
)
def test_html_to_text(content: str, text: str) -> None:
    assert html_to_text(content) == text


def test_public_read_of_hidden_account(mastodon: FakeMastodon, world: World, api) -> None:
    world.owner.hidden = True
    data = fetch_mastodon(api(mastodon.url), acct="me")
    assert data.followers is None
    assert data.friends is None
    assert data.notes[:2] == [
        "This account hides its followers list, so Mastodon does not show it.",
        "This account hides its following list, so Mastodon does not show it.",
    ]
    assert data.people == {}
    assert mastodon.requests[0].bearer is None


def test_owner_sees_own_hidden_lists(mastodon: FakeMastodon, world: World, api) -> None:
    world.owner.hidden = True
    data = fetch_mastodon(api(mastodon.url, token="test-token"))
    assert data.followers is not None and len(data.followers) == 5


@pytest.mark.parametrize("mode", ["forbidden", "unauthorized"])
def test_hidden_lists_refused_outright(
    mastodon: FakeMastodon, world: World, mode: str, api
) -> None:
    world.owner.hidden = True
    mastodon.hidden_mode = mode
    data = fetch_mastodon(api(mastodon.url), acct="@me")
    assert data.followers is None and data.friends is None


def test_other_refusals_propagate(mastodon: FakeMastodon, api) -> None:
    mastodon.fail_next(status=422, path="/api/v1/accounts/1/followers")
    with pytest.raises(HttpError):
        fetch_mastodon(api(mastodon.url, token="test-token"))


def test_unauthorized_list_with_token_is_auth_expired(mastodon: FakeMastodon, api) -> None:
    mastodon.fail_next(status=401, path="/api/v1/accounts/1/followers")
    with pytest.raises(AuthExpired):
        fetch_mastodon(api(mastodon.url, token="test-token"))


def test_unknown_account(mastodon: FakeMastodon, api) -> None:
    with pytest.raises(NotAvailable):
        fetch_mastodon(api(mastodon.url), acct="nobody")


def test_needs_token_or_acct(mastodon: FakeMastodon, api) -> None:
    with pytest.raises(ValueError, match="token or an account"):
        fetch_mastodon(api(mastodon.url))


def test_revoked_token(mastodon: FakeMastodon, api) -> None:
    mastodon.tokens.clear()
    with pytest.raises(AuthExpired):
        fetch_mastodon(api(mastodon.url, token="test-token"))


def test_pagination_and_minimum_requests(api) -> None:
    world = big_world(
        n_followers=250,
        n_friends=160,
        n_mutual=80,
        n_outsiders=30,
        n_posts=120,
        max_out_degree=170,
        seed=5,
    )
    owner = world.owner_id
    with FakeMastodon(world) as server:
        data = fetch_mastodon(api(server.url, token="test-token"), max_posts=80)
        people = world.people()

        def visible(p: int) -> int:
            follows = world.following(p)
            if world.accounts[p].domain:
                follows = [t for t in follows if not world.accounts[t].domain]
            return len(follows)

        chosen = [p for p in people if world.following(p)]
        expected = (
            1
            + len(world.followers(owner)) // 80
            + 1
            + len(world.following(owner)) // 80
            + 1
            + sum(visible(p) // 80 + 1 for p in chosen)
            + 2  # max_posts=80: two pages of 40
        )
        assert len(server.requests) == expected
    assert len(data.followers or []) == 250
    assert len(data.friends or []) == 160
    assert len(data.posts) == 80
    assert "Only the newest 80 posts were read." in data.notes
    remote = {str(p) for p in people if world.accounts[p].domain}
    complete = {str(p) for p in people if not world.accounts[p].domain}
    assert complete <= data.lists_fetched
    assert data.lists_fetched - complete <= remote
    local_edges = {
        (s, t)
        for (s, t) in world.circle_edges()
        if not world.accounts[s].domain or not world.accounts[t].domain
    }
    assert data.follows == str_edges(local_edges)
    assert any(math.ceil(visible(p) / 80) > 1 for p in chosen)


def test_max_people(mastodon: FakeMastodon, api) -> None:
    data = fetch_mastodon(api(mastodon.url, token="test-token"), max_people=2)
    assert data.lists_fetched == {"6", "4"}  # the mutuals
    assert data.notes[-1].startswith("Follow links were read for 2 of 7 people")


def test_rate_limit_and_server_errors(
    mastodon: FakeMastodon, world: World, progress, sleeps, api
) -> None:
    mastodon.rate_limit_next(reset_in=10, path="/api/v1/accounts/1/statuses")
    mastodon.fail_next(2, path="/api/v1/accounts/4/following")
    mastodon.truncate_next(path="/api/v1/accounts/1/followers")
    data = fetch_mastodon(api(mastodon.url, token="test-token", progress=progress, sleep=sleeps))
    assert len(progress.pauses) == 1
    assert len(data.posts) == 6
    assert Follow("4", "2") in data.follows
    assert len(sleeps.calls) == 4  # one pause, two backoffs, one truncated body


def test_persistent_timeout(mastodon: FakeMastodon, sleeps, api) -> None:
    mastodon.slow_next(5, delay=0.4, path="/api/v1/accounts/verify_credentials")
    with pytest.raises(NetworkError, match="timed out"):
        fetch_mastodon(
            api(mastodon.url, token="test-token", sleep=sleeps, timeout=(1, 0.1), max_retries=2)
        )


# -- instance names, app registration, OAuth ----------------------------------------------


@pytest.mark.parametrize(
    ("text", "policy", "expected"),
    [
        ("mastodon.social", STRICT, "https://mastodon.social"),
        ("  Mastodon.Social  ", STRICT, "https://mastodon.social"),
        ("https://mastodon.social/", STRICT, "https://mastodon.social"),
        ("HTTPS://mastodon.social", STRICT, "https://mastodon.social"),
        ("https://mastodon.social:443", STRICT, "https://mastodon.social"),
        ("@me@mastodon.social", STRICT, "https://mastodon.social"),
        ("me@fosstodon.org", STRICT, "https://fosstodon.org"),
        ("bücher.example", STRICT, "https://xn--bcher-kva.example"),
        ("8.8.8.8", STRICT, "https://8.8.8.8"),
        ("https://[2a00:1450:4001:81b::200e]", STRICT, "https://[2a00:1450:4001:81b::200e]"),
        ("http://mastodon.social", DEV, "http://mastodon.social"),
        ("http://mastodon.social:80", DEV, "http://mastodon.social"),
        ("https://social.example:8443", DEV, "https://social.example:8443"),
        ("http://127.0.0.1:8123", DEV, "http://127.0.0.1:8123"),
        ("http://localhost:3000/", DEV, "http://localhost:3000"),
        ("http://[::1]:4000", DEV, "http://[::1]:4000"),
        ("http://[0:0::1]:4000", DEV, "http://[::1]:4000"),
    ],
)
def test_normalise_instance_accepts(text: str, policy: OutboundPolicy, expected: str) -> None:
    assert normalise_instance(text, policy) == expected


def test_normalise_instance_is_strict_by_default() -> None:
    assert normalise_instance("mastodon.social") == "https://mastodon.social"
    with pytest.raises(ValueError, match="plain http is not allowed"):
        normalise_instance("http://mastodon.social")


PRIVATE = "is a private or local address; MD Analytics only connects to public servers"
NUMERIC = "Write the server's address as a name, like mastodon.social, or as a plain IP"
PORT_443 = "only connects to servers on the standard https port \\(443\\)"
PORTS = "only connects to servers on the standard ports \\(443 for https, 80 for http\\)"


@pytest.mark.parametrize(
    ("text", "policy", "message"),
    [
        ("", STRICT, "Enter the address"),
        ("   ", STRICT, "Enter the address"),
        ("mastodon .social", STRICT, "cannot contain spaces"),
        ("http://mastodon.social", STRICT, "plain http is not allowed"),
        ("http://127.0.0.1:8123", STRICT, "plain http is not allowed"),
        ("ftp://mastodon.social", STRICT, "https://"),
        ("https://me@mastodon.social", STRICT, "without a user name"),
        ("https://mastodon.social/@me", STRICT, "without a path"),
        ("mastodon.social/about", STRICT, "without a path"),
        ("https://mastodon.social?x=1", STRICT, "without a path"),
        ("https://mastodon.social#top", STRICT, "without a path"),
        ("mastodon", STRICT, "does not look like a server"),
        ("exa_mple.com", STRICT, "does not look like a server"),
        ("https://mastodon.social:99999", STRICT, "does not look like a server"),
        ("https://mastodon.social:http", STRICT, "does not look like a server"),
        ("https://-bad-.example", STRICT, "does not look like a server"),
        ("https://mastodon.social.", STRICT, "does not look like a server"),
        ("https://[::1", STRICT, "does not look like a server"),
        ("https://[fe80::1%25eth0]", STRICT, "does not look like a server"),
        # ports: 443 only, 80 too for plain http in development, others when allowed
        ("https://social.example:8443", STRICT, PORT_443),
        ("mastodon.social:80", STRICT, PORT_443),
        ("http://mastodon.social:8080", DEV, PORTS),
        ("http://127.0.0.1:8124", DEV, PORTS),
        ("http://localhost:3001", DEV, PORTS),
        ("https://social.example:8444", DEV, PORTS),
        # addresses that are not public, and local names
        ("127.0.0.1", STRICT, f"127.0.0.1 {PRIVATE}"),
        ("localhost", STRICT, f"localhost {PRIVATE}"),
        ("api.localhost", STRICT, f"api.localhost {PRIVATE}"),
        ("10.1.2.3", STRICT, f"10.1.2.3 {PRIVATE}"),
        ("169.254.169.254", STRICT, f"169.254.169.254 {PRIVATE}"),
        ("0.0.0.0", STRICT, f"0.0.0.0 {PRIVATE}"),
        ("https://[::1]", STRICT, f"::1 {PRIVATE}"),
        ("https://[::ffff:127.0.0.1]", STRICT, f"::ffff:7f00:1 {PRIVATE}"),
        ("http://127.0.0.1", DEV, f"127.0.0.1 {PRIVATE}"),  # allowed on port 8123 only
        # numeric spellings other than dotted decimal
        ("127.1", STRICT, NUMERIC),
        ("0x7f.0.0.1", STRICT, NUMERIC),
        ("0177.0.0.1", STRICT, NUMERIC),
        ("2130706433", STRICT, NUMERIC),
        ("0x7f000001", STRICT, NUMERIC),
        ("8.8.8.08", STRICT, NUMERIC),
        ("1.2.3.999", STRICT, NUMERIC),
    ],
)
def test_normalise_instance_rejects(text: str, policy: OutboundPolicy, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        normalise_instance(text, policy)


def test_register_app(mastodon: FakeMastodon, local: OutboundPolicy) -> None:
    client_id, secret = register_app(
        mastodon.url,
        "http://127.0.0.1:5000/cb",
        "read",
        website="https://md.example",
        policy=local,
    )
    app = mastodon.apps[client_id]
    assert app["client_secret"] == secret
    assert app["name"] == "MD Analytics"
    assert app["redirect_uris"] == ["http://127.0.0.1:5000/cb"]
    assert app["website"] == "https://md.example"
    assert app["scopes"] == ["read"]


def test_register_app_refused_without_the_servers_words(
    mastodon: FakeMastodon, local: OutboundPolicy
) -> None:
    with pytest.raises(HttpError) as refused:
        register_app(mastodon.url, "", policy=local)
    assert str(refused.value) == f"127.0.0.1:{mastodon.port} refused the request (HTTP 422)."
    assert refused.value.payload == {"error": "Validation failed: Redirect URI can't be blank"}


@pytest.mark.parametrize(
    "answer", [["a", "list"], {"client_id": "x"}, {"client_id": "", "client_secret": "y"}]
)
def test_register_app_answer_that_is_not_a_registration(
    mastodon: FakeMastodon, local: OutboundPolicy, answer
) -> None:
    mastodon._register = lambda request: type(mastodon._metadata())(200, answer)  # type: ignore[method-assign]
    with pytest.raises(NotAvailable, match="did not answer with an app registration"):
        register_app(mastodon.url, "http://app/cb", policy=local)


def test_register_app_is_guarded_by_default(mastodon: FakeMastodon) -> None:
    with pytest.raises(NetworkError, match="could not be reached"):
        register_app(mastodon.url, "http://app/cb")
    with pytest.raises(NetworkError, match="could not be reached"):
        instance_supports_pkce(mastodon.url)
    assert mastodon.count() == 0


def test_pkce_support(mastodon: FakeMastodon, local: OutboundPolicy) -> None:
    assert instance_supports_pkce(mastodon.url, policy=local) is True
    mastodon.supports_pkce = False
    assert instance_supports_pkce(mastodon.url, policy=local) is False


def test_pkce_metadata_without_methods(mastodon: FakeMastodon, local: OutboundPolicy) -> None:
    original = mastodon._metadata
    mastodon._metadata = lambda: type(original())(200, {"issuer": "x"})  # type: ignore[method-assign]
    assert instance_supports_pkce(mastodon.url, policy=local) is False


def authorize(mastodon: FakeMastodon, client_id: str, redirect: str, **extra: str):
    return requests.get(
        f"{mastodon.url}/oauth/authorize",
        params={
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect,
            "scope": "read",
            "state": "st",
            **extra,
        },
        allow_redirects=False,
        timeout=5,
    )


def test_oauth_flow_with_pkce(mastodon: FakeMastodon, local: OutboundPolicy, api) -> None:
    redirect = "http://127.0.0.1:5000/connect/mastodon/callback"
    client_id, secret = register_app(mastodon.url, redirect, policy=local)
    verifier = secrets.token_urlsafe(48)
    answer = authorize(
        mastodon,
        client_id,
        redirect,
        code_challenge=pkce_challenge(verifier),
        code_challenge_method="S256",
    )
    assert answer.status_code == 302
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query["state"] == ["st"]
    form = {
        "grant_type": "authorization_code",
        "code": query["code"][0],
        "client_id": client_id,
        "client_secret": secret,
        "redirect_uri": redirect,
    }
    wrong = requests.post(
        f"{mastodon.url}/oauth/token", data={**form, "code_verifier": "wrong"}, timeout=5
    )
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"
    good = requests.post(
        f"{mastodon.url}/oauth/token", data={**form, "code_verifier": verifier}, timeout=5
    )
    token = good.json()
    assert token["token_type"] == "Bearer"
    assert token["scope"] == "read"
    assert fetch_mastodon(api(mastodon.url, token=token["access_token"]), max_people=0).owner.handle
    replay = requests.post(
        f"{mastodon.url}/oauth/token", data={**form, "code_verifier": verifier}, timeout=5
    )
    assert replay.status_code == 400


def test_oauth_denied_and_bad_client(mastodon: FakeMastodon, local: OutboundPolicy) -> None:
    redirect = "http://app/cb"
    client_id, _ = register_app(mastodon.url, redirect, policy=local)
    mastodon.deny_consent = True
    query = parse_qs(urlsplit(authorize(mastodon, client_id, redirect).headers["Location"]).query)
    assert query["error"] == ["access_denied"]
    assert authorize(mastodon, "nope", redirect).status_code == 400
    bad = requests.post(
        f"{mastodon.url}/oauth/token",
        data={"client_id": client_id, "client_secret": "x", "code": "y"},
        timeout=5,
    )
    assert bad.status_code == 401
    assert bad.json()["error"] == "invalid_client"


def test_unreadable_statuses_keep_the_rest(mastodon: FakeMastodon, sleeps, api) -> None:
    mastodon.fail_next(10, status=404, path="/api/v1/accounts/1/statuses")
    data = fetch_mastodon(api(mastodon.url, token="test-token", sleep=sleeps, max_retries=1))
    assert data.posts == []
    assert any("did not let us read your posts" in note for note in data.notes)
    assert data.followers == ["7", "6", "4", "3", "2"]
