"""Follower and friend growth between snapshots."""

from __future__ import annotations

from collections.abc import Collection
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
