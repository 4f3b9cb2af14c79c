"""Keeping a connection's sign-in usable while a sync runs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from flask import current_app

from app.extensions import db
from app.models import Connection
from app.networks import oauth_pkce
from app.networks.base import AuthExpired, Connector
from app.networks.http import http_settings

log = logging.getLogger(__name__)


def now() -> datetime:
    """The current time (a seam for tests that need a token to run out mid-sync)."""
    return datetime.now(UTC)


class TokenKeeper:
    """The connection's access token, refreshed when it has run out (or is about to).

    Providers that rotate refresh tokens (X) stop accepting the old one the moment a new
    one is issued, so the new pair is committed before the sync goes on: a later failure
    rolls the session back, and a lost refresh token would force the user to sign in again.
    """

    def __init__(
        self,
        connection: Connection,
        connector: Connector,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.connection = connection
        self.connector = connector
        self.clock = clock or now

    def current(self) -> str:
        """A usable access token.

        :raises AuthExpired: there is none, it has run out and cannot be renewed, or the
            refresh was refused (revoked app, refresh token already used or expired).
        :raises NetworkError: the token endpoint could not be reached.
        """
        connection, connector = self.connection, self.connector
        if not connection.access_token:
            raise AuthExpired(
                f"The saved {connector.name} sign-in can no longer be used; please reconnect."
            )
        tokens = oauth_pkce.TokenSet(
            connection.access_token, connection.refresh_token, connection.token_expires_at
        )
        if not tokens.expired(self.clock()):
            return tokens.access_token
        if not connector.refreshable or not tokens.refresh_token:
            log.info("connection %s: the %s sign-in has run out", connection.id, connector.key)
            raise AuthExpired(
                connector.expired_message
                or f"The {connector.name} sign-in has run out; please reconnect. "
                "Your data stays on the page."
            )
        return self._refresh(tokens.refresh_token)

    def force_refresh(self) -> str:
        """Refresh now, whatever the expiry says (the network refused the token early).

        :raises AuthExpired: there is no refresh token, or the refresh was refused.
        """
        connection, connector = self.connection, self.connector
        if not connector.refreshable or not connection.refresh_token:
            raise AuthExpired(
                f"{connector.name} refused the saved sign-in; please reconnect. "
                "Your data stays on the page."
            )
        return self._refresh(connection.refresh_token)

    def _refresh(self, refresh_token: str) -> str:
        connection, connector = self.connection, self.connector
        assert connector.oauth is not None
        config = current_app.config
        prefix = connector.oauth.prefix
        try:
            fresh = oauth_pkce.refresh(
                config[f"{prefix}_TOKEN_URL"],
                refresh_token,
                config[f"{prefix}_CLIENT_ID"],
                config.get(f"{prefix}_CLIENT_SECRET") or None,
                timeout=http_settings(config).timeout,
            )
        except AuthExpired as error:
            log.warning("connection %s: %s refused the token refresh", connection.id, connector.key)
            raise AuthExpired(
                f"{connector.name} would not renew the saved sign-in ({error}). Reconnect "
                f"{connector.name} to sync again; your data stays on the page."
            ) from None
        connection.access_token = fresh.access_token
        connection.refresh_token = fresh.refresh_token
        connection.token_expires_at = fresh.expires_at
        db.session.commit()
        log.info("refreshed the %s token of connection %s", connector.key, connection.id)
        return fresh.access_token
