"""Processes, data and small page helpers for the browser tests.

Two ways to serve the app, both as real processes on 127.0.0.1 with a free port:

* :class:`GunicornStack` (``make e2e``): gunicorn, ``DevConfig``, a fresh SQLite file and the
  in-process job thread (``JOBS_MODE=thread``), all in a temporary folder.
* :class:`HonchoStack` (``make e2e-prod``): ``honcho start web worker`` on the Procfile, as
  ``heroku local`` would, with ``ProdConfig``, a fresh PostgreSQL database, Redis and the RQ
  worker; the Procfile's ``release`` command (``flask db upgrade``) runs first.

Every wait is bounded, and :meth:`Stack.stop` ends every process it started (by process id,
with SIGKILL after a grace period) even when a test failed.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

from tests.fakes.world import Account, World, small_world

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PASSWORD = "correct horse battery"
#: Extra followers on top of the small world, so the followers list has two pages.
FANS = 60
#: Sign-in throttle the servers start with (the unhappy-path test trips it).
SIGNIN_LIMIT_PER_ACCOUNT = "3 per 10 minutes"
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout: float, proc: subprocess.Popen[Any] | None = None) -> None:
    """Wait until ``url`` answers (any HTTP status); fail early when ``proc`` exits."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except OSError as error:
            last = error
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s ({last})")


def e2e_world() -> World:
    """The small world (Andrew follows 2 of my followers) plus :data:`FANS` followers.

    Fan *i* follows me, Bob and the fan before them, so the followers list has two pages,
    counts differ from row to row and the followers graph has links to draw. Nobody new is
    followed by Andrew, so his "my followers they follow" stays 2.
    """
    world = small_world()
    first = 100
    for i in range(FANS):
        uid = first + i
        world.add(Account(uid, f"fan{i:02d}", f"Fan {i:02d}"))
        world.follow(uid, 1)
        world.follow(uid, 2)
        if i:
            world.follow(uid, uid - 1)
        if i % 7 == 0 and i >= 7:
            for back in range(2, 6):
                world.follow(uid - back, uid)
    return world


# -- processes ----------------------------------------------------------------------------


