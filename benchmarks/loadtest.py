"""Load test: signed-in users walking the network pages through gunicorn + PostgreSQL.

What it does, all on this machine:

1. creates the PostgreSQL database ``--database`` fresh (127.0.0.1:5432, user postgres) and
   migrates it (``flask db upgrade``, the Procfile's release step) with ``ProdConfig``;
2. loads ``--accounts`` demo users (``manage.py demo --followers N``: seven synthetic
   networks, two snapshots each);
3. for each worker count, starts the Procfile's ``web`` command (gunicorn, ``ProdConfig``,
   Redis db ``--redis-db``, ``TRUSTED_PROXIES=1`` as on Heroku) and signs in one session per
   virtual user through the CSRF-protected form (each user from its own ``X-Forwarded-For``
   address, so the per-address sign-in limit is not what is measured);
4. times each page once unloaded (median of ``--repeat``) and the followers CSV against
   SQL + pandas ``to_csv`` of the same rows;
5. runs Locust headless for ``--duration`` seconds per (users, think time): the walk is
   dashboard, network page, five list pages, a search, the followers graph JSON and the
   followers CSV (``--walk pages`` leaves out the last two), and reads the server's CPU time
   (gunicorn master and workers, and the PostgreSQL backends of the database) from
   ``/proc/<pid>/stat`` before and after, divided by the requests the access log counted;
6. runs the same users against a raw reference app (:func:`raw_app`) through the same
   gunicorn: a trivial Flask route for every page (dashboard, network, list, search), the
   graph column read for the graph JSON and SQL + ``to_csv`` for the export. (The app's
   list SQL run raw is the ``/list`` route, for trying by hand; pages are compared with the
   trivial route, the floor of Flask behind gunicorn on this machine.)

The client (Locust) shares the machine's cores with the server, as does anything else that
runs; its CPU time is printed too.

Run: ``.venv/bin/python benchmarks/loadtest.py`` (50 users, 2 workers, no think time and 1 s,
20 s each), or the whole matrix:
``--users 10,50,100 --think 0,1 --workers 2,4 --duration 30``.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import re
import secrets
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from report import Report, machine_text  # noqa: E402

BIN = Path(sys.executable).parent
PASSWORD = "load test password 1"
TICKS = os.sysconf("SC_CLK_TCK")
#: Page kinds the issue's page targets are about (not the graph JSON or the export).
PAGE_KINDS = ("dashboard", "network", "list", "search")
KINDS = (*PAGE_KINDS, "graph.json", "export.csv")
#: Columns of the followers CSV, as the export writes them.
EXPORT_SQL = """
SELECT handle, name, followers_count, following_count, my_followers_they_follow,
       is_friend AS follows_back, follower_community AS community
FROM people WHERE snapshot_id = %s AND is_follower
ORDER BY lower(handle), id
"""
LIST_SQL = """
SELECT handle, name, url, followers_count, following_count, my_followers_they_follow,
       is_friend, follower_community
FROM people WHERE snapshot_id = %s AND is_follower AND (%s = '' OR handle ILIKE %s)
ORDER BY followers_count IS NULL, followers_count DESC, lower(handle)
LIMIT 50 OFFSET %s
"""
COUNT_SQL = """
SELECT count(*) FROM people
WHERE snapshot_id = %s AND is_follower AND (%s = '' OR handle ILIKE %s)
"""


#: The raw app's floor for each page kind: a trivial Flask route for the pages, the graph
#: column read for the graph JSON, SQL + ``to_csv`` for the export.
RAW_PATHS = {kind: "/" for kind in PAGE_KINDS} | {
    "graph.json": "/graph",
    "export.csv": "/export.csv",
}


def walks(network: str) -> dict[str, list[tuple[str, str]]]:
    """The steps users walk, as (page kind, path): ``full`` is the issue's mix (dashboard,
    network page, five list pages, a search, the graph JSON and the followers CSV),
    ``pages`` the same without the last two."""
    base = f"/dashboard/user/{network}"
    full = [
        ("dashboard", "/dashboard/user"),
        ("network", base),
        ("list", f"{base}?list=followers&sort=count&order=desc&page=20"),
        ("list", f"{base}?list=followers&sort=handle&order=asc&page=7"),
        ("list", f"{base}?list=friends&sort=name&order=asc&page=3"),
        ("list", f"{base}?list=followers&sort=community&order=desc&page=50"),
        ("list", f"{base}?list=friends&sort=overlap&order=desc&page=2"),
        ("search", f"{base}?list=followers&q=an"),
        ("graph.json", f"{base}/graph/followers.json"),
        ("export.csv", f"{base}/export/followers.csv"),
    ]
    pages = [step for step in full if step[0] in PAGE_KINDS]
    return {"full": full, "pages": pages}


def raw_walk(steps: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The same steps on the raw reference app (:data:`RAW_PATHS`)."""
    return [(kind, RAW_PATHS[kind]) for kind, _ in steps]


