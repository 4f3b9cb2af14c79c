"""Uploaded archives on their way to the import, kept where the importing process reads them.

An upload is stored in one of two places, named by :attr:`app.models.Upload.store`:

``local``
    One file, ``UPLOAD_FOLDER/<upload id>/<file name>``, on the machine that received it. The
    embedded default: the import runs in a thread of the web process, which reads that file.
``database``
    Rows of :class:`~app.models.UploadChunk` (``UPLOAD_CHUNK_KB`` each) beside the
    :class:`~app.models.Upload` row. Every process of a deployment reaches the database, so an
    RQ worker on another machine (a Heroku worker dyno shares no disk with the web dyno) reads
    the upload back into a private file of its own with :func:`fetch`.

Both ways the bytes are streamed: :func:`put` reads the request's file a chunk at a time and
:func:`fetch` writes one chunk at a time, so memory holds about one chunk whatever the size;
the size and SHA-256 measured on the way in are checked on the way out. :func:`delete` drops
an upload (its rows and any file made for it on this machine) when its import has ended,
whatever the outcome, and :func:`sweep` deletes what a crash left behind.

Object storage (S3 and the like) is not a store here yet.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import IO

from flask import current_app
from sqlalchemy import delete as sql_delete
from sqlalchemy import insert, select
from werkzeug.utils import secure_filename

from app.extensions import db
from app.models import SyncRun, SyncStatus, Upload, UploadChunk, utcnow
from app.networks.base import ArchiveError
from app.settings import PRIVATE_DIR_MODE, create_private_file, make_private_dir

log = logging.getLogger(__name__)

LOCAL = "local"
DATABASE = "database"
STORES = (LOCAL, DATABASE)
#: What an upload id looks like (a folder name this module made).
UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")

#: Chunks written or read per transaction: short ones, so that on SQLite (one writer at a
#: time) a long upload does not hold up the progress of an import going on.
COMMIT_EVERY = 8

#: Told the bytes read back so far (for a progress bar).
Progress = Callable[[int], None]


class UploadLost(ArchiveError):
    """An upload can no longer be read back whole (deleted, or damaged on the way)."""


def folder_of(upload_id: str) -> str:
    """The folder on this machine that holds (or will hold) upload ``upload_id``'s file.

    :raises ValueError: ``upload_id`` is not an id this module makes.
    """
    if not UPLOAD_ID.match(upload_id):
        raise ValueError(f"not an upload id: {upload_id!r}")
    return os.path.join(current_app.config["UPLOAD_FOLDER"], upload_id)


def path_of(upload: Upload) -> str:
    """Where ``upload``'s file is (local store) or is read back to (database store)."""
    return os.path.join(folder_of(upload.id), upload.filename)


def chunk_size() -> int:
    """Bytes per stored chunk (``UPLOAD_CHUNK_KB``)."""
    return max(1, int(current_app.config["UPLOAD_CHUNK_KB"])) * 1024


def _pieces(stream: IO[bytes], size: int) -> Iterator[bytes]:
    while piece := stream.read(size):
        yield piece


def _make_folder(upload_id: str) -> str:
    make_private_dir(current_app.config["UPLOAD_FOLDER"])
    folder = folder_of(upload_id)
    os.makedirs(folder, mode=PRIVATE_DIR_MODE, exist_ok=True)
    return folder


def put(stream: IO[bytes], filename: str, *, owner_id: int, store: str) -> Upload:
    """Store the file read from ``stream`` as a new upload of user ``owner_id``; return its row
    (committed).

    The file name is kept (sanitised): importers recognise a lone ``Connections.csv`` by it.
    The folder is made ``0700`` and a local file ``0600``: uploads are private archives.

    :param store: ``local`` or ``database`` (see the module's description).
    :raises ValueError: an unknown store.
    """
    if store not in STORES:
        raise ValueError(f"unknown upload store {store!r}")
    upload = Upload(
        id=secrets.token_hex(16),
        user_id=owner_id,
        store=store,
        filename=secure_filename(filename or "") or "upload",
        size=0,
        sha256="",
        chunks=0,
    )
    upload_id, digest, size, chunks = upload.id, hashlib.sha256(), 0, 0
    try:
        if store == LOCAL:
            _make_folder(upload_id)
            with os.fdopen(create_private_file(path_of(upload)), "wb") as file:
                for piece in _pieces(stream, chunk_size()):
                    file.write(piece)
                    digest.update(piece)
                    size += len(piece)
            db.session.add(upload)
        else:
            db.session.add(upload)
            db.session.commit()
            for seq, piece in enumerate(_pieces(stream, chunk_size())):
                db.session.execute(
                    insert(UploadChunk), {"upload_id": upload_id, "seq": seq, "data": piece}
                )
                digest.update(piece)
                size += len(piece)
                chunks = seq + 1
                if chunks % COMMIT_EVERY == 0:
                    db.session.commit()  # short transactions: SQLite's other writers go on
        upload.size, upload.chunks, upload.sha256 = size, chunks, digest.hexdigest()
        db.session.commit()
    except BaseException:
        db.session.rollback()
        delete(upload_id)  # the chunks committed so far, the row, the folder
        raise
    log.info(
        "upload %s stored (%s, %s bytes, %s chunks)", upload.id, store, upload.size, upload.chunks
    )
    return upload