def _proc_table() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, start time) of every process (from /proc; empty elsewhere)."""
    table = {}
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = entry.read_text().rsplit(")", 1)[-1].split()
        except OSError:
            continue
        table[int(entry.parent.name)] = (int(fields[1]), fields[19])
    return table


def _descendants(pid: int) -> dict[int, str]:
    """Every process below ``pid``, with its start time (so a reused pid is never hit)."""
    table = _proc_table()
    children: dict[int, list[int]] = {}
    for child, (parent, _) in table.items():
        children.setdefault(parent, []).append(child)
    found: dict[int, str] = {}
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found[child] = table[child][1]
            todo.append(child)
    return found


def stop_process(proc: subprocess.Popen[Any], grace: float = 15.0) -> None:
    """SIGTERM ``proc`` (and its own process group), then SIGKILL it and everything it
    started that is still alive after ``grace`` seconds (honcho starts each process in a
    session of its own, so the group alone is not enough)."""
    if proc.poll() is not None:
        return
    family = _descendants(proc.pid)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)
    alive = _proc_table()
    for pid, started in family.items():
        if pid in alive and alive[pid][1] == started:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


class Stack:
    """The app and its processes; :attr:`url` is where the browser goes."""

    mode = "dev"

    def __init__(self, workdir: Path, github_url: str) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.github_url = github_url
        self.log_path = workdir / "server.log"
        self.procs: list[subprocess.Popen[Any]] = []
        self._log: Any = None
        atexit.register(self.stop)  # also when pytest is interrupted before its teardown

    def env(self) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(
                ("DATABASE_", "REDIS_", "GITHUB_", "SIGNIN_", "APP_SETTINGS", "MAIL_")
            )
        }
        env.update(
            PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
            PYTHONUNBUFFERED="1",
            FLASK_APP="app.app:create_app",
            INSTANCE_PATH=str(self.workdir / "instance"),
            UPLOAD_FOLDER=str(self.workdir / "uploads"),
            MAIL_FOLDER=str(self.workdir / "instance" / "mail"),  # no MAIL_SERVER: files
            GITHUB_CLIENT_ID="gh-client",
            GITHUB_CLIENT_SECRET="gh-secret",
            GITHUB_API_URL=self.github_url,
            GITHUB_AUTHORIZE_URL=f"{self.github_url}/login/oauth/authorize",
            GITHUB_TOKEN_URL=f"{self.github_url}/login/oauth/access_token",
            HTTP_BACKOFF="0.01",
            HTTP_TIMEOUT="10",
            SIGNIN_LIMIT_PER_ACCOUNT=SIGNIN_LIMIT_PER_ACCOUNT,
            SIGNIN_LIMIT_PER_IP="100 per 10 minutes",
            REGISTER_LIMIT_PER_IP="100 per hour",
            LOG_LEVEL="INFO",
        )
        return env

    def _spawn(self, argv: list[str], env: Mapping[str, str]) -> subprocess.Popen[Any]:
        if self._log is None:
            self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=dict(env),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs.append(proc)
        return proc

    def _run(self, command: str, env: Mapping[str, str], timeout: float = 120) -> None:
        """Run one set-up command to completion (its output goes to the server log)."""
        with open(self.log_path, "ab") as log:
            log.write(f"$ {command}\n".encode())
            log.flush()
            subprocess.run(
                command,
                shell=True,
                cwd=ROOT,
                env=dict(env),
                stdout=log,
                stderr=subprocess.STDOUT,
                check=True,
                timeout=timeout,
            )

    def start(self) -> Stack:
        raise NotImplementedError

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        for proc in reversed(self.procs):
            stop_process(proc)
        if self._log is not None:
            self._log.close()
            self._log = None


class GunicornStack(Stack):
    """gunicorn + DevConfig + SQLite in the temporary folder + the in-process job thread."""

    mode = "dev"

    def start(self) -> GunicornStack:
        (self.workdir / "instance").mkdir(parents=True, exist_ok=True)
        env = self.env()
        env.update(APP_SETTINGS="DevConfig", JOBS_MODE="thread")
        self._run(f"{shlex.quote(str(BIN / 'flask'))} db upgrade", env)
        # One worker process: DevConfig counts sign-in attempts in memory, per process.
        argv = [
            str(BIN / "gunicorn"),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            "1",
            "--threads",
            "4",
            "--timeout",
            "60",
            "--access-logfile",
            "-",
            "app.app:create_app()",
        ]
        proc = self._spawn(argv, env)
        wait_http(self.url + "/", START_TIMEOUT, proc)
        return self


def procfile_commands(path: Path = ROOT / "Procfile") -> dict[str, str]:
    """The Procfile's process types and their command lines."""
    commands = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_-]+):\s*(.+)$", line.strip())
        if match:
            commands[match.group(1)] = match.group(2)
    return commands


