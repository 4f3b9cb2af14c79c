"""Safe, uniform reading of the data archives people upload.

Every importer opens its upload through :class:`Archive`, which treats a zip file, a
``.tar.gz`` (older Mastodon archives), an unpacked folder and a single file the same way and
enforces the safety rules in one place:

* a zip bomb is refused before anything is decompressed: the total declared uncompressed size
  is capped (:attr:`ArchiveLimits.max_total_bytes`, 2 GiB by default), so is the number of
  members (:attr:`ArchiveLimits.max_members`), and a compression ratio that real exports never
  have (:attr:`ArchiveLimits.max_ratio`) stops the import, for one large member and for the
  sum of all members alike; while reading, the same size and ratio caps apply to the sum of
  the bytes actually read from every member (declared sizes can lie);
* member names that climb out of the archive (``../``), absolute names, drive letters,
  symlink members (zip external attributes, tar link entries) and, in folders, symlinks, are
  never listed, so no importer can ever read them; macOS ``__MACOSX/`` and ``._`` resource
  forks are dropped as well;
* members are opened as streams, and big JSON members are parsed as streams too
  (:meth:`Archive.iter_json`, with ijson's C backend): memory holds one item at a time,
  never the whole member;
* a truncated or unreadable archive, an empty upload and a malformed JSON file all raise
  :class:`~app.networks.base.ArchiveError` with a message that names the file (and line).

:func:`detect_network` recognises which network an archive comes from, so an Instagram zip
uploaded as X gets "This looks like an Instagram archive, not an X archive".
"""

from __future__ import annotations

import fnmatch
import hashlib
import io
import json
import os
import re
import stat
import tarfile
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import ijson

from app.networks.base import (
    AccountData,
    ArchiveError,
    PartState,
    Person,
    Post,
    PostSpool,
    Progress,
)
from app.networks.registry import CONNECTORS

GIB = 1024**3
MIB = 1024**2


