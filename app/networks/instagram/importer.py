"""Import an Instagram "Download your information" archive (JSON format), zip or folder.

* followers: ``followers_and_following/followers_1.json`` (``followers_2.json``... for long
  lists; older exports one ``followers.json`` with ``relationships_followers``), a list of
  ``{"title", "string_list_data": [{"href", "value", "timestamp"}]}``; newer exports sit
  under ``connections/``;
* following: ``followers_and_following/following.json``, ``{"relationships_following":
  [...]}``; newer exports put the username in ``title`` and leave ``value`` out;
* posts: ``content/posts_1.json`` (newer: ``your_instagram_activity/content/``), a list of
  ``{"media": [{"uri", "creation_timestamp", "title"}], "title", "creation_timestamp"}``:
  a one-photo post keeps its caption on the media item;
* owner: ``personal_information/personal_information.json``
  (``profile_user[0].string_map_data.Username.value``).

Lists and posts are parsed as streams. An export requested in HTML format is refused with
how to request the JSON one. Strings carry Meta's ``\\u00XX`` mojibake and are repaired.
Follower counts and links among other people are not in the archive. Malformed
follower/following files raise :class:`ArchiveError`; malformed posts or profile files are
reported in ``missing_parts``.
"""

from __future__ import annotations

from typing import Any

from app.networks.archive import (
    Archive,
    ArchiveLimits,
    ByteProgress,
    ImportLog,
    check_network,
    fix_mojibake,
    from_timestamp,
    iter_json,
    list_path,
    listed_account,
    stable_id,
)
from app.networks.base import AccountData, ArchiveError, Person, Post, PostSpool, Progress
from app.networks.text import safe_links, safe_url

FOLLOWERS = ("followers_and_following/followers_*.json", "followers_and_following/followers.json")
FOLLOWING = ("followers_and_following/following.json", "followers_and_following/following_*.json")
POSTS = ("content/posts_*.json", "media/posts_*.json")
PROFILE = ("personal_information/personal_information.json",)
HTML_PARTS = (
    "followers_and_following/*.htm*",
    "connections/followers_and_following/*.htm*",
    "your_instagram_activity/*.htm*",
    "personal_information/personal_information.htm*",
)
HTML_EXPORT = (
    "This Instagram archive is in HTML format, which cannot be read: request it again in "
    "JSON format. In Instagram open Settings > Accounts Center > Your information and "
    "permissions > Download your information, choose Download to device, and under Format "
    "pick JSON (not HTML), then upload the new zip."
)


def import_instagram(
    path: str, progress: Progress, *, limits: ArchiveLimits | None = None
) -> AccountData:
    """Read an Instagram JSON archive at ``path`` (zip or folder).

    :returns: owner from ``personal_information.json``, followers and friends by username,
        posts (captions and dates; the archive has no like or comment counts).
    :raises ArchiveError: not an Instagram archive, unreadable, or a malformed
        followers/following file.
    """
    with Archive.open(path, limits) as archive:
        return _import(archive, progress)


def _import(archive: Archive, progress: Progress) -> AccountData:
    log = ImportLog.new()
    follower_files = archive.find(*FOLLOWERS)
    following_files = archive.find(*FOLLOWING)
    post_files = archive.find(*POSTS)
    profile_file = archive.first(*PROFILE)
    found = bool(follower_files or following_files or post_files or profile_file)
    if not found and archive.find(*HTML_PARTS):
        raise ArchiveError(HTML_EXPORT)
    check_network(archive, "instagram", found, "followers_and_following files")

    people: dict[str, Person] = {}
    followers = _accounts(archive, follower_files, "followers", people, progress)
    friends = _accounts(archive, following_files, "following", people, progress)
    if followers is None:
        log.missing_part("followers_and_following/followers_1.json")
    if friends is None:
        log.missing_part("followers_and_following/following.json")

    posts = PostSpool()
    for name in post_files:
        read: list[Post] = []
        try:
            for item in _stream(archive, name, "posts", progress):
                post = _post(fix_mojibake(item))
                if post is not None:
                    read.append(post)
        except ArchiveError as exc:
            log.unreadable(name, exc)
            continue
        posts.extend(read)
    if not post_files:
        log.missing_part("content/posts_1.json")

    owner = _owner(archive, profile_file, log)
    return listed_account(
        owner, people, followers, friends, posts, posts_read=bool(post_files), log=log
    )


def _stream(archive: Archive, name: str, hint: str, progress: Progress) -> Any:
    """The items of the list in ``name``, parsed as a stream: the document itself, or its
    ``relationships_<hint>`` or ``ig_<hint>`` list, or else its first list."""
    path = list_path(archive, name, f"relationships_{hint}|ig_{hint}") or list_path(archive, name)
    if path is None:
        return iter(())
    report = ByteProgress(progress, hint, archive, name)
    return iter_json(archive, name, path, report=report)


def username_of(item: Any) -> str:
    """The username in one followers/following item (``value``, ``title`` or ``href``)."""
    if not isinstance(item, dict):
        return ""
    for data in item.get("string_list_data") or []:
        if isinstance(data, dict) and data.get("value"):
            return str(data["value"]).strip()
    if item.get("title"):
        return str(item["title"]).strip()
    for data in item.get("string_list_data") or []:
        if isinstance(data, dict) and data.get("href"):
            tail = str(data["href"]).rstrip("/").rsplit("/", 1)[-1]
            if tail:
                return tail
    return ""


def _accounts(
    archive: Archive,
    names: list[str],
    hint: str,
    people: dict[str, Person],
    progress: Progress,
) -> list[str] | None:
    if not names:
        return None
    ids: dict[str, None] = {}
    for name in names:
        for item in _stream(archive, name, hint, progress):
            username = username_of(fix_mojibake(item))
            if not username:
                continue
            ids[username] = None
            people.setdefault(
                username,
                Person(
                    external_id=username,
                    handle=username,
                    url=safe_url(f"https://www.instagram.com/{username}"),
                ),
            )
    return list(ids)


def _post(item: Any) -> Post | None:
    if not isinstance(item, dict):
        return None
    media = [m for m in item.get("media") or [] if isinstance(m, dict)]
    first = media[0] if media else {}
    stamp = item.get("creation_timestamp") or first.get("creation_timestamp")
    created = from_timestamp(stamp)
    if created is None:
        return None
    text = str(item.get("title") or first.get("title") or "")
    return Post(
        external_id=stable_id("ig:", stamp, first.get("uri") or text),
        created_at=created,
        text=text,
    )


def _owner(archive: Archive, profile_file: str | None, log: ImportLog) -> Person:
    fields: dict[str, Any] = {}
    if profile_file:
        data = fix_mojibake(log.optional_json(archive, profile_file))
        users = data.get("profile_user") if isinstance(data, dict) else None
        if isinstance(users, list) and users and isinstance(users[0], dict):
            string_map = users[0].get("string_map_data")
            fields = string_map if isinstance(string_map, dict) else {}
    else:
        log.missing_part(
            "personal_information/personal_information.json",
            "The archive does not say whose it is (no personal_information.json).",
        )

    def value(key: str) -> str | None:
        entry = fields.get(key)
        got = entry.get("value") if isinstance(entry, dict) else None
        return str(got) if got else None

    username = value("Username")
    website = value("Website")
    return Person(
        external_id=username or "instagram:owner",
        handle=username or "me",
        name=value("Name"),
        url=safe_url(f"https://www.instagram.com/{username}") if username else None,
        bio=value("Bio"),
        links=safe_links([website]),
    )
