"""X, Facebook and LinkedIn on the Flask side: sign-in, token keeping and the live producers.

These three networks give much less than the open ones and X bills every read, so this
module adds to :mod:`app.live` what they need:

* X: OAuth 2.0 with PKCE through :mod:`app.networks.oauth_pkce` (state and verifier in the
  session), two-hour access tokens refreshed with the stored refresh token, which X rotates
  on every refresh (the new one is committed at once, before anything else can fail), and a
  per-sync read budget (``X_MAX_READS``) with the follower-of-follower opt-in, both kept in
  :attr:`Connection.options <app.models.Connection.options>`.
* Facebook: Facebook Login's code flow (Authlib), then the short-lived token is swapped for a
  long-lived one (about 60 days), which cannot be refreshed: when it runs out the user signs
  in again.
* LinkedIn: Sign In with LinkedIn using OpenID Connect (Authlib); the profile comes from
  ``/v2/userinfo`` with the access token (the ID token is not needed for that).

:data:`CLOSED_LIVE` holds the three producers (``(connection, run, progress) ->
AccountData``), merged with :data:`app.live.LIVE` into :data:`app.sources.LIVE`.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import FlaskOAuth2App
from flask import current_app, session, url_for

from app.extensions import db
from app.live import (
    Account,
    ConnectError,
    _oauth_client,
    api_client,
    http_settings,
    oauth_failure,
)
from app.models import Connection, SyncRun
from app.networks import NETWORKS, oauth_pkce
from app.networks.base import (
    AccountData,
    AuthExpired,
    NetworkError,
    Progress,
    Source,
)
from app.networks.facebook.fetcher import exchange_long_lived, fetch_facebook
from app.networks.facebook.fetcher import person_from_user as facebook_person
from app.networks.http import ApiClient, HttpError
from app.networks.linkedin.fetcher import fetch_linkedin, person_from_userinfo
from app.networks.x.fetcher import (
    PRICE_POST_READ,
    PRICE_USER_READ,
    USER_FIELDS,
    estimate_reads,
    fetch_x,
    install_hook,
)
from app.networks.x.fetcher import person_from_user as x_person

log = logging.getLogger(__name__)

#: What MD Analytics asks each network for: reading only.
X_SCOPES = ("tweet.read", "users.read", "follows.read", "offline.access")
FACEBOOK_SCOPE = "public_profile user_friends user_posts"
LINKEDIN_SCOPE = "openid profile email"
#: Where the pending X sign-in (state, PKCE verifier, the graph opt-in) waits in the session.
X_SESSION_KEY = "x_oauth"
#: OAuth error codes that mean "the person said no" (LinkedIn has its own for it).
DENIED = frozenset({"access_denied", "user_cancelled_authorize", "user_cancelled_login"})

#: Each network's credentials in config (the secret is optional for X's public clients).
CREDENTIALS: dict[str, tuple[str, str]] = {
    "x": ("X_CLIENT_ID", "X_CLIENT_SECRET"),
    "facebook": ("FACEBOOK_CLIENT_ID", "FACEBOOK_CLIENT_SECRET"),
    "linkedin": ("LINKEDIN_CLIENT_ID", "LINKEDIN_CLIENT_SECRET"),
}


def _now() -> datetime:
    """The current time (a seam for tests that need a token to run out mid-sync)."""
    return datetime.now(UTC)


def configured(network: str) -> bool:
    """Whether ``network``'s developer app is configured on this server.

    X needs only ``X_CLIENT_ID`` (a public client sends no secret); Facebook and LinkedIn
    need the id and the secret.
    """
    id_key, secret_key = CREDENTIALS[network]
    config = current_app.config
    if not config.get(id_key):
        return False
    return network == "x" or bool(config.get(secret_key))


def not_configured(network: str) -> str:
    """The message for a sign-in route hit while the network's app is not configured."""
    return f"{NETWORKS[network].label} sign-in is not configured on this server yet."


def callback_url(network: str) -> str:
    """The callback URL to register on ``network``'s developer app."""
    return url_for(f"dashboard.{network}_callback", _external=True)


# -- X: the read budget ---------------------------------------------------------------------


