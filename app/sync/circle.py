"""An account's followers, friends and edges as integer arrays, for counting and writing.

A million followers and five million edges as Python objects take gigabytes; as integers
(:class:`~app.networks.base.Edges` interns every id once) they take tens of megabytes. This
module counts the per-person overlaps over those arrays, picks the people the graphs draw
(at most ``max_people`` per list: only they and their edges reach the graph analysis, as
plain records), and yields the rows of the people and follows tables one at a time, so the
same code stores a thousand followers or a million in memory bounded by the arrays. The
edges are read from the edges' own sorted keys a chunk at a time (:data:`CHUNK`): no array
of every source or target is ever made.

The numbers are those :func:`app.analysis.graph.analyse_graphs` defines: for a follower X,
``my_followers_they_follow`` is ``|following(X) & followers(me)|``; for a friend F,
``common_friends`` is ``|following(me) & following(F)|``; both ``None`` unless X's / F's
own following list was read (``lists_fetched``). Follows from or to the owner and a
person following themselves are left out of the counts.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app.networks.base import AccountData, Edges, as_edges
from app.networks.base import Follow as FollowRecord
from app.networks.base import Person as PersonRecord

#: Rows made from the arrays at a time (:meth:`Circle.person_rows`, :meth:`Circle.follow_rows`).
ROWS = 50_000


def _unique_in_order(numbers: np.ndarray) -> np.ndarray:
    """``numbers`` without repeats, each kept at its first place."""
    _, first = np.unique(numbers, return_index=True)
    return numbers[np.sort(first)]


@dataclass
class Circle:
    """One account's people and edges by integer (see the module)."""

    data: AccountData
    edges: Edges
    owner: int
    #: Interned numbers of the followers / friends, without repeats or the owner, in order.
    followers: np.ndarray
    friends: np.ndarray
    is_follower: np.ndarray
    is_friend: np.ndarray
    fetched: np.ndarray
    #: Per number: how many of the followers / friends this person follows.
    follows_followers: np.ndarray
    follows_friends: np.ndarray
    _follower_counts: np.ndarray | None = field(default=None, repr=False)

    @classmethod
    def of(cls, data: AccountData) -> Circle:
        """Intern ``data``'s ids and count its overlaps (``data.follows`` becomes
        :class:`~app.networks.base.Edges` if it was a set)."""
        edges = as_edges(data.follows)
        data.follows = edges
        owner = edges.intern(data.owner.external_id)
        intern = edges.intern

        def numbers(ids: list[str] | None) -> np.ndarray:
            found = np.fromiter((intern(pid) for pid in ids or ()), dtype=np.int64)
            found = _unique_in_order(found) if len(found) else found
            return found[found != owner]

        followers, friends = numbers(data.followers), numbers(data.friends)
        fetched_numbers = np.fromiter((intern(pid) for pid in data.lists_fetched), dtype=np.int64)
        size = len(edges.names)
        is_follower = np.zeros(size, dtype=bool)
        is_follower[followers] = True
        is_friend = np.zeros(size, dtype=bool)
        is_friend[friends] = True
        fetched = np.zeros(size, dtype=bool)
        fetched[fetched_numbers] = True
        follows_followers = np.zeros(size, dtype=np.int64)
        follows_friends = np.zeros(size, dtype=np.int64)
        for sources, targets in _pairs(edges.keys()):
            among = (sources != owner) & (targets != owner) & (sources != targets)
            sources, targets = sources[among], targets[among]
            follows_followers += np.bincount(sources[is_follower[targets]], minlength=size)
            follows_friends += np.bincount(sources[is_friend[targets]], minlength=size)
        return cls(
            data=data,
            edges=edges,
            owner=owner,
            followers=followers,
            friends=friends,
            is_follower=is_follower,
            is_friend=is_friend,
            fetched=fetched,
            follows_followers=follows_followers,
            follows_friends=follows_friends,
        )

    # -- counts ------------------------------------------------------------------------------

    @property
    def mutuals(self) -> int | None:
        """People who follow the owner and whom the owner follows."""
        if self.data.followers is None or self.data.friends is None:
            return None
        return int(np.count_nonzero(self.is_follower & self.is_friend))

    def section_counts(self, section: str) -> dict[str, Any]:
        """``total`` and ``fetched`` (lists read) of ``followers`` or ``friends``."""
        listed = self.followers if section == "followers" else self.friends
        if getattr(self.data, section) is None:
            return {"total": None, "fetched": 0}
        return {"total": len(listed), "fetched": int(np.count_nonzero(self.fetched[listed]))}

    # -- the people the graphs draw -----------------------------------------------------------

    def chosen(self, section: str, cap: int) -> np.ndarray:
        """At most ``cap`` of ``section``'s people: those whose list was read first, then by
        overlap, then by their own follower count (ties in list order)."""
        listed = self.followers if section == "followers" else self.friends
        if len(listed) <= cap:
            return listed
        overlap = (self.follows_followers if section == "followers" else self.follows_friends)[
            listed
        ]
        counts = self.follower_counts()[listed]
        unread = ~self.fetched[listed]
        order = np.lexsort((np.arange(len(listed)), -counts, -np.where(unread, 0, overlap), unread))
        return listed[order[:cap]]

    def follower_counts(self) -> np.ndarray:
        """Per number, the person's own follower count (``-1`` where unknown), in one pass
        over the records, made once (both lists' choices read it)."""
        if self._follower_counts is None:
            self._follower_counts = self._read_follower_counts()
        return self._follower_counts

    def _read_follower_counts(self) -> np.ndarray:
        counts = np.full(len(self.edges.names), -1, dtype=np.int64)
        number = self.edges.number
        for pid, person in self.data.people.items():
            n = number(pid)
            if n is not None and person.followers_count is not None:
                counts[n] = person.followers_count
        return counts

    def for_graphs(self, cap: int) -> AccountData:
        """The records of the people the graphs draw (at most ``cap`` per list) and the
        edges among them: all :func:`~app.analysis.graph.analyse_graphs` reads."""
        data, names = self.data, self.edges.names
        followers = self.chosen("followers", cap)
        friends = self.chosen("friends", cap)
        keep = np.zeros(len(names), dtype=bool)
        keep[followers] = True
        keep[friends] = True
        follows: set[FollowRecord] = set()
        for sources, targets in _pairs(self.edges.keys()):
            among = keep[sources] & keep[targets] & (sources != targets)
            follows.update(
                FollowRecord(names[s], names[t])
                for s, t in zip(sources[among].tolist(), targets[among].tolist(), strict=True)
            )
        ids = [names[n] for n in np.flatnonzero(keep).tolist()]
        return AccountData(
            owner=data.owner,
            people={pid: person for pid in ids if (person := data.people.get(pid)) is not None},
            followers=None if data.followers is None else [names[n] for n in followers.tolist()],
            friends=None if data.friends is None else [names[n] for n in friends.tolist()],
            follows=follows,
            lists_fetched={names[n] for n in np.flatnonzero(keep & self.fetched).tolist()},
        )

    # -- rows -------------------------------------------------------------------------------

    def person_rows(self, snapshot_id: int, graphs: dict[str, Any]) -> Iterator[tuple[Any, ...]]:
        """One row per follower or friend, in the order of
        :data:`app.sync.service.PERSON_COLUMNS`.

        The people come in the records' order (a spool reads in its own), then those listed
        without a record; their numbers are read from the arrays :data:`ROWS` at a time, so
        no array is turned whole into a Python list.
        """
        names = self.edges.names
        number = self.edges.number
        in_followers = graphs["followers"]["people"]
        in_friends = graphs["friends"]["people"]
        listed = (self.is_follower | self.is_friend).tobytes()  # one byte per number
        written = bytearray(len(names))

        def rows(batch: list[tuple[int, str, PersonRecord | None]]) -> Iterator[tuple[Any, ...]]:
            at = np.fromiter((n for n, _, _ in batch), dtype=np.int64, count=len(batch))
            columns = zip(
                self.is_follower[at].tolist(),
                self.is_friend[at].tolist(),
                self.fetched[at].tolist(),
                self.follows_followers[at].tolist(),
                self.follows_friends[at].tolist(),
                batch,
                strict=True,
            )
            for follower, friend, known, of_followers, of_friends, (_, pid, person) in columns:
                as_follower = in_followers.get(pid) or {} if follower else {}
                as_friend = in_friends.get(pid) or {} if friend else {}
                yield (
                    snapshot_id,
                    pid,
                    person.handle if person else pid,
                    person.name if person else None,
                    person.url if person else None,
                    person.avatar_url if person else None,
                    person.followers_count if person else None,
                    person.following_count if person else None,
                    person.posts_count if person else None,
                    follower,
                    friend,
                    known,
                    of_followers if follower and known else None,
                    of_friends if friend and known else None,
                    as_follower.get("community"),
                    as_friend.get("community"),
                    as_follower.get("pagerank") if follower else as_friend.get("pagerank"),
                    person.links if person else (),
                )

        batch: list[tuple[int, str, PersonRecord | None]] = []
        for pid, person in self.data.people.items():
            n = number(pid)
            if n is not None and listed[n] and not written[n]:
                written[n] = 1
                batch.append((n, pid, person))
                if len(batch) == ROWS:
                    yield from rows(batch)
                    batch = []
        yield from rows(batch)
        done = np.frombuffer(written, dtype=bool)
        unwritten = np.concatenate([self.followers, self.friends])
        unwritten = _unique_in_order(unwritten[~done[unwritten]])  # usually none
        for start in range(0, len(unwritten), ROWS):
            chunk = unwritten[start : start + ROWS].tolist()
            yield from rows([(n, names[n], None) for n in chunk])

    def follow_rows(self, snapshot_id: int) -> Iterator[tuple[Any, ...]]:
        """Every known follow among the owner and their followers and friends, the owner's
        own follows included, as ``(snapshot_id, source, target)``, in key order (source's
        number, then target's).

        The follows the records hold are read from the sorted edge keys :data:`ROWS` at a
        time; the owner's follows that the lists imply (one per follower and friend) are
        sorted apart and merged into the part whose range they fall in, where a follow that
        both name is kept once. No temporary array of every row is made.
        """
        owner = np.uint64(self.owner)
        known = self.is_follower | self.is_friend
        known[self.owner] = True
        listed = np.unique(
            np.concatenate(
                [
                    self.followers.astype(np.uint64) << _SHIFT | owner,
                    owner << _SHIFT | self.friends.astype(np.uint64),
                ]
            )
        )
        names = self.edges.names
        keys = self.edges.keys()
        taken = 0  # listed follows written so far
        for start in range(0, len(keys), ROWS):
            part = keys[start : start + ROWS]
            sources, targets = _split(part)
            found = part[known[sources] & known[targets] & (sources != targets)]
            # The listed follows that sort before the next part's first key.
            upto = (
                int(np.searchsorted(listed, keys[start + ROWS]))
                if start + ROWS < len(keys)
                else len(listed)
            )
            if upto > taken:
                found = np.unique(np.concatenate([found, listed[taken:upto]]))
                taken = upto
            yield from _follows(snapshot_id, found, names)
        yield from _follows(snapshot_id, listed[taken:], names)


_SHIFT = np.uint64(32)
_LOW = np.uint64(0xFFFFFFFF)
#: Edges read from the keys at a time when counting (8 MB per array at a time).
CHUNK = 1 << 20


def _pairs(keys: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The source and target numbers of the edge ``keys``, :data:`CHUNK` edges at a time."""
    for start in range(0, len(keys), CHUNK):
        yield _split(keys[start : start + CHUNK])


def _split(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The source and target numbers of edge ``keys``."""
    return (keys >> _SHIFT).astype(np.int64), (keys & _LOW).astype(np.int64)


def _follows(
    snapshot_id: int, keys: np.ndarray, names: list[str]
) -> Iterator[tuple[int, str, str]]:
    """Follow rows of edge ``keys``."""
    for source, target in zip((keys >> _SHIFT).tolist(), (keys & _LOW).tolist(), strict=True):
        yield (snapshot_id, names[source], names[target])
