"""The demo account: one synthetic connection per network, with two snapshots for growth."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select

from app.demo.data import DEMO_NOW, DEMO_PREVIOUS_AGE
from app.extensions import db
from app.models import Connection, SyncRun, SyncStatus, User
from app.networks import CONNECTORS
from app.networks.base import Origin
from app.sync.service import disconnect, run_sync


def create_demo_user(
    username: str = "demo", password: str | None = None, followers: int | None = None
) -> tuple[User, str]:
    """Create or refresh the demo user and its demo connections.

    Existing demo connections of that user are replaced; connections of another source
    (a real network the user connected) are left alone.

    :returns: the user and the password that now signs in to it.
    """
    password = password or secrets.token_urlsafe(9)
    user = User.find_by_login(username)
    if user is None:
        user = User(username=username, email=f"{username}@demo.invalid")
        db.session.add(user)
    user.display_name = user.display_name or "Demo user"
    user.set_password(password)
    db.session.commit()

    for network in CONNECTORS:
        existing = db.session.scalar(
            select(Connection).where(Connection.user_id == user.id, Connection.network == network)
        )
        if existing is not None:
            if existing.source != Origin.DEMO:
                continue
            disconnect(existing)
        connection = Connection(user_id=user.id, network=network, source=Origin.DEMO)
        db.session.add(connection)
        db.session.commit()
        for previous in (True, False):
            params: dict[str, Any] = {"followers": followers, "previous": previous}
            if previous:
                params["snapshot_at"] = (DEMO_NOW - DEMO_PREVIOUS_AGE).isoformat()
            else:
                params["snapshot_at"] = DEMO_NOW.isoformat()
            run = SyncRun(connection=connection, kind="demo", params=params)
            db.session.add(run)
            db.session.commit()
            run_sync(run.id)
            if run.status != SyncStatus.DONE:
                raise RuntimeError(f"demo sync of {network} failed: {run.error}")
    return user, password
