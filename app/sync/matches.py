"""Keeps each user's cross-network matches up to date (run after every sync and disconnect).

The matching itself is :mod:`app.analysis.matching`; this module stores its result as the
user's :class:`~app.models.CrossCheck`, and does so without re-reading every network's
people after every sync:

* each connection's **match keys** (a 64-bit hash of every profile address, link, handle
  and name :func:`~app.analysis.matching.find_matches` compares, with the rank of the
  person's row) are computed once per snapshot, from that snapshot's rows, and kept as a
  :class:`~app.models.MatchKeys` row: a sync re-reads only its own connection's people;
* only keys found on two networks or more can match anyone, so only the people holding
  one are read back (by rank) and matched. They are all the people of any key that can
  join two networks, so the matches are exactly those of matching everyone; a hash
  collision only adds a candidate, which the real keys then tell apart.
"""

from __future__ import annotations

import io
import json
import zlib
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
from sqlalchemy import String, cast, func, select

from app.analysis.matching import (
    HANDLE,
    LINK,
    NAME,
    PROFILE,
    Member,
    combinations_of,
    find_matches,
    member_keys,
    summarise,
)
from app.extensions import db
from app.models import Connection, CrossCheck, MatchKeys, Person, utcnow
from app.networks import CONNECTORS

#: Person ids read back per query.
CHUNK = 900
_COLUMNS = (
    Person.external_id,
    Person.handle,
    Person.name,
    Person.url,
    cast(Person.links, String),
    Person.is_follower,
    Person.is_friend,
)


def key_hash(kind: int, key: str) -> int:
    """A stable 64-bit hash of ``key`` (links and profiles share one space)."""
    space = "p" if kind in (PROFILE, LINK) else str(kind)
    data = f"{space}:{key}".encode()
    return zlib.crc32(data) << 32 | zlib.adler32(data)


def _member(network: str, row: Any) -> Member:
    links = row[4]
    return Member(
        network,
        row[0],
        row[1],
        row[2],
        row[3],
        tuple(json.loads(links)) if links and links != "[]" else (),
        bool(row[5]),
        bool(row[6]),
    )


def pack(hashes: np.ndarray, kinds: np.ndarray, ranks: np.ndarray) -> bytes:
    """The three arrays of a connection's keys as one stored value."""
    out = io.BytesIO()
    np.savez(out, hashes=hashes, kinds=kinds, ranks=ranks)
    return out.getvalue()


def unpack(blob: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`pack`'s arrays back."""
    with np.load(io.BytesIO(blob)) as arrays:
        return arrays["hashes"], arrays["kinds"], arrays["ranks"]


def keys_of(members: Iterable[Member]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(hashes, kinds, ranks)`` of every key of ``members`` (rank: place in the order)."""
    hashes: list[int] = []
    kinds: list[int] = []
    ranks: list[int] = []
    for rank, member in enumerate(members):
        for kind, key in member_keys(member):
            hashes.append(key_hash(kind, key))
            kinds.append(kind)
            ranks.append(rank)
    return (
        np.array(hashes, dtype=np.uint64),
        np.array(kinds, dtype=np.uint8),
        np.array(ranks, dtype=np.int64),
    )


def _rows(snapshot_id: int) -> Iterator[Any]:
    query = select(*_COLUMNS).where(Person.snapshot_id == snapshot_id).order_by(Person.id)
    yield from db.session.execute(query.execution_options(yield_per=5000))


def connection_keys(connection: Connection) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The match keys of ``connection``'s current snapshot: kept ones, or computed from its
    rows (once per snapshot) and kept."""
    snapshot_id = connection.current_snapshot_id
    assert snapshot_id is not None
    stored = db.session.get(MatchKeys, connection.id)
    if stored is not None and stored.snapshot_id == snapshot_id:
        return unpack(stored.keys)
    arrays = keys_of(_member(connection.network, row) for row in _rows(snapshot_id))
    stored = stored or MatchKeys(connection_id=connection.id)
    stored.snapshot_id = snapshot_id
    stored.keys = pack(*arrays)
    db.session.add(stored)
    db.session.flush()
    return arrays


def _shared(keys: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]) -> dict[int, np.ndarray]:
    """Per connection, the ranks of its people holding a key some other connection has."""
    by_kind: dict[int, dict[int, np.ndarray]] = {
        kind: {cid: np.unique(h[k == kind]) for cid, (h, k, _) in keys.items()}
        for kind in (PROFILE, LINK, HANDLE, NAME)
    }
    wanted = {PROFILE: LINK, LINK: PROFILE, HANDLE: HANDLE, NAME: NAME}
    out: dict[int, np.ndarray] = {}
    for cid, (hashes, kinds, ranks) in keys.items():
        hit = np.zeros(len(hashes), dtype=bool)
        for kind, other_kind in wanted.items():
            others = [found for other, found in by_kind[other_kind].items() if other != cid]
            if not others:
                continue
            mine = kinds == kind
            hit[mine] |= np.isin(hashes[mine], np.concatenate(others))
        out[cid] = np.unique(ranks[hit])
    return out


def _candidates(connection: Connection, ranks: np.ndarray) -> list[Member]:
    """The people of ``connection``'s current snapshot at ``ranks`` (by row id)."""
    if not len(ranks):
        return []
    snapshot_id = connection.current_snapshot_id
    low, high, count = db.session.execute(
        select(func.min(Person.id), func.max(Person.id), func.count()).where(
            Person.snapshot_id == snapshot_id
        )
    ).one()
    if high - low + 1 == count:  # one uninterrupted insert: rank n is id low + n
        ids = (ranks + low).tolist()
    else:
        every = db.session.scalars(
            select(Person.id).where(Person.snapshot_id == snapshot_id).order_by(Person.id)
        ).all()
        ids = [every[rank] for rank in ranks.tolist()]
    members: list[Member] = []
    for start in range(0, len(ids), CHUNK):
        query = select(*_COLUMNS).where(Person.id.in_(ids[start : start + CHUNK]))
        members.extend(_member(connection.network, row) for row in db.session.execute(query))
    return members


def refresh_matches(user_id: int) -> CrossCheck:
    """Recompute and store the cross-network matches of ``user_id`` from current snapshots,
    reading only the people who can match (see the module)."""
    connections = db.session.scalars(
        select(Connection).where(
            Connection.user_id == user_id, Connection.current_snapshot_id.is_not(None)
        )
    ).all()
    results: dict[str, Any] = {}
    if len({connection.network for connection in connections}) >= 2:
        keys = {connection.id: connection_keys(connection) for connection in connections}
        shared = _shared(keys)
        people: dict[str, list[Member]] = {}
        for connection in connections:
            people.setdefault(connection.network, []).extend(
                _candidates(connection, shared[connection.id])
            )
        matches = find_matches(people)
        labels = {key: info.label for key, info in CONNECTORS.items()}
        results = summarise(matches, labels) | {"combinations": combinations_of(matches)}
    results["networks"] = sorted({connection.network for connection in connections})
    check = db.session.get(CrossCheck, user_id) or CrossCheck(user_id=user_id)
    check.results = results
    check.computed_at = utcnow()
    db.session.add(check)
    db.session.commit()
    return check
