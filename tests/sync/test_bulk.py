"""Bulk writes through the driver, and the integer circle the sync counts and writes with."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select

from app.analysis.graph import analyse_graphs
from app.demo.synthetic import make_account
from app.extensions import db
from app.models import Connection, Follow, Person, Post, Snapshot
from app.networks.base import AccountData, Edges, PostSpool, as_edges, count_posts
from app.networks.base import Follow as FollowRecord
from app.networks.base import Person as PersonRecord
from app.networks.base import Post as PostRecord
from app.sync.bulk import analyze, copy_rows
from app.sync.circle import Circle
from app.sync.service import POST_COLUMNS


@pytest.fixture
def snapshot(app, user):
    connection = Connection(user_id=user.id, network="github", source="live")
    db.session.add(connection)
    db.session.commit()
    snap = Snapshot(connection_id=connection.id, complete=False)
    db.session.add(snap)
    db.session.commit()
    return snap


def post_values(snapshot_id: int, external_id: str) -> dict:
    return {
        "snapshot_id": snapshot_id,
        "external_id": external_id,
        "created_at": datetime(2026, 3, 1, 12, 30, 5, 123456, tzinfo=UTC),
        "kind": "reply",
        "text": "Ünïcode, 'quotes', \"double\", tab\tand\nline",
        "url": None,
        "reply_count": 3,
        "like_count": None,
        "repost_count": 0,
        "in_reply_to": "p0",
        "is_repost": True,
        "first_response_at": datetime(2026, 3, 1, 13, tzinfo=UTC),
        "sentiment_label": "neutral",
        "sentiment_score": 0.25,
    }


def test_copy_rows_reads_back_as_sqlalchemy_insert_does(snapshot):
    """Dates, booleans, JSON and None read back the same through either write path."""
    sid = snapshot.id
    db.session.execute(insert(Post), [post_values(sid, "orm")])
    fast = post_values(sid, "fast")
    written = copy_rows(
        db.session,
        Post.__table__,
        POST_COLUMNS,
        [tuple(fast[name] for name in POST_COLUMNS)],
    )
    db.session.commit()
    assert written == 1
    rows = {p.external_id: p for p in db.session.scalars(select(Post))}
    columns = [name for name in POST_COLUMNS if name != "external_id"]
    assert {c: getattr(rows["fast"], c) for c in columns} == {
        c: getattr(rows["orm"], c) for c in columns
    }
    assert rows["fast"].created_at == fast["created_at"]
    assert rows["fast"].is_repost is True


def test_copy_rows_in_batches_reports_progress_and_json(snapshot):
    done: list[int] = []
    rows = [
        (snapshot.id, f"id{i}", f"h{i}", i % 2 == 0, False, [f"https://example.org/{i}"])
        for i in range(25)
    ]
    columns = ("snapshot_id", "external_id", "handle", "is_follower", "is_friend", "links")
    assert copy_rows(db.session, Person.__table__, columns, rows, batch=10, progress=done.append)
    db.session.commit()
    assert done == [10, 10, 5]
    stored = {p.external_id: p for p in db.session.scalars(select(Person))}
    assert stored["id7"].links == ["https://example.org/7"]
    assert stored["id4"].is_follower and not stored["id7"].is_follower
    analyze(db.session, ["people", "follows", "posts"])  # statistics refreshed, no error
    db.session.commit()


def test_a_failed_copy_leaves_nothing(snapshot):
    rows = [(snapshot.id, "a", "b"), (snapshot.id, "a", "b")]  # the same key twice
    with pytest.raises(Exception):  # noqa: B017 - the driver's own integrity error
        copy_rows(db.session, Follow.__table__, ("snapshot_id", "source", "target"), rows)
        db.session.commit()
    db.session.rollback()
    assert db.session.scalars(select(Follow)).all() == []


def test_edges_behave_as_the_set_they_stand_for():
    edges = Edges([FollowRecord("a", "b"), FollowRecord("b", "c")])
    edges.add(FollowRecord("a", "b"))
    edges.update([FollowRecord("c", "a")])
    assert len(edges) == 3
    assert edges == {FollowRecord("a", "b"), FollowRecord("b", "c"), FollowRecord("c", "a")}
    assert FollowRecord("a", "b") in edges and FollowRecord("b", "a") not in edges
    assert FollowRecord("a", "zz") not in edges and "a" not in edges
    assert as_edges(edges) is edges and len(as_edges({FollowRecord("x", "y")})) == 1
    assert (edges == [1]) is False
    assert "3 edges among 3 ids" in repr(edges)
    assert len(Edges()) == 0 and list(Edges()) == []


def test_edges_drop_repeats_in_place_as_a_set_would():
    """Sorting and deduplicating in place (no copy of the keys) keeps exactly the set, in
    key order, whatever the repeats, and edges added afterwards are kept too."""
    rng = random.Random(17)
    for size in (0, 1, 2, 3, 10, 200, 3000):
        pairs = [(f"p{rng.randrange(12)}", f"p{rng.randrange(12)}") for _ in range(size)]
        edges = Edges()
        for source, target in pairs:
            edges.add_pair(source, target)
        assert len(edges) == len(set(pairs))
        assert edges == {FollowRecord(source, target) for source, target in pairs}
        keys = edges.keys().tolist()
        assert keys == sorted(set(keys))
        assert {(key >> 32, key & 0xFFFFFFFF) for key in keys} == {
            (edges.number(source), edges.number(target)) for source, target in pairs
        }
        edges.add_pair("new", "edge")
        edges.add_pair("new", "edge")
        assert len(edges) == len(set(pairs)) + 1 and FollowRecord("new", "edge") in edges


@pytest.mark.parametrize("cap", [40, 5000])
def test_circle_counts_what_the_graph_analysis_counts(cap):
    """Overlaps, totals and mutuals over integers equal the object-by-object analysis of the
    whole account, whether or not the graphs are cut to ``cap`` people."""
    data = make_account("github", 300, posts=0, now=datetime(2026, 1, 1, tzinfo=UTC))
    data.followers = [*data.followers, data.followers[0], data.owner.external_id]  # repeats
    data.follows.add(FollowRecord("gi1001", "gi1001"))  # a self-follow counts for nothing
    data.follows.add(FollowRecord("gi1001", data.owner.external_id))
    reference = analyse_graphs(data, max_people=100_000)
    circle = Circle.of(data)
    assert circle.mutuals == reference["mutuals"]
    for section in ("followers", "friends"):
        counts = circle.section_counts(section)
        assert counts["total"] == reference[section]["total"]
        assert counts["fetched"] == reference[section]["fetched"]
    graphs = analyse_graphs(circle.for_graphs(cap), max_people=cap)
    rows = {row[1]: row for row in circle.person_rows(1, graphs)}
    assert set(rows) == set(reference["followers"]["people"]) | set(reference["friends"]["people"])
    for pid, row in rows.items():
        as_follower = reference["followers"]["people"].get(pid, {})
        as_friend = reference["friends"]["people"].get(pid, {})
        assert row[12] == as_follower.get("my_followers_they_follow"), pid
        assert row[13] == as_friend.get("common_friends"), pid
    assert graphs["followers"]["covered"] == min(cap, reference["followers"]["total"])
    if cap >= 300:  # nothing cut: the very same graph
        for section in ("followers", "friends"):
            ours, theirs = graphs[section]["graph"], reference[section]["graph"]
            assert ours["nodes"] == theirs["nodes"]

            def pairs(links):
                return sorted((link["source"], link["target"]) for link in links)

            assert pairs(ours["links"]) == pairs(theirs["links"])


@pytest.mark.parametrize("owner_first", [False, True])
@pytest.mark.parametrize("rows", [3, 64, 50_000])
def test_circle_rows_in_batches_are_the_plain_rows_in_order(monkeypatch, rows, owner_first):
    """Counts, graph edges, person and follow rows read ``rows`` edges or rows at a time are
    those of one pass, and the rows those a plain pass over the records makes, in the same
    order: the owner's follows merged in key order across batch edges, no repeat, people
    without a record last; whether the owner's number comes after everyone's or first."""
    import app.sync.circle as circle_module

    data = make_account("github", 120, posts=0, now=datetime(2026, 1, 1, tzinfo=UTC))
    owner = data.owner.external_id
    if owner_first:
        follows = Edges()
        follows.intern(owner)
        follows.update(data.follows)
        data = replace(data, follows=follows)
    data.follows.add(FollowRecord(owner, data.followers[5]))  # the records name the owner
    data.follows.add(FollowRecord(data.friends[3], owner))
    data.followers = [*data.followers, "no-record"]
    whole = Circle.of(data)  # every edge in one chunk
    monkeypatch.setattr(circle_module, "ROWS", rows)
    monkeypatch.setattr(circle_module, "CHUNK", rows)
    circle = Circle.of(data)
    assert circle.follows_followers.tolist() == whole.follows_followers.tolist()
    assert circle.follows_friends.tolist() == whole.follows_friends.tolist()
    assert circle.for_graphs(40).follows == whole.for_graphs(40).follows
    empty = {"people": {}}
    number = circle.edges.number
    listed = set(data.followers) | set(data.friends)
    people = [pid for pid in data.people if pid in listed]
    expected_ids = people + [
        pid for pid in dict.fromkeys(data.followers + data.friends) if pid not in data.people
    ]
    person_rows = list(circle.person_rows(1, {"followers": empty, "friends": empty}))
    assert [row[1] for row in person_rows] == expected_ids
    by_id = {row[1]: row for row in person_rows}
    assert by_id["no-record"][2:9] == ("no-record", None, None, None, None, None, None)
    assert by_id["no-record"][9:12] == (True, False, False)
    known = listed | {owner}
    edges = {
        (f.source, f.target)
        for f in data.follows
        if f.source in known and f.target in known and f.source != f.target
    }
    edges |= {(pid, owner) for pid in data.followers} | {(owner, pid) for pid in data.friends}
    expected = sorted(edges, key=lambda edge: (number(edge[0]), number(edge[1])))
    follow_rows = list(circle.follow_rows(7))
    assert follow_rows == [(7, source, target) for source, target in expected]
    assert len(follow_rows) > 3 * rows or rows == 50_000


def test_owner_follows_past_the_last_edge_come_in_key_order():
    """The owner's implied follows after the last edge are "X follows me" for X numbered
    below the owner, then "I follow X", then "X follows me" for the rest."""
    edges = Edges()
    edges.add_pair("a", "b")
    for pid in ("quiet", "me", "z"):  # numbered 2, 3, 4
        edges.intern(pid)
    data = AccountData(
        owner=PersonRecord("me", "me"),
        followers=["a", "quiet", "z"],
        friends=["b", "z"],
        follows=edges,
    )
    rows = list(Circle.of(data).follow_rows(1))
    assert [row[1:] for row in rows] == [
        ("a", "b"),
        ("a", "me"),
        ("quiet", "me"),
        ("me", "b"),
        ("me", "z"),
        ("z", "me"),
    ]


def test_circle_picks_read_lists_then_overlap_for_the_graph():
    people = {pid: PersonRecord(pid, pid, followers_count=n) for pid, n in [("a", 5), ("b", 900)]}
    people |= {pid: PersonRecord(pid, pid) for pid in ("c", "d")}
    data = AccountData(
        owner=PersonRecord("me", "me"),
        people=people,
        followers=["a", "b", "c", "d"],
        friends=None,
        follows={FollowRecord("c", "a"), FollowRecord("c", "b"), FollowRecord("d", "a")},
        lists_fetched={"c", "d"},
    )
    circle = Circle.of(data)
    names = circle.edges.names
    assert [names[n] for n in circle.chosen("followers", 3)] == ["c", "d", "b"]
    assert circle.section_counts("friends") == {"total": None, "fetched": 0}
    assert circle.mutuals is None
    reduced = circle.for_graphs(3)
    assert reduced.followers == ["c", "d", "b"] and reduced.friends is None
    assert reduced.follows == {FollowRecord("c", "b")}
    assert reduced.lists_fetched == {"c", "d"}
    rows = sorted(circle.follow_rows(7))
    assert (7, "c", "a") in rows and (7, "a", "me") in rows and len(rows) == 7


def test_people_spool_is_a_mapping_of_copies():
    from app.networks.base import PeopleSpool

    spool = PeopleSpool()
    spool.BATCH = 3  # several flushes
    for i in range(10):
        spool[f"p{i}"] = PersonRecord(f"p{i}", f"h{i}", links=("https://a.example",))
    spool["p3"] = PersonRecord("p3", "renamed", followers_count=5)
    assert len(spool) == 10 and "p3" in spool and "zz" not in spool
    assert spool["p3"].handle == "renamed" and spool["p3"].followers_count == 5
    assert spool.get("p4").links == ("https://a.example",) and spool.get("zz") is None
    assert list(spool) == [f"p{i}" for i in range(10)]  # first-stored order
    copy = spool["p1"]
    copy.handle = "changed"
    assert spool["p1"].handle == "h1"  # a copy: stored again to keep a change
    del spool["p1"]
    assert "p1" not in spool and len(spool) == 9
    with pytest.raises(KeyError):
        del spool["p1"]
    with pytest.raises(KeyError):
        spool["p1"]
    assert [p.external_id for p in spool.values()][:2] == ["p0", "p2"]
    assert dict(spool.items())["p9"].handle == "h9"
    assert "9 people" in repr(spool)


def stored_rows(user, data: AccountData, model) -> tuple[Snapshot, list[tuple]]:
    """Store ``data`` as a new demo connection's snapshot, as the job does; return it and
    its rows of ``model`` (without ids), sorted."""
    from app.models import SyncRun
    from app.sync import service

    connection = Connection(user_id=user.id, network="github", source="demo")
    db.session.add(connection)
    db.session.commit()
    run = SyncRun(connection=connection, kind="demo", params={})
    db.session.add(run)
    db.session.commit()
    snap = service.store_snapshot(connection, run, data, service.RunProgress(run))
    columns = (c for c in model.__table__.c if c.name not in ("id", "snapshot_id"))
    rows = db.session.execute(select(*columns).where(model.snapshot_id == snap.id)).all()
    return snap, sorted(tuple(row) for row in rows)


def test_a_spooled_account_stores_what_a_dict_one_does(app, user):
    """The sync reads people only as a mapping: the rows are the same either way."""
    from app.networks.base import PeopleSpool

    stored = []
    for spooled in (False, True):
        data = make_account("github", 400, posts=5, now=datetime(2026, 1, 1, tzinfo=UTC))
        long_id = "x" * 300  # cut to fit by make_safe: renamed in the spool too
        data.people[long_id] = PersonRecord(long_id, "long", name="A\x00B")
        data.followers.append(long_id)
        if spooled:
            data.people = PeopleSpool(data.people.items())
        snap, rows = stored_rows(user, data, Person)
        stored.append(rows)
        db.session.delete(db.session.get(Connection, snap.connection_id))
        db.session.commit()
    assert stored[0] == stored[1]
    assert len(stored[0]) == len(set(data.followers) | set(data.friends))
    assert any(row[0] == "x" * 255 and row[2] == "AB" for row in stored[1])


def test_synthetic_handles_stay_unique_past_the_pools(monkeypatch):
    import random

    from app.demo import synthetic

    monkeypatch.setattr(synthetic, "FIRST", ["ada"])
    monkeypatch.setattr(synthetic, "LAST", ["lace"])  # 999 pooled handles in all
    handles = synthetic._handles(random.Random(0), 1500, set())
    assert len(set(handles)) == 1500
    assert any(
        handle.endswith(tuple("0123456789")) and int(handle[8:]) >= 1000 for handle in handles
    )


def test_a_progress_that_commits_between_batches_loses_nothing(snapshot):
    """The sync's progress commits every half second: each batch takes the session's
    connection again (PostgreSQL refused the next batch on the handed-back one)."""
    done: list[int] = []

    def commit(count: int) -> None:
        done.append(count)
        db.session.commit()

    rows = [(snapshot.id, f"s{i}", "t") for i in range(35)]
    copy_rows(
        db.session,
        Follow.__table__,
        ("snapshot_id", "source", "target"),
        rows,
        batch=10,
        progress=commit,
    )
    db.session.commit()
    assert done == [10, 10, 10, 5]
    assert len(db.session.scalars(select(Follow)).all()) == 35


def spool_post(pid: str, minute: int, text: str = "hello", **fields) -> PostRecord:
    return PostRecord(pid, datetime(2026, 3, 1, 12, minute, tzinfo=UTC), text, **fields)


@pytest.mark.parametrize("spill", [1000, 2])
def test_post_spool_is_a_sequence_of_copies_in_date_order(spill):
    """The same behaviour kept as objects and spilled to its file: one post per id (the
    first kept), date then id order, copies, changes through rewrite, labels beside."""
    spool = PostSpool()
    spool.SPILL = spill
    spool.BATCH = 2  # several statements and keyset batches
    spool.labels["b"] = ("positive", 0.5)  # a label given before the spill survives it
    for post in (
        spool_post("c", 5),
        spool_post("b", 1, first_response_at=datetime(2026, 3, 1, 13, 0, 0, 7, tzinfo=UTC)),
        spool_post("a", 5, like_count=3, is_repost=True),
        spool_post("b", 9, "a second copy of b"),
        spool_post("d", 0, "ünïcode 🎉", url="https://example.org/d", kind="reply"),
    ):
        spool.append(post)
    assert spool.spilled == (spill == 2)
    assert len(spool) == 4 and bool(spool)
    assert [p.external_id for p in spool] == ["d", "b", "a", "c"]
    assert spool[1].text == "hello"  # the first b is kept
    assert spool[1].first_response_at == datetime(2026, 3, 1, 13, 0, 0, 7, tzinfo=UTC)
    assert spool[-1].external_id == "c" and spool[0].text == "ünïcode 🎉"
    assert spool[2] == spool_post("a", 5, like_count=3, is_repost=True)
    with pytest.raises(IndexError):
        spool[4]
    copy = spool[0]
    copy.text = "changed"
    assert spool[0].text == "ünïcode 🎉"

    def shorten(post: PostRecord) -> None:
        post.text = post.text[:3]
        if post.external_id == "c":
            post.external_id = "c2"

    spool.rewrite(shorten)
    assert [(p.external_id, p.text) for p in spool] == [
        ("d", "ünï"),
        ("b", "hel"),
        ("a", "hel"),
        ("c2", "hel"),
    ]
    spool.labels["a"] = ("negative", -0.25)
    assert spool.labels["b"] == ("positive", 0.5) and len(spool.labels) == 2
    assert sorted(spool.labels) == ["a", "b"] and "d" not in spool.labels
    assert [(p.external_id, label) for p, label in spool.labelled()] == [
        ("d", None),
        ("b", ("positive", 0.5)),
        ("a", ("negative", -0.25)),
        ("c2", None),
    ]
    del spool.labels["a"]
    assert "a" not in spool.labels
    with pytest.raises(KeyError):
        del spool.labels["a"]
    assert spool == list(spool) and spool != [] and count_posts(spool) == 4
    assert f"4 posts{', spilled' if spill == 2 else ''}" in repr(spool)


def test_a_spooled_account_stores_the_posts_a_list_one_does(app, user, monkeypatch):
    """Posts past the spill go through the file: the rows, labels and analyses are the same
    as for a list of the same posts (duplicates and a too-long value included)."""

    monkeypatch.setattr(PostSpool, "SPILL", 50)
    stored = []
    for spooled in (False, True):
        data = make_account("github", 30, posts=120, now=datetime(2026, 1, 1, tzinfo=UTC))
        posts = [*data.posts, data.posts[3]]  # listed twice
        posts[5].in_reply_to = "y" * 300  # cut to fit by make_safe, in the file too
        data.posts = PostSpool(posts) if spooled else posts
        assert isinstance(data.posts, PostSpool) == spooled and (not spooled or data.posts.spilled)
        snap, rows = stored_rows(user, data, Post)
        results = {key: snap.results[key] for key in ("timeline", "sentiment")}
        stored.append((rows, results, snap.posts_count))
        db.session.delete(db.session.get(Connection, snap.connection_id))
        db.session.commit()
    assert stored[0] == stored[1]
    rows, results, count = stored[1]
    assert len(rows) == count == 120
    assert sum(row[-2] is not None for row in rows) == results["sentiment"]["scored"] > 0
    assert any(row[8] == "y" * 255 for row in rows)


def test_a_post_spool_goes_with_its_last_reference():
    """No reference cycle: its temporary file is closed at once, not at a later collection."""
    import gc
    import weakref

    spool = PostSpool()
    spool.SPILL = 1
    spool.extend(spool_post(str(i), i) for i in range(3))
    spool.labels["1"] = ("neutral", 0.0)
    gone = weakref.ref(spool)
    enabled = gc.isenabled()
    gc.disable()
    try:
        del spool
        assert gone() is None
    finally:
        if enabled:
            gc.enable()
