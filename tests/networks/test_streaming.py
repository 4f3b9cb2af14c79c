"""Big JSON members parsed as streams: prefixes, tails, errors, progress, bounded memory."""

from __future__ import annotations

import json
import os
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from app.networks import archive as archive_module
from app.networks.archive import Archive, ByteProgress, iter_json, iter_list, list_path
from app.networks.base import ArchiveError
from tests.networks import archive_builders as b

ITEMS = [{"tweet": {"id_str": str(i), "full_text": f"café {i} 🎉"}} for i in range(50)]


class Recorder:
    def __init__(self) -> None:
        self.stages: list[tuple[str, int | None]] = []
        self.done = 0

    def stage(self, name: str, total: int | None = None) -> None:
        self.stages.append((name, total))

    def advance(self, done: int = 1) -> None:
        self.done += done


@pytest.mark.parametrize("bom", ["", "\ufeff"])
@pytest.mark.parametrize("tail", ["", ";", ";\n\n", "\r\n;\r\n"])
def test_ytd_prefix_and_tail_on_the_stream(tmp_path: Path, bom: str, tail: str) -> None:
    text = bom + b.ytd("tweets", ITEMS) + tail
    path = b.write_zip(tmp_path / "a.zip", {"data/tweets.js": text})
    with Archive.open(path) as archive:
        got = list(iter_json(archive, "data/tweets.js", after="="))
    assert got == ITEMS


def test_small_reads_split_everywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of 7 bytes cut the prefix, strings, escapes and the tail anywhere."""
    monkeypatch.setattr(archive_module, "STREAM_CHUNK", 7)
    path = b.write_folder(tmp_path / "f", {"t.js": b.ytd("tweets", ITEMS) + " ;  \n"})
    with Archive.open(path) as archive:
        assert list(iter_json(archive, "t.js", after="=")) == ITEMS


def test_prefix_missing(tmp_path: Path) -> None:
    path = b.write_folder(tmp_path / "f", {"t.js": json.dumps(ITEMS)})
    with Archive.open(path) as archive, pytest.raises(ArchiveError, match=r"line 1: expected"):
        list(iter_json(archive, "t.js", after=" = "))


def test_malformed_small_member_exact_line(tmp_path: Path) -> None:
    path = b.write_folder(tmp_path / "f", {"t.js": 'window.YTD.x.part0 = [\n{"a": 1},\n{"a": }]'})
    with (
        Archive.open(path) as archive,
        pytest.raises(ArchiveError, match=r"^t.js: line 3: invalid JSON"),
    ):
        list(iter_json(archive, "t.js", after="="))


def test_malformed_big_member_near_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive_module, "EXACT_ERROR_BYTES", 10)
    body = "[\n" + ",\n".join('{"a": 1}' for _ in range(100)) + ",\n{oops}]"
    path = b.write_folder(tmp_path / "f", {"t.json": body})
    with Archive.open(path) as archive, pytest.raises(ArchiveError, match=r"t.json: near line"):
        list(iter_json(archive, "t.json"))


@pytest.mark.parametrize(
    ("doc", "key", "expected"),
    [
        ([1, 2], "friends(_v\\d+)?", "item"),
        ({"friends_v2": [1]}, "friends(_v\\d+)?", "friends_v2.item"),
        ({"meta": {"x": [1]}, "deleted": [], "friends": [1]}, "friends(_v\\d+)?", "friends.item"),
        ({"friends_v2": "none"}, "friends(_v\\d+)?", None),
        ({"other": [1]}, "friends", None),
        ({"other": [1]}, None, "other.item"),
        ("text", None, None),
    ],
)
def test_list_path(tmp_path: Path, doc: object, key: str | None, expected: str | None) -> None:
    path = b.write_folder(tmp_path / "f", {"d.json": json.dumps(doc)})
    with Archive.open(path) as archive:
        assert list_path(archive, "d.json", key) == expected
        if expected:
            assert list(iter_list(archive, "d.json", key)) == ([1, 2] if doc == [1, 2] else [1])


def test_progress_counts_mib_to_the_end(tmp_path: Path) -> None:
    items = [{"id": i, "text": "x" * 200} for i in range(12_000)]  # about 2.6 MiB
    path = b.write_zip(tmp_path / "a.zip", {"big.json": json.dumps(items)})
    progress = Recorder()
    with Archive.open(path) as archive:
        report = ByteProgress(progress, "posts", archive, "big.json")
        assert sum(1 for _ in iter_json(archive, "big.json", report=report)) == 12_000
    assert progress.stages == [("posts: reading big.json (MiB)", 3)]
    assert progress.done == 3


def test_memory_bounded_by_one_item(tmp_path: Path) -> None:
    """A 24 MiB member is parsed in far less memory than its size."""
    path = tmp_path / "big.zip"
    item = json.dumps({"tweet": {"id_str": "1", "full_text": "café 🎉 " * 20}})
    noise = os.urandom(24 * 1024 * 1024 // 8).hex()  # real text does not compress 100 times
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf,
        zf.open("data/tweets.js", "w") as fh,
    ):
        fh.write(b"window.YTD.tweets.part0 = [\n")
        line = (item + ",\n").encode()
        count = 24 * 1024 * 1024 // (len(line) + 40)
        for i in range(count):
            fh.write(line[:-3] + f', "n": "{noise[i * 32 : i * 32 + 32]}"'.encode() + b"},\n")
        fh.write(item.encode() + b"\n]")
    with Archive.open(path) as archive:
        tracemalloc.start()
        try:
            seen = sum(1 for _ in iter_json(archive, "data/tweets.js", after="="))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert seen == count + 1
    assert peak < 4 * 1024 * 1024, peak
