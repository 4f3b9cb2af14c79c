"""Import a Facebook "Download your information" archive (JSON format), zip or folder.

Paths and keys changed over the years; all of these are read:

* friends: ``friends/friends.json`` (``friends``, 2018-19),
  ``friends_and_followers/friends.json`` (``friends_v2``, 2020-22),
  ``connections/friends/your_friends.json`` (``friends_v2``, 2023+);
* accounts followed: ``following_and_followers/following.json``,
  ``friends_and_followers/following.json``, ``connections/followers/who_you've_followed.json``
  (``following``/``following_v2``/``following_v3``: any ``_vN`` suffix);
* followers: ``.../followers.json`` (``followers``/``followers_v2``) and
  ``connections/followers/people_who_followed_you_N.json`` (a list of
  ``string_list_data`` items, Instagram style);
* posts: ``posts/your_posts_1.json``,
  ``your_activity_across_facebook/posts/your_posts__check_ins__photos_and_videos_1.json``,
  ``your_facebook_activity/posts/...`` (a list of ``{"timestamp", "data": [{"post"}], "title"}``);
* owner: ``profile_information/profile_information.json`` (``profile`` or ``profile_v2``).

Meta escapes every UTF-8 byte as ``\\u00XX``; :func:`~app.networks.archive.fix_mojibake`
repairs each string. People come with display names only, so a person's id is a hash of
the name (and of the date too when one list holds two people of the same name, and of their
place among those of the same name and date, so that 711 followers without dates stay 711).
Nobody has a handle in the export: the id stands in for it (it has a ``:``, see
:func:`~app.networks.text.is_handle`) and pages show the name; a profile link is kept when
the entry has one (``string_list_data[].href``).

The lists and posts are parsed as streams (:func:`~app.networks.archive.iter_list`). An
export requested in HTML format is refused with how to request the JSON one.

Malformed friends, followers, following or posts files raise :class:`ArchiveError`; a
malformed profile file is reported in ``missing_parts``.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from app.networks.archive import (
    Archive,
    ArchiveLimits,
    ByteProgress,
    ImportLog,
    check_network,
    fix_mojibake,
    from_timestamp,
    iter_list,
    listed_account,
    stable_id,
)
from app.networks.base import AccountData, ArchiveError, Person, Post, PostSpool, Progress
from app.networks.text import no_handle, safe_url

FRIENDS = (
    "friends/friends.json",
    "friends_and_followers/friends.json",
    "connections/friends/your_friends*.json",
)
FOLLOWING = (
    "following_and_followers/following.json",
    "friends_and_followers/following.json",
    "followers_and_following/following*.json",
    "connections/followers/who_you've_followed*.json",
)
FOLLOWERS = (
    "following_and_followers/followers.json",
    "friends_and_followers/followers.json",
    "followers_and_following/followers*.json",
    "connections/followers/people_who_followed_you*.json",
    "connections/followers/people_who_follow_you*.json",
)
POSTS = ("posts/your_posts*.json",)
PROFILE = ("profile_information/profile_information.json",)

NAMES_ONLY = (
    "The Facebook archive gives names only: people are matched by name, so two people "
    "with the same name in different lists count as one."
)
HTML_PARTS = (
    "friends/*.htm*",
    "friends_and_followers/*.htm*",
    "connections/friends/*.htm*",
    "connections/followers/*.htm*",
    "posts/your_posts*.htm*",
    "your_facebook_activity/*.htm*",
    "your_activity_across_facebook/*.htm*",
    "profile_information/profile_information.htm*",
)
HTML_EXPORT = (
    "This Facebook archive is in HTML format, which cannot be read: request it again in JSON "
    "format. On Facebook open Settings & privacy > Settings > Accounts Center > Your "
    "information and permissions > Download your information, choose Download to device, "
    "and under Format pick JSON (not HTML), then upload the new zip."
)
MUTUAL = "Facebook friendship is mutual: each friend counts as a follower and as a friend."


def import_facebook(
    path: str, progress: Progress, *, limits: ArchiveLimits | None = None
) -> AccountData:
    """Read a Facebook JSON archive at ``path`` (zip or folder).

    :returns: owner from the profile file; friends (friends plus accounts followed) and
        followers (friends plus followers) as name-hash ids; posts without response counts.
    :raises ArchiveError: not a Facebook archive, unreadable, or a malformed list file.
    """
    with Archive.open(path, limits) as archive:
        return _import(archive, progress)


def _import(archive: Archive, progress: Progress) -> AccountData:
    log = ImportLog.new()
    friend_files = archive.find(*FRIENDS)
    following_files = archive.find(*FOLLOWING)
    follower_files = archive.find(*FOLLOWERS)
    post_files = archive.find(*POSTS)
    profile_file = archive.first(*PROFILE)
    found = bool(friend_files or following_files or follower_files or post_files or profile_file)
    if not found and archive.find(*HTML_PARTS):
        raise ArchiveError(HTML_EXPORT)
    check_network(archive, "facebook", found, "friends or posts files")

    people: dict[str, Person] = {}
    friends_list = _people(archive, friend_files, "friends", people, progress)
    following_list = _people(archive, following_files, "following", people, progress)
    follower_list = _people(archive, follower_files, "followers", people, progress)

    friends: list[str] | None = None
    followers: list[str] | None = None
    if friends_list is not None or following_list is not None:
        friends = _union(friends_list or [], following_list or [])
    if friends_list is not None or follower_list is not None:
        followers = _union(friends_list or [], follower_list or [])
    if friends_list is None:
        log.missing_part("friends/friends.json")
    else:
        log.notes.append(MUTUAL)
    if follower_list is None and friends_list is None:
        log.missing_part("followers.json")
    if people:
        log.notes.append(NAMES_ONLY)

    posts = _posts(archive, post_files, progress)
    if not post_files:
        log.missing_part("posts/your_posts_1.json")

    owner = _owner(archive, profile_file, log)
    return listed_account(
        owner, people, followers, friends, posts, posts_read=bool(post_files), log=log
    )


def _union(first: list[str], second: list[str]) -> list[str]:
    return list(dict.fromkeys([*first, *second]))


def _name_and_time(entry: Any) -> tuple[str, Any, str | None]:
    """A person entry's name, timestamp and profile link (when it has one)."""
    if not isinstance(entry, dict):
        return "", None, None
    name = entry.get("name")
    stamp = entry.get("timestamp")
    href = None
    if isinstance(entry.get("string_list_data"), list):
        for item in entry["string_list_data"]:
            if isinstance(item, dict) and isinstance(item.get("href"), str):
                href = item["href"] if item["href"].startswith("https://") else None
            if not name and isinstance(item, dict) and item.get("value"):
                name, stamp = item["value"], item.get("timestamp", stamp)
                break
    if not name and isinstance(entry.get("label_values"), list):
        for item in entry["label_values"]:
            if isinstance(item, dict) and item.get("label") == "Name":
                name = item.get("value")
    if not name and entry.get("title"):
        name = entry["title"]
    return (str(name).strip() if name else ""), stamp, href