@dataclass(frozen=True)
class XBudget:
    """What the connect page says about a sync's reads and their price, before any read.

    :param max_reads: the per-sync budget (``X_MAX_READS``).
    :param max_cost: the most a sync can cost: every read billed as a user read.
    :param known: whether the counts come from an earlier sync (else only the cap is known).
    :param planned: reads a sync without graph edges would make (when ``known``).
    :param planned_cost: their price.
    :param graph_people: people whose following lists the opt-in would read.
    :param graph_reads: reads those lists would take without a budget (about 500 a person).
    :param graph_cost: their price.
    :param graph_minutes: how long X's rate limit (15 lists per 15 minutes) makes them take.
    """

    max_reads: int
    max_cost: float
    known: bool
    planned: int | None
    planned_cost: float | None
    graph_people: int
    graph_reads: int
    graph_cost: float
    graph_minutes: int
    price_post: float = PRICE_POST_READ
    price_user: float = PRICE_USER_READ


def x_max_reads(connection: Connection | None = None) -> int:
    """The read budget of one X sync: ``X_MAX_READS``, or less if the connection says so."""
    budget = int(current_app.config["X_MAX_READS"])
    if connection is not None:
        stored = (connection.options or {}).get("max_reads")
        if isinstance(stored, int) and not isinstance(stored, bool):
            budget = min(budget, stored)
    return max(budget, 0)


def x_budget(connection: Connection | None) -> XBudget:
    """Estimate a sync's reads with :func:`~app.networks.x.fetcher.estimate_reads`.

    With an earlier sync the counts it stored are used; before the first one only the cap
    is certain, and the graph estimate assumes the graph limit's worth of people.
    """
    max_reads = x_max_reads(connection)
    max_people = int(current_app.config["GRAPH_MAX_PEOPLE"])
    snapshot = connection.current_snapshot if connection is not None else None
    if snapshot is not None:
        counts = (
            snapshot.followers_count or 0,
            snapshot.friends_count or 0,
            snapshot.posts_count or 0,
        )
    else:
        counts = (max_people, 0, 0)
    plain = estimate_reads(*counts, False, max_people, max_reads=max_reads)
    graph = estimate_reads(*counts, True, max_people)
    follows = graph["reads"]["follows"]
    known = snapshot is not None
    return XBudget(
        max_reads=max_reads,
        max_cost=round(max_reads * PRICE_USER_READ, 2),
        known=known,
        planned=plain["planned_total"] if known else None,
        planned_cost=_cost(plain["planned"]) if known else None,
        graph_people=graph["graph_people"],
        graph_reads=follows,
        graph_cost=round(follows * PRICE_USER_READ, 2),
        graph_minutes=graph["graph_minutes"],
    )


def _cost(reads: Mapping[str, int]) -> float:
    users = sum(n for stage, n in reads.items() if stage != "posts")
    return round(reads.get("posts", 0) * PRICE_POST_READ + users * PRICE_USER_READ, 2)


# -- X: sign-in -----------------------------------------------------------------------------


def x_authorize_url(include_graph_edges: bool) -> str:
    """Start an X sign-in: keep state, verifier and the opt-in in the session; return the
    URL of X's consent page (PKCE S256)."""
    config = current_app.config
    verifier = oauth_pkce.new_verifier()
    state = secrets.token_urlsafe(24)
    session[X_SESSION_KEY] = {
        "state": state,
        "verifier": verifier,
        "graph_edges": bool(include_graph_edges),
    }
    return oauth_pkce.authorize_url(
        config["X_AUTHORIZE_URL"],
        config["X_CLIENT_ID"],
        callback_url("x"),
        X_SCOPES,
        state,
        oauth_pkce.challenge(verifier),
    )


@dataclass
class XGrant:
    """A finished X sign-in: the account, its tokens, and the choices made on the page."""

    account: Account
    tokens: oauth_pkce.TokenSet
    include_graph_edges: bool


