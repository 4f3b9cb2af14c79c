"""Ids interned to numbers, stored compactly, and the lists and sets made of them.

An account of a million followers names a million and a half people, each by a string id, in
several collections at once: the followers, the friends, the people whose own lists were read,
and both ends of millions of follows. As Python strings in lists, a set and a ``dict`` of
numbers, that is about 250 bytes per person (390 MB at a million followers). Here each id is
stored once, as UTF-8 bytes in one buffer, with an index of 20 bytes; each collection holds
4-byte numbers (a set, one byte per number). The same million followers take about 45 MB.

:class:`Ids` numbers ids 0, 1, 2... in the order they are first seen. Ids are looked up by
their hash: a small ``dict`` holds the ones added lately, and every :data:`FRESH` of them
join two sorted arrays (hash, number). Lookups are made in batches (:meth:`Ids.intern_many`),
which is how :class:`IdList`, :class:`IdSet` and :class:`~app.networks.base.Edges` use them:
they keep what is added in a short list of strings and intern it :data:`FRESH` at a time.
A match by hash is confirmed by comparing the stored bytes, so two ids with the same hash
stay two ids.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, MutableSequence, MutableSet
from itertools import repeat
from typing import Any, SupportsIndex, overload

import numpy as np

#: Ids added between two merges of the lookup arrays, and strings a list or set keeps
#: before interning them.
FRESH = 1 << 16
_CODEC = ("utf-8", "surrogatepass")  # any Python string, lone surrogates included
_NUL = "\0"


class Ids:
    """Interned ids (see the module): ``ids[n]`` is the id numbered ``n``."""

    __slots__ = ("_blob", "_ends", "_fresh", "_hashes", "_nul", "_numbers")

    def __init__(self, ids: Iterable[str] = ()) -> None:
        self._blob = bytearray()  # every id's UTF-8 bytes, in number order
        self._ends = array("Q")  # where id n's bytes end in the blob
        self._fresh: dict[str, int] = {}  # ids added since the last merge
        self._hashes = np.empty(0, dtype=np.int64)  # sorted hashes of the merged ids
        self._numbers = np.empty(0, dtype=np.uint32)  # their numbers, in the same order
        self._nul = False  # whether an id holds "\0" (names_of then decodes one by one)
        self.intern_many(ids)

    def __len__(self) -> int:
        return len(self._ends)

    def __getitem__(self, number: int) -> str:
        return self._encoded(number).decode(*_CODEC)

    def __iter__(self) -> Iterator[str]:
        for start in range(0, len(self), FRESH):
            yield from self.names_of(np.arange(start, min(start + FRESH, len(self))))

    def __reduce__(self) -> tuple[Any, ...]:
        # Hashes differ between processes: a copy interns the ids again.
        return (type(self), (list(self),))

    def __repr__(self) -> str:
        return f"Ids({len(self):,} ids, {len(self._blob):,} bytes)"

    # -- lookups -----------------------------------------------------------------------------

    def number(self, pid: str) -> int | None:
        """The number of ``pid``, ``None`` when it was never interned."""
        found = self._fresh.get(pid)
        return found if found is not None else self._merged_number(pid, hash(pid))

    def intern(self, pid: str) -> int:
        """The number of ``pid``, a new one the first time it is seen."""
        found = self.number(pid)
        return int(self._add([pid])[0]) if found is None else found

    def intern_many(self, pids: Iterable[str], add: bool = True) -> np.ndarray:
        """The numbers of ``pids`` (``int64``, in their order): new ids are numbered in the
        order first seen; with ``add=False`` they are ``-1`` instead."""
        pids = pids if isinstance(pids, list) else list(pids)
        if not pids:
            return np.empty(0, dtype=np.int64)
        distinct = list(dict.fromkeys(pids))
        numbers = np.fromiter(map(self._fresh.get, distinct, repeat(-1)), np.int64, len(distinct))
        unknown = np.flatnonzero(numbers < 0)
        if len(unknown) and len(self._hashes):
            self._find_merged(distinct, unknown, numbers)
            unknown = np.flatnonzero(numbers < 0)
        if add and len(unknown):
            numbers[unknown] = self._add([distinct[at] for at in unknown.tolist()])
        if len(distinct) == len(pids):
            return numbers
        by_id = dict(zip(distinct, numbers.tolist(), strict=True))
        return np.fromiter(map(by_id.__getitem__, pids), np.int64, len(pids))

    def names_of(self, numbers: np.ndarray) -> list[str]:
        """The ids of ``numbers``, decoded :data:`FRESH` at a time (one join and split each,
        not one by one)."""
        if self._nul or not len(numbers):
            return [self[n] for n in np.asarray(numbers).tolist()]
        if len(numbers) <= FRESH:
            return self._decoded(np.asarray(numbers, dtype=np.int64))
        names: list[str] = []
        for start in range(0, len(numbers), FRESH):
            names += self._decoded(np.asarray(numbers[start : start + FRESH], dtype=np.int64))
        return names

    def _decoded(self, numbers: np.ndarray) -> list[str]:
        ends = np.frombuffer(self._ends, dtype=np.uint64)
        stops = ends[numbers].astype(np.int64)
        starts = np.where(numbers > 0, ends[numbers - 1], 0).astype(np.int64)
        del ends  # a view stops the array from growing
        lengths = stops - starts
        width = lengths + 1  # each id and a "\0" after it
        out = np.zeros(int(width.sum()), dtype=np.uint8)
        placed = np.cumsum(width) - width  # where each id starts in ``out``
        within = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        blob = np.frombuffer(self._blob, dtype=np.uint8)
        out[np.repeat(placed, lengths) + within] = blob[np.repeat(starts, lengths) + within]
        del blob  # a view stops the blob from growing
        return out[:-1].tobytes().decode(*_CODEC).split(_NUL)

    def settle(self) -> None:
        """Move the ids added lately into the lookup arrays, letting go of their strings."""
        if self._fresh:
            self._merge()

    # -- inside ------------------------------------------------------------------------------

    def _encoded(self, number: int) -> bytes:
        if number < 0:
            raise IndexError(number)
        start = self._ends[number - 1] if number else 0
        return bytes(self._blob[start : self._ends[number]])

    def _merged_number(self, pid: str, key: int) -> int | None:
        """The number of ``pid`` among the merged ids (a run of equal hashes is checked)."""
        hashes = self._hashes
        at = int(hashes.searchsorted(key))
        encoded = pid.encode(*_CODEC)
        while at < len(hashes) and hashes[at] == key:
            number = int(self._numbers[at])
            if self._encoded(number) == encoded:
                return number
            at += 1
        return None

    def _find_merged(self, distinct: list[str], unknown: np.ndarray, numbers: np.ndarray) -> None:
        """Fill ``numbers[unknown]`` for the ids of ``distinct`` already merged: looked up by
        hash all at once, confirmed by comparing all their bytes at once."""
        asked = [distinct[at] for at in unknown.tolist()]
        keys = np.fromiter(map(hash, asked), np.int64, len(asked))
        at = np.minimum(self._hashes.searchsorted(keys), len(self._hashes) - 1)
        hit = self._hashes[at] == keys
        if not hit.any():
            return
        candidates = self._numbers[at[hit]].astype(np.int64)
        which = unknown[hit]
        wanted = [distinct[i] for i in which.tolist()]
        if self.names_of(candidates) == wanted:
            numbers[which] = candidates
            return
        for i, pid in zip(which.tolist(), wanted, strict=True):  # two ids share a hash
            found = self._merged_number(pid, hash(pid))
            numbers[i] = -1 if found is None else found

    def _add(self, pids: list[str]) -> np.ndarray:
        """Number ``pids`` (new, distinct ids) from :func:`len` on; their numbers."""
        first = len(self._ends)
        encoded = [pid.encode(*_CODEC) for pid in pids]
        ends = np.cumsum(np.fromiter(map(len, encoded), np.uint64, len(encoded)))
        self._ends.frombytes((ends + np.uint64(len(self._blob))).tobytes())
        joined = b"".join(encoded)
        self._blob += joined
        self._nul = self._nul or b"\0" in joined  # UTF-8 has no other zero byte
        self._fresh.update(zip(pids, range(first, first + len(pids)), strict=True))
        if len(self._fresh) >= FRESH:
            self._merge()
        return np.arange(first, first + len(pids), dtype=np.int64)

    def _merge(self) -> None:
        """Move the fresh ids into the sorted lookup arrays."""
        fresh = self._fresh
        keys = np.fromiter(map(hash, fresh), np.int64, len(fresh))
        numbers = np.fromiter(fresh.values(), np.uint32, len(fresh))
        order = np.argsort(keys, kind="stable")
        keys = np.concatenate([self._hashes, keys[order]])
        numbers = np.concatenate([self._numbers, numbers[order]])
        order = np.argsort(keys, kind="stable")  # two sorted runs: merged in one pass
        self._hashes, self._numbers = keys[order], numbers[order]
        fresh.clear()


class IdList(MutableSequence[str]):
    """A list of ids held as 4-byte numbers of an :class:`Ids` (repeats and order kept).

    It is a ``list[str]`` to its users; what is appended is interned :data:`FRESH` at a time.
    """

    __slots__ = ("_numbers", "_pending", "ids")

    def __init__(self, ids: Ids, items: Iterable[str] = ()) -> None:
        self.ids = ids
        self._numbers = array("I")
        self._pending: list[str] = []
        self.extend(items)

    def settle(self) -> None:
        """Number what was appended lately, letting go of its strings."""
        self._flush()

    def _flush(self) -> None:
        if self._pending:
            found = self.ids.intern_many(self._pending)
            self._numbers.frombytes(found.astype(np.uint32).tobytes())
            self._pending.clear()

    def numbers(self) -> np.ndarray:
        """The numbers of the ids, in order (a copy)."""
        self._flush()
        return np.frombuffer(self._numbers, dtype=np.uint32).astype(np.int64)

    def append(self, value: str) -> None:
        self._pending.append(value)
        if len(self._pending) >= FRESH:
            self._flush()

    def extend(self, values: Iterable[str]) -> None:
        if isinstance(values, IdList) and values.ids is self.ids:
            self._flush()
            self._numbers.extend(values._numbers)
            self._pending.extend(values._pending)
            return
        for value in values:
            self.append(value)

    def insert(self, index: int, value: str) -> None:
        self._flush()
        self._numbers.insert(index, self.ids.intern(value))

    def __len__(self) -> int:
        return len(self._numbers) + len(self._pending)

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> list[str]: ...
    def __getitem__(self, index: int | slice) -> str | list[str]:
        self._flush()
        if isinstance(index, slice):
            return self.ids.names_of(np.frombuffer(self._numbers, dtype=np.uint32)[index])
        return self.ids[self._numbers[index]]

    def __setitem__(self, index: Any, value: Any) -> None:
        self._flush()
        if isinstance(index, slice):
            numbers = self.ids.intern_many(list(value)).astype(np.uint32)
            self._numbers[index] = array("I", numbers.tobytes())
        else:
            self._numbers[index] = self.ids.intern(value)

    def __delitem__(self, index: SupportsIndex | slice) -> None:
        self._flush()
        del self._numbers[index]

    def __iter__(self) -> Iterator[str]:
        self._flush()
        numbers = np.frombuffer(self._numbers, dtype=np.uint32).copy()
        for start in range(0, len(numbers), FRESH):
            yield from self.ids.names_of(numbers[start : start + FRESH])

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, str):
            return False
        self._flush()
        number = self.ids.number(value)
        return number is not None and number in self._numbers

    def __eq__(self, other: object) -> bool:
        if isinstance(other, IdList | list):
            return len(self) == len(other) and list(self) == list(other)
        return NotImplemented

    def __add__(self, other: Iterable[str]) -> list[str]:
        return [*self, *other]

    def __radd__(self, other: Iterable[str]) -> list[str]:
        return [*other, *self]

    __hash__ = None  # type: ignore[assignment]  # mutable, like a list

    def __repr__(self) -> str:
        return f"IdList({list(self)!r})" if len(self) <= 20 else f"IdList({len(self):,} ids)"


class IdSet(MutableSet[str]):
    """A set of ids held as one byte per number of an :class:`Ids`.

    It is a ``set[str]`` to its users (``add``, ``in``, ``len``, ``&``...: operators give
    plain sets); what is added is interned :data:`FRESH` at a time.
    """

    __slots__ = ("_flags", "_pending", "ids")

    def __init__(self, ids: Ids, items: Iterable[str] = ()) -> None:
        self.ids = ids
        self._flags = bytearray()
        self._pending: list[str] = []
        for item in items:
            self.add(item)

    @classmethod
    def _from_iterable(cls, items: Iterable[str]) -> set[str]:  # type: ignore[override]
        """What ``&``, ``|`` and ``-`` make: a plain set (it has no table of its own)."""
        return set(items)

    def settle(self) -> None:
        """Number what was added lately, letting go of its strings."""
        self._flush()

    def _flush(self) -> None:
        if self._pending:
            found = self.ids.intern_many(self._pending)
            self._pending.clear()
            self._flags.extend(bytes(len(self.ids) - len(self._flags)))
            flags = np.frombuffer(self._flags, dtype=np.uint8)
            flags[found] = 1
            del flags  # a view stops the flags from growing

    def flags(self) -> np.ndarray:
        """Per number of :attr:`ids`, whether the id is in the set (a copy)."""
        self._flush()
        flags = np.zeros(len(self.ids), dtype=bool)
        flags[: len(self._flags)] = np.frombuffer(self._flags, dtype=bool)
        return flags

    def add(self, value: str) -> None:
        self._pending.append(value)
        if len(self._pending) >= FRESH:
            self._flush()

    def discard(self, value: str) -> None:
        self._flush()
        number = self.ids.number(value)
        if number is not None and number < len(self._flags):
            self._flags[number] = 0

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, str):
            return False
        self._flush()
        number = self.ids.number(value)
        return number is not None and number < len(self._flags) and self._flags[number] == 1

    def __len__(self) -> int:
        self._flush()
        return int(np.count_nonzero(np.frombuffer(self._flags, dtype=np.uint8)))

    def __iter__(self) -> Iterator[str]:
        numbers = np.flatnonzero(self.flags())
        for start in range(0, len(numbers), FRESH):
            yield from self.ids.names_of(numbers[start : start + FRESH])

    def __repr__(self) -> str:
        return f"IdSet({set(self)!r})" if len(self) <= 20 else f"IdSet({len(self):,} ids)"
