"""Command-line commands added to ``flask`` and ``manage.py``."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from app.auth.rules import check_new_account
from app.extensions import db
from app.models import User


@click.command("create-user")
@click.argument("username")
@click.option("--email", required=True, help="The new user's email address.")
@click.option("--password", required=True, help="At least 8 characters.")
@with_appcontext
def create_user(username: str, email: str, password: str) -> None:
    """Create a user account (for first-time setup and scripts)."""
    problems = check_new_account(username, email, password)
    if problems:
        for problem in problems:
            click.echo(f"Error: {problem}", err=True)
        sys.exit(1)
    user = User(username=username.strip(), email=email.strip().lower())
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    click.echo(f"Created user {user.username}.")


@click.command("test", context_settings={"ignore_unknown_options": True})
@click.option("--coverage/--no-coverage", default=True, help="Measure branch coverage.")
@click.argument("pytest_args", nargs=-1, type=click.UNPROCESSED)
def run_tests(coverage: bool, pytest_args: tuple[str, ...]) -> None:
    """Run the test suite with pytest; the exit code is pytest's."""
    import pytest

    args = list(pytest_args)
    if coverage:
        args = ["--cov=app", "--cov-branch", "--cov-report=term-missing", *args]
    sys.exit(pytest.main(args))


COMMANDS = (create_user, run_tests)
