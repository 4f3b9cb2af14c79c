"""Bluesky repository (CAR) importer."""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime
from pathlib import Path

import libipld
import pytest

from app.networks.base import ArchiveError, NullProgress
from app.networks.bluesky.importer import import_bluesky, split_cid, tid_time
from tests.networks import archive_builders as b

DID = "did:plc:ownerowner"
POSTS = [
    ("Café in Zürich ☕", "2024-01-02T03:04:05.678Z", None),
    ("a reply 🎉", "2024-01-03T00:00:00+00:00", "at://did:plc:bob/app.bsky.feed.post/3kabc"),
    ("no date", "garbage", None),
]
FOLLOWS = ["did:plc:bob", "did:plc:carol", "did:plc:bob", "not-a-did"]


def car(**kw) -> bytes:
    kw.setdefault("posts", POSTS)
    kw.setdefault("follows", FOLLOWS)
    kw.setdefault(
        "reposts",
        ["at://did:plc:carol/app.bsky.feed.post/3kxyz", "at://did:plc:carol/app.bsky.feed.like/1"],
    )
    kw.setdefault("profile", {"displayName": "Ana Exämple", "description": "Café ☕"})
    return b.bluesky_car(DID, **kw)


def test_car_file(tmp_path: Path) -> None:
    path = tmp_path / "repo.car"
    raw_block = (bytes([1, 0x55, 0x12, 0x20]) + b"\0" * 32, b"raw bytes")
    bad_block = (bytes([1, 0x71, 0x12, 0x20]) + b"\1" * 32, b"\xff\xff")
    path.write_bytes(car(extra_blocks=[raw_block, bad_block]))
    data = import_bluesky(str(path), NullProgress())
    owner = data.owner
    assert (owner.external_id, owner.handle, owner.name, owner.bio) == (
        DID,
        DID,
        "Ana Exämple",
        "Café ☕",
    )
    assert owner.url == f"https://bsky.app/profile/{DID}"
    assert (owner.followers_count, owner.following_count, owner.posts_count) == (None, 2, 4)
    assert data.followers is None
    assert data.friends == ["did:plc:bob", "did:plc:carol"]
    assert data.people["did:plc:carol"].handle == "did:plc:carol"
    texts = [(p.kind, p.text) for p in data.posts]
    assert texts == [
        ("post", "Café in Zürich ☕"),
        ("reply", "a reply 🎉"),
        ("repost", ""),
        ("repost", ""),
    ]
    first = data.posts[0]
    assert first.created_at == datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    assert first.external_id == f"at://{DID}/app.bsky.feed.post/3kpost00000"
    assert first.url == f"https://bsky.app/profile/{DID}/post/3kpost00000"
    assert first.like_count is None
    assert data.posts[1].in_reply_to == "at://did:plc:bob/app.bsky.feed.post/3kabc"
    assert data.posts[2].url == "https://bsky.app/profile/did:plc:carol/post/3kxyz"
    assert data.posts[3].url is None
    assert data.archive_date == datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    assert any("DID only" in n for n in data.notes)
    assert any("1 blocks of the export could not be decoded" in n for n in data.notes)
    assert data.missing_parts == []


def test_car_in_zip_without_follows_or_profile(tmp_path: Path) -> None:
    path = b.write_zip(
        tmp_path / "export.zip", {"bsky/repo.car": car(follows=[], profile=None, reposts=[])}
    )
    data = import_bluesky(str(path), NullProgress())
    assert data.friends == []
    assert data.owner.name is None
    assert len(data.posts) == 2
    assert not any("DID only" in n for n in data.notes)


def test_record_without_mst_key_gets_cid_id(tmp_path: Path) -> None:
    record = libipld.encode_dag_cbor(
        {"$type": "app.bsky.feed.post", "text": "orphan", "createdAt": "2024-02-02T00:00:00Z"}
    )
    raw = car(posts=[], follows=[], reposts=[], extra_blocks=[(b.cid_for(record), record)])
    path = tmp_path / "r.car"
    path.write_bytes(raw)
    data = import_bluesky(str(path), NullProgress())
    (post,) = data.posts
    assert (
        post.external_id == f"at://{DID}/app.bsky.feed.post/{libipld.encode_cid(b.cid_for(record))}"
    )
    assert post.url is None


