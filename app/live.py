"""Live networks on the Flask side: OAuth clients, connecting accounts, and the live producers.

The fetchers in :mod:`app.networks` are plain functions that take URLs, tokens and limits as
arguments; this module reads those from the app's config, keeps tokens encrypted on the
:class:`~app.models.Connection`, and exposes one producer per network in :data:`LIVE`
(``(connection, run, progress) -> AccountData``, as :mod:`app.sources` expects).

Config read here beyond :mod:`app.settings`: ``HTTP_MAX_RETRIES`` (default 3) and
``HTTP_BACKOFF`` (seconds before the first retry, doubled on each further one; default 0.5).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import FlaskIntegration, FlaskOAuth2App
from flask import current_app, session, url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Connection, ConnectionStatus, MastodonApp, SyncRun, User
from app.networks import NETWORKS
from app.networks.base import (
    AccountData,
    AuthExpired,
    NetworkError,
    NotAvailable,
    Person,
    Progress,
    Source,
)
from app.networks.bluesky.fetcher import fetch_bluesky, person_from_profile
from app.networks.github.fetcher import fetch_github, person_from_user
from app.networks.http import ApiClient, HttpError
from app.networks.mastodon.fetcher import (
    fetch_mastodon,
    instance_supports_pkce,
    person_from_account,
    register_app,
)

log = logging.getLogger(__name__)

#: What MD Analytics asks each OAuth network for: read-only, nothing more.
GITHUB_SCOPE = "read:user"
MASTODON_SCOPE = "read"
#: The headers GitHub's REST v3 documentation asks every client to send.
GITHUB_HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
#: Where the pending Mastodon sign-in's server is kept (with Authlib's state data).
MASTODON_STATE = "mastodon"

_BLUESKY_HANDLE_RE = re.compile(
    r"^(?=.{3,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$"
)
_DID_RE = re.compile(r"^did:(plc|web):[a-z0-9._:%-]{1,200}$")


class ConnectError(Exception):
    """Connecting an account did not work; the message is shown to the user as it is."""


# -- HTTP clients from config ---------------------------------------------------------------


def http_settings() -> dict[str, Any]:
    """Timeout, retries and backoff for every network call, from the app's config."""
    config = current_app.config
    read = float(config["HTTP_TIMEOUT"])
    return {
        "timeout": (min(5.0, read), read),
        "max_retries": int(config.get("HTTP_MAX_RETRIES", 3)),
        "backoff": float(config.get("HTTP_BACKOFF", 0.5)),
    }


def api_client(
    base_url: str,
    *,
    service: str,
    token: str | None = None,
    progress: Progress | None = None,
    headers: Mapping[str, str] | None = None,
) -> ApiClient:
    """An :class:`ApiClient` for ``base_url`` with the configured timeout and retries."""
    return ApiClient(
        base_url,
        token=token,
        progress=progress,
        service=service,
        headers=headers,
        **http_settings(),
    )


def _token(connection: Connection) -> str:
    """The connection's access token.

    :raises AuthExpired: when there is none (never stored, or the encryption key changed).
    """
    if not connection.access_token:
        label = NETWORKS[connection.network].label
        raise AuthExpired(f"The saved {label} sign-in can no longer be used; please reconnect.")
    return connection.access_token


# -- live producers -------------------------------------------------------------------------


def produce_github(connection: Connection, run: SyncRun, progress: Progress) -> AccountData:
    """Read the connection's GitHub account with its stored OAuth token."""
    token = _token(connection)
    config = current_app.config
    with api_client(
        config["GITHUB_API_URL"],
        service="GitHub",
        token=token,
        progress=progress,
        headers=GITHUB_HEADERS,
    ) as client:
        return fetch_github(client, max_people=config["GRAPH_MAX_PEOPLE"])


def produce_mastodon(connection: Connection, run: SyncRun, progress: Progress) -> AccountData:
    """Read the connection's Mastodon account on its own server, with its stored token."""
    token = _token(connection)
    instance = connection.instance_url or ""
    with api_client(
        instance, service=urlsplit(instance).netloc, token=token, progress=progress
    ) as client:
        return fetch_mastodon(client, max_people=current_app.config["GRAPH_MAX_PEOPLE"])


