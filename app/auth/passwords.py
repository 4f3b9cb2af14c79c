"""The list of common passwords that new passwords must not be."""

from __future__ import annotations

from functools import cache
from pathlib import Path

COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent.parent / "data" / "common-passwords.txt"


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords (``app/data/common-passwords.txt``), lowercase."""
    with COMMON_PASSWORDS_FILE.open(encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip())


def is_common(password: str) -> bool:
    """Whether ``password`` (ignoring case and surrounding spaces) is on the common list."""
    return password.strip().lower() in common_passwords()