def x_finish(args: Mapping[str, str]) -> XGrant:
    """Finish an X callback: check ``state``, trade the code (with the verifier) for tokens,
    read who they belong to (``GET /2/users/me``, one billed read).

    The pending sign-in is taken out of the session first, so a callback works once.

    :raises ConnectError: denied consent, a missing or tampered state, a refused exchange
        (a verifier that does not match is refused by X) or an unreadable profile.
    """
    pending = session.pop(X_SESSION_KEY, None)
    state = args.get("state") or ""
    if (
        not isinstance(pending, dict)
        or not state
        or not secrets.compare_digest(str(pending.get("state", "")), state)
    ):
        raise ConnectError(oauth_failure(MismatchingStateError(), "X"))
    error = args.get("error")
    if error:
        raise ConnectError(
            oauth_failure(
                OAuthError(error=_denied(error), description=args.get("error_description")), "X"
            )
        )
    code = args.get("code")
    if not code:
        raise ConnectError("X sent no sign-in code. Nothing was connected; please try again.")
    config = current_app.config
    try:
        tokens = oauth_pkce.exchange_code(
            config["X_TOKEN_URL"],
            code=code,
            verifier=str(pending["verifier"]),
            redirect_uri=callback_url("x"),
            client_id=config["X_CLIENT_ID"],
            client_secret=config.get("X_CLIENT_SECRET") or None,
            timeout=http_settings()["timeout"],
        )
    except NetworkError as error:  # AuthExpired (invalid_grant) included
        raise ConnectError(f"X refused the sign-in. {error} Nothing was connected.") from None
    try:
        with _x_api(tokens.access_token) as api:
            me = api.get_json("/2/users/me", {"user.fields": USER_FIELDS})["data"]
        person = x_person(me)
    except NetworkError as error:
        raise ConnectError(f"{error} Nothing was connected.") from None
    except (KeyError, TypeError):
        raise ConnectError("X answered with something that is not a user.") from None
    account = Account("x", Source.LIVE, person, access_token=tokens.access_token)
    return XGrant(account, tokens, bool(pending.get("graph_edges")))


def x_configure(connection: Connection, grant: XGrant) -> None:
    """Store the grant's refresh token, expiry and the sync options on ``connection``.

    The profile read made while connecting is part of the first sync's budget, so
    ``options["max_reads"]`` is the budget and the first sync is started with one read less.
    """
    connection.refresh_token = grant.tokens.refresh_token
    connection.token_expires_at = grant.tokens.expires_at
    connection.options = {
        **(connection.options or {}),
        "include_graph_edges": grant.include_graph_edges,
        "max_reads": int(current_app.config["X_MAX_READS"]),
    }
    db.session.commit()


def _denied(error: str) -> str:
    return "access_denied" if error in DENIED else error


def _x_api(token: str, progress: Progress | None = None) -> ApiClient:
    api = api_client(current_app.config["X_API_URL"], service="X", token=token, progress=progress)
    install_hook(api)
    return api


# -- X: keeping the token fresh -------------------------------------------------------------


class XTokens:
    """The connection's X access token, refreshed when it has run out (or is about to).

    X rotates refresh tokens: the old one stops working the moment a new one is issued, so
    the new pair is committed before the sync goes on (a later failure rolls the session
    back, and a lost refresh token would force the user to sign in again).
    """

    def __init__(self, connection: Connection, clock: Callable[[], datetime] | None = None) -> None:
        self.connection = connection
        self.clock = clock or _now

    def current(self) -> str:
        """A usable access token.

        :raises AuthExpired: there is no token, or the refresh was refused (revoked app,
            refresh token already used or expired).
        :raises NetworkError: the token endpoint could not be reached.
        """
        connection = self.connection
        if not connection.access_token:
            raise AuthExpired("The saved X sign-in can no longer be used; please reconnect.")
        tokens = oauth_pkce.TokenSet(
            connection.access_token, connection.refresh_token, connection.token_expires_at
        )
        if not tokens.expired(self.clock()):
            return tokens.access_token
        if not tokens.refresh_token:
            raise AuthExpired("The X sign-in has run out and cannot be renewed; please reconnect.")
        config = current_app.config
        try:
            fresh = oauth_pkce.refresh(
                config["X_TOKEN_URL"],
                tokens.refresh_token,
                config["X_CLIENT_ID"],
                config.get("X_CLIENT_SECRET") or None,
                timeout=http_settings()["timeout"],
            )
        except AuthExpired as error:
            raise AuthExpired(
                f"X would not renew the saved sign-in ({error}). Reconnect X to sync again; "
                "your data stays on the page."
            ) from None
        connection.access_token = fresh.access_token
        connection.refresh_token = fresh.refresh_token
        connection.token_expires_at = fresh.expires_at
        db.session.commit()
        log.info("refreshed the X token of connection %s", connection.id)
        return fresh.access_token


