"""Background jobs: a thread in the web process by default, RQ workers when ``REDIS_URL`` is set.

Progress and errors live in the database (:class:`app.models.SyncRun`), so pages read them
the same way whichever runner did the work. ``JOBS_MODE`` picks the runner: ``thread``
(default without Redis), ``rq`` (default with Redis) or ``inline`` (run before returning;
for tests and the command line).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import select

from app.extensions import db
from app.models import Connection, ConnectionStatus, SyncRun, SyncStatus, utcnow
from app.networks import NETWORKS
from app.sources import PRODUCERS
from app.sync import STALE_AFTER, SyncRefused, remove_upload, run_sync

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
    """Job entry point for every runner; creates an app when a worker has none."""
    if has_app_context():
        run_sync(run_id)
        return
    from app.app import create_app

    with create_app().app_context():  # pragma: no cover - RQ worker without an app context
        run_sync(run_id)


def active_run(connection: Connection) -> SyncRun | None:
    """The connection's queued, running or paused run, if one is alive."""
    run = db.session.scalar(
        select(SyncRun)
        .where(
            SyncRun.connection_id == connection.id,
            SyncRun.status.in_([SyncStatus.QUEUED, SyncStatus.RUNNING, SyncStatus.PAUSED]),
        )
        .order_by(SyncRun.id.desc())
    )
    if run is None:
        return None
    now = utcnow()
    last = run.updated_at or run.created_at
    waiting = run.paused_until is not None and run.paused_until > now
    if not waiting and now - last > STALE_AFTER:
        run.status = SyncStatus.FAILED
        run.error = "This sync was interrupted (the server restarted). Start it again."
        run.finished_at = now
        db.session.commit()
        return None
    return run


def start_sync(connection: Connection, kind: str, **params: Any) -> SyncRun:
    """Queue a sync of ``connection`` and hand it to the job runner.

    A sync already queued or running is returned instead of starting a second one (a form
    posted twice starts one job).

    :param kind: the producer to use (``live``, ``public``, ``import``, ``demo``).
    :raises SyncRefused: when the connection needs reconnecting first.
    """
    if kind not in PRODUCERS:
        raise SyncRefused(f"{kind!r} syncs are not available.")
    if kind in {"live"} and connection.status == ConnectionStatus.RECONNECT:
        raise SyncRefused(
            f"{NETWORKS[connection.network].label} needs to be reconnected before it can sync."
        )
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
