"""The sync engine: snapshots, overlap counts, failures, job runners and the demo."""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from app.crypto import fernet_for
from app.demo.user import create_demo_user
from app.extensions import db
from app.models import Connection, ConnectionStatus, Follow, Person, Post, Snapshot, SyncRun
from app.networks.base import (
    AccountData,
    ArchiveError,
    AuthExpired,
    NetworkError,
)
from app.networks.base import Follow as FollowEdge
from app.networks.base import Person as PersonRecord
from app.networks.base import Post as PostRecord
from app.sync import producers, service
from app.sync.runner import SyncRefused, active_run, start_sync
from tests.factories import UserFactory


def person(pid: str, followers: int | None = 10, following: int | None = 5) -> PersonRecord:
    return PersonRecord(
        pid, pid, name=pid.title(), followers_count=followers, following_count=following
    )


def story_account() -> AccountData:
    """Bob and Rick follow me; Andrew follows me, Bob and Rick; I follow Bob and Carl."""
    people = {pid: person(pid) for pid in ("bob", "rick", "andrew", "carl")}
    return AccountData(
        owner=PersonRecord("me", "me", name="Me", followers_count=3, following_count=2),
        people=people,
        followers=["bob", "rick", "andrew"],
        friends=["bob", "carl"],
        follows={
            FollowEdge("andrew", "bob"),
            FollowEdge("andrew", "rick"),
            FollowEdge("carl", "bob"),
            FollowEdge("bob", "me"),
        },
        lists_fetched={"bob", "andrew", "carl"},
        posts=[
            PostRecord(
                "p1",
                datetime(2026, 1, 5, 9, tzinfo=UTC),
                "I love this, great work!",
                reply_count=2,
                like_count=3,
                repost_count=0,
            ),
            PostRecord(
                "p2",
                datetime(2026, 2, 7, 18, tzinfo=UTC),
                "This is awful and sad.",
                reply_count=0,
                like_count=0,
                repost_count=0,
            ),
        ],
        notes=["A note from the source."],
    )


@pytest.fixture
def producer(monkeypatch):
    """Route ``test`` runs to whatever function the test puts in ``box[0]``."""
    box = [lambda connection, run, progress: story_account()]
    monkeypatch.setitem(producers.PRODUCERS, "test", lambda c, r, p: box[0](c, r, p))
    return box


@pytest.fixture
def connection(app, user):
    conn = Connection(
        user_id=user.id, network="github", source="live", access_token="gho_secret_token"
    )
    db.session.add(conn)
    db.session.commit()
    return conn


def sync(connection: Connection, kind: str = "test", **params) -> SyncRun:
    run = start_sync(connection, kind, **params)  # TestConfig runs jobs inline
    db.session.refresh(run)
    return run


def people_by_id(snapshot_id: int) -> dict[str, Person]:
    rows = db.session.scalars(select(Person).where(Person.snapshot_id == snapshot_id))
    return {row.external_id: row for row in rows}


@pytest.mark.parametrize("big", [False, True])
def test_sync_stores_overlap_counts_of_the_story(connection, producer, monkeypatch, big):
    """The same rows whether or not the account is big enough for the sync to hand the
    memory each stage freed back to the system between stages."""
    if big:
        monkeypatch.setattr(service, "GIVE_BACK_FROM", 0)
    run = sync(connection)
    assert run.status == "done", run.error
    db.session.refresh(connection)
    snapshot = connection.current_snapshot
    assert (snapshot.followers_count, snapshot.friends_count, snapshot.mutuals_count) == (3, 2, 1)
    people = people_by_id(snapshot.id)
    assert people["andrew"].my_followers_they_follow == 2
    assert people["bob"].my_followers_they_follow == 0
    assert people["rick"].my_followers_they_follow is None  # Rick's list was not fetched
    assert people["carl"].common_friends == 1  # Carl and I both follow Bob
    assert people["bob"].common_friends == 0
    assert people["bob"].is_follower and people["bob"].is_friend
    assert not people["carl"].is_follower
    edges = set(
        db.session.execute(
            select(Follow.source, Follow.target).where(Follow.snapshot_id == snapshot.id)
        ).all()
    )
    assert ("andrew", "bob") in edges and ("me", "carl") in edges and ("rick", "me") in edges
    assert connection.handle == "me" and connection.last_synced_at is not None


def test_sync_stores_posts_with_sentiment_and_results(connection, producer):
    sync(connection)
    snapshot = db.session.get(Connection, connection.id).current_snapshot
    posts = {p.external_id: p for p in db.session.scalars(select(Post))}
    assert posts["p1"].sentiment_label == "positive"
    assert posts["p2"].sentiment_label == "negative"
    assert posts["p1"].created_at == datetime(2026, 1, 5, 9, tzinfo=UTC)
    results = snapshot.results
    assert results["timeline"]["total"] == 2
    assert results["timeline"]["response_share"] == 0.5
    assert results["sentiment"]["counts"] == {"positive": 1, "neutral": 0, "negative": 1}
    assert "A note from the source." in results["notes"]
    assert results["growth"] is None  # first snapshot
    assert {n["id"] for n in snapshot.followers_graph["nodes"]} == {"me", "bob", "rick", "andrew"}


