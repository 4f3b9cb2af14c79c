"""Import an X (Twitter) "Download an archive of your data" zip or unpacked folder.

The archive's ``data/*.js`` files are JavaScript assignments,
``window.YTD.<type>.partN = [ ... ]``: everything up to the first ``=`` is dropped and the
rest parsed as JSON. ``data/manifest.js`` (``window.__THAR_CONFIG = {...}``) names the parts
of each data type (``dataTypes.tweets.files[].fileName``), the owner (``userInfo``) and
when the archive was made (``archiveInfo.generationDate``); without it the parts are found by
name (``tweets.js``, ``tweet.js``, ``tweets-part1.js``...). A lone ``.js`` file is
recognised by its ``window.YTD.<type>.`` start whatever its name (a browser may have saved
it as ``tweets (1).js``).

Big parts (tweets, follower, following) are parsed as streams with
:func:`~app.networks.archive.iter_json`: memory holds one tweet at a time, and the bytes
read are reported as progress.

All numbers in the archive are strings. ``follower.js`` and ``following.js`` hold account
ids only (``accountId``, ``userLink``): people are listed by id until a live X connection
resolves their handles. Posts longer than 280 characters are truncated in ``tweets.js``;
the full text is in ``note-tweet.js``, matched back by text prefix (``noteTweetId`` is not
the post id) or, failing that, by id. Two shapes of it exist: ``noteTweet.core.text`` (with
``core.urls[].shortUrl/expandedUrl``) and ``noteTweet.noteTweetResults.text`` (or
``noteTweetResults.result.text``, with ``entity_set.urls[].url/expanded_url``).

Malformed parts: tweets, follower and following parts raise :class:`ArchiveError` (their
numbers would be silently wrong otherwise); the manifest, account, profile and note-tweet
parts are optional and are reported in ``missing_parts`` when unreadable.
"""

from __future__ import annotations

