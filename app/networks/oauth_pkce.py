"""OAuth 2.0 authorization-code helpers with PKCE (RFC 7636), as plain functions.

Nothing here knows about Flask: a view makes a verifier with :func:`new_verifier`, keeps it
in the session, sends the browser to :func:`authorize_url`, and on the callback trades the
code with :func:`exchange_code`; the sync service calls :func:`refresh` when
:meth:`TokenSet.expired` says the access token is spent. Every URL and credential is an
argument, so tests point them at a local fake.

X's flavour, which the defaults follow (docs.x.com, "OAuth 2.0 Authorization Code Flow with
PKCE"): the token endpoint is ``POST https://api.x.com/2/oauth2/token``; confidential
clients authenticate with HTTP Basic (``client_id:client_secret``), public clients send
``client_id`` in the form; access tokens last two hours and a refresh token is issued only
with the ``offline.access`` scope. X rotates refresh tokens: every refresh returns a new one
and the old one stops working, so always store :attr:`TokenSet.refresh_token`.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

import requests

from app.networks.base import AuthExpired, NetworkError

#: Unreserved characters only (RFC 7636 section 4.1), 43 to 128 of them.
VERIFIER_MIN, VERIFIER_MAX = 43, 128


@dataclass(frozen=True, slots=True)
class TokenSet:
    """What a token endpoint granted.

    :param expires_at: when the access token stops working (UTC), ``None`` if not said.
    :param scope: the granted scopes as the server wrote them (space-separated for X).
    """

    access_token: str
    refresh_token: str | None = None
    expires_at: datetime | None = None
    scope: str | None = None

    def expired(self, now: datetime | None = None, leeway: float = 60.0) -> bool:
        """Whether the access token is spent (or will be within ``leeway`` seconds)."""
        if self.expires_at is None:
            return False
        moment = now or datetime.now(UTC)
        return moment + timedelta(seconds=leeway) >= self.expires_at


def new_verifier(length: int = 64) -> str:
    """Return a random PKCE code verifier of ``length`` URL-safe characters.

    :raises ValueError: for a length outside 43..128.
    """
    if not VERIFIER_MIN <= length <= VERIFIER_MAX:
        raise ValueError(f"A PKCE verifier has {VERIFIER_MIN} to {VERIFIER_MAX} characters.")
    return secrets.token_urlsafe(length)[:length]


def challenge(verifier: str) -> str:
    """The S256 code challenge: unpadded base64url of the verifier's SHA-256."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorize_url(
    base: str,
    client_id: str,
    redirect_uri: str,
    scopes: Iterable[str],
    state: str,
    challenge: str,
    **extra: str,
) -> str:
    """Build the URL to send the browser to (``X_AUTHORIZE_URL`` and friends).

    Scopes are joined with spaces and encoded as ``%20``, as X's examples show.

    :param extra: further query parameters (``prompt``, ``nonce``...).
    """
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(scopes),
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}{urlencode(query, quote_via=quote)}"


def exchange_code(
    token_url: str,
    *,
    code: str,
    verifier: str,
    redirect_uri: str,
    client_id: str,
    client_secret: str | None = None,
    timeout: tuple[float, float] = (5, 30),
    clock: Callable[[], float] | None = None,
) -> TokenSet:
    """Trade an authorization code (and the verifier it was asked with) for tokens.

    The request is sent once, never retried: a code is single-use, so a retry after a lost
    answer could only fail.

    :param client_secret: for a confidential client (sent with HTTP Basic); ``None`` for a
        public client.
    :raises AuthExpired: ``invalid_grant`` (code used, expired, or the verifier does not
        match): the user has to start the sign-in again.
    :raises NetworkError: any other refusal, with the provider's ``error_description``.
    """
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": verifier,
        "client_id": client_id,
    }
    return _token_request(token_url, form, client_id, client_secret, timeout, clock)


def refresh(
    token_url: str,
    refresh_token: str,
    client_id: str,
    client_secret: str | None = None,
    *,
    timeout: tuple[float, float] = (5, 30),
    clock: Callable[[], float] | None = None,
) -> TokenSet:
    """Get a new access token with a refresh token.

    When the answer carries no new refresh token the old one is kept in the result.

    :raises AuthExpired: the refresh token was revoked, already used (X rotates them) or
        expired: the user has to reconnect. X answers this as ``invalid_request`` /
        "Value passed for the token was invalid." rather than ``invalid_grant``, so both
        are read as an expired login.
    :raises NetworkError: any other refusal.
    """
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id}
    tokens = _token_request(token_url, form, client_id, client_secret, timeout, clock)
    if tokens.refresh_token is None:
        return TokenSet(tokens.access_token, refresh_token, tokens.expires_at, tokens.scope)
    return tokens


def _token_request(
    token_url: str,
    form: dict[str, str],
    client_id: str,
    client_secret: str | None,
    timeout: tuple[float, float],
    clock: Callable[[], float] | None,
) -> TokenSet:
    auth = (client_id, client_secret) if client_secret else None
    try:
        response = requests.post(
            token_url,
            data=form,
            auth=auth,
            timeout=timeout,
            headers={"Accept": "application/json"},
        )
    except requests.RequestException as exc:
        raise NetworkError(
            f"The sign-in server could not be reached ({type(exc).__name__}); please try again."
        ) from None
    try:
        payload: Any = response.json()
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        raise NetworkError(
            f"The sign-in server gave an unreadable answer (HTTP {response.status_code})."
        )
    token = payload.get("access_token")
    if response.ok and isinstance(token, str) and token:
        return _token_set(payload, clock)
    error = str(payload.get("error") or f"HTTP {response.status_code}")
    description = str(payload.get("error_description") or "")
    message = f"The sign-in was refused: {(description or error).rstrip('.')}"
    grant = form["grant_type"]
    if error == "invalid_grant" or (
        grant == "refresh_token" and error == "invalid_request" and "token" in description.lower()
    ):
        raise AuthExpired(f"{message}. Please connect the account again.")
    raise NetworkError(f"{message}.")


def _token_set(payload: dict[str, Any], clock: Callable[[], float] | None) -> TokenSet:
    try:
        seconds: int | None = int(payload.get("expires_in"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        seconds = None
    expires_at = None
    if seconds is not None:
        now = clock() if clock is not None else datetime.now(UTC).timestamp()
        expires_at = datetime.fromtimestamp(now + seconds, UTC)
    scope = payload.get("scope")
    return TokenSet(
        access_token=payload["access_token"],
        refresh_token=payload.get("refresh_token") or None,
        expires_at=expires_at,
        scope=str(scope) if scope else None,
    )
