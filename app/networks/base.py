"""The records every network module produces, and the interface it implements.

A network module (live fetcher or archive importer) turns whatever the network gives into
these plain dataclasses. Nothing here knows about Flask or the database: the sync service
stores an :class:`AccountData` and the analyzers read it back.

A number a network does not publish is ``None``, never ``0``: "unknown" and "nobody" are
different answers and the pages say which one they are showing.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


class Source(enum.StrEnum):
    """Where a connection's data comes from."""

    LIVE = "live"  #: OAuth-authorised API reads
    PUBLIC = "public"  #: public API reads by handle, no login (Bluesky)
    IMPORT = "import"  #: the data archive the user downloaded from the network
    DEMO = "demo"  #: synthetic data made by ``manage.py demo``


@dataclass(slots=True)
class Person:
    """An account on a network: the connected user, a follower or a friend.

    :param external_id: the network's stable id (GitHub login id, Mastodon account id, DID...).
    :param handle: the handle shown as ``@handle``, without the ``@``.
    :param followers_count: how many accounts follow this person; ``None`` when unpublished.
    :param following_count: how many accounts this person follows; ``None`` when unpublished.
    :param links: URLs and alternate handles found on the profile (used to match the same
        person across networks).
    """

    external_id: str
    handle: str
    name: str | None = None
    url: str | None = None
    followers_count: int | None = None
    following_count: int | None = None
    posts_count: int | None = None
    avatar_url: str | None = None
    bio: str | None = None
    links: tuple[str, ...] = ()


@dataclass(slots=True, frozen=True)
class Follow:
    """``source`` follows ``target``; both are :attr:`Person.external_id` values."""

    source: str
    target: str


@dataclass(slots=True)
class Post:
    """Something the connected account published.

    Response counts are ``None`` where the network does not give them (an archive without
    engagement numbers, say). ``first_response_at`` is known only where the network dates
    the first reply or comment.
    """

    external_id: str
    created_at: datetime  #: timezone-aware, UTC
    text: str
    url: str | None = None
    kind: str = "post"  #: network-specific kind: "post", "reply", "issue", "pull_request"...
    reply_count: int | None = None
    like_count: int | None = None
    repost_count: int | None = None
    in_reply_to: str | None = None
    is_repost: bool = False
    first_response_at: datetime | None = None


@dataclass(slots=True)
class AccountData:
    """Everything one sync or import produced for one connected account.

    :param owner: the connected account itself.
    :param people: every other person mentioned, by ``external_id``.
    :param followers: ids of the people who follow the owner, or ``None`` when the source
        cannot list them (hidden collection, API plan without the endpoint).
    :param friends: ids of the people the owner follows, or ``None`` likewise.
    :param follows: follow edges among ``people`` (owner edges are implied by ``followers``
        and ``friends`` and need not be repeated).
    :param lists_fetched: ids of the people whose own following list was read completely,
        so an absent edge from them means "does not follow", not "unknown".
    :param notes: plain sentences for the page about what this source could not provide.
    :param archive_date: for imports, when the archive was made, if it says.
    """

    owner: Person
    people: dict[str, Person] = field(default_factory=dict)
    followers: list[str] | None = field(default_factory=list)
    friends: list[str] | None = field(default_factory=list)
    follows: set[Follow] = field(default_factory=set)
    lists_fetched: set[str] = field(default_factory=set)
    posts: list[Post] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    archive_date: datetime | None = None
    missing_parts: list[str] = field(default_factory=list)


class Progress(Protocol):
    """What a fetcher or importer reports while it works.

    The sync service implements it by writing to the ``SyncRun`` row, so the page can show
    a progress bar whichever process runs the job.
    """

    def stage(self, name: str, total: int | None = None) -> None:
        """Start a named stage ("followers", "posts"...) with an expected item count."""

    def advance(self, done: int = 1) -> None:
        """Mark ``done`` more items of the current stage as finished."""

    def paused(self, until: datetime) -> None:
        """Say that the job waits for a rate limit to reset at ``until`` (UTC)."""

    def request(self) -> None:
        """Count one HTTP request made to the network."""


class NullProgress:
    """A :class:`Progress` that records nothing; for scripts and tests that do not care."""

    def stage(self, name: str, total: int | None = None) -> None:
        return None

    def advance(self, done: int = 1) -> None:
        return None

    def paused(self, until: datetime) -> None:
        return None

    def request(self) -> None:
        return None


class NetworkError(Exception):
    """A network could not be read; the message is shown to the user as it is."""


class AuthExpired(NetworkError):
    """The stored token was revoked or expired: the connection needs reconnecting."""


class NotAvailable(NetworkError):
    """The account or endpoint is not available (404, hidden, not in the API plan)."""


class ArchiveError(Exception):
    """An uploaded archive cannot be imported; the message names the file (and line)."""


#: Signature of an archive importer: ``(path, progress) -> AccountData``.
Importer = Callable[[str, Progress], AccountData]