import calendar
import contextlib
import html
import posixpath
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from app.networks.archive import (
    Archive,
    ArchiveLimits,
    ByteProgress,
    ImportLog,
    check_network,
    iter_json,
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
from app.networks.text import normalise_newlines, safe_links, safe_url

TWEET_PATTERNS = ("data/tweets.js", "data/tweet.js", "data/tweets-part*.js", "data/tweet-part*.js")
TWEET_PATTERNS_LOOSE = ("tweets.js", "tweet.js", "tweets-part*.js", "tweet-part*.js")
NAMES_UNKNOWN = (
    "The X archive lists followers and followed accounts by numeric id only: their names "
    "and handles are unknown until a live X connection resolves them."
)
_TRAILING_TCO = re.compile(r"\s*https://t\.co/\S+\s*$")
_YTD_START = re.compile(rb"^\s*window\.YTD\.([A-Za-z_]+)\.part\d+\s*=")
#: Data types a lone file may hold, by the type named in its ``window.YTD.<type>`` start.
_LONE_TYPES = {"tweets": "tweets", "tweet": "tweets", "follower": "follower"}
_LONE_TYPES |= {"following": "following", "noteTweet": "noteTweet"}


def import_x(path: str, progress: Progress, *, limits: ArchiveLimits | None = None) -> AccountData:
    """Read an X archive at ``path`` (zip or folder) into :class:`AccountData`.

    :param path: the archive zip, the unpacked folder, or a lone ``tweets.js``.
    :param progress: told about the "followers", "friends" and "posts" stages.
    :param limits: unpacking limits (defaults: :data:`~app.networks.archive.DEFAULT_LIMITS`).
    :returns: owner from ``account.js`` (or the manifest), followers/friends as account ids,
        posts with like and repost counts (reply counts are not in the archive: ``None``).
    :raises ArchiveError: not an X archive, unreadable, or a malformed tweets/follower part.
    """
    with Archive.open(path, limits) as archive:
        return _XImport(archive, progress).run()


class _XImport:
    def __init__(self, archive: Archive, progress: Progress) -> None:
        self.archive = archive
        self.progress = progress
        self.log = ImportLog.new()
        self.manifest: dict[str, Any] = {}
        self.root = ""
        self.username: str | None = None
        self._manifest_tried = False
        self.lone_type = _lone_type(archive)

    def run(self) -> AccountData:
        archive = self.archive
        manifest_name = archive.first("data/manifest.js")
        tweet_parts = self.parts("tweets", "tweet", TWEET_PATTERNS, loose=TWEET_PATTERNS_LOOSE)
        follower_parts = self.parts(
            "follower", None, ("data/follower.js", "data/follower-part*.js")
        )
        following_parts = self.parts(
            "following", None, ("data/following.js", "data/following-part*.js")
        )
        account_name = archive.first("data/account.js")
        found = bool(manifest_name or tweet_parts or follower_parts or account_name)
        check_network(archive, "x", found, "data/tweets.js or data/manifest.js")

        owner = self.owner(account_name)
        people: dict[str, Person] = {}
        followers = self.accounts(follower_parts, "follower", people)
        friends = self.accounts(following_parts, "following", people)
        if followers is None:
            self.log.missing_part("data/follower.js")
        if friends is None:
            self.log.missing_part("data/following.js")
        if people:
            self.log.notes.append(NAMES_UNKNOWN)

        notes = self.note_tweets()
        posts = self.posts(tweet_parts, self.username, notes)
        if not tweet_parts:
            self.log.missing_part("data/tweets.js")

        owner.followers_count = len(followers) if followers is not None else None
        owner.following_count = len(friends) if friends is not None else None
        owner.posts_count = len(posts) if tweet_parts else None
        if not owner.external_id:
            owner.external_id = "unknown"
            owner.handle = "unknown"
            self.log.missing_part(
                "data/account.js", "The archive does not say whose it is (no account.js)."
            )
        info = self.manifest.get("archiveInfo")
        archive_date = parse_iso(info.get("generationDate")) if isinstance(info, dict) else None
        data = AccountData(
            owner=owner,
            people=people,
            followers=followers,
            friends=friends,
            posts=posts,
            notes=self.log.notes,
            archive_date=archive_date,
            missing_parts=self.log.missing,
        )
        if not tweet_parts:
            data.mark("posts", PartState.ABSENT, reason="The archive has no data/tweets.js.")
        return data

    # -- locating parts --------------------------------------------------------------------

    def parts(
        self,
        data_type: str,
        old_type: str | None,
        patterns: tuple[str, ...],
        *,
        loose: tuple[str, ...] = (),
    ) -> list[str]:
        """The files of ``data_type``: from the manifest when it lists them, else by name."""
        if self.lone_type is not None:
            return list(self.archive.names) if self.lone_type == data_type else []
        self.load_manifest()
        types = self.manifest.get("dataTypes")
        if isinstance(types, dict):
            for key in (data_type, old_type):
                entry = types.get(key) if key else None
                files = entry.get("files") if isinstance(entry, dict) else None
                if not isinstance(files, list):
                    continue
                names = []
                for f in files:
                    file_name = f.get("fileName") if isinstance(f, dict) else None
                    if isinstance(file_name, str):
                        full = posixpath.join(self.root, file_name) if self.root else file_name
                        if full in self.archive.names:
                            names.append(full)
                if names:
                    return names
        found = self.archive.find(*patterns)
        if not found and self.archive.kind == "file":
            found = self.archive.find(*loose)
        return found

    def load_manifest(self) -> None:
        if self._manifest_tried:
            return
        self._manifest_tried = True
        name = self.archive.first("data/manifest.js")
        if name is None:
            return
        self.root = posixpath.dirname(posixpath.dirname(name))
        data = self.log.optional_json(self.archive, name, after="=")
        if isinstance(data, dict):
            self.manifest = data

    def ytd(self, name: str, stage: str) -> Any:
        """The items of a ``window.YTD.<type>.partN = [...]`` file, streamed; the bytes read
        are reported as stage ``stage`` (raises when malformed)."""
        report = ByteProgress(self.progress, stage, self.archive, name)
        return iter_json(self.archive, name, "item", after="=", report=report)

    # -- owner -----------------------------------------------------------------------------

    def owner(self, account_name: str | None) -> Person:
        owner = Person(external_id="", handle="")
        user_info = self.manifest.get("userInfo")
        if isinstance(user_info, dict):
            owner.external_id = str(user_info.get("accountId") or "")
            owner.handle = str(user_info.get("userName") or "")
            owner.name = user_info.get("displayName") or None
        if account_name:
            items = self.log.optional_json(self.archive, account_name, after="=")
            account = _unwrap(items[0], "account") if isinstance(items, list) and items else {}
            if account:
                owner.external_id = str(account.get("accountId") or owner.external_id)
                owner.handle = str(account.get("username") or owner.handle)
                owner.name = account.get("accountDisplayName") or owner.name
        if owner.handle:
            self.username = owner.handle
            owner.url = safe_url(f"https://x.com/{owner.handle}")
        elif owner.external_id:
            owner.handle = owner.external_id
            owner.url = safe_url(f"https://x.com/i/user/{owner.external_id}")
        profile_name = self.archive.first("data/profile.js")
        if profile_name:
            items = self.log.optional_json(self.archive, profile_name, after="=")
            profile = _unwrap(items[0], "profile") if isinstance(items, list) and items else {}
            desc = profile.get("description") if profile else None
            if isinstance(desc, dict):
                owner.bio = desc.get("bio") or None
                website = desc.get("website")
                if website:
                    owner.links = safe_links([website])
            if profile and profile.get("avatarMediaUrl"):
                owner.avatar_url = safe_url(profile["avatarMediaUrl"])
        return owner

    # -- followers and friends -------------------------------------------------------------

    def accounts(self, names: list[str], key: str, people: dict[str, Person]) -> list[str] | None:
        if not names:
            return None
        ids: list[str] = []
        seen: set[str] = set()
        stage = "followers" if key == "follower" else "friends"
        for name in names:
            for item in self.ytd(name, stage):
                account = _unwrap(item, key)
                account_id = str(account.get("accountId") or "")
                if not account_id or account_id in seen:
                    continue
                seen.add(account_id)
                ids.append(account_id)
                if account_id not in people:
                    people[account_id] = Person(
                        external_id=account_id,
                        handle=account_id,
                        url=safe_url(f"https://x.com/i/user/{account_id}"),
                    )
        return ids

    # -- posts -----------------------------------------------------------------------------

    def note_tweets(self) -> _Notes:
        notes = _Notes()
        for name in self.parts(
            "noteTweet", None, ("data/note-tweet.js", "data/note-tweet-part*.js")
        ):
            try:
                for item in self.ytd(name, "long posts"):
                    note = _unwrap(item, "noteTweet")
                    core = _note_core(note)
                    if core is not None:
                        notes.add(str(note.get("noteTweetId") or ""), core)
            except ArchiveError as exc:
                self.log.unreadable(name, exc)
        return notes

    def posts(self, names: list[str], handle: str | None, notes: _Notes) -> PostSpool:
        """The tweets of every part, one per id, in date order: spooled to a temporary file
        past a few thousand, so a million of them never sit in memory as objects."""
        posts = PostSpool()
        skipped = 0
        for name in names:
            for item in self.ytd(name, "posts"):
                post = _tweet_post(_unwrap(item, "tweet"), handle, notes)
                if post is None:
                    skipped += 1
                else:
                    posts.append(post)
        if skipped:
            self.log.notes.append(f"{skipped} posts were skipped: no id or no readable date.")
        return posts


class _Notes:
    """Long-post texts from ``note-tweet.js``, looked up by text prefix or id."""

    PREFIX = 60

    def __init__(self) -> None:
        self.by_prefix: dict[str, dict[str, Any]] = {}
        self.by_id: dict[str, dict[str, Any]] = {}

    def add(self, note_id: str, core: dict[str, Any]) -> None:
        text = html.unescape(core["text"])
        if len(text) >= self.PREFIX:
            self.by_prefix.setdefault(text[: self.PREFIX], core)
        if note_id:
            self.by_id[note_id] = core

    def find(self, tweet_id: str, raw_text: str) -> dict[str, Any] | None:
        if not (self.by_prefix or self.by_id):
            return None
        cleaned = _TRAILING_TCO.sub("", html.unescape(raw_text)).rstrip("…").rstrip()
        if len(cleaned) >= self.PREFIX and cleaned[: self.PREFIX] in self.by_prefix:
            return self.by_prefix[cleaned[: self.PREFIX]]
        return self.by_id.get(tweet_id)


def _lone_type(archive: Archive) -> str | None:
    """For a lone ``.js`` file, the data type its ``window.YTD.<type>.`` start names."""
    if archive.kind != "file" or not archive.path.name.lower().endswith(".js"):
        return None
    with archive.path.open("rb") as fh:
        head = fh.read(256).removeprefix(b"\xef\xbb\xbf")
    match = _YTD_START.match(head)
    return _LONE_TYPES.get(match.group(1).decode()) if match else None


def _note_core(note: dict[str, Any]) -> dict[str, Any] | None:
    """``{"text", "urls": [{"shortUrl", "expandedUrl"}]}`` from either note-tweet shape."""
    core = note.get("core")
    if isinstance(core, dict) and isinstance(core.get("text"), str):
        return core
    results = note.get("noteTweetResults")
    if isinstance(results, dict) and isinstance(results.get("result"), dict):
        results = results["result"]
    if not isinstance(results, dict) or not isinstance(results.get("text"), str):
        return None
    entities = results.get("entity_set")
    raw_urls = entities.get("urls") if isinstance(entities, dict) else results.get("urls")
    urls = []
    for url in raw_urls if isinstance(raw_urls, list) else []:
        if isinstance(url, dict):
            short = url.get("shortUrl") or url.get("url")
            long = url.get("expandedUrl") or url.get("expanded_url")
            urls.append({"shortUrl": short, "expandedUrl": long})
    return {"text": results["text"], "urls": urls}


def _unwrap(item: Any, key: str) -> dict[str, Any]:
    """``{"tweet": {...}}`` -> ``{...}``; older archives have the bare object."""
    if not isinstance(item, dict):
        return {}
    inner = item.get(key)
    return inner if isinstance(inner, dict) else item


def _to_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _expand(text: str, urls: Any, short: str, long: str) -> str:
    for url in urls if isinstance(urls, list) else []:
        if isinstance(url, dict) and url.get(short) and url.get(long):
            text = text.replace(str(url[short]), str(url[long]))
    return text


_X_DATE = re.compile(
    r"[A-Z][a-z]{2} ([A-Z][a-z]{2}) (\d{2}) (\d{2}):(\d{2}):(\d{2}) ([+-]\d{2})(\d{2}) (\d{4})",
    re.ASCII,
)
_MONTHS = {name: n for n, name in enumerate(calendar.month_abbr) if name}


def parse_x_date(value: Any) -> datetime | None:
    """``"Wed Oct 10 20:19:24 +0000 2018"`` to aware UTC (ISO strings accepted too).

    Read with one regex (``strptime`` costs ten times as much, a second per 100k tweets);
    anything it does not match goes through ``strptime`` and then as ISO.
    """
    if not isinstance(value, str):
        return None
    found = _X_DATE.fullmatch(value)
    if found is not None and found[1] in _MONTHS:
        month, day, hour, minute, second, hours, minutes, year = found.groups()
        offset = timedelta(hours=int(hours), minutes=int(minutes) * (-1 if hours[0] == "-" else 1))
        with contextlib.suppress(ValueError):
            at = datetime(
                int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second), tzinfo=UTC
            )
            return at - offset
    try:
        return datetime.strptime(value, "%a %b %d %H:%M:%S %z %Y").astimezone(UTC)
    except ValueError:
        return parse_iso(value)


