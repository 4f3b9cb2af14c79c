"""Benchmark: push a large generated archive through the upload store; print the time and
the peak memory of the web side (storing it) and of the worker side (reading it back).

    .venv/bin/python benchmarks/upload_bench.py [--mb 200] [--chunk-kb 1024] [--store database]
    REDIS_URL=redis://… .venv/bin/python benchmarks/upload_bench.py --route [--mb 200]

Each side runs in a fresh process, as in a deployment: the *web* process streams the file
into the store exactly as the upload page does (:func:`app.sync.uploads.put` over the
request's file), the *worker* process reads it back to a private file of its own disk
(:func:`app.sync.uploads.fetch`, size and SHA-256 checked) and deletes it. Peak memory is
VmHWM (the process's resident high-water mark); "base" is the same process before the
upload, after the app and its imports are loaded. The database is a fresh SQLite file, or
``DATABASE_URL`` (PostgreSQL, the store RQ workers use). The archive is a stored (not
compressed) zip of random bytes, so neither the database nor anything else can shrink it.

``--route`` (needs ``REDIS_URL``) goes the whole way instead: the web process posts the file
to the real upload page (Werkzeug's form parsing included), which stores it and queues the
import on Redis; the worker process is an RQ worker (``SimpleWorker``, as ``manage.py
worker``) that reads it back and imports it. The random bytes are no archive of any network,
so that import fails at once with its message, and the upload must be gone all the same.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MIB = 1024 * 1024


def peak_rss_mib() -> float:
    """VmHWM: this process's peak resident memory in MiB (reset by exec)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    import resource  # pragma: no cover - not Linux

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_archive(path: Path, mb: int) -> int:
    """A zip holding one ``mb`` MiB member of random bytes, written a MiB at a time."""
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive,
        archive.open("data/tweets-part1.js", "w", force_zip64=True) as member,
    ):
        for _ in range(mb):
            member.write(os.urandom(MIB))
    return path.stat().st_size


def bench_app(database: str, folder: str, chunk_kb: int, route: bool = False) -> Any:
    from app.app import create_app
    from app.settings import DevConfig, database_url

    settings: dict[str, Any] = {
        "SQLALCHEMY_DATABASE_URI": database_url(database),
        "SECRET_KEY": "bench",
        "TOKEN_ENCRYPTION_KEY": "bench key",
        "JOBS_MODE": "inline",
        "SCHEDULER": False,
        "UPLOAD_FOLDER": folder,
        "UPLOAD_CHUNK_KB": chunk_kb,
    }
    if route:
        settings.update(JOBS_MODE="rq", REDIS_URL=os.environ["REDIS_URL"], WTF_CSRF_ENABLED=False)
    return create_app(type("UploadBenchConfig", (DevConfig,), settings))


def post_upload(app: Any, archive: str, user_id: int) -> dict[str, Any]:
    """Post ``archive`` to the X import page as user ``user_id``; the run it queued."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import SyncRun, Upload, User

    user = db.session.get(User, user_id)
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"] = user.get_id(), True
    with open(archive, "rb") as file:
        response = client.post(
            "/dashboard/user/x/import",
            data={"archive": (file, "twitter-archive.zip")},
            content_type="multipart/form-data",
        )
    assert response.status_code == 302, response.status_code
    run = db.session.scalar(select(SyncRun).order_by(SyncRun.id.desc()))
    upload = db.session.get(Upload, run.params["upload"])
    return {"run_id": run.id, "upload_id": upload.id, "chunks": upload.chunks}


def work_queue(app: Any, run_id: int) -> dict[str, Any]:
    """Run the queued jobs as ``manage.py worker --burst`` does; the run's outcome."""
    from rq import SimpleWorker

    from app.extensions import db
    from app.models import SyncRun
    from app.sync import uploads
    from app.sync.runner import redis_queue

    queue = redis_queue(app)
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    run = db.session.get(SyncRun, run_id)
    return {"status": run.status, "error": run.error, "chunks_left": uploads.count_chunks()}


