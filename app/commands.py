"""Command-line commands added to ``flask`` and ``manage.py``."""

from __future__ import annotations

import os
import sys
from datetime import timedelta

import click
from flask import current_app
from flask.cli import with_appcontext
from rq import SimpleWorker
from sqlalchemy import select

from app.auth.rules import check_new_account
from app.demo.user import create_demo_user
from app.extensions import db
from app.models import Connection, Invite, SyncRun, SyncStatus, User
from app.networks import CONNECTORS
from app.networks.base import Origin
from app.sync.runner import redis_queue
from app.sync.schedule import holder_name, start_scheduler, tick
from app.sync.service import run_sync


@click.command("create-user")
@click.argument("username")
@click.option("--email", required=True, help="The new user's email address.")
@click.option("--password", required=True, help="At least 8 characters, not a common one.")
@click.option("--admin", is_flag=True, help="Make the account an admin (the first one always is).")
@with_appcontext
def create_user(username: str, email: str, password: str, admin: bool) -> None:
    """Create a user account (for first-time setup and scripts), whatever REGISTRATION says."""
    problems = check_new_account(username, email, password)
    if problems:
        for problem in problems:
            click.echo(f"Error: {problem}", err=True)
        sys.exit(1)
    user = User(username=username.strip(), email=email.strip().lower())
    user.set_password(password)
    user.is_admin = admin or not User.admin_exists()
    db.session.add(user)
    db.session.commit()
    click.echo(f"Created user {user.username}.")
    if user.is_admin:
        click.echo(f"{user.username} is an admin: they can invite people.")


@click.command("invite")
@click.option(
    "--days",
    type=click.FloatRange(min=0, min_open=True, max=90),
    default=None,
    help="Days the link stays valid (INVITE_DAYS, 7 unless set).",
)
@click.option("--note", default=None, help="Whom it is for (shown on the admin page).")
@click.option(
    "--url",
    "base_url",
    default=None,
    help="The server's address, e.g. https://analytics.example.org, to print a whole link.",
)
@with_appcontext
def invite(days: float | None, note: str | None, base_url: str | None) -> None:
    """Create a single-use invite link to register (for REGISTRATION=invite)."""
    days = days if days is not None else float(current_app.config["INVITE_DAYS"])
    created, token = Invite.create(days=days, note=(note or "")[:100])
    db.session.commit()
    path = f"/register?invite={token}"
    link = base_url.rstrip("/") + path if base_url else path
    expires = created.expires_at.strftime("%Y-%m-%d %H:%M UTC")
    click.echo(f"Invite link (works once, until {expires}):")
    click.echo(link)
    if not base_url:
        click.echo("Put your server's address in front of it (or pass --url).")
    if current_app.config["REGISTRATION"] != "invite":
        click.echo(
            f"Note: REGISTRATION is {current_app.config['REGISTRATION']!r}; invite links are "
            "used only when it is 'invite'.",
            err=True,
        )


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


@click.command("demo")
@click.option("--username", default="demo", show_default=True, help="The demo user's name.")
@click.option("--password", default=None, help="Its password (random when not given).")
@click.option("--followers", type=int, default=None, help="Followers per demo account.")
@with_appcontext
def demo(username: str, password: str | None, followers: int | None) -> None:
    """Create (or refresh) a demo user with a synthetic account on every network."""
    user, password = create_demo_user(username, password, followers)
    click.echo(f"Demo user ready: sign in as {user.username} with password {password}")


#: The networks whose archive can be imported.
IMPORTABLE = sorted(key for key, connector in CONNECTORS.items() if connector.can_import)


@click.command("import")
@click.argument(
    "network", type=click.Choice(sorted(key for key, c in CONNECTORS.items() if c.can_import))
)
@click.argument("path", type=click.Path(exists=True))
@click.option("--user", "username", required=True, help="Whose account to import into.")
@with_appcontext
def import_command(network: str, path: str, username: str) -> None:
    """Import a network's data archive (zip, folder or file) for a user, then analyse it."""
    user = User.find_by_login(username)
    if user is None:
        click.echo(f"Error: no user called {username}.", err=True)
        sys.exit(1)
    connection = db.session.scalar(
        select(Connection).where(Connection.user_id == user.id, Connection.network == network)
    )
    if connection is None:
        connection = Connection(user_id=user.id, network=network, source=Origin.IMPORT)
        db.session.add(connection)
        db.session.commit()
    run = SyncRun(
        connection=connection,
        kind="import",
        params={"path": os.path.abspath(path), "keep_file": True},
    )
    db.session.add(run)
    db.session.commit()
    click.echo(f"Importing {path} into {user.username}'s {CONNECTORS[network].label}...")
    run_sync(run.id)
    db.session.refresh(run)
    if run.status != SyncStatus.DONE:
        click.echo(f"Error: {run.error}", err=True)
        sys.exit(1)
    db.session.refresh(connection)
    snapshot = connection.current_snapshot
    assert snapshot is not None  # a finished run always leaves one

    def shown(count: int | None) -> str:
        return "no" if count is None else f"{count:,}"

    click.echo(
        f"Imported: {shown(snapshot.followers_count)} followers, "
        f"{shown(snapshot.friends_count)} friends, {shown(snapshot.posts_count)} posts."
    )
    for part in snapshot.results.get("missing_parts", []):
        click.echo(f"Not in the archive: {part}")


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
@with_appcontext
def worker(burst: bool) -> None:
    """Run background jobs from Redis (needs REDIS_URL); without Redis jobs run in-process."""
    if not current_app.config.get("REDIS_URL"):
        click.echo("REDIS_URL is not set: jobs run inside the web process, no worker needed.")
        sys.exit(1)
    queue = redis_queue(current_app)
    if not burst:
        start_scheduler(current_app._get_current_object())  # type: ignore[attr-defined]
    SimpleWorker([queue], connection=queue.connection).work(burst=burst)


@click.command("sync-due")
@with_appcontext
def sync_due_command() -> None:
    """Start the scheduled syncs that are due (for Heroku Scheduler or cron, every 10 min)."""
    started = tick(holder_name(), timedelta(minutes=5))
    if started is None:
        click.echo("Another process is running the scheduler right now; nothing to do.")
        return
    click.echo(f"Started {len(started)} scheduled sync{'' if len(started) == 1 else 's'}.")


COMMANDS = (create_user, invite, run_tests, demo, import_command, worker, sync_due_command)
