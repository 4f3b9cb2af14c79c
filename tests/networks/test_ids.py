"""Interned ids and the lists and sets made of them, against the plain Python they stand for."""

from __future__ import annotations

import pickle
import random

import numpy as np
import pytest

import app.networks.ids as ids_module
from app.networks.base import AccountData, Edges, Follow, Person
from app.networks.ids import IdList, Ids, IdSet

#: Awkward ids: empty, non-ASCII, a lone surrogate, a NUL, a DID, a long number.
ODD = ["", "é", "日本語", "\ud800", "a\0b", "did:plc:abc123", "1234567890123456789", "x" * 300]


@pytest.fixture
def small_batches(monkeypatch):
    """Merge the lookup arrays and intern what lists keep every 7 ids, so a few dozen ids
    go through every path a million do."""
    monkeypatch.setattr(ids_module, "FRESH", 7)


def test_ids_number_in_first_seen_order_across_merges(small_batches):
    rng = random.Random(3)
    pool = [f"p{n}" for n in range(60)] + ODD
    seen: dict[str, int] = {}
    ids = Ids()
    for _ in range(40):
        batch = [rng.choice(pool) for _ in range(rng.randrange(0, 25))]
        for pid in batch:
            seen.setdefault(pid, len(seen))
        assert ids.intern_many(batch).tolist() == [seen[pid] for pid in batch]
        pid = rng.choice(pool)
        assert ids.intern(pid) == seen.setdefault(pid, len(seen))
    assert len(ids) == len(seen)
    assert list(ids) == list(seen)
    assert [ids[n] for n in range(len(ids))] == list(seen)
    assert ids.names_of(np.array([seen[p] for p in ODD])) == ODD
    assert all(ids.number(pid) == n for pid, n in seen.items())
    assert ids.number("never") is None
    looked_up = ids.intern_many(["p1", "never", "p1"], add=False)
    assert looked_up.tolist() == [seen["p1"], -1, seen["p1"]]
    assert ids.number("never") is None and len(ids) == len(seen)
    with pytest.raises(IndexError):
        ids[len(ids)]
    with pytest.raises(IndexError):
        ids[-1]


def test_ids_that_share_a_hash_stay_apart(small_batches, monkeypatch):
    """Every id hashed alike by its length: a match by hash alone would merge them."""
    monkeypatch.setattr(ids_module, "hash", len, raising=False)
    ids = Ids()
    words = [f"{letter}{n}" for n in range(10) for letter in "abc"]  # 30 ids, 2 lengths
    assert ids.intern_many(words).tolist() == list(range(30))
    assert ids.intern_many(list(reversed(words))).tolist() == list(range(29, -1, -1))
    assert [ids.number(word) for word in words] == list(range(30))
    assert ids.number("z9") is None and ids.intern("z9") == 30
    assert ids.intern_many(["c9", "zz", "a0"], add=False).tolist() == [29, -1, 0]


def test_ids_copy_and_pickle_intern_again():
    ids = Ids(["b", "a", *ODD])
    again = pickle.loads(pickle.dumps(ids))
    assert list(again) == list(ids) and again.number("a") == 1
    assert "2 ids" in repr(Ids(["x", "y"]))


def test_id_list_behaves_as_a_list(small_batches):
    rng = random.Random(5)
    pool = [f"p{n}" for n in range(30)] + ODD
    ids = Ids(["already"])
    plain: list[str] = []
    listed = IdList(ids)
    for _ in range(300):
        op = rng.randrange(7)
        value = rng.choice(pool)
        if op <= 1:
            plain.append(value)
            listed.append(value)
        elif op == 2:
            more = [rng.choice(pool) for _ in range(rng.randrange(12))]
            plain.extend(more)
            listed.extend(more)
        elif op == 3 and plain:
            at = rng.randrange(len(plain))
            plain.insert(at, value)
            listed.insert(at, value)
        elif op == 4 and plain:
            at = rng.randrange(len(plain))
            del plain[at]
            del listed[at]
        elif op == 5 and plain:
            at = rng.randrange(len(plain))
            plain[at] = value
            listed[at] = value
        else:
            assert (value in listed) == (value in plain)
        assert len(listed) == len(plain)
    assert listed == plain and list(listed) == plain and listed[2:9] == plain[2:9]
    assert listed[-1] == plain[-1] and (42 in listed) is False
    listed[1:3] = ["s1", "s2", "s3"]
    plain[1:3] = ["s1", "s2", "s3"]
    assert listed == plain
    assert ["x", *plain] == ["x"] + listed and listed + ["y"] == [*plain, "y"]  # noqa: RUF005
    copy = IdList(ids)
    copy.extend(listed)  # numbers copied, not names
    assert copy == plain and copy == listed and (copy == {1}) is False
    assert IdList(ids, ["a"]) != IdList(ids, ["b"])
    assert repr(IdList(ids, ["a"])) == "IdList(['a'])"
    assert repr(IdList(ids, [str(n) for n in range(30)])) == "IdList(30 ids)"


def test_id_set_behaves_as_a_set(small_batches):
    rng = random.Random(9)
    pool = [f"p{n}" for n in range(30)] + ODD
    ids = Ids()
    plain: set[str] = set()
    kept = IdSet(ids)
    for _ in range(300):
        value = rng.choice(pool)
        op = rng.randrange(4)
        if op <= 1:
            plain.add(value)
            kept.add(value)
        elif op == 2:
            plain.discard(value)
            kept.discard(value)
        else:
            assert (value in kept) == (value in plain)
        ids.intern(f"other{rng.randrange(99)}")  # the table grows past the set's flags
        assert len(kept) == len(plain)
    assert kept == plain and set(kept) == plain
    assert kept & {"p1", "p2"} == plain & {"p1", "p2"} and isinstance(kept | set(), set)
    assert (3 in kept) is False and "never" not in kept
    kept.discard("never")
    flags = kept.flags()
    assert len(flags) == len(ids)
    assert {ids[n] for n in np.flatnonzero(flags).tolist()} == plain
    assert repr(IdSet(ids, ["a"])) == "IdSet({'a'})"


def test_account_data_numbers_its_lists_in_its_edges_table():
    data = AccountData(
        owner=Person("me", "me"),
        followers=["a", "b", "a"],
        friends=["b", "c"],
        follows={Follow("a", "b")},
        lists_fetched={"a"},
    )
    ids = data.follows.ids
    assert isinstance(data.follows, Edges)
    assert data.followers.ids is ids and data.friends.ids is ids
    assert data.lists_fetched.ids is ids
    assert data.followers == ["a", "b", "a"] and data.friends == ["b", "c"]
    assert data.lists_fetched == {"a"} and data.follows == {Follow("a", "b")}
    assert len(ids) == 3  # a, b, c: each once
    hidden = AccountData(owner=Person("me", "me"), followers=None, friends=None)
    assert hidden.followers is None and hidden.friends is None
    assert AccountData(owner=Person("me", "me"), followers=["a"]) == AccountData(
        owner=Person("me", "me"), followers=["a"]
    )