def test_resync_records_growth_and_prunes_old_rows(connection, producer):
    first = sync(connection)
    data = story_account()
    data.followers = ["bob", "andrew", "carl"]  # Rick left, Carl arrived
    producer[0] = lambda c, r, p: data
    second = sync(connection)
    assert second.status == "done"
    db.session.refresh(connection)
    growth = connection.current_snapshot.results["growth"]
    assert [p["handle"] for p in growth["followers"]["gained"]] == ["carl"]
    assert [p["handle"] for p in growth["followers"]["lost"]] == ["rick"]
    assert growth["friends"]["net"] == 0
    old = db.session.scalar(select(Snapshot).where(Snapshot.sync_run_id == first.id))
    assert old.followers_count == 3  # kept for the growth chart
    assert db.session.scalar(select(func.count()).where(Person.snapshot_id == old.id)) == 0


def test_resync_starts_the_layouts_from_the_current_snapshots_pictures(connection, producer):
    from app.sync.service import previous_pictures

    sync(connection)
    db.session.refresh(connection)
    first = connection.current_snapshot
    assert "warm_start" not in first.followers_graph["layout"]
    pictures = previous_pictures(first)
    assert pictures["followers"].snapshot == first.id
    assert pictures["followers"].positions == {
        n["id"]: (n["x"], n["y"]) for n in first.followers_graph["nodes"] if n["id"] != "me"
    }
    sync(connection)
    db.session.refresh(connection)
    second = connection.current_snapshot
    for section, placed in (("followers", 3), ("friends", 2)):
        layout = getattr(second, f"{section}_graph")["layout"]
        assert layout["warm_start"] == {"snapshot": first.id, "placed": placed}
    assert previous_pictures(first) == {}  # pruned: its graphs are gone
    assert previous_pictures(None) == {}


@pytest.mark.parametrize(
    ("error", "message", "status"),
    [
        (NetworkError("GitHub answered 500 three times."), "GitHub answered 500", "ok"),
        (ArchiveError("tweets.js line 3: not JSON"), "tweets.js line 3", "ok"),
        (AuthExpired("Token revoked."), "Token revoked.", "reconnect"),
        (RuntimeError("bug"), "An unexpected error stopped this sync", "ok"),
    ],
)
def test_failed_sync_keeps_previous_snapshot(connection, producer, error, message, status):
    sync(connection)
    db.session.refresh(connection)
    kept = connection.current_snapshot_id

    def boom(c, r, p):
        raise error

    producer[0] = boom
    run = sync(connection)
    assert run.status == "failed" and message in run.error
    db.session.refresh(connection)
    assert connection.current_snapshot_id == kept
    assert connection.status == status
    assert len(people_by_id(kept)) == 4


def test_sync_killed_while_saving_keeps_previous_then_completes(connection, producer, monkeypatch):
    sync(connection)
    db.session.refresh(connection)
    kept = connection.current_snapshot_id

    from app.sync import service as sync_module

    real = sync_module.post_rows

    def dies_half_way(*args, **kwargs):
        yield from []
        raise KeyboardInterrupt  # the process is stopped while writing rows

    monkeypatch.setattr(sync_module, "post_rows", dies_half_way)
    with pytest.raises(KeyboardInterrupt):
        sync(connection)
    db.session.rollback()
    db.session.refresh(connection)
    assert connection.current_snapshot_id == kept
    half = db.session.scalar(select(Snapshot).where(Snapshot.complete.is_(False)))
    assert half is not None  # the half-built snapshot is there, and invisible

    monkeypatch.setattr(sync_module, "post_rows", real)
    interrupted = db.session.scalar(select(SyncRun).order_by(SyncRun.id.desc()))
    interrupted.updated_at = datetime.now(UTC) - timedelta(hours=1)  # as seen an hour later
    db.session.commit()
    run = sync(connection)
    assert run.status == "done"
    db.session.refresh(interrupted)
    assert interrupted.status == "failed" and "interrupted" in interrupted.error
    assert db.session.scalar(select(func.count()).where(Snapshot.complete.is_(False))) == 0
    db.session.refresh(connection)
    assert connection.current_snapshot_id not in (None, kept)


def test_double_start_returns_the_running_sync(connection, producer, app):
    app.config["JOBS_MODE"] = "thread"
    release = threading.Event()

    def slow(conn, run, progress):
        release.wait(10)
        return story_account()

    producer[0] = slow
    first = start_sync(connection, "test")
    second = start_sync(connection, "test")  # the form posted twice
    assert first.id == second.id
    assert active_run(connection).id == first.id
    release.set()
    worker = next((t for t in threading.enumerate() if t.name == f"sync-{first.id}"), None)
    if worker is not None:
        worker.join(timeout=30)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(SyncRun)) == 1
    assert db.session.get(SyncRun, first.id).status == "done"