# --- the raw reference app ----------------------------------------------------------------


def raw_app() -> Any:
    """A bare Flask app on the same database (``BENCH_RAW_DSN``, snapshot ``BENCH_SNAPSHOT``):
    no templates, no ORM, no session; one psycopg connection per worker."""
    import psycopg
    from flask import Flask, Response, request

    app = Flask("raw")
    dsn, snapshot = os.environ["BENCH_RAW_DSN"], int(os.environ["BENCH_SNAPSHOT"])
    held: dict[str, Any] = {}

    def cursor() -> Any:
        if "db" not in held:
            held["db"] = psycopg.connect(dsn, autocommit=True)
        return held["db"].cursor()

    @app.get("/")
    def trivial() -> str:
        return "ok"

    @app.get("/list")
    def people() -> str:
        query = request.args.get("q", "")
        like = f"%{query}%"
        offset = request.args.get("offset", 0, type=int)
        with cursor() as cur:
            rows = cur.execute(LIST_SQL, (snapshot, query, like, offset)).fetchall()
            total = cur.execute(COUNT_SQL, (snapshot, query, like)).fetchone()[0]
        cells = "".join(
            "<tr>" + "".join(f"<td>{value}</td>" for value in row) + "</tr>" for row in rows
        )
        return f"<p>{total}</p><table>{cells}</table>"

    @app.get("/graph")
    def graph() -> Response:
        with cursor() as cur:
            row = cur.execute(
                "SELECT followers_graph::text FROM snapshots WHERE id = %s", (snapshot,)
            ).fetchone()
        return Response(row[0] or "{}", mimetype="application/json")

    @app.get("/export.csv")
    def export() -> Response:
        return Response(sql_to_csv(cursor(), snapshot), mimetype="text/csv")

    return app


def sql_to_csv(cur: Any, snapshot: int) -> str:
    """The followers of ``snapshot`` read with plain SQL and written by pandas' ``to_csv``."""
    import pandas as pd

    with cur:
        cur.execute(EXPORT_SQL, (snapshot,))
        columns = [column.name for column in cur.description]
        frame = pd.DataFrame(cur.fetchall(), columns=columns)
    return str(frame.to_csv(index=False))


# --- processes ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (0 when it is gone)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (from ``/proc/<pid>/task/*/children``)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found += [int(p) for p in (task / "children").read_text().split()]
    return found


def postgres_pids(dsn: str, database: str) -> list[int]:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        ).fetchall()
    return [int(row[0]) for row in rows]


def procfile_web() -> str:
    """The Procfile's ``web`` command."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            return line.split(":", 1)[1].strip()
    raise SystemExit("Procfile has no web: line")


@dataclass
class Server:
    """A running gunicorn (master ``pid``) and its access log."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def workers(self) -> list[int]:
        return children(self.process.pid)

    def cpu(self) -> float:
        return cpu_seconds(self.process.pid) + sum(cpu_seconds(p) for p in self.workers())

    def requests(self) -> int:
        with self.log.open("rb") as file:
            return sum(1 for _ in file)


