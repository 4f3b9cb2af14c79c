"""Import a Bluesky repository export (``.car``), alone or inside a zip or folder.

Settings > Account > Export my data gives the output of ``com.atproto.sync.getRepo``: a
CARv1 file (a varint-prefixed DAG-CBOR header ``{"version": 1, "roots": [commit CID]}``
followed by varint-prefixed ``CID + block`` sections). The blocks are the signed commit
(``did``, ``version``, ``data``, ``rev``, ``sig`` in version 3; version 2 has ``prev`` and
no ``rev``; the first repositories signed a ``{"root", "sig"}`` block pointing at a
``{"did", "data", "prev"}`` one), the Merkle Search Tree nodes (``l``, ``e``:
entries with key prefix length ``p``, key suffix ``k``, record CID ``v``, subtree ``t``) and
the records, each with a ``$type``:

* ``app.bsky.feed.post``: ``text``, ``createdAt``, ``reply.parent.uri``;
* ``app.bsky.feed.repost``: ``subject.uri``, ``createdAt``;
* ``app.bsky.graph.follow``: ``subject`` (a DID), ``createdAt``;
* ``app.bsky.actor.profile``: ``displayName``, ``description``.

The file is read as a stream, one block at a time; DAG-CBOR is decoded with ``libipld``
(MIT). Records are classified by ``$type``; MST entries are used only to learn each
record's key (``collection/rkey``) for its ``at://`` URI and web URL. The owner's DID comes
from the commit, the archive date from the commit's ``rev`` (a timestamp id) when it has
one.

A repository has no follower list (followers are records in other people's repositories),
so ``followers`` is ``None``. Followed accounts are DIDs only. A truncated or corrupt CAR
raises :class:`ArchiveError`; an undecodable block is skipped and counted in the notes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any

import libipld

from app.networks.archive import Archive, ArchiveLimits, ImportLog, check_network, parse_iso
from app.networks.base import AccountData, ArchiveError, Person, Post, PostSpool, Progress
from app.networks.text import safe_url

DAG_CBOR = 0x71
POST = "app.bsky.feed.post"
REPOST = "app.bsky.feed.repost"
FOLLOW = "app.bsky.graph.follow"
PROFILE = "app.bsky.actor.profile"
KEPT = {POST, REPOST, FOLLOW, PROFILE}
NO_FOLLOWERS = (
    "A Bluesky repository export has no follower list (follows of you live in other "
    "people's repositories); connect by handle to read your followers."
)
DIDS_ONLY = (
    "The export lists the accounts you follow by DID only: their handles are unknown until "
    "the live Bluesky connection resolves them."
)
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"


def import_bluesky(
    path: str, progress: Progress, *, limits: ArchiveLimits | None = None
) -> AccountData:
    """Read a Bluesky repository ``.car`` (or a zip/folder holding one).

    :returns: owner from the commit DID and profile record, friends as DIDs, posts and
        reposts (no response counts in a repository), followers ``None``.
    :raises ArchiveError: no ``.car`` found, or the CAR is truncated or not CARv1.
    """
    with Archive.open(path, limits) as archive:
        return _import(archive, progress)


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    """Decode an unsigned LEB128 varint at ``pos``; returns (value, next position)."""
    value = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise ValueError("bad varint")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def _read_varint(fh: IO[bytes], name: str) -> int | None:
    """A varint from the stream, or ``None`` at a clean end of file."""
    value = shift = 0
    while True:
        byte = fh.read(1)
        if not byte:
            if shift == 0:
                return None
            raise ArchiveError(f"{name}: the file is truncated (cut inside a length).")
        value |= (byte[0] & 0x7F) << shift
        if not byte[0] & 0x80:
            return value
        shift += 7
        if shift > 63:
            raise ArchiveError(f"{name}: not a CAR file (bad length prefix).")


def split_cid(section: bytes) -> tuple[bytes, int, bytes]:
    """Split a CAR section into (CID bytes, codec, block bytes)."""
    if section[:2] == b"\x12\x20":  # CIDv0: a bare sha2-256 multihash, dag-pb
        return section[:34], 0x70, section[34:]
    version, pos = _varint(section, 0)
    if version != 1:
        raise ValueError("unknown CID version")
    codec, pos = _varint(section, pos)
    _code, pos = _varint(section, pos)
    size, pos = _varint(section, pos)
    end = pos + size
    if end > len(section):
        raise ValueError("CID longer than its section")
    return section[:end], codec, section[end:]


def iter_car(fh: IO[bytes], name: str, max_block: int) -> tuple[list[bytes], Iterator[Any]]:
    """Read a CARv1 header from ``fh``; return the roots and an iterator of blocks.

    Each block is ``(cid_bytes, decoded_or_None)``; ``None`` marks a block that is not
    DAG-CBOR block that did not decode; other codecs give ``b""``.
    """
    length = _read_varint(fh, name)
    if not length or length > max_block:
        raise ArchiveError(f"{name}: not a CAR file (no header).")
    raw = fh.read(length)
    if len(raw) < length:
        raise ArchiveError(f"{name}: the file is truncated (cut inside the header).")
    try:
        header = libipld.decode_dag_cbor(raw)
    except ValueError as exc:
        raise ArchiveError(f"{name}: not a CAR file (unreadable header).") from exc
    if not isinstance(header, dict) or header.get("version") != 1:
        raise ArchiveError(f"{name}: not a CARv1 repository export.")
    roots = [r for r in header.get("roots") or [] if isinstance(r, bytes)]

    def blocks() -> Iterator[Any]:
        while True:
            size = _read_varint(fh, name)
            if size is None:
                return
            if size > max_block:
                raise ArchiveError(f"{name}: a block claims {size} bytes; refusing it.")
            section = fh.read(size)
            if len(section) < size:
                raise ArchiveError(f"{name}: the file is truncated (cut inside a block).")
            try:
                cid, codec, data = split_cid(section)
            except ValueError as exc:
                raise ArchiveError(f"{name}: a block has an unreadable CID.") from exc
            decoded: Any = b""  # not DAG-CBOR (raw blob): skipped silently
            if codec == DAG_CBOR:
                try:
                    decoded = libipld.decode_dag_cbor(data)
                except ValueError:
                    decoded = None
            yield cid, decoded

    return roots, blocks()


def tid_time(tid: Any) -> datetime | None:
    """The time inside an atproto TID (``rev``): 13 base32-sortable chars, microseconds."""
    if not isinstance(tid, str) or len(tid) != 13:
        return None
    value = 0
    for char in tid:
        index = TID_ALPHABET.find(char)
        if index < 0:
            return None
        value = value * 32 + index
    return datetime.fromtimestamp((value >> 10) / 1_000_000, tz=UTC)


@dataclass
class _Blocks:
    """What one pass over a repository's blocks keeps."""

    roots: list[bytes] = field(default_factory=list)
    keys: dict[bytes, str] = field(default_factory=dict)
    records: list[tuple[bytes, dict[str, Any]]] = field(default_factory=list)
    commits: dict[bytes, dict[str, Any]] = field(default_factory=dict)
    signed: dict[bytes, bytes] = field(default_factory=dict)  #: v1 signed root -> commit
    undecodable: int = 0


