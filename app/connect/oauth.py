"""The Flask side of every OAuth sign-in, driven by each connector's :class:`OAuthSpec`.

Two clients do the protocol work:

* Authlib's Flask client for most networks (GitHub, Facebook, LinkedIn, and Mastodon, whose
  URLs and credentials belong to the server the user names and are registered on first use,
  see :func:`instance_app`). Authlib keeps ``state`` (and any PKCE verifier) in the session.
* :mod:`app.networks.oauth_pkce` for providers whose token endpoint wants exactly HTTP Basic
  for confidential clients and ``client_id`` in the form for public ones (X): state, verifier
  and the connect page's choices wait in the session under ``<key>_oauth``.

Either way :func:`finish` ends with an :class:`~app.connect.accounts.Account` holding the
profile (the connector's :meth:`~app.networks.base.Connector.whoami`), the tokens and the
choices, or raises :class:`~app.connect.accounts.ConnectError` with a message for the page.

A server the user names is reached only through the outbound guard
(:mod:`app.networks.outbound`): registration and the profile read use guarded
:class:`~app.networks.http.ApiClient` objects, and the code exchange at its ``/oauth/token``
runs in an Authlib session whose transport is the guard's (:class:`GuardedOAuth2Session`).
Its failures are told with fixed sentences; nothing the server sent is shown.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import FlaskIntegration, FlaskOAuth2App
from authlib.integrations.requests_client import OAuth2Session
from flask import current_app, session, url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.connect.accounts import Account, ConnectError
from app.extensions import db
from app.models import MastodonApp
from app.networks import oauth_pkce
from app.networks.base import Connector, Door, Login, NetworkError, NotAvailable, Origin
from app.networks.http import (
    HttpError,
    Redirected,
    TimedOut,
    client_for,
    http_settings,
)
from app.networks.outbound import OutboundPolicy, guard_session, policy_from_config

log = logging.getLogger(__name__)

#: OAuth error codes that mean "the person said no" (LinkedIn has its own for it).
DENIED = frozenset({"access_denied", "user_cancelled_authorize", "user_cancelled_login"})


def session_key(connector: Connector) -> str:
    """Where a pending sign-in of the plain PKCE client waits in the session."""
    return f"{connector.key}_oauth"


def callback_url(connector: Connector) -> str:
    """The callback URL to register on the network's developer app (or server)."""
    return url_for("connect.callback", network=connector.key, _external=True)


def not_configured(connector: Connector) -> str:
    """The message for a sign-in route hit while the network's app is not configured."""
    return f"{connector.label} sign-in is not configured on this server yet."


# -- messages -------------------------------------------------------------------------------


def oauth_failure(error: Exception, label: str, remote_text: bool = True) -> str:
    """The message for a failed OAuth callback (denied, tampered, or a failed exchange).

    :param remote_text: show the provider's error code and description; off for a server
        the user names, whose words are not shown.
    """
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
        if not remote_text:
            return f"{label} refused the sign-in. Nothing was connected; please try again."
        return f"{label} refused the sign-in ({detail}). Nothing was connected; please try again."
    return (
        f"{label} could not be reached to finish the sign-in. "
        "Nothing was connected; please try again."
    )


def _denied(error: str) -> str:
    return "access_denied" if error in DENIED else error


# -- starting a sign-in ---------------------------------------------------------------------


