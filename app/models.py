"""Database models (typed SQLAlchemy 2).

Every row a user owns hangs off :class:`User` with ``ON DELETE CASCADE``, so deleting an
account removes all of its data in one statement.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
    select,
    true,
    update,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import DateTime, TypeDecorator
from werkzeug.security import check_password_hash, generate_password_hash

from app.crypto import EncryptedText
from app.extensions import db


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite forgets zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def utcnow() -> datetime:
    """The current time, timezone-aware UTC (the default for every timestamp column)."""
    return datetime.now(UTC)


#: Werkzeug's hashing method for every stored password (its default scrypt parameters).
PASSWORD_METHOD = "scrypt"  # noqa: S105 - a method name

#: A hash of a random password with the same method and parameters as real ones: checking a
#: password against it costs what checking a real account's does, so an unknown username
#: answers as slowly as a wrong password. Made once per process, at import.
DUMMY_PASSWORD_HASH = generate_password_hash(secrets.token_urlsafe(16), method=PASSWORD_METHOD)


def new_session_token() -> str:
    """A random token that identifies a user's sign-in sessions; rotating it signs them out."""
    return secrets.token_urlsafe(32)


class User(UserMixin, db.Model):  # type: ignore[name-defined,misc]
    """A person with an MD Analytics account."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40))
    email: Mapped[str] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str | None] = mapped_column(String(100))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_session_token)
    #: May create invites; the first account of a server is the admin.
    is_admin: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Mail the user asked for: the weekly digest, and alerts when something needs them.
    digest: Mapped[bool] = mapped_column(default=False, server_default=false())
    alerts: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: When the next weekly digest is due (spread over the week by user).
    digest_next_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)

    connections: Mapped[list[Connection]] = relationship(
        back_populates="user",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Connection.id",
    )

    __table_args__ = (
        Index("uq_users_username_lower", func.lower(username), unique=True),
        Index("uq_users_email_lower", func.lower(email), unique=True),
    )

    def __repr__(self) -> str:
        return f"<User {self.username}>"

    def get_id(self) -> str:
        """Flask-Login's session id: the session token, which the session cookie and the
        remember-me cookie carry; rotating it (a password change, logging out) ends them."""
        return self.session_token

    def rotate_session_token(self) -> None:
        """Start a new session token: every session and remember-me cookie so far stops working."""
        self.session_token = new_session_token()

    def set_password(self, password: str) -> None:
        """Hash ``password`` with scrypt and start a new session token."""
        self.password_hash = generate_password_hash(password, method=PASSWORD_METHOD)
        self.rotate_session_token()

    def check_password(self, password: str) -> bool:
        """Whether ``password`` matches the stored hash."""
        return check_password_hash(self.password_hash, password)

    @staticmethod
    def check_nobody(password: str) -> bool:
        """Do the work of :meth:`check_password` for an account that does not exist: ``False``."""
        check_password_hash(DUMMY_PASSWORD_HASH, password)
        return False

    @property
    def shown_name(self) -> str:
        """The name to greet the user with."""
        return self.display_name or self.username

    @classmethod
    def find_by_login(cls, login: str) -> User | None:
        """Find a user by username or email, case-insensitively."""
        key = login.strip().lower()
        if not key:
            return None
        column = cls.email if "@" in key else cls.username
        return db.session.scalar(select(cls).where(func.lower(column) == key))

    @classmethod
    def username_taken(cls, username: str) -> bool:
        """Whether ``username`` is in use, ignoring case."""
        query = select(cls.id).where(func.lower(cls.username) == username.strip().lower())
        return db.session.scalar(query) is not None

    @classmethod
    def email_taken(cls, email: str, *, exclude_id: int | None = None) -> bool:
        """Whether ``email`` is in use by another account, ignoring case."""
        query = select(cls.id).where(func.lower(cls.email) == email.strip().lower())
        if exclude_id is not None:
            query = query.where(cls.id != exclude_id)
        return db.session.scalar(query) is not None

    @classmethod
    def any_exists(cls, besides: int | None = None) -> bool:
        """Whether the server has any account yet (other than the one with id ``besides``)."""
        query = select(cls.id).limit(1)
        if besides is not None:
            query = query.where(cls.id != besides)
        return db.session.scalar(query) is not None

    @classmethod
    def admin_exists(cls) -> bool:
        """Whether some account is an admin (the next account created is one when not)."""
        return db.session.scalar(select(cls.id).where(cls.is_admin).limit(1)) is not None


def load_user(session_token: str) -> User | None:
    """Flask-Login user loader: find the user whose current session token this is."""
    return db.session.scalar(select(User).where(User.session_token == session_token))


def hash_invite_token(token: str) -> str:
    """How an invite token is stored: its SHA-256 (the token itself is 256 random bits)."""
    return hashlib.sha256(token.encode()).hexdigest()


class Invite(db.Model):  # type: ignore[name-defined,misc]
    """A single-use, expiring invitation to register; only a hash of its token is stored."""

    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    note: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    used_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    used_by: Mapped[User | None] = relationship(foreign_keys=[used_by_id])

    def __repr__(self) -> str:
        return f"<Invite {self.id} {self.status}>"

    @classmethod
    def create(
        cls, *, days: float, note: str | None = None, created_by: User | None = None
    ) -> tuple[Invite, str]:
        """Add a new invite to the session; returns it and its token (shown once, never stored)."""
        token = secrets.token_urlsafe(32)
        invite = cls(
            token_hash=hash_invite_token(token),
            note=(note or "").strip() or None,
            expires_at=utcnow() + timedelta(days=days),
            created_by_id=created_by.id if created_by is not None else None,
        )
        db.session.add(invite)
        return invite, token

    @classmethod
    def find_usable(cls, token: str | None) -> Invite | None:
        """The unused, unexpired invite whose token this is, or ``None``."""
        if not token or len(token) > 100:
            return None
        invite = db.session.scalar(select(cls).where(cls.token_hash == hash_invite_token(token)))
        if invite is None or not invite.usable:
            return None
        return invite

    @property
    def status(self) -> str:
        """``used``, ``expired`` or ``open``."""
        if self.used_at is not None:
            return "used"
        if self.expires_at <= utcnow():
            return "expired"
        return "open"

    @property
    def usable(self) -> bool:
        """Whether the invite can still be used to register."""
        return self.status == "open"

    def redeem(self, user: User) -> bool:
        """Mark the invite used by ``user`` (flushed) unless another request used it first.

        One ``UPDATE ... WHERE used_at IS NULL``, so two registrations racing for the same
        invite cannot both succeed.
        """
        now = utcnow()
        result = db.session.execute(
            update(Invite)
            .where(Invite.id == self.id, Invite.used_at.is_(None), Invite.expires_at > now)
            .values(used_at=now, used_by_id=user.id)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return False
        db.session.refresh(self)
        return True


class SyncStatus(enum.StrEnum):
    """Where a sync or import job is."""

    QUEUED = "queued"
    RUNNING = "running"
    PAUSED = "paused"  #: waiting for a rate limit to reset
    DONE = "done"
    FAILED = "failed"


class ConnectionStatus(enum.StrEnum):
    """Whether a connection can be synced."""

    OK = "ok"
    RECONNECT = "reconnect"  #: the token was revoked or expired; the data is kept


class Connection(db.Model):  # type: ignore[name-defined,misc]
    """One network account connected by a user (live, public handle, import or demo)."""

    __tablename__ = "connections"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    network: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(10))
    external_id: Mapped[str | None] = mapped_column(String(255))
    handle: Mapped[str | None] = mapped_column(String(255))
    display_name: Mapped[str | None] = mapped_column(String(255))
    profile_url: Mapped[str | None] = mapped_column(String(500))
    avatar_url: Mapped[str | None] = mapped_column(String(500))
    instance_url: Mapped[str | None] = mapped_column(String(255))
    access_token: Mapped[str | None] = mapped_column(EncryptedText())
    refresh_token: Mapped[str | None] = mapped_column(EncryptedText())
    token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(12), default=ConnectionStatus.OK)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Scheduled syncs: ``off``, ``6h``, ``daily`` or ``weekly``; ``None`` is the default for
    #: the connection's source (see :func:`app.sync.schedule.schedule_of`).
    schedule: Mapped[str | None] = mapped_column(String(10))
    #: When the scheduler next syncs it (``None``: not scheduled).
    next_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    #: Syncs that failed in a row (the schedule backs off, the page says so).
    sync_failures: Mapped[int] = mapped_column(default=0, server_default="0")
    current_snapshot_id: Mapped[int | None] = mapped_column(
        ForeignKey("snapshots.id", ondelete="SET NULL", use_alter=True)
    )

    user: Mapped[User] = relationship(back_populates="connections")
    current_snapshot: Mapped[Snapshot | None] = relationship(
        foreign_keys=[current_snapshot_id], post_update=True
    )
    runs: Mapped[list[SyncRun]] = relationship(
        back_populates="connection",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="SyncRun.id.desc()",
    )

    __table_args__ = (UniqueConstraint("user_id", "network"),)

    def __repr__(self) -> str:
        return f"<Connection {self.network}:{self.handle} of user {self.user_id}>"


class SyncRun(db.Model):  # type: ignore[name-defined,misc]
    """One fetch or import job, with its progress as the page shows it."""

    __tablename__ = "sync_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(10))  #: live, public, import or demo
    status: Mapped[str] = mapped_column(String(10), default=SyncStatus.QUEUED)
    stage: Mapped[str | None] = mapped_column(String(40))
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int | None] = mapped_column()
    requests: Mapped[int] = mapped_column(default=0)
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(Text)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    connection: Mapped[Connection] = relationship(back_populates="runs")

    @property
    def active(self) -> bool:
        """Whether the job is still queued, running or paused."""
        return self.status in {SyncStatus.QUEUED, SyncStatus.RUNNING, SyncStatus.PAUSED}


class Snapshot(db.Model):  # type: ignore[name-defined,misc]
    """The stored result of one finished sync: counts, analysis results and graph layouts.

    The people, follows and posts of a snapshot are rows tagged with its id. A sync builds a
    new snapshot beside the current one and switches ``Connection.current_snapshot_id`` when
    it has finished, so pages never see half a sync.
    """

    __tablename__ = "snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE"), index=True
    )
    sync_run_id: Mapped[int | None] = mapped_column(ForeignKey("sync_runs.id", ondelete="SET NULL"))
    complete: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    archive_date: Mapped[datetime | None] = mapped_column(UTCDateTime())
    followers_count: Mapped[int | None] = mapped_column()
    friends_count: Mapped[int | None] = mapped_column()
    posts_count: Mapped[int | None] = mapped_column()
    mutuals_count: Mapped[int | None] = mapped_column()
    results: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: Per part (:data:`app.networks.base.PARTS`): what this sync's read gave (``read``) and
    #: what the snapshot shows (``shown``: state, count of total, sources, as of), see
    #: :mod:`app.sync.parts`. ``None`` on snapshots stored before parts were recorded.
    parts: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    followers_graph: Mapped[dict[str, Any] | None] = mapped_column(JSON, deferred=True)
    friends_graph: Mapped[dict[str, Any] | None] = mapped_column(JSON, deferred=True)


class Person(db.Model):  # type: ignore[name-defined,misc]
    """A follower or friend of a connected account, as of one snapshot, with their metrics."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("snapshots.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(255))
    handle: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255))
    url: Mapped[str | None] = mapped_column(String(500))
    avatar_url: Mapped[str | None] = mapped_column(String(500))
    followers_count: Mapped[int | None] = mapped_column()
    following_count: Mapped[int | None] = mapped_column()
    posts_count: Mapped[int | None] = mapped_column()
    is_follower: Mapped[bool] = mapped_column(default=False)
    is_friend: Mapped[bool] = mapped_column(default=False)
    #: Whether this person's own following list was read to its end (an absent edge from
    #: them then means "does not follow", not "unknown").
    following_known: Mapped[bool] = mapped_column(default=False, server_default=false())
    my_followers_they_follow: Mapped[int | None] = mapped_column()
    common_friends: Mapped[int | None] = mapped_column()
    follower_community: Mapped[int | None] = mapped_column()
    friend_community: Mapped[int | None] = mapped_column()
    pagerank: Mapped[float | None] = mapped_column()
    links: Mapped[list[str]] = mapped_column(JSON, default=list)

    __table_args__ = (
        Index("ix_people_snapshot_external", "snapshot_id", "external_id", unique=True),
        Index("ix_people_snapshot_handle", "snapshot_id", "handle"),
    )


