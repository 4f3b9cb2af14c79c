"""Account rules shared by the registration form, the settings form and the CLI."""

from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email

from app.auth.passwords import is_common
from app.models import User

USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,39}$")
PASSWORD_MIN = 8
PASSWORD_MAX = 128

# Upper bounds of what any auth form accepts, checked before anything else is done with a
# value (a database lookup, a hash, a rate-limit key).
USERNAME_MAX = 40
EMAIL_MAX = 254
LOGIN_MAX = EMAIL_MAX  #: a username or an email
PASSWORD_INPUT_MAX = 1024  #: a password typed to sign in or confirm (older ones may be long)
INVITE_TOKEN_MAX = 100
PASSWORD_INPUT_TOO_LONG = f"Passwords have at most {PASSWORD_INPUT_MAX} characters."
LOGIN_TOO_LONG = f"Usernames and emails have at most {LOGIN_MAX} characters."
RESERVED_USERNAMES = frozenset({"admin", "root", "demo-admin", "static", "api", "settings"})

USERNAME_HELP = "3 to 40 characters: letters, digits, dot, dash or underscore."


def username_problem(username: str) -> str | None:
    """What is wrong with ``username`` for a new account, or ``None``."""
    username = username.strip()
    if not USERNAME_RE.match(username):
        return f"Usernames are {USERNAME_HELP}"
    if username.lower() in RESERVED_USERNAMES:
        return "That username is reserved. Please choose another."
    if User.username_taken(username):
        return "That username is taken. Please choose another."
    return None


def email_problem(email: str, *, exclude_id: int | None = None) -> str | None:
    """What is wrong with ``email`` (format, or in use by another account), or ``None``."""
    try:
        validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError:
        return "Enter a valid email address, like name@example.com."
    if User.email_taken(email, exclude_id=exclude_id):
        return "An account with that email already exists."
    return None


TOO_COMMON = (
    "That password is one of the most common ones, which attackers try first. "
    "Choose a longer or less usual one (a few unrelated words work well)."
)


def password_problem(
    password: str, *, username: str | None = None, email: str | None = None
) -> str | None:
    """What is wrong with ``password`` as a new password, or ``None``.

    Too short or too long, on the list of common passwords, or the account's own username or
    email address.
    """
    if len(password) < PASSWORD_MIN:
        return f"Passwords need at least {PASSWORD_MIN} characters."
    if len(password) > PASSWORD_MAX:
        return f"Passwords can have at most {PASSWORD_MAX} characters."
    if is_common(password):
        return TOO_COMMON
    folded = password.strip().lower()
    names = {(username or "").strip().lower(), (email or "").strip().lower()}
    if email and "@" in email:
        names.add(email.strip().lower().split("@", 1)[0])
    if folded in names - {""}:
        return "Choose a password that is not your username or email address."
    return None


def check_new_account(username: str, email: str, password: str) -> list[str]:
    """Every problem with a new account's details (empty when it can be created)."""
    problems = (
        username_problem(username),
        email_problem(email),
        password_problem(password, username=username, email=email),
    )
    return [problem for problem in problems if problem]
