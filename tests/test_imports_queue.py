"""Imports through the upload page: where the upload waits (a local file, or the database for
RQ workers), that it is gone after the import whatever the outcome, one import per user at a
time with its place in line, and the archive limits from the app's config."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Connection, SyncRun, Upload, UploadChunk, utcnow
from app.networks.archive import DEFAULT_LIMITS, ArchiveLimits, configured_limits, use_limits
from app.settings import Config, ConfigError
from app.sync import runner, uploads
from app.sync.runner import advance_queue, is_stale, ordinal, queue_place, run_job, tidy_imports
from tests.conftest import csrf_token
from tests.networks.archive_builders import connections_csv, following_csv

ROOT = Path(__file__).resolve().parent.parent

ROWS = [
    ("Ada", "Lovelace", "https://www.linkedin.com/in/ada", "", "Analytical", "CTO", "12 Mar 2021"),
    ("Alan", "Turing", "https://www.linkedin.com/in/alan", "", "Bletchley", "Lead", "01 Jan 2020"),
]
#: Big enough for several database chunks at 1 KiB each.
LINKEDIN = connections_csv(
    ROWS * 1 + [("N", f"P{i}", "", "", "", "", "01 Jan 2020") for i in range(200)]
).encode()
MASTODON = following_csv([f"friend{i}@example.social" for i in range(50)]).encode()


@pytest.fixture
def config_overrides(tmp_path):
    return {"UPLOAD_FOLDER": str(tmp_path / "uploads"), "UPLOAD_CHUNK_KB": 1}


def upload(client, network: str, filename: str, content: bytes):
    token = csrf_token(client, f"/dashboard/user/{network}/import")
    return client.post(
        f"/dashboard/user/{network}/import",
        data={"csrf_token": token, "archive": (io.BytesIO(content), filename)},
        content_type="multipart/form-data",
    )


def runs() -> list[SyncRun]:
    db.session.expire_all()
    return list(db.session.scalars(select(SyncRun).order_by(SyncRun.id)))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def leftovers(tmp_path) -> list[str]:
    root = tmp_path / "uploads"
    return sorted(os.listdir(root)) if root.exists() else []


def running_import(user, network: str = "x") -> SyncRun:
    """An import of another network that is going on (its worker reports progress)."""
    connection = Connection(user_id=user.id, network=network, source="import")
    run = SyncRun(
        connection=connection, kind="import", status="running", stage="tweets", updated_at=utcnow()
    )
    db.session.add_all([connection, run])
    db.session.commit()
    return run


# -- the embedded default: a local file, the in-process runner ----------------------------------


def test_local_upload_is_imported_and_deleted(app, auth, client, user, tmp_path):
    auth.login()
    response = upload(client, "linkedin", "Connections.csv", LINKEDIN)
    assert response.status_code == 302
    (run,) = runs()
    assert run.status == "done", run.error
    assert run.params["upload"] and run.params["local"] is True
    assert run.params["path"].startswith(str(tmp_path / "uploads" / run.params["upload"]))
    assert count(Upload) == 0 and count(UploadChunk) == 0 and leftovers(tmp_path) == []


def test_database_store_without_workers(app, auth, client, user, tmp_path):
    """``UPLOAD_STORE=database`` with the in-process runner: chunks in, a copy out, all gone."""
    app.config["UPLOAD_STORE"] = "database"
    auth.login()
    upload(client, "linkedin", "Connections.csv", LINKEDIN)
    (run,) = runs()
    assert run.status == "done", run.error
    assert "local" not in run.params
    assert count(Upload) == 0 and count(UploadChunk) == 0 and leftovers(tmp_path) == []
    connection = db.session.get(Connection, run.connection_id)
    assert connection.current_snapshot.friends_count == 202


def test_failed_import_leaves_no_upload(app, auth, client, user, tmp_path):
    app.config["UPLOAD_STORE"] = "database"
    auth.login()
    upload(client, "linkedin", "Connections.csv", b"\x00\x01 not a csv" * 500)
    (run,) = runs()
    assert run.status == "failed" and run.error
    assert count(Upload) == 0 and count(UploadChunk) == 0 and leftovers(tmp_path) == []


def test_upload_refused_while_the_network_syncs_is_deleted(app, auth, client, user, tmp_path):
    busy = running_import(user, "linkedin")
    auth.login()
    response = upload(client, "linkedin", "Connections.csv", LINKEDIN)
    assert response.status_code == 302
    assert [run.id for run in runs()] == [busy.id]
    assert count(Upload) == 0 and leftovers(tmp_path) == []
    page = client.get("/dashboard/user/linkedin").get_data(as_text=True)
    assert "already running" in page


def test_a_lost_upload_fails_its_run_with_a_message(app, user, tmp_path):
    stored = uploads.put(io.BytesIO(b"abc"), "a.zip", owner_id=user.id, store="database")
    connection = Connection(user_id=user.id, network="x", source="import")
    db.session.add(connection)
    db.session.commit()
    app.config["JOBS_MODE"] = "rq"  # handed over, not run: the run below is started by hand
    app.config["REDIS_URL"] = None
    db.session.execute(UploadChunk.__table__.delete())
    db.session.commit()
    run = SyncRun(connection=connection, kind="import", params={"upload": stored.id})
    db.session.add(run)
    db.session.commit()
    run_job(run.id)
    (run,) = runs()
    assert run.status == "failed" and "did not arrive whole" in run.error
    assert count(Upload) == 0 and leftovers(tmp_path) == []


# -- one import per user at a time --------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "text"), [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"), (22, "22nd")]
)
def test_ordinals(number, text):
    assert ordinal(number) == text


def test_second_import_waits_with_its_place_shown(app, auth, client, user, tmp_path):
    ahead = running_import(user)
    auth.login()
    response = upload(client, "linkedin", "Connections.csv", LINKEDIN)
    waiting = runs()[-1]
    assert waiting.status == "queued" and waiting.stage == "queued: 2nd in line"
    assert queue_place(waiting) == 2 and queue_place(ahead) is None
    flashed = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "It waits for your other import: queued: 2nd in line." in flashed
    assert "Queued: 2nd in line" in flashed  # the progress line of the network's page
    status = client.get("/dashboard/user/linkedin/status.json").get_json()
    assert status["run"]["stage"] == "queued: 2nd in line" and status["run"]["active"]
    page = client.get("/dashboard/user/mastodon/import").get_data(as_text=True)
    assert "Your imports run one at a time" in page and "LinkedIn: Queued: 2nd in line" in page
    assert count(Upload) == 1  # kept while it waits

    # A waiting run is not taken for a dead one, however long it waits.
    waiting.updated_at = utcnow() - timedelta(hours=3)
    ahead.updated_at = utcnow()
    db.session.commit()
    assert not is_stale(waiting)

    # The import ahead ends: the waiting one is handed over (run inline here), then deleted.
    ahead.status = "done"
    db.session.commit()
    assert advance_queue(user.id) == [waiting.id]
    run = db.session.get(SyncRun, waiting.id)
    assert run.status == "done", run.error
    assert "waiting" not in run.params
    assert count(Upload) == 0 and leftovers(tmp_path) == []


def test_places_move_up_when_a_run_ahead_goes(app, auth, client, user):
    ahead = running_import(user)
    auth.login()
    upload(client, "linkedin", "Connections.csv", LINKEDIN)
    upload(client, "mastodon", "following_accounts.csv", MASTODON)
    _, second, third = runs()
    assert (second.stage, third.stage) == ("queued: 2nd in line", "queued: 3rd in line")
    db.session.delete(db.session.get(Connection, second.connection_id))  # disconnected
    db.session.commit()
    assert advance_queue() == []  # the running import is still ahead
    assert runs()[-1].stage == "queued: 2nd in line"
    assert ahead.status == "running"


def test_a_dead_import_ahead_is_reaped_and_the_next_handed_over(app, auth, client, user):
    ahead = running_import(user)
    auth.login()
    upload(client, "linkedin", "Connections.csv", LINKEDIN)
    ahead.updated_at = utcnow() - timedelta(hours=1)  # its worker died
    db.session.commit()
    tidy_imports()  # the scheduler's round
    first, second = runs()
    assert first.status == "failed" and "interrupted" in first.error
    assert second.status == "done", second.error
    assert count(Upload) == 0


def test_two_imports_handed_over_at_once_run_one_after_the_other(app, user):
    """Two uploads at the same moment may both be handed over; the younger waits."""
    older = running_import(user)
    older.status = "queued"
    connection = Connection(user_id=user.id, network="linkedin", source="import")
    younger = SyncRun(connection=connection, kind="import", status="queued", updated_at=utcnow())
    db.session.add_all([connection, younger])
    db.session.commit()
    run_job(younger.id)
    run = db.session.get(SyncRun, younger.id)
    assert run.status == "queued" and run.params["waiting"] and run.stage == "queued: 2nd in line"
    run_job(younger.id)  # handed over by mistake again: still waits
    assert db.session.get(SyncRun, younger.id).status == "queued"


def test_hand_over_happens_once(app, user):
    running_import(user)
    connection = Connection(user_id=user.id, network="linkedin", source="import")
    waiting = SyncRun(connection=connection, kind="import", status="queued")
    db.session.add_all([connection, waiting])
    db.session.flush()
    runner._wait(waiting, 2)
    db.session.commit()
    seen, params = waiting.updated_at, dict(waiting.params)
    assert runner._hand_over(waiting.id, seen, params) is True
    # A second process read the row before the first took it: it takes nothing.
    assert runner._hand_over(waiting.id, seen, params) is False
    db.session.refresh(waiting)
    assert "waiting" not in waiting.params and waiting.stage is None


def test_scheduler_tick_tidies_imports(app, user):
    from app.sync.schedule import tick

    stored = uploads.put(io.BytesIO(b"x"), "a.zip", owner_id=user.id, store="database")
    stored.created_at = utcnow() - timedelta(days=2)
    db.session.commit()
    assert tick("me", timedelta(minutes=1)) == []
    assert count(Upload) == 0 and count(UploadChunk) == 0


# -- archive limits from the app's config -------------------------------------------------------


def test_archive_limits_come_from_the_config(app, auth, client, user, tmp_path):
    # The config's defaults are the class's.
    assert ArchiveLimits.from_config(app.config) == ArchiveLimits()
    app.config["ARCHIVE_MAX_MEMBERS"] = 2
    app.config["ARCHIVE_MAX_TOTAL_MB"] = 0.5
    limits = ArchiveLimits.from_config(app.config)
    assert limits.max_total_bytes == 512 * 1024
    with use_limits(limits):
        assert configured_limits() is limits
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in ("Connections.csv", "a.txt", "b.txt"):
            archive.writestr(name, LINKEDIN)
    auth.login()
    upload(client, "linkedin", "Basic_LinkedInDataExport.zip", buffer.getvalue())
    (run,) = runs()
    assert run.status == "failed" and "more than 2 files" in run.error


def test_the_import_command_reads_within_the_configs_limits(app, user, tmp_path):
    """``manage.py import`` runs with the app's ARCHIVE_MAX_* as an upload does."""
    path = tmp_path / "Basic_LinkedInDataExport.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name in ("Connections.csv", "a.txt", "b.txt"):
            archive.writestr(name, LINKEDIN)
    runner = app.test_cli_runner()
    app.config["ARCHIVE_MAX_MEMBERS"] = 2
    refused = runner.invoke(args=["import", "linkedin", str(path), "--user", user.username])
    assert refused.exit_code == 1 and "more than 2 files" in refused.output
    app.config["ARCHIVE_MAX_MEMBERS"] = 3
    done = runner.invoke(args=["import", "linkedin", str(path), "--user", user.username])
    assert done.exit_code == 0, done.output
    assert configured_limits() is DEFAULT_LIMITS  # nothing left set after the command


