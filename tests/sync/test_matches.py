"""Cross-network refresh from kept match keys: the same matches as matching everyone, with
only the changed connection's people read."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import select

from app.analysis.matching import Member, combinations_of, find_matches, summarise
from app.extensions import db
from app.models import Connection, CrossCheck, MatchKeys, Person, Snapshot
from app.networks import CONNECTORS
from app.sync import matches as matches_module
from app.sync.matches import _member, key_hash, pack, refresh_matches, unpack

LABELS = {key: info.label for key, info in CONNECTORS.items()}
NAMES = ["Ada Lovelace", "Bob Ross", "Cy Young", "Dee Dee", "Eve Smith", "Al Bo"]


def random_people(rng: random.Random, network: str, n: int) -> list[dict]:
    """People with handles, names and links drawn from small pools, so some match."""
    rows = []
    for i in range(n):
        handle = f"{network}{i}" if rng.random() < 0.5 else f"u{i}"
        if rng.random() < 0.03:
            handle = rng.choice(["ada", "bob", "cyborg", "dee", "x1"])
        if network == "mastodon":
            handle += "@hachyderm.io"
        if network == "bluesky" and rng.random() < 0.3:
            handle = f"{handle}.example.org"
        links = []
        if rng.random() < 0.05:
            links.append(rng.choice(["https://github.com/ada", "bob.example.org", "x.com"]))
        rows.append(
            {
                "external_id": f"{network}-{i}",
                "handle": handle,
                "name": rng.choice(NAMES) if rng.random() < 0.05 else None,
                "url": f"https://github.com/{handle}" if network == "github" else None,
                "links": links,
                "is_follower": rng.random() < 0.7,
                "is_friend": rng.random() < 0.5,
            }
        )
    return rows


def add_snapshot(connection: Connection, rows: list[dict]) -> Snapshot:
    snapshot = Snapshot(connection_id=connection.id, complete=True)
    db.session.add(snapshot)
    db.session.flush()
    for row in rows:
        db.session.add(Person(snapshot_id=snapshot.id, **row))
    connection.current_snapshot_id = snapshot.id
    db.session.commit()
    return snapshot


def everyone_matched(user_id: int) -> dict:
    """The reference: every person of every current snapshot matched, as before keys."""
    people: dict[str, list[Member]] = {}
    for connection in db.session.scalars(select(Connection).where(Connection.user_id == user_id)):
        rows = db.session.execute(
            select(*matches_module._COLUMNS)
            .where(Person.snapshot_id == connection.current_snapshot_id)
            .order_by(Person.id)  # ties among equal matches keep this order
        )
        people[connection.network] = [_member(connection.network, row) for row in rows]
    found = find_matches(people)
    return summarise(found, LABELS) | {
        "combinations": combinations_of(found),
        "networks": sorted(people),
    }


@pytest.fixture
def three(app, user):
    rng = random.Random(7)
    out = []
    for network in ("github", "mastodon", "bluesky"):
        connection = Connection(user_id=user.id, network=network, source="live")
        db.session.add(connection)
        db.session.commit()
        add_snapshot(connection, random_people(rng, network, 150))
        out.append(connection)
    return out


def test_refresh_finds_what_matching_everyone_finds(three, user):
    check = refresh_matches(user.id)
    assert check.results == everyone_matched(user.id)
    assert check.results["strong"] > 20 and check.results["weak"] > 0
    kept = {row.connection_id: row.snapshot_id for row in db.session.scalars(select(MatchKeys))}
    assert kept == {c.id: c.current_snapshot_id for c in three}


def test_a_new_snapshot_recomputes_only_its_own_keys(three, user, monkeypatch):
    refresh_matches(user.id)
    rng = random.Random(99)
    add_snapshot(three[1], random_people(rng, "mastodon", 120))
    read: list[int] = []
    real = matches_module._rows

    def counted(snapshot_id):
        read.append(snapshot_id)
        return real(snapshot_id)

    monkeypatch.setattr(matches_module, "_rows", counted)
    check = refresh_matches(user.id)
    assert read == [three[1].current_snapshot_id]  # the others' keys were kept
    assert check.results == everyone_matched(user.id)


def test_rows_read_back_by_rank_when_ids_interleave(app, user):
    """Two snapshots written at once: ids are not contiguous, ranks still find the rows."""
    rng = random.Random(3)
    github = Connection(user_id=user.id, network="github", source="live")
    mastodon = Connection(user_id=user.id, network="mastodon", source="live")
    db.session.add_all([github, mastodon])
    db.session.commit()
    snaps = [Snapshot(connection_id=c.id, complete=True) for c in (github, mastodon)]
    db.session.add_all(snaps)
    db.session.flush()
    batches = [random_people(rng, "github", 80), random_people(rng, "mastodon", 80)]
    for a, b in zip(*batches, strict=True):  # alternate: ids interleave between snapshots
        db.session.add(Person(snapshot_id=snaps[0].id, **a))
        db.session.flush()
        db.session.add(Person(snapshot_id=snaps[1].id, **b))
        db.session.flush()
    github.current_snapshot_id, mastodon.current_snapshot_id = snaps[0].id, snaps[1].id
    db.session.commit()
    check = refresh_matches(user.id)
    assert check.results == everyone_matched(user.id)
    assert check.results["total"] > 0


def test_one_network_reads_no_people(app, user, monkeypatch):
    connection = Connection(user_id=user.id, network="github", source="live")
    db.session.add(connection)
    db.session.commit()
    add_snapshot(connection, random_people(random.Random(1), "github", 20))
    monkeypatch.setattr(matches_module, "_rows", None)  # would fail if called
    check = refresh_matches(user.id)
    assert check.results == {"networks": ["github"]}
    assert db.session.get(CrossCheck, user.id).results == {"networks": ["github"]}


def test_keys_pack_and_hash():
    import numpy as np

    arrays = (np.array([1, 2**63], dtype=np.uint64), np.array([0, 3], np.uint8), np.arange(2))
    back = unpack(pack(*arrays))
    assert all((a == b).all() for a, b in zip(arrays, back, strict=True))
    assert key_hash(0, "x.com/ada") == key_hash(1, "x.com/ada")  # links meet profiles
    assert key_hash(2, "ada") != key_hash(3, "ada")
    assert 0 <= key_hash(2, "ada") < 2**64