class _RefreshingClient(ApiClient):
    """An :class:`ApiClient` that asks :class:`XTokens` for the token before every request,
    so a sync that outlives the two-hour token carries on with a refreshed one."""

    def __init__(self, base_url: str, tokens: XTokens, **kwargs: Any) -> None:
        super().__init__(base_url, token=tokens.current(), **kwargs)
        self.tokens = tokens

    def request(self, method: str, path_or_url: str, **kwargs: Any) -> Any:
        self.session.headers["Authorization"] = f"Bearer {self.tokens.current()}"
        return super().request(method, path_or_url, **kwargs)


# -- live producers -------------------------------------------------------------------------


def produce_x(connection: Connection, run: SyncRun, progress: Progress) -> AccountData:
    """Read the connection's X account inside its read budget.

    Options (:attr:`Connection.options`): ``include_graph_edges`` and ``max_reads`` (never
    above ``X_MAX_READS``); the run's ``params["max_reads"]`` can lower it further (the
    first sync after connecting, whose profile read was already made).
    """
    config = current_app.config
    options = connection.options or {}
    budget = x_max_reads(connection)
    lower = run.params.get("max_reads")
    if isinstance(lower, int) and not isinstance(lower, bool):
        budget = min(budget, max(lower, 0))
    tokens = XTokens(connection)
    api = _RefreshingClient(
        config["X_API_URL"], tokens, service="X", progress=progress, **http_settings()
    )
    with api:
        return fetch_x(
            api,
            max_reads=budget,
            include_graph_edges=bool(options.get("include_graph_edges")),
            max_people=int(config["GRAPH_MAX_PEOPLE"]),
        )


def produce_facebook(connection: Connection, run: SyncRun, progress: Progress) -> AccountData:
    """Read the connection's Facebook profile, listed friends and (if granted) posts."""
    token = connection.access_token
    expires = connection.token_expires_at
    if not token or (expires is not None and expires <= _now()):
        raise AuthExpired(
            "The Facebook sign-in has run out (Facebook grants about 60 days); please "
            "reconnect. Your data stays on the page."
        )
    config = current_app.config
    with api_client(
        config["FACEBOOK_GRAPH_URL"], service="Facebook", token=token, progress=progress
    ) as api:
        return fetch_facebook(api)


def produce_linkedin(connection: Connection, run: SyncRun, progress: Progress) -> AccountData:
    """Read the connection's LinkedIn profile (all LinkedIn's API gives)."""
    token = connection.access_token
    if not token:
        raise AuthExpired("The saved LinkedIn sign-in can no longer be used; please reconnect.")
    url = current_app.config["LINKEDIN_USERINFO_URL"]
    with api_client(_origin(url), service="LinkedIn", token=token, progress=progress) as api:
        return fetch_linkedin(api, userinfo_url=url)


#: Live producer per network (merged into :data:`app.sources.LIVE`).
CLOSED_LIVE: dict[str, Callable[[Connection, SyncRun, Progress], AccountData]] = {
    "x": produce_x,
    "facebook": produce_facebook,
    "linkedin": produce_linkedin,
}


# -- Facebook and LinkedIn: Authlib clients ---------------------------------------------------


def oauth_client(network: str) -> FlaskOAuth2App:
    """This app's Facebook or LinkedIn OAuth client, made from config once per app."""
    cache = current_app.extensions.setdefault("md_oauth", {})
    if network not in cache:
        config = current_app.config
        prefix = network.upper()
        scope = FACEBOOK_SCOPE if network == "facebook" else LINKEDIN_SCOPE
        cache[network] = _oauth_client(
            network,
            client_id=config[f"{prefix}_CLIENT_ID"],
            client_secret=config[f"{prefix}_CLIENT_SECRET"],
            authorize_url=config[f"{prefix}_AUTHORIZE_URL"],
            access_token_url=config[f"{prefix}_TOKEN_URL"],
            client_kwargs={"scope": scope},
        )
    return cache[network]