def side(args: argparse.Namespace) -> dict[str, Any]:
    """One side's work in this (fresh) process; returns its numbers."""
    from app.extensions import db
    from app.sync import uploads

    app = bench_app(args.database, args.folder, args.chunk_kb, args.route)
    with app.app_context():
        base = peak_rss_mib()
        started = time.perf_counter()
        if args.route and args.side == "web":
            result = post_upload(app, args.archive, args.user_id)
        elif args.route:
            result = work_queue(app, args.run_id)
        elif args.side == "web":
            with open(args.archive, "rb") as stream:
                upload = uploads.put(stream, "archive.zip", owner_id=args.user_id, store=args.store)
            result = {"upload_id": upload.id, "chunks": upload.chunks, "size": upload.size}
        else:
            path = uploads.fetch(args.upload_id)
            size = os.path.getsize(path)
            uploads.delete(args.upload_id)
            result = {"size": size, "chunks_left": uploads.count_chunks()}
        seconds = time.perf_counter() - started
        db.session.remove()
    return {**result, "seconds": seconds, "base_mib": base, "peak_mib": peak_rss_mib()}


def run_side(args: argparse.Namespace, name: str, **extra: Any) -> dict[str, Any]:
    command = [sys.executable, __file__, "--side", name, "--mb", str(args.mb)]
    command += ["--chunk-kb", str(args.chunk_kb), "--store", args.store]
    command += ["--database", args.database, "--archive", args.archive]
    command += ["--route"] if args.route else []
    for key, value in extra.items():
        if value is None:
            continue
        command += [f"--{key.replace('_', '-')}", str(value)]
    if args.store == "database":  # each side a disk of its own, as on two machines
        command += ["--folder", tempfile.mkdtemp(prefix=f"upload-bench-{name}-")]
    else:  # a local upload is read where it was received
        command += ["--folder", str(Path(args.archive).parent / "uploads")]
    output = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(output.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200, help="archive size in MiB")
    parser.add_argument("--chunk-kb", type=int, default=1024, help="UPLOAD_CHUNK_KB")
    parser.add_argument("--store", default="database", choices=("database", "local"))
    parser.add_argument(
        "--route", action="store_true", help="through the upload page and an RQ worker"
    )
    parser.add_argument("--side", choices=("web", "worker"), help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    parser.add_argument("--archive", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    parser.add_argument("--user-id", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--upload-id", help=argparse.SUPPRESS)
    parser.add_argument("--run-id", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        print(json.dumps(side(args)))
        return

    work = Path(tempfile.mkdtemp(prefix="upload-bench-"))
    args.database = os.environ.get("DATABASE_URL") or f"sqlite:///{work}/bench.db"
    args.archive = str(work / "archive.zip")
    size = make_archive(Path(args.archive), args.mb)
    app = bench_app(args.database, str(work / "uploads"), args.chunk_kb)
    if args.route:
        from app.sync.runner import redis_queue

        redis_queue(bench_app(args.database, "", 1, route=True)).empty()
    from app.extensions import db
    from app.models import User

    with app.app_context():
        db.drop_all()
        db.create_all()
        user = User(username="bench", email="bench@example.com", password_hash="x")
        db.session.add(user)
        db.session.commit()
        user_id = user.id
        db.session.remove()
    try:
        web = run_side(args, "web", user_id=user_id)
        worker = run_side(args, "worker", upload_id=web["upload_id"], run_id=web.get("run_id"))
    finally:
        with app.app_context():
            db.session.remove()
            db.drop_all()
        os.remove(args.archive)
    backend = args.database.split(":", 1)[0]
    print(
        f"archive {size / MIB:.0f} MiB, store {args.store} on {backend}"
        f"{' through the upload page and an RQ worker' if args.route else ''}, "
        f"chunk {args.chunk_kb} KiB, {web['chunks']} chunks"
    )
    names = ("web (POST)", "worker (job)") if args.route else ("web (put)", "worker (fetch)")
    for name, numbers in zip(names, (web, worker), strict=True):
        rate = size / MIB / numbers["seconds"]
        print(
            f"{name:15} {numbers['seconds']:6.1f} s  {rate:6.1f} MiB/s  "
            f"peak RSS {numbers['peak_mib']:5.0f} MiB (base {numbers['base_mib']:.0f} MiB, "
            f"+{numbers['peak_mib'] - numbers['base_mib']:.0f})"
        )
    left = worker["chunks_left"]
    if args.route:
        print(f"import {worker['status']}: {(worker['error'] or '')[:60]!r}; chunks left: {left}")
    else:
        print(f"read back {worker['size'] / MIB:.0f} MiB; chunks left after delete: {left}")


if __name__ == "__main__":
    main()
