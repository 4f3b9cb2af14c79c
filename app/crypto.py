"""Encryption at rest for OAuth tokens (Fernet, from ``cryptography``)."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app
from sqlalchemy import Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


def fernet_for(secret: str) -> Fernet:
    """A :class:`~cryptography.fernet.Fernet` for ``secret``.

    A proper Fernet key (32 url-safe base64 bytes) is used as it is; any other secret (such as
    the 64 hex characters Heroku's ``"generator": "secret"`` makes) is stretched with SHA-256
    into one, so both kinds of ``TOKEN_ENCRYPTION_KEY`` work.
    """
    try:
        return Fernet(secret.encode())
    except ValueError:
        digest = hashlib.sha256(secret.encode()).digest()
        return Fernet(base64.urlsafe_b64encode(digest))


class EncryptedText(TypeDecorator[str]):
    """A text column stored encrypted with the app's ``TOKEN_ENCRYPTION_KEY``."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        box = fernet_for(current_app.config["TOKEN_ENCRYPTION_KEY"])
        return box.encrypt(value.encode()).decode()

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        box = fernet_for(current_app.config["TOKEN_ENCRYPTION_KEY"])
        try:
            return box.decrypt(value.encode()).decode()
        except InvalidToken:
            # The key changed: the token is unusable, and the connection asks to reconnect.
            current_app.logger.warning("a stored token could not be decrypted; key changed?")
            return None