@contextlib.contextmanager
def gunicorn(env: dict[str, str], workers: int, app: str | None, folder: Path) -> Iterator[Server]:
    """Start gunicorn with the Procfile's web command (or ``app`` instead of the project,
    same options) on a free port; stop it (by its process id) afterwards."""
    port = free_port()
    command = procfile_web()
    if app is not None:
        command = command.replace("'app.app:create_app()'", shlex.quote(app))
        command += f" --chdir {shlex.quote(str(HERE))}"
    log = folder / f"access-{port}.log"
    run_env = {
        **env,
        "PORT": str(port),
        "WEB_CONCURRENCY": str(workers),
        "PATH": f"{BIN}:{env.get('PATH', '')}",
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["sh", "-c", "exec " + command],
            cwd=ROOT,
            env=run_env,
            stdout=out,
            stderr=(folder / f"error-{port}.log").open("wb"),
            start_new_session=True,
        )
    server = Server(process, f"http://127.0.0.1:{port}", log)
    try:
        wait_up(server, 60)
        yield server
    finally:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_up(server: Server, timeout: float) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            errors = server.log.with_name(server.log.name.replace("access", "error"))
            raise SystemExit(f"gunicorn exited:\n{errors.read_text()[-3000:]}")
        with contextlib.suppress(requests.RequestException):
            requests.get(server.url + "/", timeout=2)
            return
        time.sleep(0.3)
    raise SystemExit(f"gunicorn did not answer within {timeout:.0f} s")


# --- data and sessions --------------------------------------------------------------------


def fresh_database(admin: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def app_env(args: argparse.Namespace, dsn: str) -> dict[str, str]:
    from cryptography.fernet import Fernet

    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_", "REDIS_", "APP_SETTINGS", "FLASK_"))
    }
    env.update(
        APP_SETTINGS="ProdConfig",
        SECRET_KEY=secrets.token_hex(32),
        TOKEN_ENCRYPTION_KEY=Fernet.generate_key().decode(),
        DATABASE_URL=dsn,
        REDIS_URL=f"redis://127.0.0.1:6379/{args.redis_db}",
        TRUSTED_PROXIES="1",
        FLASK_APP="app.app:create_app",
        PYTHONUNBUFFERED="1",
    )
    return env


def run_quiet(command: list[str], env: dict[str, str]) -> None:
    """Run ``command`` in the repository; on failure stop with the end of its output."""
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[:3])} failed:\n{(done.stdout + done.stderr)[-3000:]}")


def load_accounts(env: dict[str, str], accounts: int, followers: int) -> list[str]:
    """Migrate, then create ``accounts`` demo users; their user names."""
    run_quiet([str(BIN / "flask"), "db", "upgrade"], env)
    names = []
    for number in range(1, accounts + 1):
        name = f"load{number}"
        began = time.perf_counter()
        command = [sys.executable, "manage.py", "demo", "--username", name]
        run_quiet([*command, "--password", PASSWORD, "--followers", str(followers)], env)
        print(
            f"demo user {name}: {followers:,} followers on each network, "
            f"built in {time.perf_counter() - began:.0f} s",
            flush=True,
        )
        names.append(name)
    return names


CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def sign_in(url: str, login: str, ip: str) -> str:
    """Sign in through the form from ``ip``; the ``Cookie`` header of the signed-in session.

    The session cookie is ``Secure`` under ``ProdConfig``; the load test talks plain HTTP
    to 127.0.0.1, so it carries the cookie by hand.
    """
    import requests

    headers = {"X-Forwarded-For": ip}
    page = requests.get(url + "/signin", headers=headers, timeout=30)
    found = CSRF.search(page.text)
    if page.status_code != 200 or not found:
        raise SystemExit(f"no sign-in form at {url}/signin ({page.status_code})")
    token = found.group(1) or found.group(2)
    cookie = "; ".join(f"{k}={v}" for k, v in page.cookies.items())
    answer = requests.post(
        url + "/signin",
        data={"login": login, "password": PASSWORD, "csrf_token": token},
        headers={**headers, "Cookie": cookie},
        allow_redirects=False,
        timeout=30,
    )
    session = answer.cookies.get("session")
    if answer.status_code != 302 or "/signin" in answer.headers.get("Location", "") or not session:
        raise SystemExit(f"sign-in of {login} refused ({answer.status_code})")
    return f"session={session}"