@dataclass(frozen=True, slots=True)
class ArchiveLimits:
    """How much an upload may expand to.

    :param max_total_bytes: cap on the sum of the declared uncompressed member sizes.
    :param max_ratio: largest uncompressed/compressed ratio allowed for a big member.
    :param ratio_min_bytes: members smaller than this are not ratio-checked (small JSON
        files of repeated keys compress extremely well and are harmless).
    :param max_member_bytes: cap on one member read into memory (a JSON file).
    :param max_members: cap on the number of files in an archive.

    The size and ratio caps apply to each large member, to the sum of all members as the
    archive declares them, and to the sum of the bytes actually read.
    """

    max_total_bytes: int = 2 * GIB
    max_ratio: float = 100.0
    ratio_min_bytes: int = 1 * MIB
    max_member_bytes: int = 1 * GIB
    max_members: int = 100_000

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ArchiveLimits:
        """Limits from the settings ``ARCHIVE_MAX_TOTAL_MB``, ``ARCHIVE_MAX_RATIO``,
        ``ARCHIVE_MAX_MEMBER_MB`` and ``ARCHIVE_MAX_MEMBERS`` of ``config`` (an app's config
        or the environment; defaults where unset, empty or not a number)."""
        base = cls()

        def number(key: str, default: float, scale: int = 1) -> Any:
            raw = str(config.get(key) or "").strip()
            try:
                return type(default)(float(raw) * scale) if raw else default
            except ValueError:
                return default

        return cls(
            max_total_bytes=number("ARCHIVE_MAX_TOTAL_MB", base.max_total_bytes, MIB),
            max_ratio=number("ARCHIVE_MAX_RATIO", base.max_ratio),
            ratio_min_bytes=base.ratio_min_bytes,
            max_member_bytes=number("ARCHIVE_MAX_MEMBER_MB", base.max_member_bytes, MIB),
            max_members=number("ARCHIVE_MAX_MEMBERS", base.max_members),
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ArchiveLimits:
        """Limits from the environment variables of the same names (:meth:`from_config`)."""
        return cls.from_config(os.environ if environ is None else environ)


#: The limits outside an app (a script reading an archive): the environment's.
DEFAULT_LIMITS = ArchiveLimits.from_env()


#: The limits set by whoever runs the import (:func:`use_limits`).
_LIMITS: ContextVar[ArchiveLimits | None] = ContextVar("archive_limits", default=None)


@contextmanager
def use_limits(limits: ArchiveLimits) -> Iterator[ArchiveLimits]:
    """Within the block, archives opened without explicit limits use ``limits``: the job
    runner sets its app's config here (:meth:`ArchiveLimits.from_config`), in the web
    process and on an RQ worker alike."""
    token = _LIMITS.set(limits)
    try:
        yield limits
    finally:
        _LIMITS.reset(token)


def configured_limits() -> ArchiveLimits:
    """The limits in force: those set by :func:`use_limits`, else :data:`DEFAULT_LIMITS`
    (the environment's, which :class:`app.settings.Config` reads too)."""
    return _LIMITS.get() or DEFAULT_LIMITS


def safe_name(raw: str) -> str | None:
    """Normalise a member name to a relative POSIX path, or ``None`` when it is unsafe.

    Backslashes (zips made on old Windows tools) become slashes; ``./`` parts are dropped.
    A name that is absolute, has a drive letter or a ``..`` part is unsafe; so is a macOS
    resource fork (``__MACOSX/``, ``._name``), which is never data.
    """
    name = raw.replace("\\", "/")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return None
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if not parts or ".." in parts or parts[0] == "__MACOSX" or parts[-1].startswith("._"):
        return None
    return "/".join(parts)


class _LimitedReader(io.RawIOBase):
    """Wraps a member stream and stops it past ``limit`` bytes (declared sizes can lie).

    ``account`` is told every count of bytes read, so the archive can check its totals.
    """

    def __init__(
        self,
        raw: IO[bytes],
        limit: int,
        name: str,
        account: Callable[[int], None] | None = None,
    ) -> None:
        self._raw = raw
        self._left = limit
        self._name = name
        self._account = account

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(min(len(buffer), self._left + 1))
        if len(data) > self._left:
            raise ArchiveError(f"{self._name}: the file is larger than the archive says.")
        self._left -= len(data)
        if self._account is not None and data:
            self._account(len(data))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._raw.close()
        super().close()


class Archive:
    """A read-only view of an uploaded archive: zip, tar.gz, folder or single file.

    Use :meth:`open` as a context manager. :attr:`names` lists the safe regular files as
    relative POSIX paths; :meth:`find` selects them by pattern, and :meth:`read_json`,
    :meth:`read_text` and :meth:`stream` read one at a time.
    """

    def __init__(
        self,
        path: Path,
        kind: str,
        names: list[str],
        limits: ArchiveLimits,
        *,
        zip_file: zipfile.ZipFile | None = None,
        tar_file: tarfile.TarFile | None = None,
        tar_members: dict[str, tarfile.TarInfo] | None = None,
    ) -> None:
        self.path = path
        self.kind = kind  #: "zip", "tar", "folder" or "file"
        self.names = names
        self.limits = limits
        self._zip = zip_file
        self._tar = tar_file
        self._tar_members = tar_members or {}
        self.bytes_read = 0  #: bytes read from all members so far
        self._compressed_opened = 0  #: compressed size of the zip members opened so far

    # -- opening ---------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike[str], limits: ArchiveLimits | None = None) -> Archive:
        """Open ``path`` after the safety checks.

        :raises ArchiveError: the path does not exist, is empty, is a truncated or corrupt
            zip/tar.gz, or would expand past the limits.
        """
        limits = limits or configured_limits()
        p = Path(path)
        if p.is_dir():
            return cls(p, "folder", _folder_names(p), limits)
        if not p.is_file():
            raise ArchiveError(f"{p.name}: no such file or folder.")
        size = p.stat().st_size
        if size == 0:
            raise ArchiveError(f"{p.name}: the uploaded file is empty (0 bytes).")
        with p.open("rb") as fh:
            magic = fh.read(4)
        if magic[:2] == b"PK":
            return cls._open_zip(p, limits)
        if magic[:2] == b"\x1f\x8b":
            return cls._open_tar(p, size, limits)
        return cls(p, "file", [p.name], limits)

    @classmethod
    def _open_zip(cls, p: Path, limits: ArchiveLimits) -> Archive:
        try:
            zf = zipfile.ZipFile(p)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise ArchiveError(
                f"{p.name}: not a complete zip archive (the download may be truncated; "
                "download it again)."
            ) from exc
        infos: dict[str, zipfile.ZipInfo] = {}
        total = compressed = 0
        try:
            members = [info for info in zf.infolist() if not info.is_dir()]
            _check_count(p, len(members), limits)
            for info in members:
                if stat.S_ISLNK(info.external_attr >> 16):
                    continue
                name = safe_name(info.filename)
                if name is None:
                    continue
                total += info.file_size
                if total > limits.max_total_bytes:
                    raise ArchiveError(
                        f"{p.name}: the archive expands to more than "
                        f"{_human(limits.max_total_bytes)}; refusing to unpack it."
                    )
                if info.file_size >= limits.ratio_min_bytes and info.file_size > (
                    limits.max_ratio * max(info.compress_size, 1)
                ):
                    raise ArchiveError(
                        f"{p.name}: {name} is compressed more than {limits.max_ratio:g} "
                        "times, which real exports never are; refusing it as a zip bomb."
                    )
                compressed += info.compress_size
                infos[name] = info
            if total >= limits.ratio_min_bytes and total > limits.max_ratio * max(compressed, 1):
                raise ArchiveError(
                    f"{p.name}: its {len(infos)} files together are compressed "
                    f"{total / max(compressed, 1):.0f} times (more than {limits.max_ratio:g}), "
                    "which real exports never are; refusing it as a zip bomb."
                )
        except ArchiveError:
            zf.close()
            raise
        archive = cls(p, "zip", list(infos), limits, zip_file=zf)
        archive._zip_infos = infos
        return archive

    @classmethod
    def _open_tar(cls, p: Path, size: int, limits: ArchiveLimits) -> Archive:
        members: dict[str, tarfile.TarInfo] = {}
        total = 0
        try:
            tf = tarfile.open(p, mode="r:gz")  # noqa: SIM115 - closed by Archive.close
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise ArchiveError(f"{p.name}: not a readable .tar.gz archive.") from exc
        try:
            for count, info in enumerate(tf, start=1):
                _check_count(p, count, limits)
                if not info.isfile():
                    continue  # directories, symlinks, hard links, devices
                name = safe_name(info.name)
                if name is None:
                    continue
                total += info.size
                if total > limits.max_total_bytes:
                    raise ArchiveError(
                        f"{p.name}: the archive expands to more than "
                        f"{_human(limits.max_total_bytes)}; refusing to unpack it."
                    )
                members[name] = info
        except (tarfile.TarError, OSError, EOFError) as exc:
            tf.close()
            raise ArchiveError(f"{p.name}: the .tar.gz archive is truncated or corrupt.") from exc
        except ArchiveError:
            tf.close()
            raise
        if total >= limits.ratio_min_bytes and total > limits.max_ratio * size:
            tf.close()
            raise ArchiveError(
                f"{p.name}: the archive is compressed more than {limits.max_ratio:g} times, "
                "which real exports never are; refusing it as a zip bomb."
            )
        return cls(p, "tar", list(members), limits, tar_file=tf, tar_members=members)

    _zip_infos: dict[str, zipfile.ZipInfo]

    def _account(self, count: int) -> None:
        """Add ``count`` bytes read; refuse past the total size or ratio caps."""
        self.bytes_read += count
        limits = self.limits
        if self.bytes_read > limits.max_total_bytes:
            raise ArchiveError(
                f"{self.path.name}: more than {_human(limits.max_total_bytes)} were read from "
                "the archive in total; refusing to read more."
            )
        if (
            self.kind == "zip"
            and self.bytes_read >= limits.ratio_min_bytes
            and self.bytes_read > limits.max_ratio * max(self._compressed_opened, 1)
        ):
            raise ArchiveError(
                f"{self.path.name}: the files read so far expand more than "
                f"{limits.max_ratio:g} times, which real exports never do; refusing it as a "
                "zip bomb."
            )

    def close(self) -> None:
        """Release the underlying zip or tar file."""
        if self._zip is not None:
            self._zip.close()
        if self._tar is not None:
            self._tar.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- finding ---------------------------------------------------------------------------

    def find(self, *patterns: str) -> list[str]:
        """Names matching any of ``patterns`` (``fnmatch``, case-insensitive), sorted.

        A pattern matches the whole name or its end after a ``/``, so a wrapper folder
        (``twitter-2024-01-01-abc/data/tweets.js``) makes no difference.
        """
        found = []
        for name in self.names:
            low = name.lower()
            for pattern in patterns:
                pat = pattern.lower()
                if fnmatch.fnmatchcase(low, pat) or fnmatch.fnmatchcase(low, "*/" + pat):
                    found.append(name)
                    break
        return sorted(found, key=_natural_key)

    def first(self, *patterns: str) -> str | None:
        """The first name :meth:`find` returns for ``patterns`` tried in order, or ``None``."""
        for pattern in patterns:
            found = self.find(pattern)
            if found:
                return found[0]
        return None

    # -- reading ---------------------------------------------------------------------------

    def stream(self, name: str) -> IO[bytes]:
        """Open member ``name`` as a binary stream (the caller closes it).

        :raises ArchiveError: the member cannot be read (corrupt data, failed CRC).
        """
        if self.kind == "folder":
            raw: IO[bytes] = (self.path / name).open("rb")
            limit = self.limits.max_total_bytes
        elif self.kind == "file":
            raw = self.path.open("rb")
            limit = self.limits.max_total_bytes
        elif self._zip is not None:
            info = self._zip_infos[name]
            raw = self._zip.open(info)
            limit = info.file_size
            self._compressed_opened += info.compress_size
        else:
            assert self._tar is not None
            member = self._tar.extractfile(self._tar_members[name])
            assert member is not None
            raw = member
            limit = self._tar_members[name].size
        reader = _LimitedReader(raw, limit, name, self._account)
        return io.BufferedReader(reader)  # type: ignore[arg-type]

    def size(self, name: str) -> int:
        """The (declared) uncompressed size of member ``name``."""
        if self.kind == "folder":
            return (self.path / name).stat().st_size
        if self.kind == "file":
            return self.path.stat().st_size
        if self._zip is not None:
            return self._zip_infos[name].file_size
        return self._tar_members[name].size

    def read_bytes(self, name: str) -> bytes:
        """Read member ``name`` whole; fine for one JSON or CSV file at a time."""
        chunks: list[bytes] = []
        total = 0
        try:
            with self.stream(name) as fh:
                while chunk := fh.read(MIB):
                    total += len(chunk)
                    if total > self.limits.max_member_bytes:
                        raise ArchiveError(
                            f"{name}: larger than {_human(self.limits.max_member_bytes)}."
                        )
                    chunks.append(chunk)
        except (zipfile.BadZipFile, OSError, EOFError, tarfile.TarError) as exc:
            raise ArchiveError(f"{name}: cannot be read from the archive ({exc}).") from exc
        except (ValueError, zlib.error) as exc:  # corrupt deflate data
            raise ArchiveError(f"{name}: cannot be read from the archive ({exc}).") from exc
        return b"".join(chunks)

    def read_text(self, name: str) -> str:
        """Read member ``name`` as text: UTF-8, or UTF-16 (with a byte-order mark, or without
        one when every other byte is zero, as some LinkedIn exports are); a byte-order mark
        is dropped.

        :raises ArchiveError: the file is neither UTF-8 nor UTF-16.
        """
        return decode_text(self.read_bytes(name), name)

    def read_json(self, name: str, *, after: str | None = None) -> Any:
        """Parse member ``name`` as JSON.

        :param after: parse only what follows the first occurrence of this text (X's
            ``window.YTD.tweets.part0 =`` prefix, say); line numbers stay those of the file.
        :raises ArchiveError: the JSON is malformed; the message names the file and line.
        """
        text = self.read_text(name)
        return parse_json(text, name, after=after)


def decode_text(data: bytes, name: str) -> str:
    """``data`` as text: UTF-16 by its byte-order mark or its zero bytes, else UTF-8.

    :raises ArchiveError: not UTF-8 (nor UTF-16), with the line of the first bad byte.
    """
    encoding = "utf-8-sig"
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        encoding = "utf-16"
    elif len(data) >= 4 and data[1:64:2].count(0) > 0.9 * len(data[1:64:2]):
        encoding = "utf-16-le"
    elif len(data) >= 4 and data[0:64:2].count(0) > 0.9 * len(data[0:64:2]):
        encoding = "utf-16-be"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        if encoding != "utf-8-sig":
            raise ArchiveError(f"{name}: not readable UTF-16 text.") from exc
        line = data[: exc.start].count(b"\n") + 1
        raise ArchiveError(f"{name}: line {line}: not UTF-8 text.") from exc


def parse_json(text: str, name: str, *, after: str | None = None) -> Any:
    """Parse ``text`` (optionally what follows ``after``) as JSON for file ``name``.

    :raises ArchiveError: malformed JSON, with the file, line and column in the message.
    """
    offset = 0
    if after is not None:
        at = text.find(after)
        if at < 0:
            raise ArchiveError(f"{name}: line 1: expected {after.strip()!r} at the start.")
        offset = at + len(after)
    # raw_decode parses in place: no copy of a file that may be tens of megabytes.
    start = (
        len(text) - len(text[offset:].lstrip()) if text[offset : offset + 1].isspace() else offset
    )
    try:
        value, end = _DECODER.raw_decode(text, start)
    except json.JSONDecodeError as exc:
        line = text.count("\n", 0, exc.pos) + 1
        raise ArchiveError(f"{name}: line {line}: invalid JSON ({exc.msg}).") from exc
    rest = text[end:]
    if rest.strip().strip(";").strip():
        line = text.count("\n", 0, end + len(rest) - len(rest.lstrip())) + 1
        raise ArchiveError(f"{name}: line {line}: invalid JSON (extra data after the value).")
    return value


_DECODER = json.JSONDecoder()


def _check_count(p: Path, count: int, limits: ArchiveLimits) -> None:
    if count > limits.max_members:
        raise ArchiveError(
            f"{p.name}: the archive holds more than {limits.max_members:,} files, which real "
            "exports never do; refusing to unpack it."
        )


# -- streamed JSON -----------------------------------------------------------------------------

#: How much of a member is read at a time while it is parsed as a stream.
STREAM_CHUNK = 256 * 1024
#: Members up to this size are re-read whole when they are malformed, for an exact line.
EXACT_ERROR_BYTES = 16 * MIB
#: How far into a member the ``after`` text (X's ``window.YTD.tweets.part0 =``) may be.
PREFIX_WINDOW = 64 * 1024
_TAIL = b" \t\r\n;"


class _JsonBody:
    """A member stream as the JSON parser should see it: a byte-order mark and everything
    up to ``after`` dropped, trailing ``;`` and blanks held back; lines and bytes counted."""

    def __init__(
        self,
        fh: IO[bytes],
        name: str,
        after: str | None,
        report: Callable[[int], None] | None,
    ) -> None:
        self._fh = fh
        self._name = name
        self._carry = b""
        self._report = report
        self._unreported = 0
        self.lines = 1  #: newlines seen in what was handed out, plus one
        head = fh.read(PREFIX_WINDOW)
        self._note(len(head))
        if head.startswith(b"\xef\xbb\xbf"):
            head = head[3:]
        if after is not None:
            at = head.find(after.encode())
            if at < 0:
                raise ArchiveError(f"{name}: line 1: expected {after.strip()!r} at the start.")
            self.lines += head.count(b"\n", 0, at)
            head = head[at + len(after) :]
        self._pending = head

    def _note(self, count: int) -> None:
        if self._report is None:
            return
        self._unreported += count
        if self._unreported >= MIB or count == 0:
            self._report(self._unreported)
            self._unreported = 0

    def read(self, size: int = -1) -> bytes:
        if size == 0:
            return b""  # ijson asks for nothing first, to learn bytes from text
        while True:
            if self._pending:
                data, self._pending = self._pending, b""
            else:
                data = self._fh.read(STREAM_CHUNK if size < 0 else max(size, 1))
                self._note(len(data))
                if not data:
                    return b""  # the carried tail (blanks and ';') is dropped
            data = self._carry + data
            kept = data.rstrip(_TAIL)
            self._carry = data[len(kept) :]
            if kept:
                self.lines += kept.count(b"\n")
                return kept


def iter_json(
    archive: Archive,
    name: str,
    path: str = "item",
    *,
    after: str | None = None,
    report: Callable[[int], None] | None = None,
) -> Iterator[Any]:
    """Yield the values at ``path`` (ijson syntax: ``item`` for the items of a top-level
    list, ``orderedItems.item``...) of member ``name``, parsed as a stream.

    Memory holds one value at a time, whatever the size of the member.

    :param after: parse only what follows this text (X's ``window.YTD.tweets.part0 =``).
    :param report: told the count of bytes read, about every MiB (for progress).
    :raises ArchiveError: malformed JSON, with the file and line in the message.
    """
    try:
        with archive.stream(name) as fh:
            body = _JsonBody(fh, name, after, report)
            try:
                yield from _ITEMS(body, path, use_float=True, buf_size=STREAM_CHUNK)
            except ijson.JSONError as exc:
                raise _json_error(archive, name, after, body.lines, exc) from exc
    except (zipfile.BadZipFile, OSError, EOFError, tarfile.TarError) as exc:
        raise ArchiveError(f"{name}: cannot be read from the archive ({exc}).") from exc
    except (ValueError, zlib.error) as exc:  # corrupt deflate data
        raise ArchiveError(f"{name}: cannot be read from the archive ({exc}).") from exc


def list_path(archive: Archive, name: str, key: str | None = None) -> str | None:
    """The ijson path of the list member ``name`` holds: ``item`` when the document is a
    list, ``<k>.item`` for the first top-level key ``k`` that matches the regular expression
    ``key`` (any key when ``None``) and holds a list; ``None`` when there is none.

    Only the start of the member is read (up to the list found).
    """
    pattern = re.compile(key) if key is not None else None
    try:
        with archive.stream(name) as fh:
            events = _PARSE(_JsonBody(fh, name, None, None), buf_size=64 * 1024)
            for prefix, event, value in events:
                if prefix == "" and event == "start_array":
                    return "item"
                if prefix == "" and event == "map_key":
                    found = str(value)
                    if pattern is None or pattern.fullmatch(found):
                        _, kind, _ = next(events)
                        if kind == "start_array":
                            return f"{found}.item"
                elif prefix == "" and event in ("end_map", "string", "number", "boolean"):
                    return None
    except ijson.JSONError as exc:
        raise _json_error(archive, name, None, 0, exc) from exc
    except (zipfile.BadZipFile, OSError, EOFError, tarfile.TarError, zlib.error) as exc:
        raise ArchiveError(f"{name}: cannot be read from the archive ({exc}).") from exc
    return None


def iter_list(
    archive: Archive,
    name: str,
    key: str | None = None,
    *,
    report: Callable[[int], None] | None = None,
) -> Iterator[Any]:
    """The items of the list in member ``name`` (see :func:`list_path`), streamed."""
    path = list_path(archive, name, key)
    if path is not None:
        yield from iter_json(archive, name, path, report=report)


def _json_error(
    archive: Archive, name: str, after: str | None, line: int, exc: Exception
) -> ArchiveError:
    """The error for a malformed member: exact (re-parsed whole) when it is small."""
    if archive.size(name) <= EXACT_ERROR_BYTES:
        try:
            archive.read_json(name, after=after)
        except ArchiveError as exact:
            return exact
    where = f"line {line}" if line else "line 1"
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return ArchiveError(f"{name}: near {where}: invalid JSON ({reason}).")


try:
    _BACKEND = ijson.get_backend("yajl2_c")
except ImportError:  # pragma: no cover - the wheel ships the C backend
    _BACKEND = ijson
_ITEMS = _BACKEND.items
_PARSE = _BACKEND.parse


def _folder_names(root: Path) -> list[str]:
    names = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        base = Path(dirpath)
        dirnames[:] = [d for d in dirnames if not (base / d).is_symlink()]
        for filename in filenames:
            full = base / filename
            if full.is_symlink() or not full.is_file():
                continue
            name = safe_name(full.relative_to(root).as_posix())
            if name is not None:
                names.append(name)
    return sorted(names)


def _natural_key(name: str) -> list[Any]:
    """Sort ``posts_2.json`` before ``posts_10.json``."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def _human(n: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:g} {unit}" if unit == "bytes" else f"{n:.3g} {unit}"
        n = n / 1024  # type: ignore[assignment]
    raise AssertionError  # pragma: no cover


# -- recognising the network -------------------------------------------------------------------

#: Name patterns that only one network's archive has.
SIGNATURES: dict[str, tuple[str, ...]] = {
    "x": (
        "data/manifest.js",
        "data/tweets.js",
        "data/tweet.js",
        "data/tweets-part*.js",
        "data/account.js",
        "data/follower.js",
        "tweets.js",
        "tweet.js",
    ),
    "facebook": (
        "friends/friends.json",
        "friends_and_followers/*.json",
        "connections/friends/*.json",
        "connections/followers/people_who_followed_you*.json",
        "connections/followers/who_you've_followed*.json",
        "following_and_followers/*.json",
        "profile_information/profile_information.json",
        "posts/your_posts*.json",
        "your_activity_across_facebook/*",
        "your_facebook_activity/*",
    ),
    "instagram": (
        "followers_and_following/followers_*.json",
        "followers_and_following/following.json",
        "personal_information/personal_information.json",
        "your_instagram_activity/*",
        "content/posts_*.json",
    ),
    "linkedin": (
        "connections.csv",
        "profile.csv",
        "shares.csv",
        "invitations.csv",
        "positions.csv",
    ),
    "mastodon": ("outbox.json", "actor.json", "following_accounts.csv"),
    "bluesky": ("*.car",),
}


def detect_network(archive: Archive) -> str | None:
    """The network whose archive this looks like, or ``None`` when none matches.

    Each network scores the number of its signature patterns found; the best score wins.
    """
    scores = {net: sum(1 for p in pats if archive.find(p)) for net, pats in SIGNATURES.items()}
    best = max(scores, key=lambda n: scores[n])
    return best if scores[best] else None


def check_network(archive: Archive, network: str, found_own: bool, what: str) -> None:
    """Raise unless ``archive`` is ``network``'s.

    :param found_own: whether the importer found the files it needs.
    :param what: the files it looked for, for the message when none were found.
    :raises ArchiveError: "This looks like an Instagram archive, not an X archive", or
        "This does not look like an X archive: ..." when no network matches.
    """
    detected = detect_network(archive)
    if detected is not None and detected != network:
        own = sum(1 for p in SIGNATURES[network] if archive.find(p))
        other = sum(1 for p in SIGNATURES[detected] if archive.find(p))
        if not found_own or other > own:
            raise ArchiveError(
                f"This looks like {_article(_name(detected))} archive, "
                f"not {_article(_name(network))} archive."
            )
    if not found_own:
        raise ArchiveError(
            f"This does not look like {_article(_name(network))} archive: {what} not found "
            f"in {archive.path.name}."
        )


def _article(label: str) -> str:
    return ("an " if label[0] in "AEIOUX" else "a ") + label


class ByteProgress:
    """Reports the bytes read from one member as a progress stage counted in MiB, so the
    page's bar moves while a big file is parsed (pass it as ``report`` to :func:`iter_json`).
    """

    def __init__(self, progress: Progress, stage: str, archive: Archive, name: str) -> None:
        self._progress = progress
        self._read = 0
        self._sent = 0
        self._total = max(1, -(-archive.size(name) // MIB))
        progress.stage(f"{stage}: reading {Path(name).name} (MiB)", total=self._total)

    def __call__(self, count: int) -> None:
        self._read += count
        whole = min(self._total, -(-self._read // MIB))
        if whole > self._sent:
            self._progress.advance(whole - self._sent)
            self._sent = whole


def iter_chunks(items: list[Any], size: int = 1000) -> Iterator[list[Any]]:
    """Yield ``items`` in slices of ``size`` (to report progress in steps)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


# -- text helpers shared by the importers ------------------------------------------------------


def fix_mojibake(value: Any) -> Any:
    """Repair Meta's export encoding in every string of ``value`` (Facebook, Instagram).

    Meta writes each UTF-8 byte of a non-ASCII character as its own ``\\u00XX`` escape, so
    "café" arrives as "cafÃ©". Re-encoding as Latin-1 and decoding as UTF-8 undoes it; a
    string that does not round-trip (already correct text) is left as it is.
    """
    if isinstance(value, str):
        try:
            return value.encode("latin-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            return value
    if isinstance(value, list):
        return [fix_mojibake(v) for v in value]
    if isinstance(value, dict):
        return {k: fix_mojibake(v) for k, v in value.items()}
    return value


def slugify(text: str, sep: str = ".") -> str:
    """An ASCII handle made from a display name: "José Álvarez" -> "jose.alvarez"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", sep, ascii_text.lower()).strip(sep)
    return slug or "unknown"


def stable_id(prefix: str, *parts: object) -> str:
    """A short id that is the same on every import of the same data."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()
    return f"{prefix}{digest[:16]}"


@dataclass(slots=True)
class ImportLog:
    """What an importer could not read, to put in ``AccountData.missing_parts``/``notes``."""

    missing: list[str]
    notes: list[str]

    @classmethod
    def new(cls) -> ImportLog:
        return cls([], [])

    def missing_part(self, name: str, note: str | None = None) -> None:
        """Record an expected part that is not in the archive."""
        if name not in self.missing:
            self.missing.append(name)
        if note and note not in self.notes:
            self.notes.append(note)

    def optional_json(self, archive: Archive, name: str, *, after: str | None = None) -> Any:
        """Parse an optional part; a malformed one is recorded and ``None`` returned.

        Optional parts (the owner's profile, long-post texts...) add detail; losing one must
        not throw away the followers and posts that parsed.
        """
        try:
            return archive.read_json(name, after=after)
        except ArchiveError as exc:
            self.unreadable(name, exc)
            return None

    def unreadable(self, name: str, exc: ArchiveError) -> None:
        """Record an optional part that exists but could not be parsed."""
        self.missing.append(f"{name} (unreadable)")
        self.notes.append(f"{exc} The rest of the archive was imported without it.")


def parse_iso(value: object) -> datetime | None:
    """Parse an ISO 8601 timestamp ("2023-05-01T10:00:00.000Z") to aware UTC, or ``None``."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    # Python 3.11 accepts most ISO forms; trim sub-microsecond digits Bluesky may send.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def from_timestamp(value: object) -> datetime | None:
    """Unix seconds (int, float or numeric string) to aware UTC, or ``None``."""
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if seconds <= 0:
        return None
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def listed_account(
    owner: Person,
    people: dict[str, Person],
    followers: list[str] | None,
    friends: list[str] | None,
    posts: list[Post] | PostSpool,
    *,
    posts_read: bool,
    log: ImportLog,
    archive_date: datetime | None = None,
) -> AccountData:
    """An import whose owner counts are what the archive lists (Facebook, Instagram,
    LinkedIn): ``None`` for a list or the posts the archive did not have, never ``0``."""
    owner.followers_count = len(followers) if followers is not None else None
    owner.following_count = len(friends) if friends is not None else None
    owner.posts_count = len(posts) if posts_read else None
    data = AccountData(
        owner=owner,
        people=people,
        followers=followers,
        friends=friends,
        posts=posts,
        notes=log.notes,
        archive_date=archive_date,
        missing_parts=log.missing,
    )
    if not posts_read:
        data.mark("posts", PartState.ABSENT, reason="The archive has no posts file.")
    return data


def _name(network: str) -> str:
    """A network's short name for sentences ("an X archive")."""
    connector = CONNECTORS.get(network)
    return connector.name if connector is not None else network