def test_truncated_and_bad_cars(tmp_path: Path) -> None:
    raw = car()
    cases = {
        "cut.car": (raw[: len(raw) - 10], "cut.car: the file is truncated"),
        "cut2.car": (raw[:20], "cut2.car: the file is truncated"),
        "varint.car": (raw[: -len(raw) + 1] + b"\x80", "not a CAR file|truncated"),
        "noise.car": (b"\x05hello", "not a CAR file"),
        "v2.car": (_header({"version": 2}), "not a CARv1"),
        "nocommit.car": (
            b.bluesky_car(DID, posts=[], follows=[])[:0] or _no_commit(),
            "no repository commit",
        ),
        "bigblock.car": (_header() + b"\xff\xff\xff\xff\x0f", "refusing it"),
        "badcid.car": (_header() + b"\x03\x05\x00\x00", "unreadable CID"),
        "longvarint.car": (b"\xff" * 11, "bad length prefix"),
        "zero.car": (b"\x00", "not a CAR file"),
    }
    for name, (content, message) in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(ArchiveError, match=message):
            import_bluesky(str(path), NullProgress())


def _header(doc: dict | None = None) -> bytes:
    header = libipld.encode_dag_cbor(doc or {"version": 1, "roots": []})
    return bytes([len(header)]) + header


def _no_commit() -> bytes:
    record = libipld.encode_dag_cbor(
        {"$type": "app.bsky.feed.post", "text": "x", "createdAt": "2024-01-01T00:00:00Z"}
    )
    cid = b.cid_for(record)
    return _header() + bytes([len(cid) + len(record)]) + cid + record


def test_wrong_network(tmp_path: Path) -> None:
    path = b.write_zip(tmp_path / "m.zip", b.mastodon_files([]))
    with pytest.raises(
        ArchiveError, match=r"^This looks like a Mastodon archive, not a Bluesky archive.$"
    ):
        import_bluesky(str(path), NullProgress())
    with zipfile.ZipFile(tmp_path / "empty.zip", "w"):
        pass
    with pytest.raises(ArchiveError, match=r"does not look like a Bluesky archive"):
        import_bluesky(str(tmp_path / "empty.zip"), NullProgress())


def test_helpers() -> None:
    assert tid_time("short") is None
    assert tid_time("!!!!!!!!!!!!!") is None
    assert tid_time(b.tid(datetime(2023, 1, 1, tzinfo=UTC))) == datetime(2023, 1, 1, tzinfo=UTC)
    v0 = b"\x12\x20" + b"\0" * 32 + b"data"
    assert split_cid(v0) == (v0[:34], 0x70, b"data")
    with pytest.raises(ValueError, match=r"unknown CID version"):
        split_cid(b"\x02\x71")
    with pytest.raises(ValueError, match=r"longer"):
        split_cid(b"\x01\x71\x12\x20\x00")
    with pytest.raises(ValueError, match=r"bad varint"):
        split_cid(b"\x01\x71\xff")


@pytest.mark.parametrize(
    ("version", "commit_last"), [(3, False), (3, True), (2, False), (2, True), (1, False)]
)
def test_repository_versions(tmp_path: Path, version: int, commit_last: bool) -> None:
    """v3 commits have ``rev``; v2 commits do not; v1 repositories sign a root block."""
    path = tmp_path / "repo.car"
    path.write_bytes(car(version=version, commit_last=commit_last))
    data = import_bluesky(str(path), NullProgress())
    assert data.owner.external_id == DID
    assert data.friends == ["did:plc:bob", "did:plc:carol"]
    assert len(data.posts) == 4
    if version == 3:
        assert data.archive_date == datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    else:
        assert data.archive_date is None