def sessions(url: str, logins: list[str], count: int) -> list[dict[str, str]]:
    """One signed-in session per virtual user, each from its own address."""
    return [
        {
            "cookie": sign_in(url, logins[i % len(logins)], f"10.77.{i // 250}.{i % 250 + 1}"),
            "ip": f"10.77.{i // 250}.{i % 250 + 1}",
        }
        for i in range(count)
    ]


def snapshot_of(dsn: str, login: str, network: str) -> int:
    import psycopg

    with psycopg.connect(dsn) as connection:
        row = connection.execute(
            "SELECT c.current_snapshot_id FROM connections c JOIN users u ON u.id = c.user_id "
            "WHERE u.username = %s AND c.network = %s",
            (login, network),
        ).fetchone()
    if not row or row[0] is None:
        raise SystemExit(f"{login} has no {network} snapshot")
    return int(row[0])


# --- measuring ----------------------------------------------------------------------------


def unloaded(url: str, cookie: str, network: str, repeat: int) -> dict[str, tuple[float, int]]:
    """Median seconds and bytes of each page kind, one request at a time."""
    import requests

    paths = {kind: path for kind, path in reversed(walks(network)["full"])}
    found = {}
    for kind in KINDS:
        times, size = [], 0
        for _ in range(repeat + 1):
            began = time.perf_counter()
            answer = requests.get(
                url + paths[kind], headers={"Cookie": cookie}, timeout=60, allow_redirects=False
            )
            size = len(answer.content)
            times.append(time.perf_counter() - began)
            if answer.status_code != 200:
                raise SystemExit(f"{paths[kind]} answered {answer.status_code}")
        found[kind] = (statistics.median(times[1:]), size)
    return found


def raw_csv_time(dsn: str, snapshot: int, repeat: int) -> tuple[float, int]:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as connection:
        times, size = [], 0
        for _ in range(repeat + 1):
            began = time.perf_counter()
            size = len(sql_to_csv(connection.cursor(), snapshot).encode())
            times.append(time.perf_counter() - began)
    return statistics.median(times[1:]), size


@dataclass
class Run:
    """What one Locust run measured."""

    stats: dict[str, dict[str, float]]
    failures: list[str]  # "count x error", the most frequent first
    requests: int  # counted by the access log
    app_cpu: float
    db_cpu: float
    client_cpu: float
    seconds: float


def locust(
    server: Server,
    args: argparse.Namespace,
    users: int,
    think: float,
    walk: str,
    session_file: Path,
    dsn: str,
    folder: Path,
    raw: bool = False,
) -> Run:
    prefix = folder / f"locust-{walk}-{users}-{think}-{'raw' if raw else 'app'}"
    env = {
        **os.environ,
        "BENCH_SESSIONS": str(session_file),
        "BENCH_WALK": walk,
        "BENCH_THINK": str(think),
        "BENCH_NETWORK": args.network,
        "BENCH_RAW": "1" if raw else "",
    }
    command = [
        str(BIN / "locust"),
        "-f",
        str(HERE / "locustfile.py"),
        "--headless",
        "-u",
        str(users),
        "-r",
        str(users),
        "-t",
        f"{args.duration}s",
        "--host",
        server.url,
        "--csv",
        str(prefix),
        "--only-summary",
        "--stop-timeout",
        "10",
        "--loglevel",
        "ERROR",
    ]
    client_before = os.times()
    db_before = {pid: cpu_seconds(pid) for pid in postgres_pids(dsn, args.database)}
    app_before, count_before = server.cpu(), server.requests()
    began = time.perf_counter()
    done = subprocess.run(
        command, cwd=HERE, env=env, capture_output=True, text=True, timeout=args.duration + 120
    )
    seconds = time.perf_counter() - began
    app_cpu = server.cpu() - app_before
    db_after = {pid: cpu_seconds(pid) for pid in postgres_pids(dsn, args.database)}
    db_cpu = sum(db_after[p] - db_before.get(p, 0.0) for p in db_after)
    client = os.times()
    stats_file = Path(f"{prefix}_stats.csv")
    if not stats_file.exists():
        raise SystemExit(f"locust wrote no statistics:\n{done.stderr[-3000:]}")
    with stats_file.open(newline="") as file:
        stats = {
            row["Name"]: {
                key: as_number(value) for key, value in row.items() if key not in ("Type", "Name")
            }
            for row in csv.DictReader(file)
        }
    failures = []
    failures_file = Path(f"{prefix}_failures.csv")
    if failures_file.exists():
        with failures_file.open(newline="") as file:
            rows = sorted(csv.DictReader(file), key=lambda r: -int(r["Occurrences"]))
        failures = [f"{row['Occurrences']} x {row['Name']}: {row['Error']}" for row in rows]
    return Run(
        stats,
        failures,
        server.requests() - count_before,
        app_cpu,
        db_cpu,
        client.children_user
        + client.children_system
        - client_before.children_user
        - client_before.children_system,
        seconds,
    )