def fetch(upload_id: str, progress: Progress | None = None) -> str:
    """Return the path of upload ``upload_id``'s file on this machine, reading it back from
    the database first when it is stored there (streamed, then checked against the size and
    SHA-256 measured by :func:`put`).

    :param progress: told the bytes read back so far, after each chunk.
    :raises UploadLost: the upload is gone, or what was read back is not what was stored.
    """
    upload = db.session.get(Upload, upload_id)
    if upload is None:
        raise UploadLost("The uploaded file is no longer on the server. Upload it again.")
    path = path_of(upload)
    if upload.store == LOCAL:
        if not os.path.isfile(path):
            raise UploadLost(
                "The uploaded file is no longer on this server (was it received by another "
                "machine?). Upload it again."
            )
        return path
    stored_size, stored_sha256, chunks = upload.size, upload.sha256, upload.chunks
    _make_folder(upload_id)
    if os.path.exists(path):
        os.remove(path)  # a copy left by an earlier attempt
    digest = hashlib.sha256()
    size = 0
    with os.fdopen(create_private_file(path), "wb") as file:
        for seq in range(chunks):
            piece = db.session.scalar(
                select(UploadChunk.data).where(
                    UploadChunk.upload_id == upload_id, UploadChunk.seq == seq
                )
            )
            if piece is None:
                break
            file.write(piece)
            digest.update(piece)
            size += len(piece)
            if (seq + 1) % COMMIT_EVERY == 0:
                db.session.commit()  # end the read: SQLite's writers are not held up
            if progress is not None:
                progress(size)
    if size != stored_size or digest.hexdigest() != stored_sha256:
        os.remove(path)
        log.error("upload %s read back damaged: %s of %s bytes", upload_id, size, stored_size)
        raise UploadLost(
            "The uploaded file did not arrive whole on the server that imports it. Upload it again."
        )
    return path


def delete(upload_id: str) -> None:
    """Delete upload ``upload_id``: its rows, and its file or read-back copy on this machine.
    Deleting an upload that is already gone does nothing."""
    db.session.execute(sql_delete(UploadChunk).where(UploadChunk.upload_id == upload_id))
    db.session.execute(sql_delete(Upload).where(Upload.id == upload_id))
    db.session.commit()
    shutil.rmtree(folder_of(upload_id), ignore_errors=True)


def count_chunks(upload_id: str | None = None) -> int:
    """Chunks stored in the database, of one upload or of all."""
    query = select(db.func.count()).select_from(UploadChunk)
    if upload_id is not None:
        query = query.where(UploadChunk.upload_id == upload_id)
    return int(db.session.scalar(query) or 0)


ALIVE = (SyncStatus.QUEUED, SyncStatus.RUNNING, SyncStatus.PAUSED)


def sweep(now: datetime | None = None) -> int:
    """Delete the uploads no import will read; return how many.

    That is an upload whose import has ended (its runner died before deleting it), one that
    never got an import and is older than ``UPLOAD_MAX_AGE_HOURS``, and on this machine a
    folder of ``UPLOAD_FOLDER`` that no upload row names, as old. An upload whose import is
    queued or running is kept, however old.
    """
    now = now or utcnow()
    cutoff = now - timedelta(hours=float(current_app.config["UPLOAD_MAX_AGE_HOURS"]))
    rows = db.session.execute(
        select(Upload.id, Upload.run_id, Upload.created_at, SyncRun.status).outerjoin(
            SyncRun, Upload.run_id == SyncRun.id
        )
    ).all()
    known = set()
    doomed = []
    for upload_id, run_id, created_at, status in rows:
        known.add(upload_id)
        if run_id is not None and status in ALIVE:
            continue
        if run_id is not None or created_at < cutoff:
            doomed.append(upload_id)
    for upload_id in doomed:
        delete(upload_id)
    swept = len(doomed) + _sweep_folders(known, cutoff)
    if swept:
        log.info("swept %s orphaned uploads", swept)
    return swept


def _sweep_folders(known: set[str], cutoff: datetime) -> int:
    root = current_app.config["UPLOAD_FOLDER"]
    if not os.path.isdir(root):
        return 0
    oldest = cutoff.timestamp()
    swept = 0
    with os.scandir(root) as entries:
        for entry in entries:
            if not (UPLOAD_ID.match(entry.name) and entry.is_dir(follow_symlinks=False)):
                continue
            if entry.name in known or entry.stat(follow_symlinks=False).st_mtime >= oldest:
                continue
            shutil.rmtree(entry.path, ignore_errors=True)
            swept += 1
    return swept


def mib_progress(report: Callable[[int], None]) -> Progress:
    """A :data:`Progress` that calls ``report`` with the whole MiB newly read back (for
    :class:`~app.sync.service.RunProgress`, which counts units and throttles its writes)."""
    reported = [0]

    def told(size: int) -> None:
        mib = size // (1024 * 1024)
        if mib > reported[0]:
            report(mib - reported[0])
            reported[0] = mib

    return told