#: The sort keys of the followers and friends lists, by role: the list's flag column, and per
#: sort name (see :data:`app.dashboard.service.SORTS`) the column or expression it sorts by.
LIST_SORTS: dict[str, tuple[Any, dict[str, Any]]] = {
    "followers": (
        Person.is_follower,
        {
            "overlap": Person.my_followers_they_follow,
            "handle": func.lower(Person.handle),
            "name": func.lower(Person.name),
            "count": Person.followers_count,
            "community": Person.follower_community,
        },
    ),
    "friends": (
        Person.is_friend,
        {
            "overlap": Person.common_friends,
            "handle": func.lower(Person.handle),
            "name": func.lower(Person.name),
            "count": Person.following_count,
            "community": Person.friend_community,
        },
    ),
}

# One partial index per list and sort, ``(snapshot_id, sort key, id) WHERE <flag>``: a page
# of a list is an index range read from a keyset position (``app.dashboard.keyset``), in
# either direction, never a scan and sort of the whole list. Migration 0010_list_indexes.
for _role, (_flag, _sorts) in LIST_SORTS.items():
    for _sort, _key in _sorts.items():
        Index(
            f"ix_people_{_role}_{_sort}",
            Person.snapshot_id,
            _key,
            Person.id,
            sqlite_where=_flag == true(),
            postgresql_where=_flag,
        )