def _people(
    archive: Archive,
    names: list[str],
    key: str,
    people: dict[str, Person],
    progress: Progress,
) -> list[str] | None:
    if not names:
        return None
    entries: list[tuple[str, Any, str | None]] = []
    for name in names:
        report = ByteProgress(progress, key, archive, name)
        for entry in iter_list(archive, name, rf"{key}(_v\d+)?", report=report):
            entries.append(_name_and_time(fix_mojibake(entry)))
    counts = Counter(n for n, _, _ in entries)
    nth: Counter[tuple[str, Any]] = Counter()
    ids: list[str] = []
    for person_name, stamp, href in entries:
        if not person_name:
            continue
        if counts[person_name] > 1:  # same name twice in one list: two people
            nth[(person_name, stamp)] += 1
            count = nth[(person_name, stamp)]
            parts = (person_name, stamp) if count == 1 else (person_name, stamp, count)
            external_id = stable_id("fb:", *parts)
        else:
            external_id = stable_id("fb:", person_name)
        if external_id not in people:
            people[external_id] = Person(
                external_id=external_id,
                handle=no_handle(external_id),
                name=person_name,
                url=href,
            )
        ids.append(external_id)
    return list(dict.fromkeys(ids))


def _posts(archive: Archive, names: list[str], progress: Progress) -> PostSpool:
    posts = PostSpool()
    for name in names:
        report = ByteProgress(progress, "posts", archive, name)
        for item in iter_list(archive, name, report=report):
            post = _post(fix_mojibake(item))
            if post is not None:
                posts.append(post)
    return posts


def _post(item: Any) -> Post | None:
    if not isinstance(item, dict):
        return None
    created = from_timestamp(item.get("timestamp"))
    if created is None:
        return None
    texts = [
        str(d["post"])
        for d in item.get("data") or []
        if isinstance(d, dict) and isinstance(d.get("post"), str)
    ]
    text = "\n".join(texts) if texts else str(item.get("title") or "")
    return Post(
        external_id=stable_id("fb:post:", item.get("timestamp"), text),
        created_at=created,
        text=text,
    )


def _owner(archive: Archive, profile_file: str | None, log: ImportLog) -> Person:
    profile: dict[str, Any] = {}
    if profile_file:
        data = fix_mojibake(log.optional_json(archive, profile_file))
        if isinstance(data, dict):
            found = data.get("profile_v2") or data.get("profile") or {}
            profile = found if isinstance(found, dict) else {}
    else:
        log.missing_part(
            "profile_information/profile_information.json",
            "The archive does not say whose it is (no profile_information.json).",
        )
    name_field = profile.get("name")
    full_name = name_field.get("full_name") if isinstance(name_field, dict) else name_field
    full_name = str(full_name) if full_name else None
    uri = str(profile.get("profile_uri") or "") or None
    username = str(profile.get("username") or "")
    match = re.search(r"[?&]id=(\d+)", uri or "")
    if not username and uri and not match:
        username = uri.rstrip("/").rsplit("/", 1)[-1]
    if match:
        external_id = f"fb:{match.group(1)}"
    elif username:
        external_id = f"fb:{username}"
    elif full_name:
        external_id = stable_id("fb:", full_name)
    else:
        external_id = "fb:owner"
    handle = username or (no_handle(external_id) if full_name else "me")
    return Person(external_id=external_id, handle=handle, name=full_name, url=safe_url(uri))
