"""Rendered page fragments kept in Redis, when ``REDIS_URL`` is set.

A fragment (a tab of the network page, a page of a list) is rendered from one stored
snapshot, which never changes once stored: a new sync makes a new snapshot. So a fragment is
keyed by the user, the snapshot (its id and the moment it was stored, so a database rebuilt
under the same Redis cannot serve an old one) and whatever else it shows (sort, position,
time zone), and a new snapshot simply misses; old keys expire after :data:`TTL`. A key
always names the user, so one user's fragment is never served to another.

Without Redis (or with ``FRAGMENT_CACHE`` off, the default under tests) fragments are
rendered each time. Redis errors never fail a page: the fragment is rendered instead.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

import redis
from flask import current_app
from markupsafe import Markup

from app.models import Snapshot

log = logging.getLogger(__name__)

#: Key prefix (bump the version when a fragment's markup changes), and seconds kept.
PREFIX, TTL = "md:fragment:v1", 24 * 3600
#: Seconds to wait for Redis before rendering without it.
TIMEOUT = 0.25
_clients: dict[str, redis.Redis] = {}


def client() -> redis.Redis | None:
    """The Redis client of the fragment cache, or ``None`` when it is off."""
    config = current_app.config
    url = config.get("REDIS_URL")
    if not url or not config.get("FRAGMENT_CACHE", not current_app.testing):
        return None
    if url not in _clients:
        _clients[url] = redis.Redis.from_url(
            url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT
        )
    return _clients[url]


def key(user_id: int, snapshot: Snapshot, name: str, parts: Mapping[str, Any]) -> str:
    """The key of one fragment of ``user_id``'s ``snapshot``."""
    stamp = snapshot.created_at.isoformat() if snapshot.created_at else ""
    digest = hashlib.sha256(json.dumps([stamp, parts], sort_keys=True).encode()).hexdigest()
    return f"{PREFIX}:{user_id}:{snapshot.id}:{name}:{digest[:32]}"


def fragment(
    user_id: int,
    snapshot: Snapshot,
    name: str,
    parts: Mapping[str, Any],
    render: Callable[[], str],
) -> Markup:
    """The fragment ``name`` of ``snapshot`` as ``parts`` ask for it: from Redis, or made
    by ``render`` (and kept)."""
    store = client()
    if store is None:
        return Markup(render())  # noqa: S704 - rendered by Jinja with autoescape
    where = key(user_id, snapshot, name, parts)
    try:
        found = store.get(where)
    except redis.RedisError as error:
        log.warning("fragment cache unavailable: %s", error)
        return Markup(render())  # noqa: S704 - rendered by Jinja with autoescape
    if isinstance(found, bytes):
        return Markup(found.decode())  # noqa: S704 - stored from a Jinja render
    html = render()
    try:
        store.set(where, html.encode(), ex=TTL)
    except redis.RedisError as error:
        log.warning("fragment cache unavailable: %s", error)
    return Markup(html)  # noqa: S704 - rendered by Jinja with autoescape
