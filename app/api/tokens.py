"""Personal access tokens: made once, stored hashed, looked up by hash, revoked by their owner.

A token is ``mda_`` followed by 43 URL-safe characters (256 random bits). Only its SHA-256
is stored: with that much randomness a slow password hash adds nothing, and a lookup by hash
is a single indexed query. The first characters (``prefix``) are kept to tell tokens apart.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import ApiToken, User, utcnow

PREFIX = "mda_"
#: The only scope there is: the API reads and never writes.
SCOPE_READ = "read"
#: ``last_used_at`` is written at most this often per token (not on every request).
LAST_USED_EVERY = timedelta(minutes=1)
#: The most tokens one user may hold (active or revoked rows are both counted).
MAX_TOKENS = 50
NAME_MAX = 100


def hash_token(token: str) -> str:
    """The stored form of ``token``: its SHA-256 in hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(user: User, name: str) -> tuple[ApiToken, str]:
    """Make a read-only token for ``user``; return the row and the token (shown once)."""
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id,
        name=name.strip()[:NAME_MAX] or "token",
        token_hash=hash_token(token),
        prefix=token[: len(PREFIX) + 6],
        scope=SCOPE_READ,
    )
    db.session.add(row)
    db.session.commit()
    return row, token


def find_token(token: str | None) -> ApiToken | None:
    """The active token row for ``token``, or ``None`` (unknown, malformed or revoked)."""
    if not token or not token.startswith(PREFIX) or len(token) > 200:
        return None
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if row is None or not row.active:
        return None
    return row


def touch(row: ApiToken) -> None:
    """Record that ``row`` was used now (written at most once per :data:`LAST_USED_EVERY`)."""
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_EVERY:
        row.last_used_at = now
        db.session.commit()


def user_tokens(user: User) -> list[ApiToken]:
    """The user's tokens, newest first."""
    return list(
        db.session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
        )
    )


def own_token(user: User, token_id: int) -> ApiToken | None:
    """The user's own token ``token_id``; ``None`` for anyone else's or none."""
    return db.session.scalar(
        select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id)
    )


def revoke(row: ApiToken) -> None:
    """Revoke ``row``: from now on it gets a 401."""
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        db.session.commit()