def _read_blocks(archive: Archive, car: str, progress: Progress) -> _Blocks:
    """Stream the CAR file once: kept records, MST keys and commit blocks."""
    found = _Blocks()
    progress.stage("records", total=None)
    with archive.stream(car) as fh:
        roots, stream = iter_car(fh, car, archive.limits.max_member_bytes)
        found.roots = list(roots)
        for count, (cid, block) in enumerate(stream, start=1):
            if count % 1000 == 0:
                progress.advance(1000)
            if not isinstance(block, dict):
                found.undecodable += block is None
                continue
            record_type = block.get("$type")
            if record_type in KEPT:
                found.records.append((cid, block))
            elif isinstance(block.get("e"), list) and "l" in block:
                _mst_keys(block["e"], found.keys)
            elif _is_commit(block):
                found.commits[cid] = block
            elif isinstance(block.get("root"), bytes) and "sig" in block:
                found.signed[cid] = block["root"]
    return found


def _import(archive: Archive, progress: Progress) -> AccountData:
    log = ImportLog.new()
    car = archive.first("*.car")
    check_network(archive, "bluesky", car is not None, "a .car repository export")
    assert car is not None

    found = _read_blocks(archive, car, progress)
    roots, keys, records, blocks = found.roots, found.keys, found.records, found.commits
    if found.undecodable:
        log.notes.append(
            f"{found.undecodable} blocks of the export could not be decoded and were skipped."
        )

    commit = _commit(car, roots, blocks, found.signed)
    did = str(commit["did"])

    owner = Person(external_id=did, handle=did, url=safe_url(f"https://bsky.app/profile/{did}"))
    people: dict[str, Person] = {}
    friends: dict[str, None] = {}
    posts = PostSpool()
    for cid, record in records:
        record_type = record["$type"]
        key = keys.get(cid)
        rkey = key.split("/", 1)[1] if key and "/" in key else None
        if record_type == FOLLOW:
            subject = record.get("subject")
            if isinstance(subject, str) and subject.startswith("did:"):
                friends[subject] = None
                people.setdefault(
                    subject,
                    Person(
                        external_id=subject,
                        handle=subject,
                        url=safe_url(f"https://bsky.app/profile/{subject}"),
                    ),
                )
        elif record_type == PROFILE:
            owner.name = record.get("displayName") or None
            owner.bio = record.get("description") or None
        else:
            post = _post(did, record_type, record, rkey, cid)
            if post is not None:
                posts.append(post)
    if friends:
        log.notes.append(DIDS_ONLY)
    log.notes.append(NO_FOLLOWERS)
    owner.following_count = len(friends)
    owner.posts_count = len(posts)
    return AccountData(
        owner=owner,
        people=people,
        followers=None,
        friends=list(friends),
        posts=posts,
        notes=log.notes,
        archive_date=tid_time(commit.get("rev")),
        missing_parts=log.missing,
    )