def produce_bluesky(connection: Connection, run: SyncRun, progress: Progress) -> AccountData:
    """Read a Bluesky account's public data by DID (or handle), no login."""
    config = current_app.config
    actor = connection.external_id or connection.handle or ""
    with api_client(config["BLUESKY_APPVIEW_URL"], service="Bluesky", progress=progress) as client:
        return fetch_bluesky(client, actor, max_people=config["GRAPH_MAX_PEOPLE"])


#: Live producer per open network (:data:`app.sources.LIVE` adds X, Facebook and LinkedIn).
LIVE: dict[str, Callable[[Connection, SyncRun, Progress], AccountData]] = {
    "github": produce_github,
    "mastodon": produce_mastodon,
    "bluesky": produce_bluesky,
}


# -- attaching an account to a user ---------------------------------------------------------


@dataclass
class Account:
    """The network account a user just proved (OAuth) or named (public handle)."""

    network: str
    source: str
    person: Person
    access_token: str | None = None
    instance_url: str | None = None


def attach(user: User, account: Account) -> Connection:
    """Create or refresh ``user``'s connection for ``account`` and mark it usable.

    A user has one connection per network. Signing in again with the same account (a
    reconnect) replaces the token and keeps the stored data; the new sync replaces it only
    when it finishes.

    :raises ConnectError: the user's connection to this network is a different account or
        a different kind of source (an import, the demo): it has to be disconnected first.
    """
    label = NETWORKS[account.network].label
    person = account.person
    connection = db.session.scalar(
        select(Connection).where(
            Connection.user_id == user.id, Connection.network == account.network
        )
    )
    if connection is None:
        connection = Connection(user_id=user.id, network=account.network, source=account.source)
        db.session.add(connection)
    else:
        same = (
            connection.source == account.source
            and connection.external_id in (None, person.external_id)
            and connection.instance_url == account.instance_url
        )
        if not same:
            kinds = {Source.IMPORT: "an imported archive", Source.DEMO: "demo data"}
            shown = f"@{connection.handle}" if connection.handle else ""
            if connection.source != account.source:
                kind = kinds.get(connection.source, "another account")
                shown = f"{shown} ({kind})" if shown else kind
            shown = shown or "another account"
            raise ConnectError(
                f"Your {label} page already holds {shown}. Disconnect it first (this deletes "
                f"its data), then connect @{person.handle}."
            )
    connection.external_id = person.external_id
    connection.handle = person.handle
    connection.display_name = person.name
    connection.profile_url = person.url
    connection.avatar_url = person.avatar_url
    connection.instance_url = account.instance_url
    if account.access_token is not None:
        connection.access_token = account.access_token
    connection.status = ConnectionStatus.OK
    db.session.commit()
    log.info("user %s connected %s account %s", user.id, account.network, person.external_id)
    return connection


# -- OAuth ----------------------------------------------------------------------------------


def _oauth_client(name: str, **kwargs: Any) -> FlaskOAuth2App:
    """An Authlib Flask OAuth 2 client; state (and the PKCE verifier) live in the session."""
    timeout = http_settings()["timeout"]
    client_kwargs = {
        "token_endpoint_auth_method": "client_secret_post",
        "default_timeout": timeout,
        **kwargs.pop("client_kwargs", {}),
    }
    return FlaskOAuth2App(FlaskIntegration(name), name, client_kwargs=client_kwargs, **kwargs)


def oauth_failure(error: Exception, label: str) -> str:
    """The message for a failed OAuth callback (denied, tampered, or a failed exchange)."""
    if isinstance(error, MismatchingStateError):
        return (
            f"The {label} sign-in could not be verified (it expired, was already used, or "
            "came from another browser). Nothing was connected; please try again."
        )
    if isinstance(error, OAuthError):
        if error.error == "access_denied":
            return (
                f"You did not allow MD Analytics to read your {label} account. "
                "Nothing was connected."
            )
        detail = error.description or error.error
        return f"{label} refused the sign-in ({detail}). Nothing was connected; please try again."
    return (
        f"{label} could not be reached to finish the sign-in. "
        "Nothing was connected; please try again."
    )