def test_reconnect_needed_refuses_live_sync(connection):
    connection.status = ConnectionStatus.RECONNECT
    db.session.commit()
    with pytest.raises(SyncRefused, match="needs to be reconnected"):
        start_sync(connection, "live")


def test_live_sync_of_an_import_only_network_fails_clearly(user):
    connection = Connection(user_id=user.id, network="instagram", source="live")
    db.session.add(connection)
    db.session.commit()
    run = sync(connection, "live")
    assert run.status == "failed"
    assert run.error == "Instagram cannot be read live: import your archive."


def test_unknown_kind_is_refused(connection):
    with pytest.raises(SyncRefused):
        start_sync(connection, "carrier-pigeon")


def test_progress_is_recorded(connection, producer):
    def reports(conn, run, progress):
        progress.stage("followers", total=3)
        progress.request()
        progress.advance(3)
        progress.paused(datetime.now(UTC) + timedelta(seconds=1))
        assert run.status == "paused"
        progress.advance()
        assert run.status == "running" and run.paused_until is None
        return story_account()

    producer[0] = reports
    run = sync(connection)
    assert run.status == "done" and run.requests == 1 and run.finished_at is not None


def test_thread_runner_finishes_in_background(connection, producer, app):
    app.config["JOBS_MODE"] = "thread"
    run = start_sync(connection, "test")
    worker = next((t for t in threading.enumerate() if t.name == f"sync-{run.id}"), None)
    if worker is not None:  # it may have finished already
        worker.join(timeout=30)
    db.session.expire_all()
    assert db.session.get(SyncRun, run.id).status == "done"


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL (real Redis)")
def test_rq_runner_against_real_redis(connection, producer, app):
    from rq import SimpleWorker

    from app.sync.runner import redis_queue

    app.config["REDIS_URL"] = os.environ["REDIS_URL"]
    app.config["JOBS_MODE"] = "rq"
    queue = redis_queue(app)
    queue.empty()
    run = start_sync(connection, "test")
    assert db.session.get(SyncRun, run.id).status == "queued"
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    db.session.expire_all()
    assert db.session.get(SyncRun, run.id).status == "done"


def test_tokens_are_encrypted_at_rest(connection, app):
    raw = db.session.execute(text("SELECT access_token FROM connections")).scalar_one()
    assert "gho_secret_token" not in raw
    assert (
        fernet_for(app.config["TOKEN_ENCRYPTION_KEY"]).decrypt(raw.encode()) == b"gho_secret_token"
    )
    db.session.expire_all()
    assert db.session.get(Connection, connection.id).access_token == "gho_secret_token"


def test_any_secret_works_as_token_key():
    box = fernet_for("a" * 64)  # what Heroku's secret generator makes
    assert box.decrypt(box.encrypt(b"x")) == b"x"


def test_token_unreadable_after_key_change(connection, app):
    app.config["TOKEN_ENCRYPTION_KEY"] = "another key entirely"
    db.session.expire_all()
    assert db.session.get(Connection, connection.id).access_token is None


def test_deleting_user_removes_everything(connection, producer, user):
    sync(connection)
    db.session.delete(user)
    db.session.commit()
    for model in (Connection, SyncRun, Snapshot, Person, Follow, Post):
        assert db.session.scalar(select(func.count()).select_from(model)) == 0, model


def test_demo_user_has_every_network_with_growth(app):
    user, _ = create_demo_user("demo", "demo password", followers=40)
    assert user.check_password("demo password")
    assert len(user.connections) == 7
    for conn in user.connections:
        assert conn.source == "demo" and conn.current_snapshot.complete
        assert conn.current_snapshot.results["growth"] is not None
        snaps = db.session.scalars(
            select(Snapshot).where(Snapshot.connection_id == conn.id).order_by(Snapshot.id)
        ).all()
        assert len(snaps) == 2 and snaps[0].created_at < snaps[1].created_at
    linkedin = next(c for c in user.connections if c.network == "linkedin")
    rows = people_by_id(linkedin.current_snapshot_id)
    assert all(
        p.followers_count is None and p.my_followers_they_follow is None for p in rows.values()
    )
    again, _ = create_demo_user("demo", "other password", followers=40)
    assert again.id == user.id and len(again.connections) == 7


def test_demo_keeps_real_connections(app):
    owner = UserFactory(username="demo")
    real = Connection(user_id=owner.id, network="github", source="live")
    db.session.add(real)
    db.session.commit()
    user, _ = create_demo_user("demo", "pw pw pw pw", followers=30)
    github = next(c for c in user.connections if c.network == "github")
    assert github.id == real.id and github.source == "live"


def test_demo_command(runner, app):
    result = runner.invoke(args=["demo", "--password", "demo-pass-1", "--followers", "30"])
    assert result.exit_code == 0, result.output
    assert "sign in as demo with password demo-pass-1" in result.output