def test_limits_outside_a_job_come_from_the_environment():
    assert configured_limits() is DEFAULT_LIMITS


def test_config_reads_limits_and_store_from_the_environment():
    code = (
        "from app.settings import Config as C; "
        "print(C.ARCHIVE_MAX_MEMBERS, C.ARCHIVE_MAX_RATIO, C.ARCHIVE_MAX_TOTAL_MB, C.UPLOAD_STORE)"
    )
    env = {
        **os.environ,
        "ARCHIVE_MAX_MEMBERS": "7",
        "ARCHIVE_MAX_RATIO": "12.5",
        "ARCHIVE_MAX_TOTAL_MB": "",
        "UPLOAD_STORE": "database",
    }
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["7", "12.5", "2048.0", "database"]


def test_unknown_upload_store_stops_start_up():
    with pytest.raises(ConfigError, match="UPLOAD_STORE='s3'"):
        Config.finalize({"UPLOAD_STORE": "s3"})


# -- PostgreSQL and a real RQ worker ------------------------------------------------------------

needs_redis = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="needs REDIS_URL (real Redis)"
)


@pytest.fixture
def rq_queue(app):
    app.config["REDIS_URL"] = os.environ["REDIS_URL"]
    app.config["JOBS_MODE"] = "rq"
    queue = runner.redis_queue(app)
    queue.empty()
    yield queue
    queue.empty()


