"""Safety rules of the shared archive reader."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from app.networks.archive import (
    Archive,
    ArchiveLimits,
    ImportLog,
    detect_network,
    fix_mojibake,
    from_timestamp,
    parse_iso,
    parse_json,
    safe_name,
    slugify,
)
from app.networks.base import ArchiveError, NullProgress
from app.networks.x.importer import import_x
from tests.networks import archive_builders as b

SMALL = ArchiveLimits(max_total_bytes=10 * 1024 * 1024, max_ratio=50, ratio_min_bytes=64 * 1024)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("data/tweets.js", "data/tweets.js"),
        ("./data//tweets.js", "data/tweets.js"),
        ("data\\tweets.js", "data/tweets.js"),
        ("../evil.js", None),
        ("data/../../evil.js", None),
        ("/etc/passwd", None),
        ("C:/Windows/evil.js", None),
        ("__MACOSX/data/._tweets.js", None),
        ("data/._tweets.js", None),
        ("", None),
    ],
)
def test_safe_name(raw: str, expected: str | None) -> None:
    assert safe_name(raw) == expected


def test_zip_bomb_refused_by_ratio(tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("data/tweets.js", b"\0" * (2 * 1024 * 1024))
    assert path.stat().st_size < 20_000
    with pytest.raises(ArchiveError, match=r"zip bomb"):
        Archive.open(path, SMALL)


def test_zip_bomb_refused_by_total_size(tmp_path: Path) -> None:
    path = tmp_path / "big.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("a.json", b"x" * 3000)
        zf.writestr("b.json", b"x" * 3000)
    with pytest.raises(ArchiveError, match=r"expands to more than 5.86 KiB"):
        Archive.open(path, ArchiveLimits(max_total_bytes=5999))


def test_importer_passes_limits_through(tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("data/tweets.js", b"\0" * (2 * 1024 * 1024))
    with pytest.raises(ArchiveError, match=r"zip bomb"):
        import_x(str(path), NullProgress(), limits=SMALL)


def test_tar_bomb_refused(tmp_path: Path) -> None:
    path = b.write_tar_gz(tmp_path / "bomb.tar.gz", {"outbox.json": b"\0" * (2 * 1024 * 1024)})
    with pytest.raises(ArchiveError, match=r"zip bomb"):
        Archive.open(path, SMALL)
    with pytest.raises(ArchiveError, match=r"expands to more than"):
        Archive.open(path, ArchiveLimits(max_total_bytes=1000))


def test_unsafe_members_are_never_listed(tmp_path: Path) -> None:
    path = b.write_zip(
        tmp_path / "x.zip",
        {
            "../outside.js": "x",
            "/abs.js": "x",
            "data/tweets.js": "window.YTD.tweets.part0 = []",
            "data/": "",
            "__MACOSX/data/._tweets.js": b"\0\5",
        },
    )
    b.add_symlink_member(path, "data/follower.js", "/etc/passwd")
    with Archive.open(path) as archive:
        assert archive.names == ["data/tweets.js"]
        assert archive.kind == "zip"


def test_folder_skips_symlinks(tmp_path: Path) -> None:
    root = b.write_folder(tmp_path / "arch", {"data/tweets.js": "[]"})
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    os.symlink(secret, root / "data" / "follower.js")
    os.symlink(tmp_path, root / "loop")
    with Archive.open(root) as archive:
        assert archive.names == ["data/tweets.js"]
        assert archive.kind == "folder"
        assert archive.read_text("data/tweets.js") == "[]"


def test_truncated_zip(tmp_path: Path) -> None:
    full = b.write_zip(tmp_path / "full.zip", b.x_files(tweets=[]))
    cut = tmp_path / "cut.zip"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    with pytest.raises(ArchiveError, match=r"cut\.zip: not a complete zip archive"):
        import_x(str(cut), NullProgress())


def test_truncated_tar_gz(tmp_path: Path) -> None:
    full = b.write_tar_gz(tmp_path / "a.tar.gz", {"outbox.json": os.urandom(200_000).hex()})
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(full.read_bytes()[:5000])
    with pytest.raises(ArchiveError, match=r"truncated or corrupt"):
        Archive.open(cut)


def test_bad_gzip_header(tmp_path: Path) -> None:
    path = tmp_path / "bad.tar.gz"
    path.write_bytes(b"\x1f\x8b" + b"\0" * 5)
    with pytest.raises(ArchiveError, match=r"bad\.tar\.gz: "):
        Archive.open(path)


def test_corrupt_member_data(tmp_path: Path) -> None:
    path = b.write_zip(
        tmp_path / "c.zip", {"data/tweets.js": "window.YTD.tweets.part0 = [" + "1," * 5000 + "1]"}
    )
    data = bytearray(path.read_bytes())
    start = data.index(b"data/tweets.js") + len("data/tweets.js")
    for i in range(start + 10, start + 60):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))
    with (
        Archive.open(path) as archive,
        pytest.raises(ArchiveError, match=r"data/tweets.js: cannot be read"),
    ):
        archive.read_bytes("data/tweets.js")


def test_empty_file_and_missing_path(tmp_path: Path) -> None:
    empty = tmp_path / "empty.zip"
    empty.write_bytes(b"")
    with pytest.raises(ArchiveError, match=r"empty\.zip: the uploaded file is empty"):
        Archive.open(empty)
    with pytest.raises(ArchiveError, match=r"no such file"):
        Archive.open(tmp_path / "nope.zip")


def test_member_larger_than_declared_is_stopped(tmp_path: Path) -> None:
    root = b.write_folder(tmp_path / "f", {"big.json": "x" * 100})
    with (
        Archive.open(root, ArchiveLimits(max_total_bytes=50)) as archive,
        pytest.raises(ArchiveError, match=r"larger than the archive says"),
    ):
        archive.read_bytes("big.json")


def test_member_size_cap(tmp_path: Path) -> None:
    root = b.write_folder(tmp_path / "f", {"big.json": "x" * 100})
    with (
        Archive.open(root, ArchiveLimits(max_member_bytes=10)) as archive,
        pytest.raises(ArchiveError, match=r"larger than 10 bytes"),
    ):
        archive.read_bytes("big.json")


def test_non_utf8_text(tmp_path: Path) -> None:
    root = b.write_folder(tmp_path / "f", {"a.csv": b"ok\n\xff\xfe bad"})
    with (
        Archive.open(root) as archive,
        pytest.raises(ArchiveError, match=r"a.csv: line 2: not UTF-8"),
    ):
        archive.read_text("a.csv")


def test_parse_json_reports_file_and_line() -> None:
    text = 'window.YTD.tweets.part0 = [\n  {"a": 1},\n  {"b": }\n]'
    with pytest.raises(ArchiveError, match=r"^data/tweets.js: line 3: invalid JSON"):
        parse_json(text, "data/tweets.js", after="=")
    with pytest.raises(ArchiveError, match=r"line 1: expected"):
        parse_json("[]", "x.js", after="=")
    assert parse_json("window.YTD.x.part0 = [1];\n", "x.js", after="=") == [1]


def test_find_is_case_insensitive_and_natural(tmp_path: Path) -> None:
    root = b.write_folder(
        tmp_path / "f",
        {"wrap/data/posts_10.json": "", "wrap/data/posts_2.json": "", "wrap/Connections.CSV": ""},
    )
    with Archive.open(root) as archive:
        assert archive.find("data/posts_*.json") == [
            "wrap/data/posts_2.json",
            "wrap/data/posts_10.json",
        ]
        assert archive.first("nothing.json", "connections.csv") == "wrap/Connections.CSV"
        assert archive.first("nothing.json") is None
        assert detect_network(archive) == "linkedin"


def test_detect_none(tmp_path: Path) -> None:
    root = b.write_folder(tmp_path / "f", {"readme.txt": "hello"})
    with Archive.open(root) as archive:
        assert detect_network(archive) is None


def test_helpers() -> None:
    assert fix_mojibake(["cafÃ©", {"k": "ZÃ¼rich"}, 3, "already ok ☕"]) == [
        "café",
        {"k": "Zürich"},
        3,
        "already ok ☕",
    ]
    assert slugify("José Álvarez") == "jose.alvarez"
    assert slugify("🌸") == "unknown"
    assert (
        parse_iso("2024-01-02T03:04:05.123456789Z").isoformat()
        == "2024-01-02T03:04:05.123456+00:00"
    )  # type: ignore[union-attr]
    assert parse_iso("2024-01-02T03:04:05").tzinfo is not None  # type: ignore[union-attr]
    assert parse_iso("not a date") is None
    assert parse_iso(None) is None
    assert from_timestamp("1700000000").year == 2023  # type: ignore[union-attr]
    assert from_timestamp(None) is None
    assert from_timestamp(0) is None
    assert from_timestamp(1e20) is None


def test_import_log_dedupes() -> None:
    log = ImportLog.new()
    log.missing_part("a", "note")
    log.missing_part("a", "note")
    assert log.missing == ["a"]
    assert log.notes == ["note"]


def test_parse_json_extra_data_and_whitespace() -> None:
    with pytest.raises(ArchiveError, match=r"^a.json: line 2: invalid JSON \(extra data"):
        parse_json("[1]\n[2]", "a.json")
    assert parse_json('x =\n\n  {"a": 1} ;\n', "a.js", after="=") == {"a": 1}


# -- limits on totals --------------------------------------------------------------------------


def test_many_small_members_refused_by_their_total_ratio(tmp_path: Path) -> None:
    """Members each under the per-member ratio floor still add up to a bomb."""
    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(40):
            zf.writestr(f"data/part{i}.js", b"\0" * (60 * 1024))
    with pytest.raises(ArchiveError, match=r"its 40 files together are compressed \d+ times"):
        Archive.open(path, SMALL)


def test_member_count_capped(tmp_path: Path) -> None:
    files = {f"data/f{i}.json": "{}" for i in range(30)}
    path = b.write_zip(tmp_path / "many.zip", files)
    with pytest.raises(ArchiveError, match=r"more than 20 files"):
        Archive.open(path, ArchiveLimits(max_members=20))
    tar = b.write_tar_gz(tmp_path / "many.tar.gz", files)
    with pytest.raises(ArchiveError, match=r"more than 20 files"):
        Archive.open(tar, ArchiveLimits(max_members=20))
    with Archive.open(path, ArchiveLimits(max_members=30)) as archive:
        assert len(archive.names) == 30


def test_total_read_capped(tmp_path: Path) -> None:
    """Folders declare no sizes: the bytes read from all members together are capped."""
    root = b.write_folder(tmp_path / "f", {"a.json": "1" * 600, "b.json": "2" * 600})
    with Archive.open(root, ArchiveLimits(max_total_bytes=1000)) as archive:
        archive.read_bytes("a.json")
        with pytest.raises(ArchiveError, match=r"more than 1000 bytes were read .* in total"):
            archive.read_bytes("b.json")


def test_ratio_of_what_is_read_capped(tmp_path: Path) -> None:
    """A big incompressible member hides small bombs from the declared ratio; reading
    them is stopped by the ratio of what was read."""
    path = tmp_path / "mixed.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("photo.jpg", os.urandom(1024 * 1024), zipfile.ZIP_STORED)
        for i in range(3):
            zf.writestr(f"part{i}.json", b"\0" * (40 * 1024))
    with Archive.open(path, SMALL) as archive:
        archive.read_bytes("part0.json")
        with pytest.raises(ArchiveError, match=r"files read so far expand more than 50 times"):
            archive.read_bytes("part1.json")


def test_limits_from_environment() -> None:
    limits = ArchiveLimits.from_env(
        {"ARCHIVE_MAX_TOTAL_MB": "100", "ARCHIVE_MAX_RATIO": "20", "ARCHIVE_MAX_MEMBERS": "9"}
    )
    assert limits.max_total_bytes == 100 * 1024 * 1024
    assert (limits.max_ratio, limits.max_members) == (20.0, 9)
    assert ArchiveLimits.from_env({"ARCHIVE_MAX_RATIO": "lots"}).max_ratio == 100.0


def test_members_just_under_the_ratio_floor_refused_with_default_limits(tmp_path: Path) -> None:
    """The issue's upload: many members just under 1 MiB each (scaled down to 100)."""
    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(100):
            zf.writestr(f"data/tweets-part{i}.js", b" " * (1024 * 1024 - 1))
    with pytest.raises(ArchiveError, match=r"its 100 files together are compressed"):
        Archive.open(path)
