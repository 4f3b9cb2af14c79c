"""Attaching a network account to a user, once the user proved it (OAuth) or named it."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import Connection, ConnectionStatus, User
from app.networks import CONNECTORS
from app.networks.base import Origin, Person

log = logging.getLogger(__name__)


class ConnectError(Exception):
    """Connecting an account did not work; the message is shown to the user as it is."""


@dataclass
class Account:
    """The network account a user just proved (OAuth) or named (public handle), with what
    the sign-in granted and the choices made on the connect page."""

    network: str
    source: str
    person: Person
    access_token: str | None = None
    instance_url: str | None = None
    refresh_token: str | None = None
    expires_at: datetime | None = None
    options: dict[str, Any] = field(default_factory=dict)


def attach(user: User, account: Account) -> Connection:
    """Create or refresh ``user``'s connection for ``account`` and mark it usable.

    A user has one connection per network. Signing in again with the same account (a
    reconnect) replaces the token and keeps the stored data; the new sync replaces it only
    when it finishes.

    :raises ConnectError: the user's connection to this network is a different account or
        a different kind of source (an import, the demo): it has to be disconnected first.
    """
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
        _check_same(connection, account)
        # An imported archive of the same account becomes a live connection; its data stays
        # and is merged with what the live reads give (the archive's complete lists are kept
        # until a complete live read replaces them).
        connection.source = account.source
    connection.external_id = person.external_id
    connection.handle = person.handle
    connection.display_name = person.name
    connection.profile_url = person.url
    connection.avatar_url = person.avatar_url
    connection.instance_url = account.instance_url
    if account.access_token is not None:
        connection.access_token = account.access_token
        connection.refresh_token = account.refresh_token
        connection.token_expires_at = account.expires_at
    if account.options:
        connection.options = {**(connection.options or {}), **account.options}
    connection.status = ConnectionStatus.OK
    db.session.commit()
    log.info("user %s connected %s account %s", user.id, account.network, person.external_id)
    return connection


def _archive_of(connection: Connection, account: Account) -> bool:
    """Whether ``connection`` holds an imported archive of the account now signed in to."""
    if connection.source != Origin.IMPORT or account.source not in (Origin.LIVE, Origin.PUBLIC):
        return False
    person = account.person
    same_handle = (connection.handle or "").lower() == person.handle.lower()
    if connection.external_id is None:  # no import has finished: nothing of anyone's yet
        return not connection.handle or same_handle
    return connection.external_id == person.external_id or same_handle


def _check_same(connection: Connection, account: Account) -> None:
    same = (
        connection.source == account.source
        and connection.external_id in (None, account.person.external_id)
        and connection.instance_url == account.instance_url
    )
    if same or _archive_of(connection, account):
        return
    kinds = {Origin.IMPORT: "an imported archive", Origin.DEMO: "demo data"}
    shown = f"@{connection.handle}" if connection.handle else ""
    if connection.source != account.source:
        kind = kinds.get(Origin(connection.source), "another account")
        shown = f"{shown} ({kind})" if shown else kind
    shown = shown or "another account"
    label = CONNECTORS[account.network].label
    raise ConnectError(
        f"Your {label} page already holds {shown}. Disconnect it first (this deletes "
        f"its data), then connect @{account.person.handle}."
    )
