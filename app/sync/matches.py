"""Keeps each user's cross-network matches up to date (run after every sync and disconnect).

The matching itself is :mod:`app.analysis.matching`; this module reads the current snapshots
and stores its result as the user's :class:`~app.models.CrossCheck`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.analysis.matching import Member, combinations_of, find_matches, summarise
from app.extensions import db
from app.models import Connection, CrossCheck, Person, utcnow
from app.networks import CONNECTORS


def refresh_matches(user_id: int) -> CrossCheck:
    """Recompute and store the cross-network matches of ``user_id`` from current snapshots."""
    people: dict[str, list[Member]] = {}
    connections = db.session.scalars(
        select(Connection).where(
            Connection.user_id == user_id, Connection.current_snapshot_id.is_not(None)
        )
    )
    for connection in connections:
        rows = db.session.execute(
            select(
                Person.external_id,
                Person.handle,
                Person.name,
                Person.url,
                Person.links,
                Person.is_follower,
                Person.is_friend,
            ).where(Person.snapshot_id == connection.current_snapshot_id)
        )
        people[connection.network] = [
            Member(
                connection.network,
                row.external_id,
                row.handle,
                row.name,
                row.url,
                tuple(row.links or ()),
                row.is_follower,
                row.is_friend,
            )
            for row in rows
        ]
    labels = {key: info.label for key, info in CONNECTORS.items()}
    matches = find_matches(people) if len(people) >= 2 else []
    results: dict[str, Any] = {}
    if len(people) >= 2:
        results = summarise(matches, labels) | {"combinations": combinations_of(matches)}
    results["networks"] = sorted(people)
    check = db.session.get(CrossCheck, user_id) or CrossCheck(user_id=user_id)
    check.results = results
    check.computed_at = utcnow()
    db.session.add(check)
    db.session.commit()
    return check