def as_number(value: str | None) -> float:
    """A Locust statistics cell: ``N/A`` (no request of that kind finished) reads as 0."""
    try:
        return float(value or 0)
    except ValueError:
        return 0.0


def percentile_line(kind: str, stats: dict[str, float]) -> str:
    return (
        f"  {kind:<11} {stats['Requests/s']:>7.1f} {stats['50%']:>7.0f} "
        f"{stats['95%']:>7.0f} {stats['99%']:>7.0f} {int(stats['Failure Count']):>7} "
        f"{int(stats['Request Count']):>8}"
    )


def print_run(label: str, run: Run) -> None:
    print(
        f"\n{label}: {run.requests} requests in {run.seconds:.0f} s; server CPU "
        f"{run.app_cpu:.1f} s app + {run.db_cpu:.1f} s PostgreSQL"
    )
    print(
        f"  {'kind':<11} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
        f"{'errors':>7} {'requests':>8}"
    )
    for kind in (*KINDS, "Aggregated"):
        if kind in run.stats:
            print(percentile_line(kind, run.stats[kind]))
    for failure in run.failures[:5]:
        print(f"  error: {failure}")


def cpu_ms(run: Run) -> float:
    return (run.app_cpu + run.db_cpu) * 1000 / max(run.requests, 1)


# --- the whole test -----------------------------------------------------------------------


def unloaded_figures(
    report: Report, url: str, cookie: str, dsn: str, snapshot: int, args: argparse.Namespace
) -> None:
    """Each page once at a time, and the followers CSV against SQL + ``to_csv``."""
    times = unloaded(url, cookie, args.network, args.repeat)
    raw_csv, raw_size = raw_csv_time(dsn, snapshot, args.repeat)
    print(f"\nUnloaded, one request at a time (median of {args.repeat}):")
    for kind, (seconds, size) in times.items():
        print(f"  {kind:<11} {seconds * 1000:>7.0f} ms {size:>10,} bytes")
    print(f"  raw SQL + to_csv of the same followers: {raw_csv * 1000:.0f} ms ({raw_size:,} bytes)")
    report.add(
        f"followers CSV ({args.followers:,} rows), unloaded",
        times["export.csv"][0] * 1000,
        raw_csv * 1000,
        "ms",
        "raw: SQL + pandas to_csv in-process; target <= 1.5x",
    )