def _is_commit(block: dict[str, Any]) -> bool:
    """A repository commit of any version: the account's DID and the MST root (``data``)."""
    did = block.get("did")
    return isinstance(did, str) and did.startswith("did:") and isinstance(block.get("data"), bytes)


def _commit(
    car: str,
    roots: list[bytes],
    blocks: dict[bytes, dict[str, Any]],
    signed: dict[bytes, bytes] | None = None,
) -> dict[str, Any]:
    """The repository commit: the CAR's root block (or the commit a signed root points at),
    else the first commit-like block.

    :raises ArchiveError: the export holds no commit.
    """
    root = roots[0] if roots else None
    if root is not None and signed and root in signed:
        root = signed[root]
    commit = blocks.get(root) if root is not None else None
    if commit is None and blocks:
        commit = next(iter(blocks.values()))
    if commit is None:
        raise ArchiveError(f"{car}: no repository commit found; is this a Bluesky export?")
    return commit


def _mst_keys(entries: list[Any], keys: dict[bytes, str]) -> None:
    """Rebuild the full keys of one MST node's entries (each shares ``p`` bytes with the last)."""
    previous = b""
    for entry in entries:
        if not isinstance(entry, dict):
            return
        suffix = entry.get("k")
        prefix_len = entry.get("p")
        if not isinstance(suffix, bytes) or not isinstance(prefix_len, int):
            return
        previous = previous[:prefix_len] + suffix
        value = entry.get("v")
        if isinstance(value, bytes):
            keys[value] = previous.decode("utf-8", "replace")


def _post(
    did: str, record_type: str, record: dict[str, Any], rkey: str | None, cid: bytes
) -> Post | None:
    created = parse_iso(record.get("createdAt"))
    if created is None:
        return None
    collection = POST if record_type == POST else REPOST
    external_id = (
        f"at://{did}/{collection}/{rkey}"
        if rkey
        else f"at://{did}/{collection}/{libipld.encode_cid(cid)}"
    )
    if record_type == REPOST:
        subject = record.get("subject")
        uri = subject.get("uri") if isinstance(subject, dict) else None
        return Post(
            external_id=external_id,
            created_at=created,
            text="",
            url=_web_url(uri) if isinstance(uri, str) else None,
            kind="repost",
            is_repost=True,
        )
    reply = record.get("reply")
    parent = reply.get("parent") if isinstance(reply, dict) else None
    in_reply_to = parent.get("uri") if isinstance(parent, dict) else None
    return Post(
        external_id=external_id,
        created_at=created,
        text=str(record.get("text") or ""),
        url=safe_url(f"https://bsky.app/profile/{did}/post/{rkey}") if rkey else None,
        kind="reply" if in_reply_to else "post",
        in_reply_to=str(in_reply_to) if in_reply_to else None,
    )


def _web_url(uri: str) -> str | None:
    """``at://did/app.bsky.feed.post/rkey`` -> ``https://bsky.app/profile/did/post/rkey``."""
    parts = uri.removeprefix("at://").split("/")
    if len(parts) == 3 and parts[1] == POST:
        return safe_url(f"https://bsky.app/profile/{parts[0]}/post/{parts[2]}")
    return None
