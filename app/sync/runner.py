"""The job runner: a thread in the web process by default, RQ workers when ``REDIS_URL`` is set.

Progress and errors live in the database (:class:`app.models.SyncRun`), so pages read them
the same way whichever runner did the work. ``JOBS_MODE`` picks the runner: ``thread``
(default without Redis), ``rq`` (default with Redis) or ``inline`` (run before returning;
for tests and the command line).

A run whose worker died (a restarted server) stops reporting progress; pages show it as
interrupted (:func:`is_stale`) without writing, and the next sync of that connection, or the
runner when it picks up a job, marks it failed (:func:`reap_stale`).

Imports of uploaded archives: the upload is kept where the process that imports it reads it
(:mod:`app.sync.uploads`: a local file for the thread runner, the database for RQ workers),
read back by the job (:func:`run_job`) and deleted when the import ends, whatever its outcome.
A user's imports run one at a time: a second waits, not handed to any runner, with its place
in line as its stage ("queued: 2nd in line"); the end of the import ahead hands it over
(:func:`advance_queue`), and the scheduler's round does too if that end was lost
(:func:`tidy_imports`).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import select, update

from app.extensions import db
from app.models import Connection, ConnectionStatus, SyncRun, SyncStatus, Upload, utcnow
from app.networks import CONNECTORS
from app.networks.base import Origin
from app.sync import uploads
from app.sync.producers import PRODUCERS
from app.sync.service import STALE_AFTER, RunProgress, SyncRefused, fail, run_sync

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


def upload_store(app: Flask) -> str:
    """Where this app keeps uploads until their import: ``UPLOAD_STORE`` if set, else the
    database when jobs go to RQ workers (which may run on other machines), else a local file."""
    store = app.config.get("UPLOAD_STORE")
    if store:
        return str(store)
    return uploads.DATABASE if jobs_mode(app) == "rq" else uploads.LOCAL


def run_job(run_id: int) -> None:
    """Job entry point for every runner; creates an app when a worker has none.

    Runs left behind by a dead worker are reaped first, so their pages stop waiting.
    """
    if has_app_context():
        _job(run_id)
        return
    from app.app import create_app

    with create_app().app_context():  # pragma: no cover - RQ worker without an app context
        _job(run_id)


def _job(run_id: int) -> None:
    reap_stale()
    run = db.session.get(SyncRun, run_id)
    if run is None:
        return
    importing = run.kind == Origin.IMPORT
    if importing and not _its_turn(run):
        return
    user_id = run.connection.user_id
    upload_id = run.params.get("upload")
    try:
        if upload_id and run.status == SyncStatus.QUEUED and not _receive(run, upload_id):
            return
        run_sync(run_id)
    finally:
        db.session.rollback()  # whatever the run left half-done; it committed what it keeps
        ended = db.session.get(SyncRun, run_id)
        if upload_id and (ended is None or not ended.active):
            uploads.delete(upload_id)
        if importing:
            advance_queue(user_id)


def _receive(run: SyncRun, upload_id: str) -> bool:
    """Make the run's upload a file on this machine and point the run at it; on failure
    record the run as failed and return ``False``."""
    upload = db.session.get(Upload, upload_id)
    progress = RunProgress(run)
    report = None
    if upload is not None and upload.store == uploads.DATABASE:
        progress.stage("receiving the upload (MB)", total=-(-upload.size // (1024 * 1024)))
        report = uploads.mib_progress(progress.advance)
    try:
        path = uploads.fetch(upload_id, report)
    except uploads.UploadLost as lost:
        db.session.rollback()
        fail(run, str(lost))
        return False
    except Exception:
        log.exception("upload %s could not be read back", upload_id)
        db.session.rollback()
        fail(
            run,
            "The uploaded file could not be read on the server that imports it. "
            "Upload it again; your earlier data is unchanged.",
        )
        return False
    run.params = {**run.params, "path": path}
    run.stage = None
    db.session.commit()
    return True


ALIVE = (SyncStatus.QUEUED, SyncStatus.RUNNING, SyncStatus.PAUSED)
#: What a run found dead is told.
INTERRUPTED = "This sync was interrupted (the server restarted). Start it again."


def is_stale(run: SyncRun, now: datetime | None = None) -> bool:
    """Whether an unfinished ``run`` has stopped reporting progress (its worker died).

    A run waiting for a rate limit to reset, or for the user's import ahead of it, is not
    stale while it waits.
    """
    if run.status not in ALIVE or run.params.get("waiting"):
        return False  # a run waiting its turn reports nothing until it is handed over
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
    posted twice starts one job). An import waits, not handed over, while another import of
    the same user is queued or running (:func:`advance_queue` hands it over).

    :param kind: the producer to use (``live``, ``public``, ``import``, ``demo``).
    :param params: the run's parameters; ``upload``: the id of the uploaded archive to
        import (:mod:`app.sync.uploads`), deleted if the sync cannot start.
    :raises SyncRefused: when the connection needs reconnecting first, or another sync of
        the connection is going on when an upload is given.
    """
    upload_id = params.get("upload")
    try:
        if kind not in PRODUCERS:
            raise SyncRefused(f"{kind!r} syncs are not available.")
        if kind == Origin.LIVE and connection.status == ConnectionStatus.RECONNECT:
            raise SyncRefused(
                f"{CONNECTORS[connection.network].label} needs to be reconnected before it "
                "can sync."
            )
        reap_stale(connection.id)
        existing = active_run(connection)
        if existing is not None and upload_id and existing.params.get("upload") != upload_id:
            raise SyncRefused("A sync of this network is already running. Try again when it ends.")
    except SyncRefused:
        if upload_id:
            uploads.delete(upload_id)
        raise
    if existing is not None:
        return existing
    upload = db.session.get(Upload, upload_id) if upload_id else None
    run = SyncRun(connection=connection, kind=kind, params=params, status=SyncStatus.QUEUED)
    if upload is not None and upload.store == uploads.LOCAL:
        # The file is on this machine's disk: the runner here reads it, never an RQ worker.
        run.params = {**params, "path": uploads.path_of(upload), "local": True}
    db.session.add(run)
    db.session.flush()
    if upload is not None:
        upload.run_id = run.id
    ahead = len(user_imports(connection.user_id)) - 1 if kind == Origin.IMPORT else 0
    if ahead > 0:
        _wait(run, ahead + 1)
    db.session.commit()
    if ahead <= 0:
        enqueue(run.id, local=bool(run.params.get("local")))
    return run


