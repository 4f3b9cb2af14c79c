"""Run every benchmark in ``benchmarks/`` with modest default sizes: ``make bench``.

Prints the machine first (CPU model, cores, RAM, Python, PostgreSQL), then runs each script
of :data:`BENCHMARKS` as a subprocess with its default arguments; each script prints its own
table (``report.Report``: figure | project | raw | ratio). A script that is missing, or that
needs PostgreSQL, Redis or Chromium when they are not there, is skipped with the reason; a
script that fails is named at the end and makes the run exit non-zero, after every other
script has run.

Scripts marked ``database`` get ``DATABASE_URL`` pointing at a fresh PostgreSQL database
(``md_bench_run``, dropped and created at the start) when PostgreSQL answers, else they run
on their own SQLite file.

Run: ``.venv/bin/python benchmarks/run_all.py [--only NAME,...] [--list]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from report import git_revision, machine_text  # noqa: E402

POSTGRES = ("127.0.0.1", 5432)
REDIS = ("127.0.0.1", 6379)
CHROMIUM = os.environ.get("BENCH_CHROMIUM", "/usr/bin/chromium")
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
RUN_DATABASE = "md_bench_run"
LOAD_DATABASE = "postgresql://postgres@127.0.0.1:5432/md_bench"


@dataclass(frozen=True)
class Bench:
    """One script and how ``make bench`` runs it."""

    script: str
    args: tuple[str, ...] = ()
    #: What must be there: ``postgresql``, ``redis``, ``chromium``.
    needs: tuple[str, ...] = ()
    #: Run against the fresh PostgreSQL database (``DATABASE_URL``) when there is one.
    database: bool = False
    timeout: float = 900.0
    env: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.script.removesuffix(".py")


#: Every benchmark, in the order ``make bench`` runs them, with modest default sizes (the
#: whole run takes 5-6 minutes on 2 idle cores). Each script's own ``--help`` has its flags.
BENCHMARKS: tuple[Bench, ...] = (
    Bench("sentiment_bench.py", ("--speed", "10000")),
    Bench("fetch_bench.py", ("--followers", "500", "--no-memory")),
    Bench("analysis_bench.py", ("--sizes", "1000,10000")),
    Bench("sync_bench.py", ("--sizes", "1000,10000", "--resync"), database=True),
    Bench("parts_bench.py", ("--sizes", "1000,10000"), database=True),
    Bench("import_bench.py", ("--tweets", "20000", "--followers", "5000")),
    Bench("upload_bench.py", ("--mb", "100"), database=True),
    Bench("pages_bench.py", needs=("postgresql",), database=True),
    Bench("graph_bench.py", ("--sizes", "2000,10000,20000")),
    Bench("graph_frame_bench.py", ("--people", "10000", "--repeat", "3"), needs=("chromium",)),
    Bench(
        "loadtest.py",
        ("--users", "50", "--duration", "20", "--workers", "2", "--think", "0,1"),
        needs=("postgresql", "redis"),
        timeout=1500.0,
    ),
    # the load test's database and demo user (it leaves them), timed in-process
    Bench(
        "dashboard_bench.py",
        ("--reuse", LOAD_DATABASE, "--login", "load1", "--password", "load test password 1"),
        needs=("postgresql",),
    ),
)


def answers(address: tuple[str, int], timeout: float = 2.0) -> bool:
    """Whether something accepts TCP connections at ``address``."""
    try:
        with socket.create_connection(address, timeout=timeout):
            return True
    except OSError:
        return False


def missing_need(need: str) -> str | None:
    """Why ``need`` is not available here, or ``None`` when it is."""
    if need == "postgresql":
        return None if answers(POSTGRES) else "PostgreSQL is not answering on 127.0.0.1:5432"
    if need == "redis":
        return None if answers(REDIS) else "Redis is not answering on 127.0.0.1:6379"
    if need == "chromium":
        found = os.path.exists(CHROMIUM) or shutil.which("chromium")
        return None if found else f"Chromium is not installed ({CHROMIUM}; make chromium)"
    return f"unknown requirement {need!r}"


def skip_reason(
    bench: Bench, folder: Path, missing: Callable[[str], str | None] = missing_need
) -> str | None:
    """Why ``bench`` cannot run here, or ``None`` when it can."""
    if not (folder / bench.script).is_file():
        return f"{bench.script} is not in {folder.name}/"
    for need in bench.needs:
        reason = missing(need)
        if reason:
            return reason
    return None


def fresh_database(name: str = RUN_DATABASE, admin_url: str = ADMIN_URL) -> str | None:
    """Drop and create the PostgreSQL database ``name``; its URL, or ``None`` without
    PostgreSQL."""
    if not answers(POSTGRES):
        return None
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + "/" + name


@dataclass
class Outcome:
    name: str
    status: str  # "ok", "skipped", "failed"
    detail: str = ""
    seconds: float = 0.0


def run_one(
    bench: Bench,
    folder: Path,
    database_url: str | None,
    missing: Callable[[str], str | None] = missing_need,
    python: str = sys.executable,
) -> Outcome:
    """Run one benchmark, its output going straight to ours."""
    print(f"\n=== {bench.name} {' '.join(bench.args)}".rstrip(), flush=True)
    reason = skip_reason(bench, folder, missing)
    if reason:
        print(f"skipped: {reason}", flush=True)
        return Outcome(bench.name, "skipped", reason)
    env = {**os.environ, **bench.env, "PYTHONUNBUFFERED": "1"}
    if bench.database and database_url:
        env["DATABASE_URL"] = database_url
    elif bench.database:
        env.pop("DATABASE_URL", None)
    began = time.perf_counter()
    try:
        done = subprocess.run(
            [python, str(folder / bench.script), *bench.args],
            cwd=folder.parent,
            env=env,
            timeout=bench.timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        seconds = time.perf_counter() - began
        print(f"failed: still running after {bench.timeout:.0f} s, stopped", flush=True)
        return Outcome(bench.name, "failed", f"timed out after {bench.timeout:.0f} s", seconds)
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        print(f"failed: exit status {done.returncode} ({seconds:.0f} s)", flush=True)
        return Outcome(bench.name, "failed", f"exit status {done.returncode}", seconds)
    print(f"({bench.name}: {seconds:.0f} s)", flush=True)
    return Outcome(bench.name, "ok", "", seconds)


def summary(outcomes: Sequence[Outcome]) -> str:
    lines = ["", "=== summary"]
    for outcome in outcomes:
        took = f" {outcome.seconds:.0f} s" if outcome.status != "skipped" else ""
        detail = f": {outcome.detail}" if outcome.detail else ""
        lines.append(f"{outcome.name:<22} {outcome.status}{took}{detail}")
    return "\n".join(lines)


def select(benches: Sequence[Bench], only: str | None) -> list[Bench]:
    """The benchmarks named in ``only`` (comma-separated, with or without ``.py``), or all.

    :raises SystemExit: for a name that is not in the list.
    """
    if not only:
        return list(benches)
    wanted = [name.strip().removesuffix(".py") for name in only.split(",") if name.strip()]
    known = {bench.name: bench for bench in benches}
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise SystemExit(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(known)}")
    return [known[name] for name in wanted]


def run_all(
    benches: Sequence[Bench],
    folder: Path = HERE,
    database_url: str | None = None,
    missing: Callable[[str], str | None] = missing_need,
) -> list[Outcome]:
    return [run_one(bench, folder, database_url, missing) for bench in benches]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated script names (default: all)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)
    benches = select(BENCHMARKS, args.only)
    if args.list:
        for bench in benches:
            needs = f"  (needs {', '.join(bench.needs)})" if bench.needs else ""
            print(f"{bench.script} {' '.join(bench.args)}{needs}")
        return 0
    print(machine_text())
    print(f"Commit: {git_revision()}; started {time.strftime('%Y-%m-%d %H:%M:%S %Z')}")
    print("Every figure: project | raw reference from the same run | ratio (project/raw cost).")
    database_url = None
    if any(bench.database for bench in benches):
        database_url = fresh_database()
        where = database_url or "SQLite files (PostgreSQL not answering)"
        print(f"Database benchmarks run on {where}", flush=True)
    began = time.perf_counter()
    outcomes = run_all(benches, HERE, database_url)
    print(summary(outcomes))
    print(f"whole run: {time.perf_counter() - began:.0f} s")
    return 1 if any(outcome.status == "failed" for outcome in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