def add_figures(report: Report, at: str, walk: str, run: Run, raw: Run) -> None:
    """The rows of one (walk, workers, users, think) run next to its raw run."""
    pages = walk == "pages"
    think_1s = "think 1s" in at
    report.add(
        f"{walk}: req/s ({at})",
        run.stats["Aggregated"]["Requests/s"],
        raw.stats["Aggregated"]["Requests/s"],
        "req/s",
        "target >= 100" if pages and not think_1s else "",
    )
    for kind in PAGE_KINDS:
        if kind in run.stats and kind in raw.stats:
            report.add(
                f"{walk}: {kind} p95 ({at})",
                run.stats[kind]["95%"],
                raw.stats[kind]["95%"],
                "ms",
                "target < 300" if think_1s and " 50u " in at else "",
            )
    errors = int(run.stats["Aggregated"]["Failure Count"])
    report.add(
        f"{walk}: server CPU per request ({at})",
        cpu_ms(run),
        cpu_ms(raw),
        "ms",
        f"app + PostgreSQL{'; target < 15' if pages else ''}; errors {errors}",
    )


def measure(
    args: argparse.Namespace, env: dict[str, str], dsn: str, logins: list[str], folder: Path
) -> Report:
    report = Report(f"Load test: {args.followers:,} followers, {args.network} network page")
    matrix = [
        (walk, int(users), float(think))
        for walk in args.walk.split(",")
        for users in args.users.split(",")
        for think in args.think.split(",")
    ]
    snapshot = snapshot_of(dsn, logins[0], args.network)
    raw_env = {**env, "BENCH_RAW_DSN": dsn, "BENCH_SNAPSHOT": str(snapshot)}
    session_file = folder / "sessions.json"
    for number, workers in enumerate(int(w) for w in args.workers.split(",")):
        runs = {}
        with gunicorn(env, workers, None, folder) as server:
            signed = sessions(server.url, logins, max(users for _, users, _ in matrix))
            session_file.write_text(json.dumps(signed))
            if number == 0:
                unloaded_figures(report, server.url, signed[0]["cookie"], dsn, snapshot, args)
            for walk, users, think in matrix:
                run = locust(server, args, users, think, walk, session_file, dsn, folder)
                runs[walk, users, think] = run
                print_run(f"{workers} workers, {users} users, think {think:g} s, {walk}", run)
        with gunicorn(raw_env, workers, "loadtest:raw_app()", folder) as raw_server:
            for walk, users, think in matrix:
                raw = locust(raw_server, args, users, think, walk, session_file, dsn, folder, True)
                print_run(
                    f"raw app, {workers} workers, {users} users, think {think:g} s, {walk}", raw
                )
                at = f"{workers}w {users}u think {think:g}s"
                add_figures(report, at, walk, runs[walk, users, think], raw)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", default="50", help="virtual users, comma-separated")
    parser.add_argument("--think", default="0,1", help="seconds between requests")
    parser.add_argument("--workers", default="2", help="gunicorn workers, comma-separated")
    parser.add_argument(
        "--duration", type=int, default=20, help="seconds per Locust run (10 or more)"
    )
    parser.add_argument(
        "--walk", default="full,pages", help="full (the issue's mix), pages (no graph, no CSV)"
    )
    parser.add_argument("--followers", type=int, default=10000)
    parser.add_argument("--accounts", type=int, default=1, help="demo users to sign in as")
    parser.add_argument("--network", default="bluesky")
    parser.add_argument("--repeat", type=int, default=5, help="unloaded requests per page")
    parser.add_argument("--database", default="md_bench")
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis-db", type=int, default=11)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the database from the last run (same --accounts/--followers)",
    )
    args = parser.parse_args()

    print(machine_text(), flush=True)
    dsn = args.admin_url.rsplit("/", 1)[0] + "/" + args.database
    env = app_env(args, dsn)
    import redis

    redis.Redis.from_url(env["REDIS_URL"]).flushdb()  # sign-in counters of the last run
    if args.reuse:
        logins = [f"load{n}" for n in range(1, args.accounts + 1)]
    else:
        fresh_database(args.admin_url, args.database)
        logins = load_accounts(env, args.accounts, args.followers)
    with tempfile.TemporaryDirectory(prefix="md-load-") as folder:
        report = measure(args, env, dsn, logins, Path(folder))
    report.print()
    print(
        "Ratio: project cost over the raw reference's (for rates, raw rate over project "
        "rate). Locust runs on the same cores as the server."
    )


if __name__ == "__main__":
    main()
