"""Scheduled syncs: when each connection syncs by itself, and the loop that starts them.

Each connection has a schedule: ``off``, every ``6h``, ``daily`` (the default for live and
public connections) or ``weekly``; imports and the demo are ``off`` (an archive is refreshed by
uploading a newer one). Syncs are spread over the period: each connection has its own slot
(its id times the golden ratio, modulo the period), so a server with many users does not sync
everyone at the same minute. A due connection is skipped while a sync of it runs or waits for a
rate limit, and while it needs reconnecting. After a failure the next try backs off (one hour,
then two, four... at most a week) and the page says so; a success puts it back on its slot.

A budgeted network (X, where every read is billed) offers no schedule more often than daily.

:func:`sync_due` starts what is due; :func:`tick` does it for the process that holds the
scheduler lock (:class:`app.models.SchedulerLock`), so several gunicorn workers and RQ workers
can all run :class:`Scheduler` threads and each connection still syncs once. ``python manage.py
sync-due`` runs one tick, for Heroku Scheduler or cron.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.mail.notices import send_due_digests
from app.models import Connection, ConnectionStatus, SchedulerLock, utcnow
from app.networks import CONNECTORS
from app.networks.base import Connector, Origin

log = logging.getLogger(__name__)

#: The schedules a connection can have, with their periods.
PERIODS = {
    "6h": timedelta(hours=6),
    "daily": timedelta(days=1),
    "weekly": timedelta(days=7),
}
CHOICES = ("off", *PERIODS)
LABELS = {"off": "Off", "6h": "Every 6 hours", "daily": "Daily", "weekly": "Weekly"}
#: Networks whose reads are billed sync at most this often.
BUDGETED = frozenset({"x"})
#: The first retry after a failure; doubled for each further failure, up to a week.
FIRST_RETRY, LONGEST_RETRY = timedelta(hours=1), timedelta(days=7)
#: Failures in a row after which the page warns (and mail alerts, where configured).
WARN_AFTER = 3
LOCK = "scheduler"
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
_GOLDEN = 0.6180339887498949


def choices(connector: Connector) -> tuple[str, ...]:
    """The schedules offered for ``connector`` (no 6-hourly syncs of a billed network)."""
    if connector.key in BUDGETED:
        return tuple(choice for choice in CHOICES if choice != "6h")
    return CHOICES


def schedule_of(connection: Connection) -> str:
    """The connection's schedule: its own choice, else daily for what can be re-read live."""
    if connection.source not in (Origin.LIVE, Origin.PUBLIC):
        return "off"
    if not CONNECTORS[connection.network].can_fetch:
        return "off"
    return connection.schedule or "daily"


def slot_after(connection_id: int, period: timedelta, moment: datetime) -> datetime:
    """The connection's first slot strictly after ``moment``: slots are ``period`` apart,
    shifted by the connection's own offset so that syncs spread over the period."""
    offset = ((connection_id * _GOLDEN) % 1.0) * period
    start = _EPOCH + offset
    periods = (moment - start) // period + 1
    return start + periods * period


def plan(connection: Connection, now: datetime | None = None) -> datetime | None:
    """When the connection syncs next, from its schedule, last sync and failures."""
    schedule = schedule_of(connection)
    if schedule == "off" or connection.status == ConnectionStatus.RECONNECT:
        return None
    now = now or utcnow()
    if connection.sync_failures:
        retry = FIRST_RETRY * 2 ** (connection.sync_failures - 1)
        return now + min(retry, LONGEST_RETRY)
    period = PERIODS[schedule]
    base = connection.last_synced_at or now
    return slot_after(connection.id, period, max(base + period / 2, now))


def after_run(connection: Connection, succeeded: bool, now: datetime | None = None) -> None:
    """Count the failure (or clear the count) and plan the next scheduled sync."""
    connection.sync_failures = 0 if succeeded else connection.sync_failures + 1
    connection.next_sync_at = plan(connection, now)
    if connection.sync_failures >= WARN_AFTER:
        log.warning(
            "connection %s failed %s syncs in a row; next try %s",
            connection.id,
            connection.sync_failures,
            connection.next_sync_at,
        )


