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

from collections.abc import Iterator, MutableSequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

import numpy as np

from app.networks.base import AccountData, Edges, as_edges
from app.networks.base import Follow as FollowRecord
from app.networks.base import Person as PersonRecord
from app.networks.ids import IdList, Ids, IdSet

#: Rows made from the arrays at a time (:meth:`Circle.person_rows`, :meth:`Circle.follow_rows`):
#: 20,000 people's records are about 8 MB.
ROWS = 20_000


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
        """Number ``data``'s ids and count its overlaps (``data.follows`` becomes
        :class:`~app.networks.base.Edges` if it was a set). Lists and sets already numbered
        in the edges' table are read as numbers; others are numbered in batches."""
        edges = as_edges(data.follows)
        data.follows = edges
        ids = edges.names
        owner = ids.intern(data.owner.external_id)

        def numbers(listed: MutableSequence[str] | None) -> np.ndarray:
            if listed is None:
                return np.empty(0, dtype=np.int64)
            if isinstance(listed, IdList) and listed.ids is ids:
                found = listed.numbers()
            else:
                found = ids.intern_many(listed)
            found = _unique_in_order(found) if len(found) else found
            return found[found != owner]

        followers, friends = numbers(data.followers), numbers(data.friends)
        read = data.lists_fetched
        if not (isinstance(read, IdSet) and read.ids is ids):
            read = IdSet(ids, read)
        fetched = read.flags()  # the last to number new ids: all are numbered now
        size = len(ids)
        is_follower = np.zeros(size, dtype=bool)
        is_follower[followers] = True
        is_friend = np.zeros(size, dtype=bool)
        is_friend[friends] = True
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
        for numbers, batch in self._people():
            for n, (_, person) in zip(numbers.tolist(), batch, strict=True):
                if n >= 0 and person.followers_count is not None:
                    counts[n] = person.followers_count
        return counts

    def _people(self) -> Iterator[tuple[np.ndarray, list[tuple[str, PersonRecord]]]]:
        """The records, :data:`ROWS` at a time, with their numbers (``-1``: an id no list or
        edge names), looked up together."""
        records = iter(self.data.people.items())
        while batch := list(islice(records, ROWS)):
            yield self.edges.names.intern_many([pid for pid, _ in batch], add=False), batch

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
                map(FollowRecord, names.names_of(sources[among]), names.names_of(targets[among]))
            )
        ids = names.names_of(np.flatnonzero(keep))
        return AccountData(
            owner=data.owner,
            people={pid: person for pid in ids if (person := data.people.get(pid)) is not None},
            followers=None if data.followers is None else names.names_of(followers),
            friends=None if data.friends is None else names.names_of(friends),
            follows=follows,
            lists_fetched=set(names.names_of(np.flatnonzero(keep & self.fetched))),
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
        in_followers = graphs["followers"]["people"]
        in_friends = graphs["friends"]["people"]
        listed = self.is_follower | self.is_friend
        written = np.zeros(len(names), dtype=bool)

        def rows(
            at: np.ndarray, batch: list[tuple[str, PersonRecord | None]]
        ) -> Iterator[tuple[Any, ...]]:
            columns = zip(
                self.is_follower[at].tolist(),
                self.is_friend[at].tolist(),
                self.fetched[at].tolist(),
                self.follows_followers[at].tolist(),
                self.follows_friends[at].tolist(),
                batch,
                strict=True,
            )
            for follower, friend, known, of_followers, of_friends, (pid, person) in columns:
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

        for numbers, batch in self._people():
            wanted = numbers >= 0
            wanted[wanted] = listed[numbers[wanted]]
            at = numbers[wanted]
            written[at] = True
            yield from rows(
                at, [record for record, keep in zip(batch, wanted.tolist(), strict=True) if keep]
            )
        unwritten = np.concatenate([self.followers, self.friends])
        unwritten = _unique_in_order(unwritten[~written[unwritten]])  # usually none
        for start in range(0, len(unwritten), ROWS):
            at = unwritten[start : start + ROWS]
            yield from rows(at, [(pid, None) for pid in names.names_of(at)])

    def follow_rows(self, snapshot_id: int) -> Iterator[tuple[Any, ...]]:
        """Every known follow among the owner and their followers and friends, the owner's
        own follows included, as ``(snapshot_id, source, target)``, in key order (source's
        number, then target's).

        The follows the records hold are read from the sorted edge keys :data:`ROWS` at a
        time. The owner's follows that the lists imply (one per follower and friend: two
        sorted arrays, "X follows me" and "I follow X") are merged into the part whose range
        they fall in, where a follow that both name is kept once; those past the last edge
        follow, in order. No array of every row is made.
        """
        owner = np.uint64(self.owner)
        known = self.is_follower | self.is_friend
        known[self.owner] = True
        implied = [_owner_keys(self.followers, owner, to_owner=True)]
        implied.append(_owner_keys(self.friends, owner, to_owner=False))
        taken = [0, 0]  # implied follows written so far, of each array
        names = self.edges.names
        keys = self.edges.keys()
        for start in range(0, len(keys), ROWS):
            part = keys[start : start + ROWS]
            sources, targets = _split(part)
            found = [part[known[sources] & known[targets] & (sources != targets)]]
            # The implied follows up to this part's last key.
            for which, listed in enumerate(implied):
                upto = int(np.searchsorted(listed, part[-1], side="right"))
                found.append(listed[taken[which] : upto])
                taken[which] = upto
            yield from _follows(snapshot_id, np.unique(np.concatenate(found)), names)
        # Past the last edge: "X follows me" for X numbered below me, "I follow X", then
        # "X follows me" for the others (the two arrays share no key).
        to_owner, from_owner = (listed[done:] for listed, done in zip(implied, taken, strict=True))
        below = int(np.searchsorted(to_owner, owner << _SHIFT))
        for rest in (to_owner[:below], from_owner, to_owner[below:]):
            yield from _follows(snapshot_id, rest, names)


def _owner_keys(numbers: np.ndarray, owner: np.uint64, to_owner: bool) -> np.ndarray:
    """The sorted keys of "each of ``numbers`` follows the owner" (``to_owner``) or "the
    owner follows each", made in place on one array (``numbers`` hold no repeats)."""
    keys = numbers.astype(np.uint64)
    keys.sort()
    if to_owner:
        keys <<= _SHIFT
        keys |= owner
    else:
        keys |= owner << _SHIFT
    return keys


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


def _follows(snapshot_id: int, keys: np.ndarray, names: Ids) -> Iterator[tuple[int, str, str]]:
    """Follow rows of edge ``keys``, their ids decoded :data:`ROWS` at a time (the owner's
    own follows come as one part as big as their lists)."""
    for start in range(0, len(keys), ROWS):
        part = keys[start : start + ROWS]
        sources, targets = names.names_of(part >> _SHIFT), names.names_of(part & _LOW)
        for source, target in zip(sources, targets, strict=True):
            yield (snapshot_id, source, target)