def _tweet_post(tweet: dict[str, Any], handle: str | None, notes: _Notes) -> Post | None:
    tweet_id = str(tweet.get("id_str") or tweet.get("id") or "")
    created = parse_x_date(tweet.get("created_at"))
    if not tweet_id or created is None:
        return None
    raw = str(tweet.get("full_text") or tweet.get("text") or "")
    note = notes.find(tweet_id, raw)
    if note is not None:
        text = _expand(note["text"], note.get("urls"), "shortUrl", "expandedUrl")
    else:
        entities = tweet.get("entities")
        urls = entities.get("urls") if isinstance(entities, dict) else None
        text = _expand(raw, urls, "url", "expanded_url")
    text = normalise_newlines(html.unescape(text))
    is_repost = raw.startswith("RT @") or "retweeted_status" in tweet
    reply_to = tweet.get("in_reply_to_status_id_str") or tweet.get("in_reply_to_status_id")
    in_reply_to = str(reply_to) if reply_to else None
    kind = "repost" if is_repost else "reply" if in_reply_to else "post"
    url = (
        f"https://x.com/{handle}/status/{tweet_id}"
        if handle
        else f"https://x.com/i/web/status/{tweet_id}"
    )
    return Post(
        external_id=tweet_id,
        created_at=created,
        text=text,
        url=safe_url(url),
        kind=kind,
        reply_count=None,
        like_count=_to_int(tweet.get("favorite_count")),
        repost_count=_to_int(tweet.get("retweet_count")),
        in_reply_to=in_reply_to,
        is_repost=is_repost,
    )
