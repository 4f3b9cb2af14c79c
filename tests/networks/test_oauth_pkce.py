"""The PKCE helpers through the full OAuth 2.0 dance with the fake X."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from app.networks import oauth_pkce
from app.networks.base import AuthExpired, NetworkError
from app.networks.oauth_pkce import TokenSet, authorize_url, challenge, exchange_code, refresh
from app.networks.x.fetcher import fetch_x
from tests.fakes.world import World
from tests.fakes.x import FakeX

SCOPES = ("tweet.read", "users.read", "follows.read", "offline.access")
REDIRECT = "http://127.0.0.1:5000/connect/x/callback"


@pytest.fixture
def x(world: World) -> Iterator[FakeX]:
    with FakeX(world) as server:
        yield server


def sign_in(x: FakeX, verifier: str, client_id: str = "x-client", scopes=SCOPES) -> str:
    """Follow the authorize redirect; return the code."""
    url = authorize_url(
        f"{x.url}/i/oauth2/authorize", client_id, REDIRECT, scopes, "state-1", challenge(verifier)
    )
    answer = requests.get(url, allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query["state"] == ["state-1"]
    return query["code"][0]


def test_verifier_and_challenge() -> None:
    verifier = oauth_pkce.new_verifier()
    assert len(verifier) == 64 and re.fullmatch(r"[A-Za-z0-9_-]+", verifier)
    assert oauth_pkce.new_verifier() != verifier
    assert len(oauth_pkce.new_verifier(43)) == 43
    with pytest.raises(ValueError, match="43 to 128"):
        oauth_pkce.new_verifier(42)
    # RFC 7636 appendix B
    assert (
        challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )


def test_authorize_url() -> None:
    url = authorize_url(
        "https://x.com/i/oauth2/authorize", "cid", "https://app/cb", SCOPES, "st", "ch"
    )
    assert url.startswith("https://x.com/i/oauth2/authorize?response_type=code&client_id=cid")
    assert "scope=tweet.read%20users.read%20follows.read%20offline.access" in url
    assert "code_challenge=ch&code_challenge_method=S256" in url
    assert "redirect_uri=https%3A%2F%2Fapp%2Fcb" in url
    extra = authorize_url("https://h/a?x=1", "c", "r", ["s"], "st", "ch", prompt="consent")
    assert extra.startswith("https://h/a?x=1&") and extra.endswith("&prompt=consent")


def test_full_flow_confidential_client(x: FakeX, api) -> None:
    verifier = oauth_pkce.new_verifier()
    code = sign_in(x, verifier)
    tokens = exchange_code(
        f"{x.url}/2/oauth2/token",
        code=code,
        verifier=verifier,
        redirect_uri=REDIRECT,
        client_id="x-client",
        client_secret="x-secret",
        clock=lambda: 1_800_000_000.0,
    )
    assert tokens.refresh_token and tokens.scope == " ".join(SCOPES)
    assert tokens.expires_at == datetime.fromtimestamp(1_800_000_000 + 7200, UTC)
    assert fetch_x(api(x.url, "X", token=tokens.access_token)).owner.handle == "me"
    # two hours later the access token is refused, and refreshing brings it back
    x.advance(7201)
    with pytest.raises(AuthExpired):
        fetch_x(api(x.url, "X", token=tokens.access_token))
    fresh = refresh(f"{x.url}/2/oauth2/token", tokens.refresh_token, "x-client", "x-secret")
    assert fresh.refresh_token not in (None, tokens.refresh_token)  # rotated
    assert fetch_x(api(x.url, "X", token=fresh.access_token)).owner.handle == "me"
    # the old refresh token was used up
    with pytest.raises(AuthExpired, match="Value passed for the token was invalid"):
        refresh(f"{x.url}/2/oauth2/token", tokens.refresh_token, "x-client", "x-secret")


def test_public_client_and_no_offline_access(x: FakeX) -> None:
    verifier = oauth_pkce.new_verifier()
    code = sign_in(x, verifier, "x-public", SCOPES[:3])
    tokens = exchange_code(
        f"{x.url}/2/oauth2/token",
        code=code,
        verifier=verifier,
        redirect_uri=REDIRECT,
        client_id="x-public",
    )
    assert tokens.refresh_token is None
    assert not x.requests[-1].headers.get("authorization", "").startswith("Basic")
    assert x.requests[-1].form()["client_id"] == "x-public"


def test_verifier_mismatch_is_rejected(x: FakeX) -> None:
    code = sign_in(x, oauth_pkce.new_verifier())
    with pytest.raises(AuthExpired, match="code verifier did not match"):
        exchange_code(
            f"{x.url}/2/oauth2/token",
            code=code,
            verifier=oauth_pkce.new_verifier(),
            redirect_uri=REDIRECT,
            client_id="x-client",
            client_secret="x-secret",
        )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"code": "made-up"}, "authorization code was invalid"),
        ({"redirect_uri": "http://evil/cb"}, "redirect uri did not match"),
        ({"client_secret": "wrong"}, "Missing valid authorization header"),
        ({"client_secret": None}, "Missing valid authorization header"),
        ({"client_id": "nobody", "client_secret": None}, r"Missing required parameter"),
    ],
)
def test_exchange_refusals(x: FakeX, overrides: dict, message: str) -> None:
    verifier = oauth_pkce.new_verifier()
    args = {
        "code": sign_in(x, verifier),
        "verifier": verifier,
        "redirect_uri": REDIRECT,
        "client_id": "x-client",
        "client_secret": "x-secret",
        **overrides,
    }
    with pytest.raises(NetworkError, match=message) as info:
        exchange_code(f"{x.url}/2/oauth2/token", **args)
    assert not isinstance(info.value, AuthExpired)


def test_denied_consent(x: FakeX) -> None:
    x.deny_consent = True
    url = authorize_url(f"{x.url}/i/oauth2/authorize", "x-client", REDIRECT, SCOPES, "s", "c")
    answer = requests.get(url, allow_redirects=False, timeout=5)
    assert parse_qs(urlsplit(answer.headers["Location"]).query) == {
        "error": ["access_denied"],
        "state": ["s"],
    }


def test_authorize_rejects_missing_challenge(x: FakeX) -> None:
    answer = requests.get(
        f"{x.url}/i/oauth2/authorize",
        params={"response_type": "code", "client_id": "x-client", "redirect_uri": REDIRECT},
        allow_redirects=False,
        timeout=5,
    )
    assert answer.status_code == 400


def test_unsupported_grant(x: FakeX) -> None:
    with pytest.raises(NetworkError, match="Unsupported grant type"):
        oauth_pkce._token_request(
            f"{x.url}/2/oauth2/token",
            {"grant_type": "password", "client_id": "x-public"},
            "x-public",
            None,
            (5, 5),
            None,
        )


def test_unreachable_and_unreadable_servers(x: FakeX) -> None:
    with pytest.raises(NetworkError, match="could not be reached"):
        refresh("http://127.0.0.1:9/token", "r", "c", timeout=(0.5, 0.5))
    x.fail_next(1, status=502)
    # the base fake answers a failure with a JSON body that is not a token answer
    with pytest.raises(NetworkError, match="HTTP 502"):
        refresh(f"{x.url}/2/oauth2/token", "r", "x-public")
    x.truncate_next(1, mode="json")
    with pytest.raises(NetworkError, match="unreadable answer"):
        refresh(f"{x.url}/2/oauth2/token", "r", "x-public")


def test_token_set_expiry_and_refresh_keeps_old_token(x: FakeX) -> None:
    now = datetime(2026, 3, 1, tzinfo=UTC)
    tokens = TokenSet("a", "r", now + timedelta(seconds=100))
    assert not tokens.expired(now)
    assert tokens.expired(now, leeway=120)
    assert not TokenSet("a").expired()
    parsed = oauth_pkce._token_set({"access_token": "b", "expires_in": "soon"}, None)
    assert parsed.expires_at is None and parsed.scope is None
    assert oauth_pkce._token_set({"access_token": "b", "expires_in": 60}, None).expires_at


def test_refresh_keeps_the_old_refresh_token_when_none_is_sent(monkeypatch) -> None:
    monkeypatch.setattr(oauth_pkce, "_token_request", lambda *args: TokenSet("new", None))
    tokens = refresh("http://unused/token", "old-refresh", "cid")
    assert (tokens.access_token, tokens.refresh_token) == ("new", "old-refresh")
