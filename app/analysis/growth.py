"""Follower and friend growth between snapshots."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any


def _diff(prev: Collection[str] | None, cur: Collection[str] | None) -> dict[str, Any]:
    if prev is None or cur is None:
        return {"known": False, "gained": None, "lost": None, "net": None}
    before, after = set(prev), set(cur)
    gained = sorted(after - before)
    lost = sorted(before - after)
    return {"known": True, "gained": gained, "lost": lost, "net": len(gained) - len(lost)}


def growth_between(
    prev_followers: Collection[str] | None,
    prev_friends: Collection[str] | None,
    cur_followers: Collection[str] | None,
    cur_friends: Collection[str] | None,
) -> dict[str, Any]:
    """Who arrived and who left between two snapshots.

    :param prev_followers: follower ids in the earlier snapshot, ``None`` when unknown.
    :param prev_friends: friend ids in the earlier snapshot, ``None`` when unknown.
    :param cur_followers: follower ids now, ``None`` when unknown.
    :param cur_friends: friend ids now, ``None`` when unknown.
    :returns: ``{"followers": diff, "friends": diff}`` where ``diff`` is ``{"known": bool,
        "gained": [id, ...] | None, "lost": [id, ...] | None, "net": int | None}``; ids are
        sorted and everything but ``known`` is ``None`` when either side is unknown.
    """
    return {
        "followers": _diff(prev_followers, cur_followers),
        "friends": _diff(prev_friends, cur_friends),
    }


def _count(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError("a count cannot be a bool")
    if isinstance(value, int):
        return value
    return len(value)


def growth_series(snapshots: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Follower and friend counts over time, oldest first.

    :param snapshots: mappings with ``"at"`` (aware ``datetime`` or ISO string) and
        ``"followers"`` / ``"friends"``, each an ``int`` count, a collection of ids, or
        ``None`` (unknown). A missing key is unknown too.
    :returns: ``[{"at": iso string, "followers": int | None, "friends": int | None}]``
        sorted by time.
    """
    rows = []
    for snap in snapshots:
        at = snap["at"]
        when = at if isinstance(at, datetime) else datetime.fromisoformat(at)
        rows.append(
            (
                when,
                {
                    "at": when.isoformat(),
                    "followers": _count(snap.get("followers")),
                    "friends": _count(snap.get("friends")),
                },
            )
        )
    rows.sort(key=lambda row: row[0])
    return [row for _, row in rows]