def exchange_code(client: FlaskOAuth2App, label: str) -> str:
    """Finish an OAuth callback: check ``state``, trade the code for a token.

    :raises ConnectError: consent denied, state missing or tampered, or the exchange failed.
    """
    try:
        token = client.authorize_access_token()
    except (OAuthError, requests.RequestException, ValueError) as error:
        raise ConnectError(oauth_failure(error, label)) from None
    access = token.get("access_token") if isinstance(token, dict) else None
    if not access:
        raise ConnectError(
            f"{label} sent no access token. Nothing was connected; please try again."
        )
    return str(access)


def github_configured() -> bool:
    """Whether a GitHub OAuth app is configured (``GITHUB_CLIENT_ID`` and secret)."""
    config = current_app.config
    return bool(config.get("GITHUB_CLIENT_ID") and config.get("GITHUB_CLIENT_SECRET"))


def github_client() -> FlaskOAuth2App:
    """This app's GitHub OAuth client, made from config once per app.

    Authlib's shared ``oauth`` registry is process-wide and would keep the first app's URLs,
    so the client is kept on ``app.extensions`` instead.
    """
    cache = current_app.extensions.setdefault("md_oauth", {})
    if "github" not in cache:
        config = current_app.config
        cache["github"] = _oauth_client(
            "github",
            client_id=config["GITHUB_CLIENT_ID"],
            client_secret=config["GITHUB_CLIENT_SECRET"],
            authorize_url=config["GITHUB_AUTHORIZE_URL"],
            access_token_url=config["GITHUB_TOKEN_URL"],
            client_kwargs={"scope": GITHUB_SCOPE},
        )
    return cache["github"]


def github_account(token: str) -> Account:
    """Who the token belongs to (``GET /user``, one request).

    :raises ConnectError: GitHub refused the token or could not be read.
    """
    try:
        with api_client(
            current_app.config["GITHUB_API_URL"],
            service="GitHub",
            token=token,
            headers=GITHUB_HEADERS,
        ) as client:
            me = client.get_json("/user")
        person = person_from_user(me)
    except NetworkError as error:
        raise ConnectError(f"{error} Nothing was connected.") from None
    except (KeyError, TypeError):
        raise ConnectError("GitHub answered with something that is not a user.") from None
    return Account("github", Source.LIVE, person, access_token=token)


# -- Mastodon -------------------------------------------------------------------------------


def mastodon_callback_url() -> str:
    """The callback URL registered on every Mastodon server."""
    return url_for("dashboard.mastodon_callback", _external=True)


def mastodon_app(instance_url: str) -> MastodonApp:
    """This app's registration on ``instance_url``, made on first use and reused after.

    A registration made for another callback URL (the site moved) is replaced.

    :raises ConnectError: the server cannot be reached, is not a Mastodon server, or refused.
    """
    redirect_uri = mastodon_callback_url()
    app = db.session.scalar(select(MastodonApp).where(MastodonApp.instance_url == instance_url))
    if app is not None and app.redirect_uri == redirect_uri and app.client_secret:
        return app
    host = urlsplit(instance_url).netloc
    settings = http_settings()
    try:
        client_id, client_secret = register_app(
            instance_url,
            redirect_uri,
            MASTODON_SCOPE,
            website=url_for("landing.index", _external=True),
            timeout=settings["timeout"],
        )
    except (NotAvailable, KeyError, TypeError):
        raise ConnectError(f"{host} does not look like a Mastodon server.") from None
    except HttpError as error:
        raise ConnectError(f"{host} refused to register MD Analytics: {error}") from None
    except NetworkError as error:
        raise ConnectError(f"{host} could not be reached: {error}") from None
    try:
        pkce = instance_supports_pkce(instance_url, timeout=settings["timeout"])
    except NetworkError:
        pkce = False
    if app is None:
        app = MastodonApp(instance_url=instance_url)
        db.session.add(app)
    app.redirect_uri = redirect_uri
    app.client_id = client_id
    app.client_secret = client_secret
    app.scopes = MASTODON_SCOPE
    app.supports_pkce = pkce
    try:
        db.session.commit()
    except IntegrityError:  # another request registered this server at the same moment
        db.session.rollback()
        return db.session.scalars(
            select(MastodonApp).where(MastodonApp.instance_url == instance_url)
        ).one()
    log.info("registered on Mastodon server %s (PKCE: %s)", instance_url, pkce)
    return app


