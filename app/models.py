"""Database models (typed SQLAlchemy 2).

Every row a user owns hangs off :class:`User` with ``ON DELETE CASCADE``, so deleting an
account removes all of its data in one statement.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from flask_login import UserMixin
from sqlalchemy import Index, String, func, select
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db


def utcnow() -> datetime:
    """The current time, timezone-aware UTC (the default for every timestamp column)."""
    return datetime.now(UTC)


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
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        Index("uq_users_username_lower", func.lower(username), unique=True),
        Index("uq_users_email_lower", func.lower(email), unique=True),
    )

    def __repr__(self) -> str:
        return f"<User {self.username}>"

    def get_id(self) -> str:
        """Flask-Login's session id: the session token, so a password change signs out others."""
        return self.session_token

    def set_password(self, password: str) -> None:
        """Hash ``password`` with scrypt and start a new session token."""
        self.password_hash = generate_password_hash(password, method="scrypt")
        self.session_token = new_session_token()

    def check_password(self, password: str) -> bool:
        """Whether ``password`` matches the stored hash."""
        return check_password_hash(self.password_hash, password)

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


def load_user(session_token: str) -> User | None:
    """Flask-Login user loader: find the user whose current session token this is."""
    return db.session.scalar(select(User).where(User.session_token == session_token))
