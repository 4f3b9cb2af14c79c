"""Import a Mastodon account archive ("Request your archive") and/or its follows CSV.

The archive (``.zip`` since Mastodon 4.x, ``.tar.gz`` before; see Mastodon's
``app/services/backup_service.rb``) holds:

* ``outbox.json``: an ActivityStreams ``OrderedCollection`` whose ``orderedItems`` are
  ``Create`` activities (``object`` a ``Note`` with HTML ``content``, ``published``,
  ``inReplyTo``, ``url``) and ``Announce`` activities (boosts; ``object`` is the boosted
  post's URI);
* ``actor.json``: the owner (``preferredUsername``, ``name``, ``url``, ``summary``;
  ``followers``/``following`` are URLs, not lists);
* ``likes.json``, ``bookmarks.json``: URIs of other people's posts (not imported).

``outbox.json`` is parsed as a stream (one activity at a time in memory). Text is
normalised (``\\r\\n`` to ``\\n``).

``following_accounts.csv`` comes from Preferences > Import and export > Data export
(columns ``Account address,Show boosts,Notify on new posts,Languages``; very old exports have
addresses only, no header). It can be uploaded alone or placed inside the archive.

Neither has a follower list: ``followers`` is ``None`` with a note. A malformed
``outbox.json`` or follows CSV raises :class:`ArchiveError`; a malformed ``actor.json`` is
reported in ``missing_parts``.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from app.networks.archive import (
    Archive,
    ArchiveLimits,
    ByteProgress,
    ImportLog,
    check_network,
    iter_json,
    list_path,
    parse_iso,
)
from app.networks.base import (
    AccountData,
    ArchiveError,
    PartState,
    Person,
    Post,
    PostSpool,
    Progress,
)
from app.networks.text import html_to_text, normalise_newlines, safe_links, safe_url

NO_FOLLOWERS = (
    "The Mastodon archive has no list of your followers; connect the account live to read it."
)
NO_FOLLOWING = (
    "The archive has no list of the accounts you follow: add following_accounts.csv "
    "(Preferences > Import and export > Data export) to import it."
)


def import_mastodon(
    path: str, progress: Progress, *, limits: ArchiveLimits | None = None
) -> AccountData:
    """Read a Mastodon archive (zip, tar.gz or folder) or a lone ``following_accounts.csv``.

    :returns: owner from ``actor.json``, posts and boosts from ``outbox.json`` (no response
        counts), friends from ``following_accounts.csv`` when present, followers ``None``.
    :raises ArchiveError: not a Mastodon archive, unreadable, or a malformed outbox/CSV.
    """
    with Archive.open(path, limits) as archive:
        return _import(archive, progress)


def _import(archive: Archive, progress: Progress) -> AccountData:
    log = ImportLog.new()
    outbox_file = archive.first("outbox.json")
    actor_file = archive.first("actor.json")
    follows_file = archive.first("following_accounts.csv")
    if follows_file is None and archive.kind == "file" and archive.path.suffix == ".csv":
        follows_file = archive.names[0]
    found = bool(outbox_file or actor_file or follows_file)
    check_network(archive, "mastodon", found, "outbox.json or following_accounts.csv")

    owner = _owner(archive, actor_file, log)
    host = urlparse(owner.url or "").hostname

    people: dict[str, Person] = {}
    friends: list[str] | None = None
    if follows_file:
        friends = _follows(archive, follows_file, people, progress)
    else:
        log.missing_part("following_accounts.csv", NO_FOLLOWING)
    log.notes.append(NO_FOLLOWERS)

    posts = PostSpool()
    if outbox_file:
        posts = _outbox(archive, outbox_file, progress, log)
    else:
        log.missing_part("outbox.json")
    owner.following_count = len(friends) if friends is not None else None
    owner.posts_count = len(posts) if outbox_file else None
    if host and owner.handle and "@" not in owner.handle:
        owner.handle = f"{owner.handle}@{host}"
    data = AccountData(
        owner=owner,
        people=people,
        followers=None,
        friends=friends,
        posts=posts,
        notes=log.notes,
        archive_date=_archive_date(archive.path),
        missing_parts=log.missing,
    )
    if not outbox_file:
        data.mark("posts", PartState.ABSENT, reason="This upload has no outbox.json (posts).")
    return data


def _owner(archive: Archive, actor_file: str | None, log: ImportLog) -> Person:
    actor: dict[str, Any] = {}
    if actor_file:
        data = log.optional_json(archive, actor_file)
        actor = data if isinstance(data, dict) else {}
    else:
        log.missing_part(
            "actor.json", "The upload does not say whose account it is (no actor.json)."
        )
    username = str(actor.get("preferredUsername") or "")
    url = safe_url(actor.get("url")) or safe_url(actor.get("id"))
    links = []
    for item in actor.get("attachment") or []:
        if isinstance(item, dict) and isinstance(item.get("value"), str):
            links.extend(re.findall(r'href="([^"]+)"', item["value"]))
    return Person(
        external_id=str(actor.get("id") or "") or "mastodon:owner",
        handle=username or "me",
        name=actor.get("name") or None,
        url=url,
        bio=html_to_text(actor["summary"]) if isinstance(actor.get("summary"), str) else None,
        links=safe_links(links),
    )


def _follows(
    archive: Archive, name: str, people: dict[str, Person], progress: Progress
) -> list[str]:
    reader = csv.reader(io.StringIO(archive.read_text(name), newline=""))
    ids: dict[str, None] = {}
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise ArchiveError(f"{Path(name).name}: line {reader.line_num}: {exc}.") from exc
    if rows and rows[0] and rows[0][0].strip() == "Account address":
        rows = rows[1:]
    progress.stage("friends", total=len(rows))
    for number, row in enumerate(rows, start=2):
        if not row or not row[0].strip():
            continue
        address = row[0].strip().lstrip("@").lower()
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", address):
            raise ArchiveError(
                f"{Path(name).name}: line {number}: {row[0]!r} is not an account address "
                "(expected user@server)."
            )
        user, server = address.split("@", 1)
        ids[address] = None
        people.setdefault(
            address,
            Person(external_id=address, handle=address, url=safe_url(f"https://{server}/@{user}")),
        )
    progress.advance(len(rows))
    return list(ids)


def _outbox(archive: Archive, name: str, progress: Progress, log: ImportLog) -> PostSpool:
    """The posts of ``outbox.json``, its ``orderedItems`` parsed as a stream."""
    path = list_path(archive, name, "orderedItems")
    if path is None:
        raise ArchiveError(f"{name}: no orderedItems list; is this a Mastodon outbox?")
    report = ByteProgress(progress, "posts", archive, name)
    posts = PostSpool()
    skipped = 0
    for item in iter_json(archive, name, path, report=report):
        post = _activity_post(item)
        if post is None:
            skipped += 1
        else:
            posts.append(post)
    if skipped:
        log.notes.append(f"{skipped} outbox items were skipped: not a post or no date.")
    return posts


def _activity_post(item: Any) -> Post | None:
    if not isinstance(item, dict):
        return None
    kind = item.get("type")
    obj = item.get("object")
    if kind == "Announce":
        created = parse_iso(item.get("published"))
        target = obj if isinstance(obj, str) else obj.get("id") if isinstance(obj, dict) else None
        if created is None or not item.get("id"):
            return None
        return Post(
            external_id=str(item["id"]),
            created_at=created,
            text="",
            url=safe_url(target),
            kind="repost",
            is_repost=True,
        )
    if kind != "Create" or not isinstance(obj, dict):
        return None
    created = parse_iso(obj.get("published") or item.get("published"))
    if created is None or not obj.get("id"):
        return None
    text = normalise_newlines(html_to_text(str(obj.get("content") or "")))
    if obj.get("summary"):
        text = f"{obj['summary']}\n\n{text}".strip()
    reply_to = obj.get("inReplyTo")
    return Post(
        external_id=str(obj["id"]),
        created_at=created,
        text=text,
        url=safe_url(obj.get("url")) or safe_url(obj["id"]),
        kind="reply" if reply_to else "post",
        in_reply_to=str(reply_to) if reply_to else None,
    )


def _archive_date(path: Path) -> datetime | None:
    """Mastodon names the file ``archive-20240102030405-<hex>.zip`` (UTC)."""
    match = re.search(r"archive-(\d{14})", path.name)
    if not match:
        return None
    try:
        return datetime.strptime(match.group(1), "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None
