"""Scheduled syncs with a controllable clock: defaults, spreading, skipping, backing off, the
lock that lets one process of many run the scheduler, the CLI command, and the page."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Connection, ConnectionStatus, SchedulerLock, SyncRun, SyncStatus
from app.sync import schedule
from app.sync.runner import start_sync
from app.sync.schedule import PERIODS, acquire, plan, slot_after, sync_due, tick
from tests.conftest import csrf_token
from tests.fakes.github import FakeGitHub
from tests.fakes.world import small_world

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
TTL = timedelta(minutes=3)


@pytest.fixture
def gh():
    with FakeGitHub(small_world()) as server:
        yield server


@pytest.fixture
def config_overrides(gh):
    return {"GITHUB_API_URL": gh.url, "HTTP_BACKOFF": 0.01, "HTTP_MAX_RETRIES": 0}


def connect(user, network: str = "github", source: str = "live", **extra) -> Connection:
    connection = Connection(
        user_id=user.id,
        network=network,
        source=source,
        handle="me",
        access_token="test-token",
        **extra,
    )
    db.session.add(connection)
    db.session.commit()
    return connection


def runs() -> int:
    return db.session.scalar(select(func.count(SyncRun.id))) or 0


def test_defaults_by_source_and_network(user):
    assert schedule.schedule_of(connect(user)) == "daily"
    assert schedule.schedule_of(connect(user, "mastodon", "import")) == "off"
    assert schedule.schedule_of(connect(user, "bluesky", "demo")) == "off"
    instagram = connect(user, "instagram", "live")  # no live door: nothing to re-read
    assert schedule.schedule_of(instagram) == "off"
    assert "6h" not in schedule.choices(schedule.CONNECTORS["x"])
    assert "6h" in schedule.choices(schedule.CONNECTORS["github"])


def test_slots_spread_connections_over_the_period():
    period = PERIODS["daily"]
    slots = [slot_after(cid, period, NOW) for cid in range(1, 101)]
    assert all(NOW < slot <= NOW + period for slot in slots)
    minutes = sorted({(slot - NOW) // timedelta(minutes=15) for slot in slots})
    assert len(minutes) > 60  # 100 connections land in more than 60 of the 96 quarter-hours
    # a connection keeps its own slot day after day
    first = slot_after(7, period, NOW)
    assert slot_after(7, period, first) == first + period


def test_a_successful_sync_plans_the_next_on_its_slot(app, user, gh):
    connection = connect(user)
    run = start_sync(connection, "live")
    assert run.status == SyncStatus.DONE
    db.session.refresh(connection)
    assert connection.sync_failures == 0
    due = connection.next_sync_at
    assert due is not None
    assert connection.last_synced_at + PERIODS["daily"] / 2 < due
    assert due <= connection.last_synced_at + PERIODS["daily"] * 1.5


def test_due_connections_sync_and_others_wait(app, user, gh):
    due = connect(user, next_sync_at=NOW - timedelta(minutes=1))
    later = connect(user, "bluesky", "public", next_sync_at=NOW + timedelta(hours=1))
    assert sync_due(NOW) == [due.id]
    assert runs() == 1
    run = db.session.scalars(select(SyncRun)).one()
    assert run.params == {"scheduled": True} and run.status == SyncStatus.DONE
    db.session.refresh(later)
    assert later.next_sync_at == NOW + timedelta(hours=1)
    assert sync_due(NOW) == []  # nothing is due twice


def test_a_running_sync_or_a_reconnect_is_skipped(app, user, gh):
    busy = connect(user, next_sync_at=NOW - timedelta(minutes=1))
    db.session.add(SyncRun(connection=busy, kind="live", status=SyncStatus.RUNNING))
    db.session.commit()
    stale = connect(
        user, "mastodon", next_sync_at=NOW - timedelta(minutes=1), status=ConnectionStatus.RECONNECT
    )
    assert sync_due(datetime.now(UTC)) == []
    assert runs() == 1
    db.session.refresh(stale)
    assert stale.next_sync_at is None  # planned again when it is reconnected and syncs


def test_failures_back_off_and_the_page_says_so(app, auth, client, user, gh):
    connection = connect(user)
    gh.fail_next(100, status=500)
    waits = []
    for _ in range(4):
        run = start_sync(connection, "live")
        assert run.status == SyncStatus.FAILED
        db.session.refresh(connection)
        waits.append(connection.next_sync_at - run.finished_at)
    assert [round(w / timedelta(hours=1)) for w in waits] == [1, 2, 4, 8]
    assert connection.sync_failures == 4
    connection.sync_failures = 20
    assert plan(connection, NOW) == NOW + schedule.LONGEST_RETRY
    connection.sync_failures = 4
    db.session.commit()

    auth.login()
    page = client.get("/dashboard/user").get_data(as_text=True)
    assert "Stale: The last 4 syncs failed" in page
    gh.fail_next(0)


def test_one_lock_holder_at_a_time(app, user):
    assert acquire("web-1", TTL, NOW) is True
    assert acquire("web-2", TTL, NOW + timedelta(minutes=1)) is False
    assert acquire("web-1", TTL, NOW + timedelta(minutes=1)) is True  # renewing its own
    assert acquire("web-2", TTL, NOW + timedelta(minutes=5)) is True  # web-1 went quiet
    assert db.session.get(SchedulerLock, schedule.LOCK).holder == "web-2"


def test_only_the_holder_starts_syncs(app, user, gh):
    connect(user, next_sync_at=NOW - timedelta(minutes=1))
    assert tick("worker-a", TTL, NOW) is not None
    connect(user, "bluesky", "public", next_sync_at=NOW - timedelta(minutes=1))
    assert tick("worker-b", TTL, NOW) is None  # worker-a holds the lock
    assert runs() == 1


def test_the_scheduler_thread_runs_rounds(app, user, gh):
    connect(user, next_sync_at=datetime.now(UTC) - timedelta(minutes=1))
    app.config.update(SCHEDULER=True, SCHEDULER_INTERVAL=0.05)
    app.extensions.pop("md_scheduler", None)
    scheduler = schedule.start_scheduler(app)
    assert scheduler is not None and schedule.start_scheduler(app) is scheduler
    try:
        for _ in range(200):
            db.session.expire_all()
            if runs():
                break
            scheduler.stopping.wait(0.05)
    finally:
        scheduler.stop()
        scheduler.join(timeout=5)
    assert runs() == 1


def test_sync_due_command(app, runner, user, gh):
    connect(user, next_sync_at=datetime.now(UTC) - timedelta(minutes=1))
    result = runner.invoke(args=["sync-due"])
    assert result.exit_code == 0 and "Started 1 scheduled sync." in result.output
    lock = db.session.get(SchedulerLock, schedule.LOCK)
    lock.holder, lock.expires_at = "elsewhere", datetime.now(UTC) + TTL
    db.session.commit()
    result = runner.invoke(args=["sync-due"])
    assert "Another process is running the scheduler" in result.output


def test_the_schedule_is_chosen_on_the_page(app, auth, client, user, gh):
    connection = connect(user)
    start_sync(connection, "live")
    auth.login()
    page = client.get("/dashboard/user/github").get_data(as_text=True)
    assert 'id="schedule-form"' in page and "next " in page
    token = csrf_token(client, "/dashboard/user/github")
    client.post("/dashboard/user/github/schedule", data={"csrf_token": token, "schedule": "off"})
    db.session.refresh(connection)
    assert (connection.schedule, connection.next_sync_at) == ("off", None)
    client.post("/dashboard/user/github/schedule", data={"csrf_token": token, "schedule": "6h"})
    db.session.refresh(connection)
    assert connection.schedule == "6h" and connection.next_sync_at is not None
    response = client.post(
        "/dashboard/user/github/schedule", data={"csrf_token": token, "schedule": "hourly"}
    )
    assert response.status_code == 302
    db.session.refresh(connection)
    assert connection.schedule == "6h"


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL (real Redis)")
def test_due_syncs_go_to_the_rq_queue(app, user, gh):
    from app.sync.runner import redis_queue

    app.config.update(JOBS_MODE="rq", REDIS_URL=os.environ["REDIS_URL"])
    queue = redis_queue(app)
    queue.empty()
    connection = connect(user, next_sync_at=datetime.now(UTC) - timedelta(minutes=1))
    assert sync_due() == [connection.id]
    run = db.session.scalars(select(SyncRun)).one()
    assert run.status == SyncStatus.QUEUED
    assert queue.job_ids == [f"sync-{run.id}"]
    queue.empty()
