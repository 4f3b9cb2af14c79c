"""The upload store: streamed in and out, checked, deleted after the import, orphans swept."""

from __future__ import annotations

import io
import os
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import Connection, SyncRun, Upload, UploadChunk, utcnow
from app.sync import uploads
from app.sync.runner import tidy_imports


class Broken(io.RawIOBase):
    """A request stream that breaks after ``good`` bytes (a client gone mid-upload)."""

    def __init__(self, good: int) -> None:
        self.left = good

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        if self.left <= 0:
            raise OSError("connection reset")
        size = min(len(buffer), self.left)
        buffer[:size] = b"z" * size
        self.left -= size
        return size


@pytest.fixture
def config_overrides(tmp_path):
    return {"UPLOAD_FOLDER": str(tmp_path / "uploads"), "UPLOAD_CHUNK_KB": 4}


def payload(size: int) -> bytes:
    return bytes(i * 7 % 251 for i in range(size))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_database_store_streams_in_chunks_and_reads_back_whole(app, user, tmp_path):
    data = payload(4096 * 10 + 5)  # ten full chunks and a bit
    upload = uploads.put(io.BytesIO(data), "tweets.js", owner_id=user.id, store="database")
    assert upload.chunks == 11 and uploads.count_chunks(upload.id) == 11
    assert upload.size == len(data)
    longest = db.session.scalar(select(func.max(func.length(UploadChunk.data))))
    assert longest == 4096  # no piece bigger than the chunk size
    assert not (tmp_path / "uploads" / upload.id).exists()  # nothing on disk until fetched
    seen: list[int] = []
    path = uploads.fetch(upload.id, seen.append)
    assert Path(path).read_bytes() == data and Path(path).name == "tweets.js"
    assert seen[0] == 4096 and seen[-1] == len(data) and len(seen) == 11
    Path(path).write_bytes(b"half a copy")  # left by an attempt that died part-way
    assert uploads.fetch(upload.id) == path and Path(path).read_bytes() == data
    uploads.delete(upload.id)
    assert count(UploadChunk) == 0 and count(Upload) == 0
    assert not os.path.exists(path) and not (tmp_path / "uploads" / upload.id).exists()
    uploads.delete(upload.id)  # a second delete does nothing


def test_local_store_keeps_one_file(app, user, tmp_path):
    upload = uploads.put(io.BytesIO(b"abc"), "Connections.csv", owner_id=user.id, store="local")
    assert upload.chunks == 0 and count(UploadChunk) == 0
    assert uploads.fetch(upload.id) == str(tmp_path / "uploads" / upload.id / "Connections.csv")
    os.remove(uploads.fetch(upload.id))
    with pytest.raises(uploads.UploadLost, match="no longer on this server"):
        uploads.fetch(upload.id)


def test_damaged_chunk_is_refused_and_its_copy_removed(app, user, tmp_path):
    upload = uploads.put(io.BytesIO(payload(9000)), "a.zip", owner_id=user.id, store="database")
    db.session.execute(
        update(UploadChunk)
        .where(UploadChunk.upload_id == upload.id, UploadChunk.seq == 1)
        .values(data=b"x" * 4096)
    )
    db.session.commit()
    with pytest.raises(uploads.UploadLost, match="did not arrive whole"):
        uploads.fetch(upload.id)
    assert list((tmp_path / "uploads" / upload.id).iterdir()) == []
    db.session.execute(
        UploadChunk.__table__.delete().where(
            UploadChunk.upload_id == upload.id, UploadChunk.seq == 2
        )
    )
    db.session.commit()
    with pytest.raises(uploads.UploadLost, match="did not arrive whole"):
        uploads.fetch(upload.id)  # a missing chunk, too


def test_gone_upload_is_refused(app):
    with pytest.raises(uploads.UploadLost, match="Upload it again"):
        uploads.fetch("0" * 32)
    with pytest.raises(ValueError):
        uploads.folder_of("../etc")


@pytest.mark.parametrize("store", ["database", "local"])
def test_an_upload_broken_midway_leaves_nothing(app, user, tmp_path, store):
    """Broken after 24 chunks: some were committed already (every 8), and are deleted."""
    with pytest.raises(OSError, match="connection reset"):
        uploads.put(io.BufferedReader(Broken(100_000)), "a.zip", owner_id=user.id, store=store)
    assert count(Upload) == 0 and count(UploadChunk) == 0
    root = tmp_path / "uploads"
    assert not root.exists() or list(root.iterdir()) == []


def test_unknown_store_is_refused(app, user):
    with pytest.raises(ValueError, match="unknown upload store"):
        uploads.put(io.BytesIO(b"x"), "a", owner_id=user.id, store="s3")


def test_sweep_deletes_orphans_and_keeps_what_an_import_waits_for(app, user, tmp_path):
    connection = Connection(user_id=user.id, network="x", source="import")
    db.session.add(connection)
    db.session.flush()
    alive = SyncRun(connection=connection, kind="import", status="running", updated_at=utcnow())
    ended = SyncRun(connection=connection, kind="import", status="failed")
    db.session.add_all([alive, ended])
    db.session.commit()

    def stored(run: SyncRun | None, age: timedelta, store: str = "database") -> str:
        upload = uploads.put(io.BytesIO(b"data"), "a.zip", owner_id=user.id, store=store)
        upload.run_id = run.id if run else None
        upload.created_at = utcnow() - age
        db.session.commit()
        return upload.id

    waited_for = stored(alive, timedelta(days=3))
    of_ended_run = stored(ended, timedelta(minutes=1))
    old_unclaimed = stored(None, timedelta(hours=25), store="local")
    young_unclaimed = stored(None, timedelta(minutes=5))
    root = tmp_path / "uploads"
    stray_old, stray_young, other = root / ("a" * 32), root / ("b" * 32), root / "keep-me"
    for folder in (stray_old, stray_young, other):
        folder.mkdir()
    day_ago = (utcnow() - timedelta(days=2)).timestamp()
    os.utime(stray_old, (day_ago, day_ago))
    os.utime(other, (day_ago, day_ago))

    assert tidy_imports() == 3
    left = set(db.session.scalars(select(Upload.id)))
    assert left == {waited_for, young_unclaimed}
    assert not (root / old_unclaimed).exists() and of_ended_run not in left
    assert not stray_old.exists() and stray_young.exists() and other.exists()
    assert uploads.count_chunks() == 2


def test_progress_in_whole_mib():
    told: list[int] = []
    progress = uploads.mib_progress(told.append)
    for size in (512 * 1024, 1024 * 1024, 1536 * 1024, 3 * 1024 * 1024, 3 * 1024 * 1024 + 1):
        progress(size)
    assert told == [1, 2]
