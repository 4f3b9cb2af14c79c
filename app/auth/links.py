"""Signed links sent by mail: a password reset and the confirmation of a new email address.

A link is signed with ``SECRET_KEY`` and expires (``RESET_MAX_AGE``, ``CONFIRM_MAX_AGE``).
Each is single-use: a reset link carries a fingerprint of the password it replaces, and a
confirmation link the address it replaces, so once used (or once either changed) it no longer
matches and is refused.
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.extensions import db
from app.models import User


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"md-{purpose}")


def _fingerprint(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:16]


def reset_token(user: User) -> str:
    """A link token that lets ``user`` choose a new password, once."""
    return _serializer("reset").dumps({"user": user.id, "pw": _fingerprint(user.password_hash)})


def user_for_reset(token: str) -> User | None:
    """The user a reset token is for; ``None`` when forged, expired or already used."""
    data = _load("reset", token, current_app.config["RESET_MAX_AGE"])
    if data is None:
        return None
    user = db.session.get(User, data.get("user"))
    if user is None or data.get("pw") != _fingerprint(user.password_hash):
        return None
    return user


def confirm_token(user: User, new_email: str) -> str:
    """A link token that moves ``user`` to ``new_email`` once it is opened."""
    return _serializer("confirm").dumps(
        {"user": user.id, "old": _fingerprint(user.email), "new": new_email}
    )


def email_change(token: str) -> tuple[User, str] | None:
    """The user and new address of a confirmation token; ``None`` when forged, expired or
    already used (the address changed since)."""
    data = _load("confirm", token, current_app.config["CONFIRM_MAX_AGE"])
    if data is None:
        return None
    user = db.session.get(User, data.get("user"))
    if user is None or data.get("old") != _fingerprint(user.email):
        return None
    new = data.get("new")
    return (user, new) if isinstance(new, str) else None


def _load(purpose: str, token: str, max_age: int) -> dict[str, Any] | None:
    try:
        data = _serializer(purpose).loads(token, max_age=max_age)
    except (SignatureExpired, BadSignature):
        return None
    return data if isinstance(data, dict) else None
