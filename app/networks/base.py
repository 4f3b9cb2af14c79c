"""The records every network module produces, and the interface it implements.

A network module (live fetcher or archive importer) turns whatever the network gives into
these plain dataclasses. Nothing here knows about Flask or the database: the sync service
stores an :class:`AccountData` and the analyzers read it back.

A number a network does not publish is ``None``, never ``0``: "unknown" and "nobody" are
different answers and the pages say which one they are showing.
"""

from __future__ import annotations

import enum
import marshal
import sqlite3
import sys
import weakref
from array import array
from collections.abc import (
    Callable,
    Iterable,
    Iterator,
    Mapping,
    MutableMapping,
    MutableSequence,
    MutableSet,
    Sequence,
)
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import numpy as np

from app.networks.ids import FRESH, IdList, Ids, IdSet

if TYPE_CHECKING:
    from app.networks.http import ApiClient


class Origin(enum.StrEnum):
    """Where a connection's data comes from (stored as ``Connection.source``, and the kind of
    each sync run: the producer that makes its records)."""

    LIVE = "live"  #: OAuth-authorised API reads
    PUBLIC = "public"  #: public API reads by handle, no login (Bluesky)
    IMPORT = "import"  #: the data archive the user downloaded from the network
    DEMO = "demo"  #: synthetic data made by ``manage.py demo``


@dataclass(slots=True)
class Person:
    """An account on a network: the connected user, a follower or a friend.

    :param external_id: the network's stable id (GitHub login id, Mastodon account id, DID...).
    :param handle: the handle shown as ``@handle``, without the ``@``.
    :param followers_count: how many accounts follow this person; ``None`` when unpublished.
    :param following_count: how many accounts this person follows; ``None`` when unpublished.
    :param links: URLs and alternate handles found on the profile (used to match the same
        person across networks).
    """

    external_id: str
    handle: str
    name: str | None = None
    url: str | None = None
    followers_count: int | None = None
    following_count: int | None = None
    posts_count: int | None = None
    avatar_url: str | None = None
    bio: str | None = None
    links: tuple[str, ...] = ()


@dataclass(slots=True, frozen=True)
class Follow:
    """``source`` follows ``target``; both are :attr:`Person.external_id` values."""

    source: str
    target: str


@dataclass(slots=True)
class Post:
    """Something the connected account published.

    Response counts are ``None`` where the network does not give them (an archive without
    engagement numbers, say). ``first_response_at`` is known only where the network dates
    the first reply or comment.
    """

    external_id: str
    created_at: datetime  #: timezone-aware, UTC
    text: str
    url: str | None = None
    kind: str = "post"  #: network-specific kind: "post", "reply", "issue", "pull_request"...
    reply_count: int | None = None
    like_count: int | None = None
    repost_count: int | None = None
    in_reply_to: str | None = None
    is_repost: bool = False
    first_response_at: datetime | None = None