def authorize_url(
    connector: Connector, *, instance_url: str | None = None, options: Mapping[str, Any] = {}
) -> str:
    """Start a sign-in: keep what the callback needs in the session; return the URL of the
    network's consent page.

    :param instance_url: the server the user named (:attr:`Door.INSTANCE`).
    :param options: the connect page's choices, kept until the callback.
    :raises ConnectError: a server the user named could not register this app.
    """
    spec = connector.oauth
    assert spec is not None
    redirect_uri = callback_url(connector)
    if spec.own_client:
        config = current_app.config
        verifier = oauth_pkce.new_verifier()
        state = secrets.token_urlsafe(24)
        session[session_key(connector)] = {
            "state": state,
            "verifier": verifier,
            "options": dict(options),
        }
        return oauth_pkce.authorize_url(
            config[f"{spec.prefix}_AUTHORIZE_URL"],
            config[f"{spec.prefix}_CLIENT_ID"],
            redirect_uri,
            spec.scopes,
            state,
            oauth_pkce.challenge(verifier),
        )
    extra: dict[str, Any] = {"options": dict(options)}
    if instance_url is not None:
        app = instance_app(connector, instance_url)
        client = instance_client(connector, app)
        redirect_uri = app.redirect_uri
        extra["instance_url"] = instance_url
    else:
        client = config_client(connector)
    result = client.create_authorization_url(redirect_uri)
    if not spec.keep_nonce:
        result = {k: v for k, v in result.items() if k != "nonce"}
    client.save_authorize_data(redirect_uri=redirect_uri, **extra, **result)
    return str(result["url"])