def authorize_url(network: str) -> str:
    """Start a Facebook or LinkedIn sign-in; return the consent page's URL.

    Authlib keeps ``state`` in the session. The OpenID nonce it makes for LinkedIn is sent
    but not kept: the profile is read from ``/v2/userinfo`` with the access token, so the ID
    token is not parsed.
    """
    client = oauth_client(network)
    redirect_uri = callback_url(network)
    result = client.create_authorization_url(redirect_uri)
    client.save_authorize_data(
        redirect_uri=redirect_uri, **{k: v for k, v in result.items() if k != "nonce"}
    )
    return str(result["url"])


@dataclass
class Grant:
    """A finished Facebook or LinkedIn sign-in."""

    account: Account
    expires_at: datetime | None


def _exchange(network: str) -> dict[str, Any]:
    """Trade the callback's code for a token (Authlib checks ``state``).

    :raises ConnectError: consent denied, state missing or tampered, or a failed exchange.
    """
    label = NETWORKS[network].label
    try:
        token = oauth_client(network).authorize_access_token()
    except OAuthError as error:
        if isinstance(error.error, dict):  # a Graph API error object, not an OAuth code
            error.description = str(error.error.get("message") or error.description or "")
            error.error = "graph_error"
        error.error = _denied(str(error.error))
        raise ConnectError(oauth_failure(error, label)) from None
    except (requests.RequestException, ValueError) as error:
        raise ConnectError(oauth_failure(error, label)) from None
    if not isinstance(token, dict) or not token.get("access_token"):
        raise ConnectError(
            f"{label} sent no access token. Nothing was connected; please try again."
        )
    return token


def facebook_finish() -> Grant:
    """Finish a Facebook callback: the code for a token, that for a long-lived one
    (``fb_exchange_token``), then the profile (``GET /me``).

    :raises ConnectError: see :func:`_exchange`; the swap or the profile read failed.
    """
    short = str(_exchange("facebook")["access_token"])
    config = current_app.config
    try:
        token, expires_at = exchange_long_lived(
            short,
            token_url=config["FACEBOOK_TOKEN_URL"],
            client_id=config["FACEBOOK_CLIENT_ID"],
            client_secret=config["FACEBOOK_CLIENT_SECRET"],
            timeout=http_settings()["timeout"],
        )
        with api_client(config["FACEBOOK_GRAPH_URL"], service="Facebook", token=token) as api:
            me = api.get_json("me", {"fields": "id,name,link,picture"})
        person = facebook_person(me)
    except HttpError as error:
        raise ConnectError(
            f"Facebook refused to share the profile: {error} Nothing was connected."
        ) from None
    except NetworkError as error:
        raise ConnectError(f"{error} Nothing was connected.") from None
    except (KeyError, TypeError):
        raise ConnectError("Facebook answered with something that is not a profile.") from None
    return Grant(Account("facebook", Source.LIVE, person, access_token=token), expires_at)


def linkedin_finish() -> Grant:
    """Finish a LinkedIn callback: the code for a token, then ``GET /v2/userinfo``.

    :raises ConnectError: see :func:`_exchange`; the profile could not be read.
    """
    token = _exchange("linkedin")
    access = str(token["access_token"])
    url = current_app.config["LINKEDIN_USERINFO_URL"]
    try:
        with api_client(_origin(url), service="LinkedIn", token=access) as api:
            info = api.get_json(url)
        person = person_from_userinfo(info)
    except NetworkError as error:
        raise ConnectError(f"{error} Nothing was connected.") from None
    except (KeyError, TypeError):
        raise ConnectError("LinkedIn answered with something that is not a profile.") from None
    expires_at = token.get("expires_at")
    when = datetime.fromtimestamp(expires_at, UTC) if isinstance(expires_at, int | float) else None
    return Grant(Account("linkedin", Source.LIVE, person, access_token=access), when)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