class Edges:
    """Follow edges kept compactly: each id interned to a number in an :class:`Ids` table,
    each edge one 64-bit number in an array (8 bytes, where a :class:`Follow` in a set costs
    ~150).

    It behaves as the set of :class:`Follow` it stands for (``add``, ``update``, ``in``,
    ``len``, iteration, ``==``), so a connector fills it as it would a set; the sync reads
    the sorted integer keys (:meth:`keys`) in chunks to count overlaps and write rows
    without making an object per edge. Edges added are interned :data:`~app.networks.ids.FRESH`
    at a time; duplicates are dropped when the edges are read.

    :param ids: the table to number ids in (an :class:`AccountData` shares one between its
        edges, lists and sets); a new one by default.
    """

    __slots__ = ("_keys", "_pending", "_unique", "ids")

    def __init__(self, edges: Iterable[Follow] = (), ids: Ids | None = None) -> None:
        self.ids = Ids() if ids is None else ids
        self._keys = array("Q")
        self._pending: list[str] = []  # source, target, source, target...
        self._unique = True
        self.update(edges)

    def settle(self) -> None:
        """Number the edges added lately, letting go of their strings."""
        self._flush()

    def _flush(self) -> None:
        if self._pending:
            numbers = self.ids.intern_many(self._pending).astype(np.uint64)
            self._pending.clear()
            self._keys.frombytes((numbers[0::2] << _SHIFT | numbers[1::2]).tobytes())
            self._unique = False

    def intern(self, pid: str) -> int:
        """The integer standing for ``pid`` (a new one the first time it is seen)."""
        self._flush()
        return self.ids.intern(pid)

    def number(self, pid: str) -> int | None:
        """The integer of ``pid``, ``None`` when no edge named it."""
        self._flush()
        return self.ids.number(pid)

    @property
    def names(self) -> Ids:
        """The ids by their integer (``names[n]`` is the id interned as ``n``)."""
        self._flush()
        return self.ids

    def add_pair(self, source: str, target: str) -> None:
        """Add ``source`` follows ``target``."""
        self._pending += (source, target)
        if len(self._pending) >= 2 * FRESH:
            self._flush()

    def add(self, edge: Follow) -> None:
        self.add_pair(edge.source, edge.target)

    def update(self, edges: Iterable[Follow]) -> None:
        for edge in edges:
            self.add_pair(edge.source, edge.target)

    def _compact(self) -> None:
        """Sort the edges and drop repeats in place: at five million edges a copy is 40 MB,
        and ``np.unique`` plus a new array took four of them at once."""
        self._flush()
        if self._unique:
            return
        keys = np.frombuffer(self._keys, dtype=np.uint64)  # a view: writes reach the array
        keys.sort()
        if len(keys) > 1:
            repeat = keys[1:] == keys[:-1]
            distinct = len(keys) - int(np.count_nonzero(repeat))
            if distinct < len(keys):
                first = np.ones(len(keys), dtype=bool)
                first[1:] = ~repeat
                keys[:distinct] = keys[first]
            del repeat
        else:
            distinct = len(keys)
        del keys  # the array cannot shrink while a view of it exists
        del self._keys[distinct:]
        self._unique = True

    def keys(self) -> np.ndarray:
        """The distinct edges, sorted, as one array of ``source << 32 | target`` numbers.

        A view of the edges' own memory, not a copy (five million edges are 40 MB): edges
        cannot be added while it is held (``BufferError``), so readers take it for one pass.
        """
        self._compact()
        keys = np.frombuffer(self._keys, dtype=np.uint64)
        keys.flags.writeable = False
        return keys

    def __len__(self) -> int:
        self._compact()
        return len(self._keys)

    def __iter__(self) -> Iterator[Follow]:
        self._compact()
        keys = np.frombuffer(self._keys, dtype=np.uint64).copy()
        for start in range(0, len(keys), FRESH):
            part = keys[start : start + FRESH]
            sources = self.ids.names_of(part >> _SHIFT)
            targets = self.ids.names_of(part & _LOW)
            yield from map(Follow, sources, targets)

    def __contains__(self, edge: object) -> bool:
        if not isinstance(edge, Follow):
            return False
        self._compact()
        source, target = self.ids.number(edge.source), self.ids.number(edge.target)
        if source is None or target is None:
            return False
        keys = np.frombuffer(self._keys, dtype=np.uint64)
        key = np.uint64(source << 32 | target)
        at = int(np.searchsorted(keys, key))
        return at < len(keys) and keys[at] == key

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Edges | set | frozenset):
            return set(self) == set(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable, like a set

    def __repr__(self) -> str:
        return f"Edges({len(self):,} edges among {len(self.ids):,} ids)"


_SHIFT = np.uint64(32)
_LOW = np.uint64(0xFFFFFFFF)


def as_edges(follows: Iterable[Follow], ids: Ids | None = None) -> Edges:
    """``follows`` as :class:`Edges` (itself when it already is), numbered in ``ids``."""
    return follows if isinstance(follows, Edges) else Edges(follows, ids)


_PERSON_FIELDS = (
    "external_id",
    "handle",
    "name",
    "url",
    "followers_count",
    "following_count",
    "posts_count",
    "avatar_url",
    "bio",
    "links",
)


class PeopleSpool(MutableMapping[str, Person]):
    """People by id, kept in a temporary file instead of memory: a mapping for accounts of
    a million people, whose records as objects would take gigabytes.

    It is a ``dict[str, Person]`` to its users (``[pid] = person``, ``get``, ``in``,
    ``items()``...) with one difference: a person read from it is a copy, so a change to it
    is kept only by storing it again (``people[pid] = person``). Writes are buffered and
    written in batches; iteration follows the order people were first stored in.
    """

    BATCH = 5000

    def __init__(self, people: Iterable[tuple[str, Person]] = ()) -> None:
        self._db = sqlite3.connect("", check_same_thread=False)  # "" = a temporary file
        self._db.execute("CREATE TABLE people (id TEXT PRIMARY KEY, data BLOB) WITHOUT ROWID")
        self._db.execute("CREATE TABLE seen (n INTEGER PRIMARY KEY, id TEXT UNIQUE)")
        self._pending: dict[str, bytes] = {}
        self.update(people)

    @staticmethod
    def _dump(person: Person) -> bytes:
        return marshal.dumps(tuple(getattr(person, name) for name in _PERSON_FIELDS))

    @staticmethod
    def _load(data: bytes) -> Person:
        return Person(*marshal.loads(data))  # noqa: S302 - our own temporary file

    def _flush(self) -> None:
        if self._pending:
            rows = list(self._pending.items())
            self._db.executemany(
                "INSERT OR IGNORE INTO seen (id) VALUES (?)", [(k,) for k, _ in rows]
            )
            self._db.executemany("INSERT OR REPLACE INTO people VALUES (?, ?)", rows)
            self._pending.clear()

    def __setitem__(self, pid: str, person: Person) -> None:
        self._pending[pid] = self._dump(person)
        if len(self._pending) >= self.BATCH:
            self._flush()

    def __getitem__(self, pid: str) -> Person:
        data = self._pending.get(pid)
        if data is None:
            row = self._db.execute("SELECT data FROM people WHERE id = ?", (pid,)).fetchone()
            if row is None:
                raise KeyError(pid)
            data = row[0]
        return self._load(data)

    def __delitem__(self, pid: str) -> None:
        self._flush()
        if self._db.execute("DELETE FROM people WHERE id = ?", (pid,)).rowcount == 0:
            raise KeyError(pid)
        self._db.execute("DELETE FROM seen WHERE id = ?", (pid,))

    def __contains__(self, pid: object) -> bool:
        if pid in self._pending:
            return True
        return self._db.execute("SELECT 1 FROM people WHERE id = ?", (pid,)).fetchone() is not None

    def __len__(self) -> int:
        self._flush()
        return int(self._db.execute("SELECT count(*) FROM people").fetchone()[0])

    def _rows(self) -> Iterator[tuple[str, bytes]]:
        self._flush()
        cursor = self._db.execute(
            "SELECT people.id, people.data FROM seen JOIN people ON people.id = seen.id "
            "ORDER BY seen.n"
        )
        while rows := cursor.fetchmany(self.BATCH):
            yield from rows

    def __iter__(self) -> Iterator[str]:
        for pid, _ in self._rows():
            yield pid

    def items(self) -> Iterator[tuple[str, Person]]:  # type: ignore[override]
        for pid, data in self._rows():
            yield pid, self._load(data)

    def values(self) -> Iterator[Person]:  # type: ignore[override]
        for _, data in self._rows():
            yield self._load(data)

    def __repr__(self) -> str:
        return f"PeopleSpool({len(self):,} people)"


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _micros(at: datetime | None) -> int | None:
    return None if at is None else (at - _EPOCH) // _MICROSECOND


def _moment(micros: int | None) -> datetime | None:
    return None if micros is None else _EPOCH + timedelta(microseconds=micros)


_post_fields = attrgetter(*Post.__slots__)  # type: ignore[attr-defined]

#: A post's label and score from the sentiment engine.
Label = tuple[str, float]


class PostSpool(Sequence[Post]):
    """The posts of one read, one per id (the first stored is kept), read back in date order
    (then id): compact rows in memory for a few thousand posts, a temporary file past
    :attr:`SPILL`, so an archive of a million tweets never holds them all as objects.

    It fills as a list does (``append``, ``extend``) and reads as a sequence (``len``,
    iteration, ``[i]``); a post read from it is a copy, so a change to it is kept only
    through :meth:`rewrite`. :attr:`labels` keeps each post's sentiment next to it, and
    :meth:`labelled` reads posts and labels back together.
    """

    SPILL = 20_000  #: posts kept in memory (as rows) before moving to the temporary file
    BATCH = 5_000  #: posts read or written per statement

    def __init__(self, posts: Iterable[Post] = ()) -> None:
        #: Before the spill: each post's row (id, created, data) by id, as the file keeps it,
        #: so a post read back is a copy whether or not the posts were spilled.
        self._memory: dict[str, tuple[Any, ...]] | None = {}
        self._ordered: list[tuple[Any, ...]] | None = None
        self._db: sqlite3.Connection | None = None
        self._pending: list[tuple[Any, ...]] = []
        self._labels: dict[str, Label] = {}
        self.labels: MutableMapping[str, Label] = _PostLabels(self)
        self.extend(posts)

    @property
    def spilled(self) -> bool:
        """Whether the posts are in the temporary file (past :attr:`SPILL`)."""
        return self._db is not None

    # -- writing ----------------------------------------------------------------------------

    @staticmethod
    def _row(post: Post) -> tuple[Any, ...]:
        data = marshal.dumps(
            (
                post.text,
                post.url,
                post.kind,
                post.reply_count,
                post.like_count,
                post.repost_count,
                post.in_reply_to,
                post.is_repost,
                _micros(post.first_response_at),
            )
        )
        return (post.external_id, _micros(post.created_at), data)

    @staticmethod
    def _post(pid: str, created: int, data: bytes) -> Post:
        fields = marshal.loads(data)  # noqa: S302 - our own temporary file
        (text, url, kind, replies, likes, reposts, reply_to, repost, responded) = fields
        return Post(
            pid,
            _EPOCH + timedelta(microseconds=created),
            text,
            url,
            kind,
            replies,
            likes,
            reposts,
            reply_to,
            repost,
            _moment(responded),
        )

    def append(self, post: Post) -> None:
        """Keep ``post`` unless a post of its id is already kept."""
        if self._memory is not None:
            if post.external_id not in self._memory:
                self._memory[post.external_id] = self._row(post)
                self._ordered = None
                if len(self._memory) > self.SPILL:
                    self._spill()
            return
        self._pending.append(self._row(post))
        if len(self._pending) >= self.BATCH:
            self._flush()

    def extend(self, posts: Iterable[Post]) -> None:
        for post in posts:
            self.append(post)

    def _spill(self) -> None:
        assert self._memory is not None
        self._db = sqlite3.connect("", check_same_thread=False)  # "" = a temporary file
        self._db.execute(
            "CREATE TABLE posts (id TEXT PRIMARY KEY, created INTEGER NOT NULL, data BLOB, "
            "label TEXT, score REAL) WITHOUT ROWID"
        )
        self._db.execute("CREATE INDEX posts_order ON posts (created, id)")
        memory, self._memory, self._ordered = self._memory, None, None
        self._pending = list(memory.values())
        self._flush()
        self.labels.update(self._labels)
        self._labels.clear()

    def _flush(self) -> None:
        if self._db is not None and self._pending:
            self._db.executemany(
                "INSERT OR IGNORE INTO posts (id, created, data) VALUES (?, ?, ?)", self._pending
            )
            self._pending = []

    # -- reading ----------------------------------------------------------------------------

    def _sorted(self) -> list[tuple[Any, ...]]:
        assert self._memory is not None
        if self._ordered is None:
            self._ordered = sorted(self._memory.values(), key=lambda row: (row[1], row[0]))
        return self._ordered

    def _batches(self, columns: str = "id, created, data") -> Iterator[list[tuple[Any, ...]]]:
        """The rows in date order, a batch at a time, each batch read whole (so the file can
        be written between two batches: labels, rewrites)."""
        assert self._db is not None
        self._flush()
        rows = self._db.execute(
            f"SELECT {columns} FROM posts ORDER BY created, id LIMIT ?",  # noqa: S608
            (self.BATCH,),
        ).fetchall()
        while rows:
            yield rows
            last = rows[-1]
            rows = self._db.execute(
                f"SELECT {columns} FROM posts WHERE (created, id) > (?, ?) "  # noqa: S608
                "ORDER BY created, id LIMIT ?",
                (last[1], last[0], self.BATCH),
            ).fetchall()

    def __iter__(self) -> Iterator[Post]:
        if self._memory is not None:
            for row in list(self._sorted()):
                yield self._post(*row)
            return
        for rows in self._batches():
            for row in rows:
                yield self._post(*row)

    def labelled(self) -> Iterator[tuple[Post, Label | None]]:
        """Each post with its label from :attr:`labels` (``None`` where it has none)."""
        if self._memory is not None:
            for row in list(self._sorted()):
                yield self._post(*row), self._labels.get(row[0])
            return
        self.labels.flush()  # type: ignore[attr-defined]
        for rows in self._batches("id, created, data, label, score"):
            for pid, created, data, label, score in rows:
                yield self._post(pid, created, data), (None if label is None else (label, score))

    def __len__(self) -> int:
        if self._memory is not None:
            return len(self._memory)
        assert self._db is not None
        self._flush()
        return int(self._db.execute("SELECT count(*) FROM posts").fetchone()[0])

    def __getitem__(self, index: int) -> Post:  # type: ignore[override]
        if not isinstance(index, int):
            raise TypeError("a PostSpool is indexed by position only")
        size = len(self)
        if index < 0:
            index += size
        if not 0 <= index < size:
            raise IndexError(index)
        if self._memory is not None:
            return self._post(*self._sorted()[index])
        assert self._db is not None
        row = self._db.execute(
            "SELECT id, created, data FROM posts ORDER BY created, id LIMIT 1 OFFSET ?", (index,)
        ).fetchone()
        return self._post(*row)

    def __eq__(self, other: object) -> bool:
        """Equal to a sequence of the same posts in the same (date) order."""
        if not isinstance(other, Sequence) or isinstance(other, str | bytes):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    # -- changing ---------------------------------------------------------------------------

    def rewrite(self, change: Callable[[Post], None]) -> None:
        """Apply ``change`` to every post in place (it edits the post it is given) and keep
        the result; a post whose id it changes to one already kept is dropped."""
        if self._memory is not None:
            rows = list(self._memory.values())
            self._memory, self._ordered = {}, None
            for row in rows:
                post = self._post(*row)
                change(post)
                self._memory.setdefault(post.external_id, self._row(post))
            return
        assert self._db is not None
        for rows in self._batches():
            changed = []
            for row in rows:
                post = self._post(*row)
                before = _post_fields(post)
                change(post)
                if _post_fields(post) != before:
                    changed.append((row[0], self._row(post)))
            for old_id, new in changed:
                self._db.execute("DELETE FROM posts WHERE id = ?", (old_id,))
                self._db.execute(
                    "INSERT OR IGNORE INTO posts (id, created, data) VALUES (?, ?, ?)", new
                )

    def __repr__(self) -> str:
        return f"PostSpool({len(self):,} posts{', spilled' if self.spilled else ''})"


class _PostLabels(MutableMapping[str, Label]):
    """The sentiment label of each post of a :class:`PostSpool`, kept beside it."""

    def __init__(self, spool: PostSpool) -> None:
        # A proxy, not a reference: no cycle, so the spool (and its temporary file) goes
        # as soon as the last reference to it does, not at the next garbage collection.
        self._spool = weakref.proxy(spool)
        self._pending: dict[str, Label] = {}

    def flush(self) -> None:
        db = self._spool._db
        if db is not None and self._pending:
            db.executemany(
                "UPDATE posts SET label = ?, score = ? WHERE id = ?",
                [(label, score, pid) for pid, (label, score) in self._pending.items()],
            )
            self._pending = {}

    def __setitem__(self, pid: str, label: Label) -> None:
        if self._spool._db is None:
            self._spool._labels[pid] = label
            return
        self._pending[pid] = label
        if len(self._pending) >= PostSpool.BATCH:
            self.flush()

    def __getitem__(self, pid: str) -> Label:
        db = self._spool._db
        if db is None:
            return self._spool._labels[pid]
        if pid in self._pending:
            return self._pending[pid]
        row = db.execute("SELECT label, score FROM posts WHERE id = ?", (pid,)).fetchone()
        if row is None or row[0] is None:
            raise KeyError(pid)
        return (row[0], row[1])

    def __delitem__(self, pid: str) -> None:
        db = self._spool._db
        if db is None:
            del self._spool._labels[pid]
            return
        self.flush()
        if (
            db.execute(
                "UPDATE posts SET label = NULL, score = NULL WHERE id = ? AND label IS NOT NULL",
                (pid,),
            ).rowcount
            == 0
        ):
            raise KeyError(pid)

    def __iter__(self) -> Iterator[str]:
        db = self._spool._db
        if db is None:
            yield from list(self._spool._labels)
            return
        self.flush()
        yield from (
            pid for (pid,) in db.execute("SELECT id FROM posts WHERE label IS NOT NULL").fetchall()
        )

    def __len__(self) -> int:
        db = self._spool._db
        if db is None:
            return len(self._spool._labels)
        self.flush()
        return int(db.execute("SELECT count(*) FROM posts WHERE label IS NOT NULL").fetchone()[0])


def count_posts(posts: Iterable[Post]) -> int:
    """Distinct posts (by id) of a list or a :class:`PostSpool` (distinct already)."""
    if isinstance(posts, PostSpool):
        return len(posts)
    return len({post.external_id for post in posts})


class PartState(enum.StrEnum):
    """How completely one read gave one part of an account."""

    COMPLETE = "complete"  #: everything the network has
    PARTIAL = (
        "partial"  #: some of it (a read budget, a cap, a listing limit): ``count`` of ``total``
    )
    ABSENT = "absent"  #: not in this source (an archive without the file, an API without it)
    REFUSED = "refused"  #: the network refused this part (a plan, a permission, an error)


#: The parts of an account, each kept with its own state, source and date.
PARTS = ("profile", "followers", "friends", "posts", "edges")


@dataclass(slots=True)
class PartRead:
    """What one sync or import gave of one part.

    :param count: items read (people, posts, people whose follow lists were read).
    :param total: items the network says there are, when known.
    :param reason: why it is partial, absent or refused, in a sentence for the page.
    """

    state: PartState
    count: int | None = None
    total: int | None = None
    reason: str | None = None

    @property
    def usable(self) -> bool:
        """Whether this read is the whole part (the only kind that replaces a kept one)."""
        return self.state == PartState.COMPLETE


@dataclass(slots=True)
class AccountData:
    """Everything one sync or import produced for one connected account.

    :param owner: the connected account itself.
    :param people: every other person mentioned, by ``external_id``: a dict, or for big
        accounts a :class:`PeopleSpool` (the sync reads it only as a mapping).
    :param followers: ids of the people who follow the owner, or ``None`` when the source
        cannot list them (hidden collection, API plan without the endpoint). Given as a
        list, kept as an :class:`~app.networks.ids.IdList` (a list to its users).
    :param friends: ids of the people the owner follows, or ``None`` likewise.
    :param follows: follow edges among ``people`` (owner edges are implied by ``followers``
        and ``friends`` and need not be repeated): :class:`Edges` by default, filled like a
        set; a plain set of :class:`Follow` is taken and turned into :class:`Edges`.
    :param lists_fetched: ids of the people whose own following list was read completely,
        so an absent edge from them means "does not follow", not "unknown". Given as a set,
        kept as an :class:`~app.networks.ids.IdSet`.
    :param posts: the owner's posts: a list (a live fetch), or a :class:`PostSpool` (the
        importers fill one as they parse; the sync turns any list into one).
    :param notes: plain sentences for the page about what this source could not provide.
    :param archive_date: for imports, when the archive was made, if it says.
    :param parts: how completely each part was read, where the producer knows better than
        the defaults of :meth:`part`: a list that is ``None`` is absent, anything else given
        is complete.

    The edges, lists and set number their ids in one table (``follows.ids``). A list or set
    assigned later is taken as it is (the sync reads either).
    """

    owner: Person
    people: MutableMapping[str, Person] = field(default_factory=dict)
    followers: MutableSequence[str] | None = field(default_factory=list)
    friends: MutableSequence[str] | None = field(default_factory=list)
    follows: Edges | set[Follow] = field(default_factory=Edges)
    lists_fetched: MutableSet[str] = field(default_factory=set)
    posts: list[Post] | PostSpool = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    archive_date: datetime | None = None
    missing_parts: list[str] = field(default_factory=list)
    parts: dict[str, PartRead] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Number every id of the edges, lists and set in one :class:`Ids` table: what a
        producer gives as strings is held from here on as numbers of it, so a million
        followers cost megabytes, not hundreds of them."""
        self.follows = as_edges(self.follows)
        ids = self.follows.ids
        if self.followers is not None and not _numbered_in(self.followers, ids):
            self.followers = IdList(ids, self.followers)
        if self.friends is not None and not _numbered_in(self.friends, ids):
            self.friends = IdList(ids, self.friends)
        if not _numbered_in(self.lists_fetched, ids):
            self.lists_fetched = IdSet(ids, self.lists_fetched)
        self.settle()

    def settle(self) -> None:
        """Number every id given or added so far and let go of the strings: what is left of
        them is the compact table."""
        if isinstance(self.follows, Edges):
            self.follows.settle()
        for listed in (self.followers, self.friends, self.lists_fetched):
            if isinstance(listed, IdList | IdSet):
                listed.settle()
        if isinstance(self.follows, Edges):
            self.follows.ids.settle()

    def mark(
        self,
        part: str,
        state: PartState,
        *,
        count: int | None = None,
        total: int | None = None,
        reason: str | None = None,
    ) -> None:
        """Say how ``part`` was read (a cut, a refusal, a file the archive lacks)."""
        if part not in PARTS:
            raise ValueError(f"unknown part {part!r}")
        self.parts[part] = PartRead(state, count, total, reason)

    def part(self, name: str) -> PartRead:
        """How ``name`` was read: as marked, or by default from what the records hold."""
        marked = self.parts.get(name)
        if name == "followers":
            listed, total = self.followers, self.owner.followers_count
        elif name == "friends":
            listed, total = self.friends, self.owner.following_count
        elif name == "posts":
            count = count_posts(self.posts)
            return self._with_count(marked, count, self.owner.posts_count)
        elif name == "edges":
            count = len(self.lists_fetched)
            default = PartRead(PartState.COMPLETE if count else PartState.ABSENT, count)
            return marked or default
        else:  # profile
            known = self.owner.followers_count is not None or self.owner.following_count is not None
            return marked or PartRead(PartState.COMPLETE if known else PartState.ABSENT)
        if listed is None:
            return marked or PartRead(PartState.ABSENT)
        return self._with_count(marked, len(listed), total)

    @staticmethod
    def _with_count(marked: PartRead | None, count: int, total: int | None) -> PartRead:
        if marked is None:
            return PartRead(PartState.COMPLETE, count, total)
        if marked.state in (PartState.COMPLETE, PartState.PARTIAL) and marked.count is None:
            return PartRead(marked.state, count, marked.total or total, marked.reason)
        return marked


def _numbered_in(ids_of: object, ids: Ids) -> bool:
    return isinstance(ids_of, IdList | IdSet) and ids_of.ids is ids


class Progress(Protocol):
    """What a fetcher or importer reports while it works.

    The sync service implements it by writing to the ``SyncRun`` row, so the page can show
    a progress bar whichever process runs the job.
    """

    def stage(self, name: str, total: int | None = None) -> None:
        """Start a named stage ("followers", "posts"...) with an expected item count."""

    def advance(self, done: int = 1) -> None:
        """Mark ``done`` more items of the current stage as finished."""

    def paused(self, until: datetime) -> None:
        """Say that the job waits for a rate limit to reset at ``until`` (UTC)."""

    def request(self) -> None:
        """Count one HTTP request made to the network."""


class NullProgress:
    """A :class:`Progress` that records nothing; for scripts and tests that do not care."""

    def stage(self, name: str, total: int | None = None) -> None:
        return None

    def advance(self, done: int = 1) -> None:
        return None

    def paused(self, until: datetime) -> None:
        return None

    def request(self) -> None:
        return None


class NetworkError(Exception):
    """A network could not be read; the message is shown to the user as it is."""


class AuthExpired(NetworkError):
    """The stored token was revoked or expired: the connection needs reconnecting."""


class NotAvailable(NetworkError):
    """The account or endpoint is not available (404, hidden, not in the API plan)."""


class ArchiveError(Exception):
    """An uploaded archive cannot be imported; the message names the file (and line)."""


#: Signature of an archive importer: ``(path, progress) -> AccountData``.
Importer = Callable[[str, Progress], AccountData]


# -- the connector contract -----------------------------------------------------------------


class Door(enum.StrEnum):
    """How an account is connected live."""

    OAUTH = "oauth"  #: OAuth 2.0 sign-in on the network's own servers
    INSTANCE = "instance"  #: OAuth 2.0 on a server the user names (Mastodon)
    HANDLE = "handle"  #: public reads by handle, no sign-in (Bluesky)


@dataclass(frozen=True, slots=True)
class OAuthSpec:
    """How a network signs in with OAuth 2.0: a descriptor, not code.

    The generic flow in :mod:`app.connect.oauth` reads every URL and credential from config
    under ``{prefix}_CLIENT_ID``, ``{prefix}_CLIENT_SECRET``, ``{prefix}_AUTHORIZE_URL`` and
    ``{prefix}_TOKEN_URL`` (a server the user names supplies its own URLs instead).

    :param prefix: the config prefix (``GITHUB``).
    :param scopes: what the app asks for; read-only, nothing more.
    :param pkce: ``"S256"`` to send a PKCE challenge, ``"if-announced"`` for servers that may
        or may not support it (Mastodon), ``None`` for none.
    :param secret_required: ``False`` for public clients (X), which may run on the id alone.
    :param rotating_refresh: the refresh token changes on every refresh (X): the new one is
        stored before anything else can fail.
    :param authorize_method: ``"POST"`` when the connect page has a form of options to post
        (X's graph-edges opt-in); ``"GET"`` for a plain link.
    :param keep_nonce: keep the OpenID nonce with the state (off when the ID token is not
        read, as for LinkedIn, whose profile comes from the userinfo endpoint).
    :param own_client: use the plain PKCE client of :mod:`app.networks.oauth_pkce` (HTTP
        Basic for confidential clients, ``client_id`` in the form for public ones) instead of
        Authlib's, for providers whose token endpoint wants exactly that (X).
    """

    prefix: str
    scopes: tuple[str, ...]
    pkce: str | None = None
    secret_required: bool = True
    rotating_refresh: bool = False
    authorize_method: str = "GET"
    keep_nonce: bool = True
    own_client: bool = False

    @property
    def scope(self) -> str:
        """The scopes as one space-separated string."""
        return " ".join(self.scopes)


@dataclass(frozen=True, slots=True)
class ConnectOption:
    """A choice offered on the connect page and kept on the connection's options."""

    name: str
    label: str
    description: str = ""
    kind: str = "bool"  #: ``bool`` (a checkbox) or ``int`` (an optional whole number)


@dataclass(slots=True)
class Login:
    """What a live read needs to know about the connection, as plain values.

    :param external_id: the connected account's id on the network (a Bluesky DID).
    :param handle: the connected account's handle.
    :param options: the connection's stored choices (:class:`ConnectOption` values and
        per-network settings).
    :param params: the run's own parameters (a lower read budget for the first X sync).
    """

    access_token: str | None = None
    instance_url: str | None = None
    external_id: str | None = None
    handle: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class HttpSettings:
    """Timeout, retries and backoff for every call to a network (from config)."""

    timeout: tuple[float, float] = (5.0, 30.0)
    max_retries: int = 3
    backoff: float = 0.5


class Connector:
    """Everything specific to one network; each ``app/networks/<key>/`` registers one.

    A connector says what the network is and what it can give (``people_counts``, ``edges``,
    the ``notes`` shown on its page), how its account is connected (:attr:`door`, with an
    :class:`OAuthSpec` for OAuth), how it is read live (:meth:`fetch`, given a ready
    :class:`~app.networks.http.ApiClient`) and how its archive is read (:meth:`import_archive`).
    It knows nothing about Flask, the database or the job runner: the ``connect`` blueprint and
    the sync service ask it for what differs and do the rest the same way for every network.

    Class attributes, set by each subclass:

    :cvar key: URL slug and database value (``github``).
    :cvar label: the name shown to people (``X / Twitter``).
    :cvar name: the short name used in sentences ("an X archive"); defaults to ``label``.
    :cvar door: how the live door works, ``None`` for import-only networks.
    :cvar people_counts: whether follower/friend counts of other people are known.
    :cvar edges: whether follow relations among other people can be read.
    :cvar profile_url: a person's profile address, from ``{handle}`` or ``{url}``.
    :cvar notes: sentences shown on the page for numbers this network cannot provide.
    :cvar archive_hint: where in the network's settings the archive is requested (short).
    :cvar archive_help: what to request, how to upload it and what is read from it.
    :cvar no_live_reason: why there is no live door, for an import-only network.
    :cvar api_setting: the config key of the API's base URL.
    :cvar service: the name used in error messages about the API ("GitHub").
    :cvar api_headers: headers the API asks every client to send.
    :cvar connect_options: choices offered on the connect page before signing in.
    :cvar expired_message: what to say when the stored sign-in has run out.
    :cvar refreshable: the sign-in can be renewed with a refresh token.
    :cvar profile_word: what :meth:`whoami` reads ("a user", "a profile"), for the
        message when the answer is not one.
    :cvar refusal_message: the message for an HTTP refusal while connecting, with
        ``{error}``; by default the error's own text is shown.
    """

    key: ClassVar[str]
    label: ClassVar[str]
    name: ClassVar[str] = ""
    door: ClassVar[Door | None] = None
    people_counts: ClassVar[bool] = False
    edges: ClassVar[bool] = False
    profile_url: ClassVar[str] = "{url}"
    notes: ClassVar[tuple[str, ...]] = ()
    archive_hint: ClassVar[str] = ""
    archive_help: ClassVar[str] = ""
    no_live_reason: ClassVar[str] = ""
    oauth: ClassVar[OAuthSpec | None] = None
    api_setting: ClassVar[str] = ""
    service: ClassVar[str] = ""
    api_headers: ClassVar[Mapping[str, str]] = {}
    connect_options: ClassVar[tuple[ConnectOption, ...]] = ()
    expired_message: ClassVar[str] = ""
    refreshable: ClassVar[bool] = False
    profile_word: ClassVar[str] = "a user"
    refusal_message: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.name = cls.__dict__.get("name") or cls.label

    # -- what it can do ---------------------------------------------------------------------

    @property
    def can_fetch(self) -> bool:
        """Whether the network can be read live (the subclass defines :meth:`fetch`)."""
        return type(self).fetch is not Connector.fetch

    @property
    def can_import(self) -> bool:
        """Whether the network's archive can be imported."""
        return type(self).import_archive is not Connector.import_archive

    @property
    def template_folder(self) -> str:
        """The ``templates/`` folder beside the connector's module."""
        module = sys.modules[type(self).__module__]
        return str(Path(module.__file__ or ".").parent / "templates")

    @property
    def connect_template(self) -> str:
        """The connect page's partial for this network (``github:connect.html``)."""
        return f"{self.key}:connect.html"

    def configured(self, config: Mapping[str, Any]) -> bool:
        """Whether this server can sign in to the network (its developer app is set up)."""
        if self.oauth is None or self.door == Door.INSTANCE:
            return True
        prefix = self.oauth.prefix
        if not config.get(f"{prefix}_CLIENT_ID"):
            return False
        return not self.oauth.secret_required or bool(config.get(f"{prefix}_CLIENT_SECRET"))

    def credential_keys(self) -> tuple[str, str]:
        """The config keys of the developer app's client id and secret."""
        prefix = self.oauth.prefix if self.oauth else self.key.upper()
        return f"{prefix}_CLIENT_ID", f"{prefix}_CLIENT_SECRET"

    def api_url(self, config: Mapping[str, Any], login: Login) -> str:
        """The API's base URL for ``login`` (the user's own server for Mastodon)."""
        return str(config[self.api_setting])

    def service_name(self, base_url: str) -> str:
        """The name error messages use for the API at ``base_url`` ("GitHub")."""
        return self.service or self.name

    def prepare_client(self, client: ApiClient) -> None:
        """Adjust a new API client (X installs its response hook); nothing by default."""
        return None

    # -- the live door ----------------------------------------------------------------------

    def whoami(self, client: ApiClient, config: Mapping[str, Any]) -> Person:
        """Who the client's token belongs to (one request), to attach the account.

        :raises NetworkError: the network refused or could not be read.
        :raises KeyError: (or ``TypeError``) the answer is not a profile.
        """
        raise NotImplementedError

    def finish_token(
        self, token: Mapping[str, Any], config: Mapping[str, Any], http: HttpSettings
    ) -> dict[str, Any]:
        """Turn the code exchange's token into the one to keep (Facebook swaps it for a
        long-lived one); returns ``token`` unchanged by default."""
        return dict(token)

    def connect_context(
        self, config: Mapping[str, Any], counts: tuple[int, int, int] | None, options: Mapping
    ) -> dict[str, Any]:
        """Extra values for the connect page's partial (X's read budget); none by default.

        :param counts: followers, friends and posts of the last sync, if there was one.
        """
        return {}

    def stored_options(self, config: Mapping[str, Any], chosen: Mapping[str, Any]) -> dict:
        """The options to keep on the connection after a sign-in: the choices made."""
        return dict(chosen)

    def first_sync_params(
        self, config: Mapping[str, Any], options: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Parameters of the sync started right after connecting; none by default."""
        return {}

    # -- a server the user names (Door.INSTANCE) -------------------------------------------

    def normalise_instance(self, text: str, config: Mapping[str, Any]) -> str:
        """Turn what a person typed into the server's base URL, refusing what the outbound
        policy of ``config`` refuses before any request (:mod:`app.networks.outbound`).

        :raises ValueError: with a message fit for the form.
        """
        raise NotImplementedError

    def register_client(
        self, instance_url: str, redirect_uri: str, website: str, config: Mapping[str, Any]
    ) -> tuple[str, str, bool]:
        """Register this app on the server: ``(client_id, client_secret, supports_pkce)``,
        every request through the outbound policy of ``config``.

        :raises NotAvailable: (or ``KeyError``/``TypeError``) it is not such a server.
        :raises NetworkError: the server refused or could not be reached.
        """
        raise NotImplementedError

    def instance_endpoints(self, instance_url: str) -> tuple[str, str]:
        """The server's OAuth authorize and token URLs."""
        raise NotImplementedError

    # -- a public handle (Door.HANDLE) ------------------------------------------------------

    #: The handle field's label and help text on the connect page.
    handle_label: ClassVar[tuple[str, str]] = ("Handle", "")

    def normalise_handle(self, text: str) -> str:
        """Turn what a person typed into a handle (or id) to look up.

        :raises ValueError: with a message fit for the form.
        """
        raise NotImplementedError

    def lookup(self, client: ApiClient, actor: str) -> Person:
        """Check that ``actor`` exists (one request) and return the account.

        :raises NotAvailable: no such account.
        :raises NetworkError: the network could not be read.
        """
        raise NotImplementedError

    # -- reading ----------------------------------------------------------------------------

    def fetch(self, client: ApiClient, login: Login, config: Mapping[str, Any]) -> AccountData:
        """Read the account live with ``client`` (token, retries and progress set).

        :raises AuthExpired: the token was refused: the connection needs reconnecting.
        :raises NetworkError: the network could not be read.
        """
        raise NotImplementedError

    # -- archives ---------------------------------------------------------------------------

    def import_archive(self, path: str, progress: Progress) -> AccountData:
        """Read the archive (file or folder) at ``path``.

        :raises ArchiveError: the archive cannot be imported; the message says why.
        """
        raise NotImplementedError