class GuardedOAuth2Session(OAuth2Session):
    """Authlib's requests session for a server the user names: its transport is the
    outbound guard's (:func:`~app.networks.outbound.guard_session`), so the code exchange
    connects only to a checked address and follows no redirect.

    :param outbound_policy: the policy, passed by Authlib from the client's
        ``client_kwargs`` like its other session options.
    """

    def __init__(self, *args: Any, outbound_policy: OutboundPolicy, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        guard_session(self, outbound_policy)


class GuardedOAuth2App(FlaskOAuth2App):
    """Authlib's Flask client whose sessions are :class:`GuardedOAuth2Session`."""

    client_cls = GuardedOAuth2Session


def _authlib_client(
    name: str, app_class: type[FlaskOAuth2App] = FlaskOAuth2App, **kwargs: Any
) -> FlaskOAuth2App:
    """An Authlib Flask OAuth 2 client; state (and any PKCE verifier) live in the session."""
    timeout = http_settings(current_app.config).timeout
    client_kwargs = {
        "token_endpoint_auth_method": "client_secret_post",
        "default_timeout": timeout,
        **kwargs.pop("client_kwargs", {}),
    }
    return app_class(FlaskIntegration(name), name, client_kwargs=client_kwargs, **kwargs)


def config_client(connector: Connector) -> FlaskOAuth2App:
    """This app's OAuth client for ``connector``, made from config once per app.

    Authlib's shared ``oauth`` registry is process-wide and would keep the first app's URLs,
    so the client is kept on ``app.extensions`` instead.
    """
    spec = connector.oauth
    assert spec is not None
    cache = current_app.extensions.setdefault("md_oauth", {})
    if connector.key not in cache:
        config = current_app.config
        client_kwargs: dict[str, Any] = {"scope": spec.scope}
        if spec.pkce == "S256":
            client_kwargs["code_challenge_method"] = "S256"
        cache[connector.key] = _authlib_client(
            connector.key,
            client_id=config[f"{spec.prefix}_CLIENT_ID"],
            client_secret=config[f"{spec.prefix}_CLIENT_SECRET"],
            authorize_url=config[f"{spec.prefix}_AUTHORIZE_URL"],
            access_token_url=config[f"{spec.prefix}_TOKEN_URL"],
            client_kwargs=client_kwargs,
        )
    return cache[connector.key]  # type: ignore[no-any-return]


# -- servers the user names -----------------------------------------------------------------


def instance_app(connector: Connector, instance_url: str) -> MastodonApp:
    """This app's registration on ``instance_url``, made on first use and reused after.

    A registration made for another callback URL (the site moved) is replaced. Every
    request goes through the outbound guard with its short timeout; the messages are fixed
    sentences (the server's own words are logged at most, never shown).

    :raises ConnectError: the server cannot be reached, is not such a server, or refused.
    """
    redirect_uri = callback_url(connector)
    app = db.session.scalar(select(MastodonApp).where(MastodonApp.instance_url == instance_url))
    if app is not None and app.redirect_uri == redirect_uri and app.client_secret:
        return app
    host = urlsplit(instance_url).netloc
    website = url_for("landing.index", _external=True)
    try:
        client_id, client_secret, pkce = connector.register_client(
            instance_url, redirect_uri, website, current_app.config
        )
    except (NotAvailable, KeyError, TypeError):
        log.info("connect: %s is not a %s server", host, connector.name)
        raise ConnectError(f"{host} does not look like a {connector.name} server.") from None
    except Redirected:
        log.info("connect: %s redirected the registration", host)
        raise ConnectError(
            f"{host} sent MD Analytics to another address; enter the address of your "
            f"{connector.name} server itself."
        ) from None
    except HttpError as error:
        log.info("connect: %s refused to register this app: HTTP %s", host, error.status)
        raise ConnectError(
            f"{host} refused to register MD Analytics (HTTP {error.status})."
        ) from None
    except TimedOut:
        log.info("connect: %s did not answer in time", host)
        raise ConnectError(f"{host} did not answer in time; please try again later.") from None
    except NetworkError as error:
        log.info("connect: %s could not be reached: %s", host, error)
        raise ConnectError(f"{host} could not be reached.") from None
    assert connector.oauth is not None
    if app is None:
        app = MastodonApp(instance_url=instance_url)
        db.session.add(app)
    app.redirect_uri = redirect_uri
    app.client_id = client_id
    app.client_secret = client_secret
    app.scopes = connector.oauth.scope
    app.supports_pkce = pkce
    try:
        db.session.commit()
    except IntegrityError:  # another request registered this server at the same moment
        db.session.rollback()
        return db.session.scalars(
            select(MastodonApp).where(MastodonApp.instance_url == instance_url)
        ).one()
    log.info("registered on %s server %s (PKCE: %s)", connector.name, instance_url, pkce)
    return app


def instance_client(connector: Connector, app: MastodonApp) -> FlaskOAuth2App:
    """An OAuth client for one server; PKCE (S256) where the server announces it. The code
    exchange goes through the outbound guard (:class:`GuardedOAuth2Session`) and waits
    ``OUTBOUND_TIMEOUT`` at most per connect or read."""
    policy = policy_from_config(current_app.config)
    client_kwargs: dict[str, Any] = {
        "scope": app.scopes,
        "outbound_policy": policy,
        "default_timeout": policy.timeout,
    }
    if app.supports_pkce:
        client_kwargs["code_challenge_method"] = "S256"
    authorize, token = connector.instance_endpoints(app.instance_url)
    return _authlib_client(
        connector.key,
        GuardedOAuth2App,
        client_id=app.client_id,
        client_secret=app.client_secret,
        authorize_url=authorize,
        access_token_url=token,
        client_kwargs=client_kwargs,
    )


# -- finishing a sign-in --------------------------------------------------------------------


def finish(connector: Connector, args: Mapping[str, str]) -> Account:
    """Finish a callback: check ``state``, trade the code for tokens, apply the network's
    quirks (:meth:`~app.networks.base.Connector.finish_token`), read who the token belongs
    to, and return the account with its tokens and the choices made before the sign-in.

    :raises ConnectError: denied consent, a missing or tampered state, a refused exchange
        or an unreadable profile; nothing is stored.
    """
    if connector.oauth is not None and connector.oauth.own_client:
        token, options, instance_url = _finish_own(connector, args)
    else:
        token, options, instance_url = _finish_authlib(connector, args)
    config = current_app.config
    login = Login(instance_url=instance_url)
    try:
        token = connector.finish_token(token, config, http_settings(config))
        access = str(token["access_token"])
        with client_for(connector, config, login, token=access, interactive=True) as client:
            service = client.service
            person = connector.whoami(client, config)
    except HttpError as error:
        if not connector.refusal_message:
            raise ConnectError(f"{error} Nothing was connected.") from None
        raise ConnectError(connector.refusal_message.format(error=error)) from None
    except NetworkError as error:
        raise ConnectError(f"{error} Nothing was connected.") from None
    except (KeyError, TypeError):
        raise ConnectError(
            f"{service} answered with something that is not {connector.profile_word}."
        ) from None
    return Account(
        connector.key,
        Origin.LIVE,
        person,
        access_token=access,
        instance_url=instance_url,
        refresh_token=token.get("refresh_token") or None,
        expires_at=_expires_at(token.get("expires_at")),
        options=connector.stored_options(config, options) if connector.connect_options else {},
    )


def _expires_at(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    return None


def _finish_authlib(
    connector: Connector, args: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, Any], str | None]:
    label = connector.label
    data = FlaskIntegration(connector.key).get_state_data(session, args.get("state"))
    if not isinstance(data, dict):
        data = {}
    instance_url = data.get("instance_url")
    options = dict(data.get("options") or {})
    if connector.door == Door.INSTANCE:
        app = None
        if instance_url:
            app = db.session.scalar(
                select(MastodonApp).where(MastodonApp.instance_url == instance_url)
            )
        if app is None:
            log.info("connect: %s callback with an unknown state", connector.key)
            raise ConnectError(oauth_failure(MismatchingStateError(), label))
        client = instance_client(connector, app)
    else:
        client = config_client(connector)
    try:
        token = client.authorize_access_token()
    except OAuthError as error:
        if isinstance(error.error, dict):  # a Graph API error object, not an OAuth code
            error.description = str(error.error.get("message") or error.description or "")
            error.error = "graph_error"
        error.error = _denied(str(error.error))
        log.info("connect: %s sign-in failed: %s", connector.key, error.error)
        remote_text = connector.door != Door.INSTANCE
        raise ConnectError(oauth_failure(error, label, remote_text)) from None
    except (requests.RequestException, ValueError) as error:
        log.info("connect: %s sign-in failed: %s", connector.key, type(error).__name__)
        raise ConnectError(oauth_failure(error, label)) from None
    if not isinstance(token, dict) or not token.get("access_token"):
        raise ConnectError(
            f"{label} sent no access token. Nothing was connected; please try again."
        )
    return token, options, instance_url


def _finish_own(
    connector: Connector, args: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, Any], str | None]:
    """The plain PKCE client's callback. The pending sign-in is taken out of the session
    first, so a callback works once; a verifier that does not match is refused by the
    provider."""
    spec = connector.oauth
    assert spec is not None
    label = connector.name
    pending = session.pop(session_key(connector), None)
    state = args.get("state") or ""
    if (
        not isinstance(pending, dict)
        or not state
        or not secrets.compare_digest(str(pending.get("state", "")), state)
    ):
        log.info("connect: %s callback with an unknown state", connector.key)
        raise ConnectError(oauth_failure(MismatchingStateError(), label))
    error = args.get("error")
    if error:
        log.info("connect: %s sign-in refused: %s", connector.key, error)
        failure = OAuthError(error=_denied(error), description=args.get("error_description"))
        raise ConnectError(oauth_failure(failure, label))
    code = args.get("code")
    if not code:
        raise ConnectError(
            f"{label} sent no sign-in code. Nothing was connected; please try again."
        )
    config = current_app.config
    try:
        tokens = oauth_pkce.exchange_code(
            config[f"{spec.prefix}_TOKEN_URL"],
            code=code,
            verifier=str(pending["verifier"]),
            redirect_uri=callback_url(connector),
            client_id=config[f"{spec.prefix}_CLIENT_ID"],
            client_secret=config.get(f"{spec.prefix}_CLIENT_SECRET") or None,
            timeout=http_settings(config).timeout,
        )
    except NetworkError as failure:  # AuthExpired (invalid_grant) included
        log.info("connect: %s refused the code exchange: %s", connector.key, failure)
        raise ConnectError(
            f"{label} refused the sign-in. {failure} Nothing was connected."
        ) from None
    token = {
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
        "expires_at": tokens.expires_at,
    }
    return token, dict(pending.get("options") or {}), None