class Follow(db.Model):  # type: ignore[name-defined,misc]
    """``source`` follows ``target`` (external ids) among a snapshot's people and owner."""

    __tablename__ = "follows"

    snapshot_id: Mapped[int] = mapped_column(
        ForeignKey("snapshots.id", ondelete="CASCADE"), primary_key=True
    )
    source: Mapped[str] = mapped_column(String(255), primary_key=True)
    target: Mapped[str] = mapped_column(String(255), primary_key=True)


class Post(db.Model):  # type: ignore[name-defined,misc]
    """A post of the connected account as of one snapshot, with its sentiment."""

    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(
        ForeignKey("snapshots.id", ondelete="CASCADE"), index=True
    )
    external_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(20), default="post")
    text: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str | None] = mapped_column(String(500))
    reply_count: Mapped[int | None] = mapped_column()
    like_count: Mapped[int | None] = mapped_column()
    repost_count: Mapped[int | None] = mapped_column()
    in_reply_to: Mapped[str | None] = mapped_column(String(255))
    is_repost: Mapped[bool] = mapped_column(default=False)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sentiment_label: Mapped[str | None] = mapped_column(String(10))
    sentiment_score: Mapped[float | None] = mapped_column()


class CrossCheck(db.Model):  # type: ignore[name-defined,misc]
    """The stored cross-network check of one user, recomputed after every sync."""

    __tablename__ = "cross_checks"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    results: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class MastodonApp(db.Model):  # type: ignore[name-defined,misc]
    """This app's registration on one Mastodon server (``POST /api/v1/apps``), made once."""

    __tablename__ = "mastodon_apps"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_url: Mapped[str] = mapped_column(String(255), unique=True)
    redirect_uri: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(255))
    client_secret: Mapped[str | None] = mapped_column(EncryptedText())
    scopes: Mapped[str] = mapped_column(String(100), default="read")
    supports_pkce: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SchedulerLock(db.Model):  # type: ignore[name-defined,misc]
    """Which process runs the scheduler: one row per lock, held until ``expires_at``.

    Every web worker and RQ worker may run a scheduler loop; the one holding this lock does
    the work, so a server with several gunicorn workers syncs each connection once.
    """

    __tablename__ = "scheduler_locks"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ApiToken(db.Model):  # type: ignore[name-defined,misc]
    """A personal access token for the read-only JSON API (``/api/v1/``).

    Only the SHA-256 of the token is stored (the token holds 256 random bits, so a plain hash
    is enough); the token itself is shown once, when it is made. ``prefix`` is its first
    characters, kept to tell tokens apart on the settings page.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    scope: Mapped[str] = mapped_column(String(20), default="read")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()

    @property
    def active(self) -> bool:
        """Whether the token still opens the API."""
        return self.revoked_at is None


class Upload(db.Model):  # type: ignore[name-defined,misc]
    """An uploaded archive waiting for, or going through, its import (:mod:`app.sync.uploads`).

    ``store`` says where its bytes are: ``local``, one file in ``UPLOAD_FOLDER`` on the machine
    that received it (the embedded default, imports in the web process), or ``database``,
    :class:`UploadChunk` rows that every process of the deployment reads (RQ workers on other
    machines). ``size`` and ``sha256`` are measured while the upload is stored and checked when
    a worker reads it back. The row and its chunks go when the import ends, whatever its outcome.
    """

    __tablename__ = "uploads"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("sync_runs.id", ondelete="CASCADE"), index=True
    )
    store: Mapped[str] = mapped_column(String(10))
    filename: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(db.BigInteger, default=0)
    sha256: Mapped[str] = mapped_column(String(64))
    chunks: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class UploadChunk(db.Model):  # type: ignore[name-defined,misc]
    """One piece (``UPLOAD_CHUNK_KB``) of an upload kept in the database, in order by ``seq``."""

    __tablename__ = "upload_chunks"

    upload_id: Mapped[str] = mapped_column(
        ForeignKey("uploads.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(primary_key=True)
    data: Mapped[bytes] = mapped_column(db.LargeBinary)


class MatchKeys(db.Model):  # type: ignore[name-defined,misc]
    """The cross-network match keys of one connection's current people, kept so that a
    sync re-reads only its own people (:mod:`app.sync.matches`).

    ``keys`` holds three arrays (see :func:`app.sync.matches.pack`): a 64-bit hash per key
    (profile address, link, handle, name), its kind, and the rank of the person's row in
    ``snapshot_id`` (by row id).
    """

    __tablename__ = "match_keys"

    connection_id: Mapped[int] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE"), primary_key=True
    )
    snapshot_id: Mapped[int] = mapped_column()
    keys: Mapped[bytes] = mapped_column(LargeBinary)