def work(queue) -> None:
    from rq import SimpleWorker

    SimpleWorker([queue], connection=queue.connection).work(burst=True)


@needs_redis
def test_rq_worker_imports_through_the_database(app, auth, client, user, tmp_path, rq_queue):
    auth.login()
    upload(client, "linkedin", "Connections.csv", LINKEDIN)
    (run,) = runs()
    assert run.status == "queued" and "path" not in run.params and "local" not in run.params
    stored = db.session.get(Upload, run.params["upload"])
    assert stored.store == "database" and stored.run_id == run.id
    assert stored.chunks == -(-len(LINKEDIN) // 1024) >= 5
    assert uploads.count_chunks() == stored.chunks
    assert leftovers(tmp_path) == []  # nothing on the web side's disk
    work(rq_queue)
    (run,) = runs()
    assert run.status == "done", run.error
    assert db.session.get(Connection, run.connection_id).current_snapshot.friends_count == 202
    assert count(Upload) == 0 and uploads.count_chunks() == 0 and leftovers(tmp_path) == []


@needs_redis
def test_rq_failed_import_leaves_no_chunks(app, auth, client, user, tmp_path, rq_queue):
    auth.login()
    upload(client, "mastodon", "following_accounts.csv", b"\xff\xfe" + b"\x00garbage" * 400)
    assert uploads.count_chunks() > 1
    work(rq_queue)
    (run,) = runs()
    assert run.status == "failed" and run.error
    assert count(Upload) == 0 and uploads.count_chunks() == 0 and leftovers(tmp_path) == []


@needs_redis
def test_rq_second_import_waits_then_runs(app, auth, client, user, tmp_path, rq_queue):
    auth.login()
    upload(client, "linkedin", "Connections.csv", LINKEDIN)
    upload(client, "mastodon", "following_accounts.csv", MASTODON)
    first, second = runs()
    assert first.status == "queued" and second.stage == "queued: 2nd in line"
    assert rq_queue.count == 1  # the second is not handed to a worker yet
    work(rq_queue)  # the first ends and hands the second over; the burst runs it too
    first, second = runs()
    assert (first.status, second.status) == ("done", "done"), (first.error, second.error)
    assert count(Upload) == 0 and uploads.count_chunks() == 0 and leftovers(tmp_path) == []


@needs_redis
def test_worker_process_with_a_disk_of_its_own(app, auth, client, user, tmp_path, rq_queue):
    """``manage.py worker`` in another process, whose UPLOAD_FOLDER the web side never sees."""
    auth.login()
    upload(client, "linkedin", "Connections.csv", LINKEDIN)
    db.session.rollback()  # nothing held open while the worker writes
    worker_disk = tmp_path / "worker-disk"
    env = {
        **os.environ,
        "APP_SETTINGS": "TestConfig",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": app.config["REDIS_URL"],
        "UPLOAD_FOLDER": str(worker_disk),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "worker", "--burst"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    (run,) = runs()
    assert run.status == "done", run.error
    assert run.params["path"].startswith(str(worker_disk))  # read back on the worker's disk
    assert count(Upload) == 0 and uploads.count_chunks() == 0
    assert leftovers(tmp_path) == [] and os.listdir(worker_disk) == []


def test_an_upload_that_cannot_be_read_back_fails_its_run(app, user, tmp_path):
    stored = uploads.put(io.BytesIO(b"abc"), "a.zip", owner_id=user.id, store="database")
    connection = Connection(user_id=user.id, network="x", source="import")
    run = SyncRun(connection=connection, kind="import", params={"upload": stored.id})
    db.session.add_all([connection, run])
    db.session.commit()
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the worker's upload folder should be")
    app.config["UPLOAD_FOLDER"] = str(blocked)
    run_job(run.id)
    (run,) = runs()
    assert run.status == "failed" and "could not be read on the server" in run.error
    assert count(Upload) == 0 and count(UploadChunk) == 0