class HonchoStack(Stack):
    """``honcho start web worker`` with ProdConfig, PostgreSQL and Redis (the RQ worker).

    :param database_admin_url: a PostgreSQL database to connect to while creating ours.
    :param redis_url: the Redis database this run owns (it is emptied at start).
    """

    mode = "prod"

    def __init__(
        self, workdir: Path, github_url: str, *, database_admin_url: str, redis_url: str
    ) -> None:
        super().__init__(workdir, github_url)
        self.database_admin_url = database_admin_url
        self.redis_url = redis_url
        self.database = f"md_analytics_e2e_{os.getpid()}"
        base = database_admin_url.rsplit("/", 1)[0]
        self.database_url = f"{base}/{self.database}"

    def _database(self, create: bool) -> None:
        import psycopg

        with psycopg.connect(self.database_admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            if create:
                conn.execute(f'CREATE DATABASE "{self.database}"')

    def redis(self) -> Any:
        from redis import Redis

        return Redis.from_url(self.redis_url, socket_timeout=5)

    def start(self) -> HonchoStack:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._database(create=True)
        self.redis().flushdb()
        env = self.env()
        env.update(
            APP_SETTINGS="ProdConfig",
            DATABASE_URL=self.database_url,
            REDIS_URL=self.redis_url,
            JOBS_MODE="",
            SECRET_KEY=secrets.token_hex(32),
            TOKEN_ENCRYPTION_KEY=Fernet.generate_key().decode(),
            PORT=str(self.port),
            WEB_CONCURRENCY="2",
        )
        env.pop("JOBS_MODE")
        release = procfile_commands()["release"]
        self._run(release, env)
        argv = [str(BIN / "honcho"), "-f", str(ROOT / "Procfile"), "start", "web", "worker"]
        proc = self._spawn(argv, env)
        wait_http(self.url + "/", START_TIMEOUT, proc)
        deadline = time.monotonic() + START_TIMEOUT
        while "worker.1" not in self.log_text() or not self._worker_listening():
            if time.monotonic() > deadline:
                raise TimeoutError("the RQ worker did not start:\n" + self.log_text()[-3000:])
            if proc.poll() is not None:
                raise RuntimeError("honcho exited:\n" + self.log_text()[-3000:])
            time.sleep(0.3)
        return self

    def _worker_listening(self) -> bool:
        from rq import Worker

        return bool(Worker.all(connection=self.redis()))

    def stop(self) -> None:
        try:
            super().stop()
        finally:
            try:
                self._database(create=False)
            except Exception as error:  # pragma: no cover - report, do not hide the test's error
                print(f"could not drop {self.database}: {error}", file=sys.stderr)


# -- archives -----------------------------------------------------------------------------

#: LinkedIn connections of the e2e user: Andrew and Bob have the same handles as on GitHub.
LINKEDIN_PEOPLE = [
    (
        "Andrew",
        "Example",
        "https://www.linkedin.com/in/andrew",
        "",
        "Acme",
        "Engineer",
        "12 Mar 2021",
    ),
    ("Bob", "Builder", "https://www.linkedin.com/in/bob", "", "Acme", "Architect", "01 Feb 2022"),
    (
        "Dana",
        "Doe",
        "https://www.linkedin.com/in/dana-doe-4711",
        "",
        "Globex",
        "CTO",
        "05 May 2023",
    ),
    ("Eli", "Smith", "https://www.linkedin.com/in/eli-smith", "", "", "", "17 Jul 2024"),
    ("Fay", "Lee", "", "", "Initech", "Analyst", "09 Sep 2025"),
]
LINKEDIN_MATCHES = {"andrew", "bob"}


def linkedin_zip(path: Path) -> Path:
    """A LinkedIn export: Connections.csv (with its note lines), Shares.csv, Profile.csv."""
    from tests.networks.archive_builders import PROFILE_CSV, connections_csv, shares_csv, write_zip

    shares = [
        (
            "2025-11-03 09:15:00",
            "https://www.linkedin.com/feed/update/urn:li:share:1",
            "Great launch today, proud of the team!",
        ),
        (
            "2025-12-10 17:40:00",
            "https://www.linkedin.com/feed/update/urn:li:share:2",
            "A terrible week of outages, sadly.",
        ),
        (
            "2026-01-20 12:00:00",
            "https://www.linkedin.com/feed/update/urn:li:share:3",
            "Notes from the meetup.",
        ),
    ]
    return write_zip(
        path,
        {
            "Connections.csv": connections_csv(LINKEDIN_PEOPLE),
            "Shares.csv": shares_csv(shares),
            "Profile.csv": PROFILE_CSV,
        },
    )


def x_zip(path: Path) -> Path:
    """An X archive (another network's archive, for the LinkedIn import to refuse)."""
    from datetime import UTC, datetime

    from tests.networks.archive_builders import tweet, write_zip, x_files

    when = datetime(2025, 6, 1, 12, tzinfo=UTC)
    files = x_files(tweets=[tweet("1", "hello", when)], followers=["11", "12"], following=["13"])
    return write_zip(path, files)


def zip_bomb(path: Path) -> Path:
    """A zip whose one member expands 1000-fold (20 MiB of zeros), beside a ../ member."""
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("../../etc/evil.csv", "First Name,Last Name,URL\nEvil,Person,x\n")
        zf.writestr("Connections.csv", b"\0" * (20 * 1024 * 1024))
    return path