# -- one import per user at a time ------------------------------------------------------------


def ordinal(number: int) -> str:
    """``1st``, ``2nd``, ``3rd``, ``4th``... ``11th``, ``21st``."""
    if 10 <= number % 100 <= 20:
        return f"{number}th"
    return f"{number}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(number % 10, 'th') }"


def place_text(place: int) -> str:
    """The stage of an import waiting its turn: ``queued: 2nd in line``."""
    return f"queued: {ordinal(place)} in line"


def user_imports(user_id: int | None = None) -> list[SyncRun]:
    """Alive (queued, running or paused, not stale) imports in the order they run: one
    user's, or everyone's."""
    query = (
        select(SyncRun)
        .join(Connection, SyncRun.connection_id == Connection.id)
        .where(SyncRun.kind == Origin.IMPORT, SyncRun.status.in_(ALIVE))
        .order_by(SyncRun.id)
    )
    if user_id is not None:
        query = query.where(Connection.user_id == user_id)
    now = utcnow()
    return [run for run in db.session.scalars(query).all() if not is_stale(run, now)]


def queue_place(run: SyncRun) -> int | None:
    """Where an import waiting its turn stands among its user's imports (the one running is
    1st); ``None`` for a run that is not waiting."""
    if not run.params.get("waiting"):
        return None
    ids = [each.id for each in user_imports(run.connection.user_id)]
    return ids.index(run.id) + 1 if run.id in ids else None


def _wait(run: SyncRun, place: int) -> None:
    run.params = {**run.params, "waiting": True}
    run.stage = place_text(place)
    run.updated_at = utcnow()


def _its_turn(run: SyncRun) -> bool:
    """Whether import ``run`` may start now: it was handed over and no older import of its
    user is going on (two uploads at the same moment may both have been handed over; the
    younger goes back to waiting)."""
    if run.params.get("waiting"):
        return False
    line = user_imports(run.connection.user_id)
    ids = [each.id for each in line]
    if run.id not in ids or ids[0] == run.id:
        return True
    _wait(run, ids.index(run.id) + 1)
    db.session.commit()
    return False


def _hand_over(run_id: int, seen: datetime | None, params: dict[str, Any]) -> bool:
    """Take run ``run_id`` out of waiting, once: ``False`` when another process did it first
    (its ``updated_at`` is no longer the ``seen`` one)."""
    kept = {key: value for key, value in params.items() if key != "waiting"}
    result = db.session.execute(
        update(SyncRun)
        .where(SyncRun.id == run_id, SyncRun.updated_at == seen)
        .values(params=kept, stage=None, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]


def advance_queue(user_id: int | None = None) -> list[int]:
    """Hand over the first import waiting in each user's line when nothing is ahead of it,
    and write every other waiting import's place; return the ids handed over.

    :param user_id: one user's line; everyone's by default (the scheduler's round).
    """
    lines: dict[int, list[SyncRun]] = {}
    for run in user_imports(user_id):
        lines.setdefault(run.connection.user_id, []).append(run)
    handed = []
    for line in lines.values():
        first = line[0]
        if first.params.get("waiting") and _hand_over(first.id, first.updated_at, first.params):
            handed.append(first.id)
            db.session.expire(first)
        for place, run in enumerate(line[1:], start=2):
            if run.params.get("waiting") and run.stage != place_text(place):
                run.stage = place_text(place)
        db.session.commit()
    for run_id in handed:
        turn = db.session.get(SyncRun, run_id)
        if turn is not None:
            log.info("import run %s handed over after the one ahead ended", run_id)
            enqueue(run_id, local=bool(turn.params.get("local")))
    return handed


def tidy_imports(now: datetime | None = None) -> int:
    """The scheduler's upkeep of imports: hand over waiting imports whose turn came while no
    import ended to do it (a worker died), and delete orphaned uploads
    (:func:`app.sync.uploads.sweep`); return how many uploads were deleted."""
    reap_stale()
    advance_queue()
    return uploads.sweep(now)
