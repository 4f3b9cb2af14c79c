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
from tests.fakes.mastodon import FakeMastodon, pkce_challenge
from tests.fakes.world import World, big_world


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
    ("text", "insecure", "expected"),
    [
        ("mastodon.social", False, "https://mastodon.social"),
        ("  Mastodon.Social  ", False, "https://mastodon.social"),
        ("https://mastodon.social/", False, "https://mastodon.social"),
        ("HTTPS://mastodon.social", False, "https://mastodon.social"),
        ("@me@mastodon.social", False, "https://mastodon.social"),
        ("me@fosstodon.org", False, "https://fosstodon.org"),
        ("https://social.example:8443", False, "https://social.example:8443"),
        ("bücher.example", False, "https://xn--bcher-kva.example"),
        ("http://127.0.0.1:8123", True, "http://127.0.0.1:8123"),
        ("http://localhost:3000/", True, "http://localhost:3000"),
    ],
)
def test_normalise_instance_accepts(text: str, insecure: bool, expected: str) -> None:
    assert normalise_instance(text, allow_insecure=insecure) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Enter the address"),
        ("   ", "Enter the address"),
        ("mastodon .social", "cannot contain spaces"),
        ("http://mastodon.social", "plain http is not allowed"),
        ("http://127.0.0.1:8123", "plain http is not allowed"),
        ("ftp://mastodon.social", "https://"),
        ("https://me@mastodon.social", "without a user name"),
        ("https://mastodon.social/@me", "without a path"),
        ("mastodon.social/about", "without a path"),
        ("https://mastodon.social?x=1", "without a path"),
        ("https://mastodon.social#top", "without a path"),
        ("mastodon", "does not look like a server"),
        ("exa_mple.com", "does not look like a server"),
        ("https://mastodon.social:99999", "does not look like a server"),
        ("https://-bad-.example", "does not look like a server"),
    ],
)
def test_normalise_instance_rejects(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        normalise_instance(text)


def test_register_app(mastodon: FakeMastodon) -> None:
    client_id, secret = register_app(
        mastodon.url, "http://127.0.0.1:5000/cb", "read", website="https://md.example"
    )
    app = mastodon.apps[client_id]
    assert app["client_secret"] == secret
    assert app["name"] == "MD Analytics"
    assert app["redirect_uris"] == ["http://127.0.0.1:5000/cb"]
    assert app["website"] == "https://md.example"
    assert app["scopes"] == ["read"]


def test_register_app_refused(mastodon: FakeMastodon) -> None:
    with pytest.raises(HttpError, match="Redirect URI can't be blank"):
        register_app(mastodon.url, "")


def test_pkce_support(mastodon: FakeMastodon) -> None:
    assert instance_supports_pkce(mastodon.url) is True
    mastodon.supports_pkce = False
    assert instance_supports_pkce(mastodon.url) is False


def test_pkce_metadata_without_methods(mastodon: FakeMastodon) -> None:
    original = mastodon._metadata
    mastodon._metadata = lambda: type(original())(200, {"issuer": "x"})  # type: ignore[method-assign]
    assert instance_supports_pkce(mastodon.url) is False


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


def test_oauth_flow_with_pkce(mastodon: FakeMastodon, api) -> None:
    redirect = "http://127.0.0.1:5000/connect/mastodon/callback"
    client_id, secret = register_app(mastodon.url, redirect)
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


def test_oauth_denied_and_bad_client(mastodon: FakeMastodon) -> None:
    redirect = "http://app/cb"
    client_id, _ = register_app(mastodon.url, redirect)
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
