"""The job runner: a thread in the web process by default, RQ workers when ``REDIS_URL`` is set.

Progress and errors live in the database (:class:`app.models.SyncRun`), so pages read them
the same way whichever runner did the work. ``JOBS_MODE`` picks the runner: ``thread``
(default without Redis), ``rq`` (default with Redis) or ``inline`` (run before returning;
for tests and the command line).

A run whose worker died (a restarted server) stops reporting progress; pages show it as
interrupted (:func:`is_stale`) without writing, and the next sync of that connection, or the
runner when it picks up a job, marks it failed (:func:`reap_stale`).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import select

from app.extensions import db
from app.models import Connection, ConnectionStatus, SyncRun, SyncStatus, utcnow
from app.networks import CONNECTORS
from app.networks.base import Origin
from app.sync.producers import PRODUCERS
from app.sync.service import STALE_AFTER, SyncRefused, remove_upload, run_sync

log = logging.getLogger(__name__)

QUEUE_NAME = "md-analytics"
#: Longest a single sync may run on an RQ worker before it is stopped.
JOB_TIMEOUT = 6 * 60 * 60


def jobs_mode(app: Flask) -> str:
    """The runner this app uses: ``JOBS_MODE`` if set, else ``rq`` with Redis, else ``thread``."""
    mode = app.config.get("JOBS_MODE")
    if mode:
        return str(mode)
    return "rq" if app.config.get("REDIS_URL") else "thread"


def redis_queue(app: Flask):  # type: ignore[no-untyped-def]
    """The RQ queue on ``REDIS_URL``."""
    from redis import Redis
    from rq import Queue

    connection = Redis.from_url(app.config["REDIS_URL"])
    return Queue(QUEUE_NAME, connection=connection, default_timeout=JOB_TIMEOUT)


def enqueue(run_id: int, *, local: bool = False) -> None:
    """Hand sync run ``run_id`` to the configured runner.

    :param local: the job reads a file on this machine's disk (an upload): never send it to
        an RQ worker, which may run on another machine (Heroku dynos share no disk).
    """
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    mode = jobs_mode(app)
    if local and mode == "rq":
        mode = "thread"
    if mode == "inline":
        run_job(run_id)
    elif mode == "rq":
        redis_queue(app).enqueue(run_job, run_id, job_id=f"sync-{run_id}")
    else:
        worker = threading.Thread(
            target=_thread_main, args=(app, run_id), name=f"sync-{run_id}", daemon=True
        )
        worker.start()


def _thread_main(app: Flask, run_id: int) -> None:
    with app.app_context():
        run_job(run_id)


def run_job(run_id: int) -> None:
    """Job entry point for every runner; creates an app when a worker has none.

    Runs left behind by a dead worker are reaped first, so their pages stop waiting.
    """
    if has_app_context():
        reap_stale()
        run_sync(run_id)
        return
    from app.app import create_app

    with create_app().app_context():  # pragma: no cover - RQ worker without an app context
        reap_stale()
        run_sync(run_id)


ALIVE = (SyncStatus.QUEUED, SyncStatus.RUNNING, SyncStatus.PAUSED)
#: What a run found dead is told.
INTERRUPTED = "This sync was interrupted (the server restarted). Start it again."


def is_stale(run: SyncRun, now: datetime | None = None) -> bool:
    """Whether an unfinished ``run`` has stopped reporting progress (its worker died).

    A run waiting for a rate limit to reset is not stale while it waits.
    """
    if run.status not in ALIVE:
        return False
    now = now or utcnow()
    last = run.updated_at or run.created_at
    waiting = run.paused_until is not None and run.paused_until > now
    return not waiting and now - last > STALE_AFTER


def active_run(connection: Connection) -> SyncRun | None:
    """The connection's queued, running or paused run, if one is alive (reads only)."""
    run = db.session.scalar(
        select(SyncRun)
        .where(SyncRun.connection_id == connection.id, SyncRun.status.in_(ALIVE))
        .order_by(SyncRun.id.desc())
    )
    if run is None or is_stale(run):
        return None
    return run


def reap_stale(connection_id: int | None = None) -> int:
    """Mark unfinished runs that stopped reporting progress as failed; return how many.

    :param connection_id: only this connection's runs; every connection's by default.
    """
    query = select(SyncRun).where(SyncRun.status.in_(ALIVE))
    if connection_id is not None:
        query = query.where(SyncRun.connection_id == connection_id)
    now = utcnow()
    reaped = 0
    for run in db.session.scalars(query).all():
        if is_stale(run, now):
            run.status = SyncStatus.FAILED
            run.error = INTERRUPTED
            run.finished_at = now
            reaped += 1
            log.warning("sync run %s was interrupted: marked failed", run.id)
    if reaped:
        db.session.commit()
    return reaped


def can_sync(connection: Connection) -> bool:
    """Whether "Sync now" can re-read this connection's source: the demo, or a live or
    public connection whose network can be read live (imports are refreshed by importing a
    newer archive)."""
    if connection.source == Origin.DEMO:
        return True
    return (
        connection.source in {Origin.LIVE, Origin.PUBLIC}
        and CONNECTORS[connection.network].can_fetch
    )


def start_sync(connection: Connection, kind: str, **params: Any) -> SyncRun:
    """Queue a sync of ``connection`` and hand it to the job runner.

    A sync already queued or running is returned instead of starting a second one (a form
    posted twice starts one job).

    :param kind: the producer to use (``live``, ``public``, ``import``, ``demo``).
    :raises SyncRefused: when the connection needs reconnecting first.
    """
    if kind not in PRODUCERS:
        raise SyncRefused(f"{kind!r} syncs are not available.")
    if kind == Origin.LIVE and connection.status == ConnectionStatus.RECONNECT:
        raise SyncRefused(
            f"{CONNECTORS[connection.network].label} needs to be reconnected before it can sync."
        )
    reap_stale(connection.id)
    existing = active_run(connection)
    if existing is not None:
        if params.get("path") and existing.params.get("path") != params["path"]:
            remove_upload(params["path"])
            raise SyncRefused("A sync of this network is already running. Try again when it ends.")
        return existing
    run = SyncRun(connection=connection, kind=kind, params=params, status=SyncStatus.QUEUED)
    db.session.add(run)
    db.session.commit()
    enqueue(run.id, local=bool(params.get("local")))
    return run
