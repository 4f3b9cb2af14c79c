"""Password guesses per account: a few free, then a doubling wait; a success starts over.

Every password check for an account (sign-in, and the settings forms that ask for the
current password) goes through :func:`check_password`. Its counters live in the rate
limiter's storage (Redis when ``REDIS_URL`` is set, so every worker sees them; memory
otherwise), under a key made from the *account* (``acct:<id>``), or from a hash of the
normalised login text when no account has that name, so ``frank`` and ``frank@example.com``
share one count and a long login never becomes a long key.

``SIGNIN_LIMIT_PER_ACCOUNT`` (``"5 per day"``) says how many attempts in a row may fail
before waits start, and how long a run of failures is remembered. Past that each attempt
must wait ``SIGNIN_BACKOFF_FIRST`` seconds after the previous one, doubling up to
``SIGNIN_BACKOFF_MAX``. An attempt made during a wait is refused without looking at the
password (it is not a guess, and it does not lengthen the wait); the right password after
the wait signs in and clears the count.

Attempts are counted *before* the password is checked (a success then clears the count), so
many requests sent at once cannot all slip through before the first failure is recorded.
"""

from __future__ import annotations

import hashlib
import math
import time
import unicodedata
from dataclasses import dataclass

from flask import current_app
from limits import parse

from app.extensions import limiter
from app.models import User

PREFIX = "md-auth:"


class Throttled(Exception):
    """The account must wait ``retry_after`` seconds before its next password attempt."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after

    @property
    def wait_text(self) -> str:
        """``"5 seconds"``, ``"1 minute"``, ``"3 minutes"``."""
        seconds = self.retry_after
        if seconds < 60:
            return f"{seconds} second{'s' if seconds != 1 else ''}"
        minutes = math.ceil(seconds / 60)
        return f"{minutes} minute{'s' if minutes != 1 else ''}"


@dataclass(frozen=True)
class Policy:
    """The numbers, read from the app's config."""

    free: int  #: failed attempts in a row before waits start
    memory: int  #: seconds a run of failures is remembered (from its first failure)
    first: int  #: the first wait, seconds
    cap: int  #: the longest wait, seconds

    @classmethod
    def from_config(cls) -> Policy:
        config = current_app.config
        limit = parse(config["SIGNIN_LIMIT_PER_ACCOUNT"])
        return cls(
            free=max(1, limit.amount),
            memory=int(limit.get_expiry()),
            first=max(1, int(config["SIGNIN_BACKOFF_FIRST"])),
            cap=max(1, int(config["SIGNIN_BACKOFF_MAX"])),
        )

    def wait_after(self, attempt: int) -> int:
        """Seconds the attempt after number ``attempt`` (1-based, in a row) must wait."""
        if attempt < self.free:
            return 0
        doublings = min(attempt - self.free, 32)
        return min(self.first * 2**doublings, self.cap)


def normalise_login(login: str) -> str:
    """The text a login is compared by: NFKC, trimmed, case-folded."""
    return unicodedata.normalize("NFKC", login).strip().casefold()


def account_key(user: User | None, login: str = "") -> str:
    """The throttle key: the account's id, or a hash of the normalised login for no account."""
    if user is not None:
        return f"acct:{user.id}"
    digest = hashlib.sha256(normalise_login(login).encode()).hexdigest()[:32]
    return f"login:{digest}"


def count_key(key: str) -> str:
    """The storage key of the account's attempts in a row."""
    return f"{PREFIX}{key}:attempts"


def wait_key(key: str) -> str:
    """The storage key held while the account's next attempt must wait."""
    return f"{PREFIX}{key}:wait"


def begin(key: str) -> None:
    """Count one password attempt for ``key``, or refuse it while the account must wait.

    :raises Throttled: during a wait; the refused attempt is not counted.
    """
    policy = Policy.from_config()
    storage = limiter.storage
    attempt = storage.incr(count_key(key), policy.memory)
    if attempt < policy.free:
        return
    # From the free-th attempt on, an attempt holds the wait key while it runs and for the
    # wait that follows it; whoever finds the key already held waits for it to expire.
    if storage.incr(wait_key(key), policy.wait_after(attempt)) == 1:
        return
    storage.incr(count_key(key), policy.memory, amount=-1)
    retry_after = math.ceil(storage.get_expiry(wait_key(key)) - time.time())
    raise Throttled(max(1, retry_after))


def succeeded(key: str) -> None:
    """The right password: forget the account's failures and any wait."""
    limiter.storage.clear(count_key(key))
    limiter.storage.clear(wait_key(key))


def failures(key: str) -> int:
    """Attempts in a row that did not succeed (for tests and logs)."""
    return limiter.storage.get(count_key(key))


def check_password(user: User | None, password: str, *, login: str = "") -> bool:
    """Whether ``password`` is ``user``'s, counted against the account's attempts.

    With no such user the same hashing work is done against a dummy hash (so an unknown name
    answers as slowly as a wrong password) and the attempt is counted under the login text.

    :raises Throttled: when the account must wait; the password is not looked at.
    """
    key = account_key(user, login)
    begin(key)
    right = user.check_password(password) if user is not None else User.check_nobody(password)
    if right:
        succeeded(key)
    return right