def set_schedule(connection: Connection, schedule: str, now: datetime | None = None) -> None:
    """Change the connection's schedule and plan its next sync accordingly.

    :raises ValueError: a schedule not offered for the connection's network.
    """
    if schedule not in choices(CONNECTORS[connection.network]):
        raise ValueError(f"{schedule!r} is not a schedule for {connection.network}")
    connection.schedule = schedule
    connection.next_sync_at = plan(connection, now)


def sync_due(now: datetime | None = None) -> list[int]:
    """Start the syncs that are due; return the ids of the connections started.

    A connection being synced, waiting for a rate limit or needing reconnecting is skipped;
    its next sync is planned again after the run that is going on ends (or on reconnecting).
    """
    from app.sync.runner import SyncRefused, active_run, start_sync

    now = now or utcnow()
    due = db.session.scalars(
        select(Connection)
        .where(Connection.next_sync_at.is_not(None), Connection.next_sync_at <= now)
        .order_by(Connection.next_sync_at)
    ).all()
    started = []
    for connection in due:
        if schedule_of(connection) == "off" or connection.status == ConnectionStatus.RECONNECT:
            connection.next_sync_at = None
            db.session.commit()
            continue
        if active_run(connection) is not None:
            continue  # the run going on plans the next one when it ends
        # Until the run ends, the connection is not due again (a crash retries next period).
        connection.next_sync_at = slot_after(connection.id, PERIODS[schedule_of(connection)], now)
        db.session.commit()
        try:
            start_sync(connection, connection.source, scheduled=True)
        except SyncRefused as refused:
            log.info("scheduled sync of connection %s refused: %s", connection.id, refused)
            continue
        started.append(connection.id)
    if started:
        log.info("scheduler started %s syncs", len(started))
    return started


def acquire(holder: str, ttl: timedelta, now: datetime | None = None) -> bool:
    """Take (or keep) the scheduler lock for ``ttl``; ``False`` when another holds it."""
    now = now or utcnow()
    if db.session.get(SchedulerLock, LOCK) is None:
        db.session.add(SchedulerLock(name=LOCK, holder=holder, expires_at=now + ttl))
        try:
            db.session.commit()
            return True
        except IntegrityError:  # another process created it at the same moment
            db.session.rollback()
    result = db.session.execute(
        update(SchedulerLock)
        .where(
            SchedulerLock.name == LOCK,
            or_(SchedulerLock.expires_at < now, SchedulerLock.holder == holder),
        )
        .values(holder=holder, expires_at=now + ttl)
    )
    db.session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]


def tick(holder: str, ttl: timedelta, now: datetime | None = None) -> list[int] | None:
    """One round of the scheduler, if this process holds the lock: start the syncs that are
    due, send the weekly digests that are due, then tidy imports (hand over a waiting import
    whose turn came, delete orphaned uploads: :func:`app.sync.runner.tidy_imports`)."""
    from app.sync.runner import tidy_imports

    if not acquire(holder, ttl, now):
        return None
    started = sync_due(now)
    send_due_digests(now)
    tidy_imports(now)
    return started


def holder_name() -> str:
    """This process's name for the lock: host, process id and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Scheduler(threading.Thread):
    """The scheduler loop of one process: a tick every ``SCHEDULER_INTERVAL`` seconds."""

    def __init__(self, app: Flask) -> None:
        super().__init__(name="md-scheduler", daemon=True)
        self.app = app
        self.interval = float(app.config["SCHEDULER_INTERVAL"])
        self.holder = holder_name()
        self.stopping = threading.Event()

    def run(self) -> None:
        ttl = timedelta(seconds=self.interval * 3)
        while not self.stopping.wait(self.interval):
            with self.app.app_context():
                try:
                    tick(self.holder, ttl)
                except Exception:  # the loop must outlive a bad round (a database restart)
                    log.exception("scheduler round failed")
                    db.session.rollback()
                finally:
                    db.session.remove()

    def stop(self) -> None:
        self.stopping.set()


def start_scheduler(app: Flask) -> Scheduler | None:
    """Start this process's scheduler thread once, when ``SCHEDULER`` is on."""
    if "md_scheduler" in app.extensions:
        return app.extensions["md_scheduler"]  # type: ignore[no-any-return]
    if not app.config.get("SCHEDULER"):
        app.extensions["md_scheduler"] = None
        return None
    scheduler = Scheduler(app)
    app.extensions["md_scheduler"] = scheduler
    scheduler.start()
    log.info("scheduler started (every %s s)", scheduler.interval)
    return scheduler