def mastodon_client(app: MastodonApp) -> FlaskOAuth2App:
    """An OAuth client for one Mastodon server; PKCE (S256) where the server announces it."""
    client_kwargs: dict[str, Any] = {"scope": app.scopes}
    if app.supports_pkce:
        client_kwargs["code_challenge_method"] = "S256"
    return _oauth_client(
        MASTODON_STATE,
        client_id=app.client_id,
        client_secret=app.client_secret,
        authorize_url=f"{app.instance_url}/oauth/authorize",
        access_token_url=f"{app.instance_url}/oauth/token",
        client_kwargs=client_kwargs,
    )


def mastodon_authorize_url(instance_url: str) -> str:
    """Start the sign-in on ``instance_url``: the URL to send the browser to.

    The server's URL is kept with Authlib's state data in the session, so the callback knows
    which server to finish with, and two sign-ins in two tabs do not mix.

    :raises ConnectError: see :func:`mastodon_app`.
    """
    app = mastodon_app(instance_url)
    client = mastodon_client(app)
    redirect_uri = app.redirect_uri
    result = client.create_authorization_url(redirect_uri)
    client.save_authorize_data(redirect_uri=redirect_uri, instance_url=instance_url, **result)
    return str(result["url"])


def mastodon_finish(state: str | None) -> Account:
    """Finish a Mastodon callback: find the server by ``state``, exchange the code, read the
    account (``verify_credentials``).

    :raises ConnectError: on a missing or unknown state, denied consent, a failed exchange
        or an account that cannot be read.
    """
    data = FlaskIntegration(MASTODON_STATE).get_state_data(session, state)
    instance_url = data.get("instance_url") if isinstance(data, dict) else None
    app = None
    if instance_url:
        app = db.session.scalar(select(MastodonApp).where(MastodonApp.instance_url == instance_url))
    if app is None:
        raise ConnectError(oauth_failure(MismatchingStateError(), "Mastodon"))
    token = exchange_code(mastodon_client(app), "Mastodon")
    host = urlsplit(app.instance_url).netloc
    try:
        with api_client(app.instance_url, service=host, token=token) as client:
            me = client.get_json("/api/v1/accounts/verify_credentials")
        person = person_from_account(me, host)
    except NetworkError as error:
        raise ConnectError(f"{error} Nothing was connected.") from None
    except (KeyError, TypeError):
        raise ConnectError(f"{host} answered with something that is not an account.") from None
    return Account(
        "mastodon", Source.LIVE, person, access_token=token, instance_url=app.instance_url
    )


# -- Bluesky --------------------------------------------------------------------------------


def normalise_bluesky_handle(text: str) -> str:
    """Turn what a person typed into a Bluesky handle (``alice.bsky.social``) or DID.

    :raises ValueError: with a message fit for the form.
    """
    value = text.strip()
    if value.startswith("https://bsky.app/profile/"):
        value = value[len("https://bsky.app/profile/") :].strip("/")
    value = value.removeprefix("@").lower()
    if not value:
        raise ValueError("Enter a Bluesky handle, like alice.bsky.social.")
    if _DID_RE.match(value):
        return value
    if any(ch.isspace() for ch in value) or "@" in value:
        raise ValueError("A Bluesky handle has no spaces and at most one leading @.")
    if not _BLUESKY_HANDLE_RE.match(value):
        raise ValueError(
            "That is not a Bluesky handle. Handles look like a web address: "
            "alice.bsky.social or alice.com."
        )
    return value


def bluesky_account(handle: str) -> Account:
    """Check that ``handle`` exists (``getProfile``, one request) and return its account.

    :raises ConnectError: no such account, or Bluesky could not be read.
    """
    try:
        with api_client(current_app.config["BLUESKY_APPVIEW_URL"], service="Bluesky") as client:
            profile = client.get_json("/xrpc/app.bsky.actor.getProfile", {"actor": handle})
        person = person_from_profile(profile)
    except (NotAvailable, HttpError) as error:
        if isinstance(error, HttpError) and error.status != 400:
            raise ConnectError(f"Bluesky could not be read: {error}") from None
        raise ConnectError(f"Bluesky has no account called {handle}.") from None
    except NetworkError as error:
        raise ConnectError(f"Bluesky could not be reached: {error}") from None
    except (KeyError, TypeError):
        raise ConnectError("Bluesky answered with something that is not a profile.") from None
    return Account("bluesky", Source.PUBLIC, person)
