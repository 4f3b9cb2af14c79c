"""Password hashing constants, the dummy hash for unknown users, and the common-password list."""

from __future__ import annotations

import secrets
from functools import cache
from pathlib import Path

from werkzeug.security import check_password_hash, generate_password_hash

#: Werkzeug's hashing method for every stored password (its default scrypt parameters).
PASSWORD_METHOD = "scrypt"  # noqa: S105 - a method name

COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent.parent / "data" / "common-passwords.txt"

#: A hash of a random password with the same method and parameters as real ones: checking a
#: password against it costs what checking a real account's does, so an unknown username
#: answers as slowly as a wrong password. Made once per process, at import.
DUMMY_HASH = generate_password_hash(secrets.token_urlsafe(16), method=PASSWORD_METHOD)


def hash_password(password: str) -> str:
    """The stored form of ``password``."""
    return generate_password_hash(password, method=PASSWORD_METHOD)


def check_nobody(password: str) -> bool:
    """Do the work of a password check for an account that does not exist; always ``False``."""
    check_password_hash(DUMMY_HASH, password)
    return False


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords (``app/data/common-passwords.txt``), lowercase."""
    with COMMON_PASSWORDS_FILE.open(encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip())


def is_common(password: str) -> bool:
    """Whether ``password`` (ignoring case and surrounding spaces) is on the common list."""
    return password.strip().lower() in common_passwords()
