"""Account rules shared by the registration form, the settings form and the CLI."""

from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email

from app.models import User

USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,39}$")
PASSWORD_MIN = 8
PASSWORD_MAX = 128
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


def password_problem(password: str) -> str | None:
    """What is wrong with ``password`` as a new password, or ``None``."""
    if len(password) < PASSWORD_MIN:
        return f"Passwords need at least {PASSWORD_MIN} characters."
    if len(password) > PASSWORD_MAX:
        return f"Passwords can have at most {PASSWORD_MAX} characters."
    return None


def check_new_account(username: str, email: str, password: str) -> list[str]:
    """Every problem with a new account's details (empty when it can be created)."""
    problems = (username_problem(username), email_problem(email), password_problem(password))
    return [problem for problem in problems if problem]
