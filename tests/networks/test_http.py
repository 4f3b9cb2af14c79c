"""ApiClient: retries, timeouts, truncated bodies, rate limits and error mapping."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from app.networks import CONNECTORS
from app.networks.base import AuthExpired, Login, NetworkError, NotAvailable
from app.networks.http import (
    DEFAULT_RATE_WAIT,
    ApiClient,
    HttpError,
    RateLimited,
    TimedOut,
    Unreachable,
    client_for,
    graph_candidates,
    parse_reset,
    remaining_requests,
)
from app.networks.outbound import OutboundPolicy, parse_allowed_hosts
from tests.fakes.bluesky import FakeBluesky
from tests.fakes.github import FakeGitHub
from tests.fakes.mastodon import FakeMastodon

NOW = 1_800_000_000.0


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "30"}, NOW + 30),
        (
            {"Retry-After": "Fri, 15 Jan 2027 08:00:00 GMT"},
            datetime(2027, 1, 15, 8, tzinfo=UTC).timestamp(),
        ),
        ({"Retry-After": "soon", "X-RateLimit-Reset": "1800000100"}, NOW + 100),
        ({"X-RateLimit-Reset": "1800000100"}, NOW + 100),
        (
            {"X-RateLimit-Reset": "2027-01-15T08:05:00.019685Z"},
            datetime(2027, 1, 15, 8, 5, 0, 19685, tzinfo=UTC).timestamp(),
        ),
        (
            {"X-RateLimit-Reset": "2027-01-15T08:05:00"},
            datetime(2027, 1, 15, 8, 5, tzinfo=UTC).timestamp(),
        ),
        ({"RateLimit-Reset": "1800000200"}, NOW + 200),
        ({"RateLimit-Reset": "42"}, NOW + 42),
        ({"X-RateLimit-Reset": "garbage", "RateLimit-Reset": "5"}, NOW + 5),
        ({"X-RateLimit-Reset": "garbage"}, None),
        ({}, None),
    ],
)
def test_parse_reset(headers: dict[str, str], expected: float | None) -> None:
    assert (
        parse_reset(headers, NOW) == pytest.approx(expected)
        if expected
        else (parse_reset(headers, NOW) is None)
    )


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"X-RateLimit-Remaining": "12"}, 12),
        ({"RateLimit-Remaining": " 0"}, 0),
        ({"X-RateLimit-Remaining": "lots"}, None),
        ({}, None),
    ],
)
def test_remaining_requests(headers: dict[str, str], expected: int | None) -> None:
    assert remaining_requests(headers) == expected


def test_graph_candidates_puts_mutuals_first_and_caps() -> None:
    assert graph_candidates(["a", "b", "c"], ["c", "d", "a"], 10) == ["a", "c", "b", "d"]
    assert graph_candidates(["a", "b", "c"], ["c", "d", "a"], 3) == ["a", "c", "b"]
    assert graph_candidates(None, ["x"], 5) == ["x"]
    assert graph_candidates(["x"], None, -1) == []


def client(server, progress=None, sleeps=None, **kwargs) -> ApiClient:
    return ApiClient(server.url, progress=progress, sleep=sleeps or (lambda s: None), **kwargs)


def test_success_counts_requests(github: FakeGitHub, progress) -> None:
    api = client(github, progress)
    assert api.get_json("/users/bob")["login"] == "bob"
    assert api.request_count == 1
    assert progress.requests == 1


def test_server_errors_are_retried_with_backoff(github: FakeGitHub, progress, sleeps) -> None:
    github.fail_next(2, status=502)
    api = client(github, progress, sleeps)
    assert api.get_json("/users/bob")["login"] == "bob"
    assert api.request_count == 3
    assert github.count("/users/bob") == 3
    assert sleeps.calls == [0.5, 1.0]


def test_persistent_server_error_raises(github: FakeGitHub, sleeps) -> None:
    github.fail_next(10)
    api = client(github, sleeps=sleeps, max_retries=2, service="GitHub")
    with pytest.raises(NetworkError, match="GitHub did not answer properly after 3 tries"):
        api.get_json("/users/bob")
    assert api.request_count == 3


def test_unauthorized_is_auth_expired(github: FakeGitHub) -> None:
    with pytest.raises(AuthExpired, match="reconnect"):
        client(github, token="revoked").get_json("/user")


def test_not_found_is_not_available(github: FakeGitHub) -> None:
    with pytest.raises(NotAvailable, match="/users/nobody"):
        client(github).get_json("/users/nobody")


def test_other_client_errors_carry_status_and_message(github: FakeGitHub) -> None:
    github.fail_next(status=422)
    with pytest.raises(HttpError, match=r"refused the request \(422 .*\): Server Error") as info:
        client(github).get_json("/users/bob")
    assert info.value.status == 422
    assert info.value.payload == {"message": "Server Error"}


def test_client_error_without_json_body(mastodon: FakeMastodon) -> None:
    with pytest.raises(HttpError, match=r"\(400 Bad Request\)\.$"):
        client(mastodon).get_json("/oauth/authorize", {"client_id": "nope"})


def test_forbidden_that_is_not_a_rate_limit(mastodon: FakeMastodon, world) -> None:
    mastodon.hidden_mode = "forbidden"
    with pytest.raises(HttpError) as info:
        client(mastodon).get_json("/api/v1/accounts/3/followers")
    assert info.value.status == 403


def test_timeout_is_retried(github: FakeGitHub, sleeps) -> None:
    github.slow_next(delay=0.6)
    api = client(github, sleeps=sleeps, timeout=(1, 0.2))
    assert api.get_json("/users/bob")["login"] == "bob"
    assert api.request_count == 2


def test_persistent_timeout_raises(github: FakeGitHub, sleeps) -> None:
    github.slow_next(3, delay=0.5)
    api = client(github, sleeps=sleeps, timeout=(1, 0.1), max_retries=1)
    with pytest.raises(NetworkError, match="timed out"):
        api.get_json("/users/bob")
    assert api.request_count == 2


@pytest.mark.parametrize("mode", ["length", "json"])
def test_truncated_body_is_retried(github: FakeGitHub, sleeps, mode: str) -> None:
    github.truncate_next(mode=mode)
    api = client(github, sleeps=sleeps)
    assert api.get_json("/users/rick")["login"] == "rick"
    assert api.request_count == 2
    assert len(sleeps.calls) == 1


def test_connection_refused_is_retried_then_raises(sleeps) -> None:
    server = FakeGitHub(__import__("tests.fakes.world", fromlist=["small_world"]).small_world())
    url = server.url
    server.stop()  # nothing listens on the port any more
    api = ApiClient(url, sleep=sleeps, max_retries=1)
    with pytest.raises(Unreachable, match=r"after 2 tries \(the connection failed\)\.$"):
        api.get_json("/users/bob")
    assert api.request_count == 2


def test_github_403_rate_limit_pauses_until_reset(github: FakeGitHub, progress, sleeps) -> None:
    github.rate_limit_next(reset_in=30)
    api = client(github, progress, sleeps)
    before = time.time()
    assert api.get_json("/users/bob")["login"] == "bob"
    assert api.request_count == 2
    assert len(progress.pauses) == 1
    assert before + 28 < progress.pauses[0].timestamp() <= before + 32
    assert 27 < sleeps.calls[0] <= 32


def test_github_secondary_limit_uses_retry_after(github: FakeGitHub, progress, sleeps) -> None:
    github.rate_limit_next(reset_in=600, retry_after=7)
    api = client(github, progress, sleeps)
    api.get_json("/users/bob")
    assert 5 < sleeps.calls[0] <= 7


def test_mastodon_429_with_iso_reset(mastodon: FakeMastodon, progress, sleeps) -> None:
    mastodon.rate_limit_next(reset_in=20)
    api = client(mastodon, progress, sleeps)
    assert api.get_json("/api/v1/accounts/2")["username"] == "bob"
    assert 17 < sleeps.calls[0] <= 20
    assert len(progress.pauses) == 1


def test_bluesky_429_with_epoch_reset(bluesky: FakeBluesky, progress, sleeps) -> None:
    bluesky.rate_limit_next(reset_in=20)
    api = client(bluesky, progress, sleeps)
    api.get_json("/xrpc/app.bsky.actor.getProfile", {"actor": "bob.bsky.social"})
    assert 18 < sleeps.calls[0] <= 21


def test_real_one_second_pause(bluesky: FakeBluesky, progress) -> None:
    bluesky.rate_limit_next(reset_in=1)
    api = ApiClient(bluesky.url, progress=progress)
    started = time.monotonic()
    api.get_json("/xrpc/app.bsky.actor.getProfile", {"actor": "bob.bsky.social"})
    assert time.monotonic() - started >= 0.2
    assert len(progress.pauses) == 1


def test_429_without_reset_waits_default(mastodon: FakeMastodon, sleeps) -> None:
    mastodon.rate_limit_next(reset_in=5)
    api = client(mastodon, sleeps=sleeps)
    original = mastodon.rate_headers
    mastodon.rate_headers = lambda remaining, reset: {}  # type: ignore[method-assign]
    try:
        api.get_json("/api/v1/accounts/2")
    finally:
        mastodon.rate_headers = original  # type: ignore[method-assign]
    assert sleeps.calls == [pytest.approx(DEFAULT_RATE_WAIT, abs=1)]


def test_proactive_pause_when_remaining_hits_zero(github: FakeGitHub, progress) -> None:
    github.set_quota(2, reset_in=1.0)
    api = ApiClient(github.url, progress=progress)
    api.get_json("/users/bob")
    api.get_json("/users/rick")  # remaining is now 0: the client waits before the next one
    assert progress.pauses == []
    api.get_json("/users/andrew")
    assert len(progress.pauses) == 1
    assert api.request_count == 3  # no refused request was needed


def test_wait_longer_than_max_raises(github: FakeGitHub, sleeps) -> None:
    github.rate_limit_next(reset_in=7200)
    api = client(github, sleeps=sleeps, service="GitHub")
    with pytest.raises(RateLimited, match=r"used up until \d\d:\d\d UTC") as info:
        api.get_json("/users/bob")
    assert info.value.until > datetime.now(UTC)
    assert sleeps.calls == []


def test_endless_rate_limits_give_up(github: FakeGitHub, sleeps) -> None:
    github.rate_limit_next(50, reset_in=1)
    api = client(github, sleeps=sleeps)
    with pytest.raises(NetworkError, match="kept refusing"):
        api.get_json("/users/bob")
    assert api.request_count == 6


def test_stale_reset_does_not_sleep(github: FakeGitHub, sleeps) -> None:
    github.rate_limit_next(reset_in=-5)
    api = client(github, sleeps=sleeps)
    api.get_json("/users/bob")
    assert sleeps.calls == []


def test_links_to_other_sites_are_refused(github: FakeGitHub) -> None:
    with pytest.raises(NetworkError, match="another site"):
        client(github, token="t").get_json("https://evil.example/steal")


def test_post_is_not_retried_by_default(mastodon: FakeMastodon, sleeps) -> None:
    mastodon.fail_next()
    api = client(mastodon, sleeps=sleeps)
    with pytest.raises(NetworkError, match="after 1 tries"):
        api.post_json("/api/v1/apps", {"client_name": "x", "redirect_uris": "http://x/cb"})
    assert mastodon.apps == {}


def test_link_pagination_and_max_pages(github: FakeGitHub) -> None:
    api = client(github)
    pages = list(api.iter_link_pages("/users/me/followers", {"per_page": 2}))
    assert [len(p) for p in pages] == [2, 2, 1]
    assert github.requests[1].target.startswith("/user/1/followers?")
    assert len(list(api.iter_link_pages("/users/me/followers", {"per_page": 2}, max_pages=2))) == 2


def test_cursor_pagination_stops_on_empty_page(bluesky: FakeBluesky) -> None:
    bluesky.trailing_cursor = True
    with ApiClient(bluesky.url) as api:
        pages = list(
            api.iter_cursor_pages(
                "/xrpc/app.bsky.graph.getFollowers",
                {"actor": "me.bsky.social", "limit": 5},
                cursor_field="cursor",
                items_field="followers",
            )
        )
    assert [len(p["followers"]) for p in pages] == [5, 0]


def test_headers_sent(github: FakeGitHub) -> None:
    client(github, token="test-token", user_agent="UA/1").get_json("/user")
    sent = github.requests[-1].headers
    assert sent["authorization"] == "Bearer test-token"
    assert sent["user-agent"] == "UA/1"


def test_authenticated_says_whether_a_token_is_sent() -> None:
    with ApiClient("http://127.0.0.1:9", token="t") as with_token:
        assert with_token.authenticated
    for token in (None, ""):
        with ApiClient("http://127.0.0.1:9", token=token) as without:
            assert not without.authenticated


# -- guarded clients: hosts a person chose ---------------------------------------------------


def guarded(server, **kwargs) -> ApiClient:
    """A guarded client for a fake named in the allow-list (as a test config names it)."""
    policy = OutboundPolicy(
        allow_insecure=True, allowed=parse_allowed_hosts(f"127.0.0.1:{server.port}")
    )
    host = f"127.0.0.1:{server.port}"
    return ApiClient(server.url, service=host, guard=policy, sleep=lambda s: None, **kwargs)


def test_guarded_client_reads_an_allowed_server(mastodon: FakeMastodon) -> None:
    with guarded(mastodon, token="test-token") as api:
        assert api.get_json("/api/v1/accounts/verify_credentials")["username"] == "me"
    assert mastodon.requests[-1].headers["host"] == f"127.0.0.1:{mastodon.port}"


@pytest.mark.parametrize(
    ("status", "error", "message"),
    [
        (500, NetworkError, "{host} did not answer properly (HTTP 500)."),
        (422, HttpError, "{host} refused the request (HTTP 422)."),
        (403, HttpError, "{host} refused the request (HTTP 403)."),
    ],
)
def test_guarded_client_failures_are_fixed_sentences(
    mastodon: FakeMastodon, status: int, error: type, message: str
) -> None:
    mastodon.fail_next(10, status=status)
    with guarded(mastodon, max_retries=1) as api, pytest.raises(error) as failure:
        api.get_json("/api/v1/accounts/2")
    assert str(failure.value) == message.format(host=f"127.0.0.1:{mastodon.port}")
    assert "Server Error" not in str(failure.value)  # the fake's own words


def test_guarded_client_timeout_and_connection_failure(mastodon: FakeMastodon) -> None:
    mastodon.slow_next(2, delay=0.5)
    host = f"127.0.0.1:{mastodon.port}"
    with (
        guarded(mastodon, timeout=(1, 0.1), max_retries=1) as api,
        pytest.raises(TimedOut, match=rf"^{host} did not answer in time\.$"),
    ):
        api.get_json("/api/v1/accounts/2")
    mastodon.truncate_next(2, mode="length")
    with (
        guarded(mastodon, max_retries=1) as api,
        pytest.raises(Unreachable, match=rf"^{host} could not be reached\.$"),
    ):
        api.get_json("/api/v1/accounts/2")


def test_client_for_guards_only_servers_the_user_names(
    github: FakeGitHub, mastodon: FakeMastodon
) -> None:
    config = {"HTTP_TIMEOUT": 30, "GITHUB_API_URL": github.url, "OUTBOUND_TIMEOUT": 2}
    with client_for(CONNECTORS["github"], config) as operator_chosen:
        assert operator_chosen.guard is None  # GITHUB_API_URL is the operator's choice
        assert operator_chosen.get_json("/users/bob")["login"] == "bob"
    login = Login(instance_url=mastodon.url)
    with client_for(CONNECTORS["mastodon"], config, login) as syncing:
        assert syncing.guard is not None
        assert (syncing.timeout, syncing.max_retries, syncing.max_wait) == ((5.0, 30.0), 3, 3600)
        with pytest.raises(Unreachable):  # plain http on 127.0.0.1: refused
            syncing.get_json("/api/v1/accounts/2")
    with client_for(CONNECTORS["mastodon"], config, login, interactive=True) as waiting:
        assert (waiting.timeout, waiting.max_retries, waiting.max_wait) == ((2.0, 2.0), 1, 0)
    with client_for(CONNECTORS["github"], config, base_url=mastodon.url) as named:
        assert named.guard is not None
    allowed = {
        **config,
        "ALLOW_INSECURE_INSTANCES": True,
        "OUTBOUND_ALLOWED_HOSTS": f"127.0.0.1:{mastodon.port}",
    }
    with client_for(CONNECTORS["mastodon"], allowed, login) as syncing:
        assert syncing.get_json("/api/v1/accounts/2")["username"] == "bob"
    assert mastodon.count() == 1
    assert github.count() == 1
