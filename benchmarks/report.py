"""Figures as "project | raw | ratio" rows, and the machine they were measured on.

Every benchmark figure is the project's cost next to a raw reference measured in the same
run on the same machine (a raw library call, a bare ``executemany`` or ``COPY``, SQL plus
``to_csv``, a trivial route through the same gunicorn), so a slower or busier machine moves
both and the ratio stays comparable. A script collects its rows in a :class:`Report` and
prints them::

    report = Report("Sentiment")
    report.add("VADER, 5,000 posts", project=0.31, raw=0.22, unit="s")
    report.print()

The ratio reads "how many times the raw reference's cost the project's cost is": project
over raw for times (``s``, ``ms``, ``MB``), raw over project for rates (``/s`` units), so
above 1 always means the project is slower or bigger than the reference.
"""

from __future__ import annotations

import os
import platform
import re
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

#: Units where a bigger number is better (rates); every other unit is a cost.
RATE_SUFFIX = "/s"


@dataclass(frozen=True)
class Row:
    """One figure: the project's value, the raw reference's, in ``unit``."""

    figure: str
    project: float
    raw: float | None
    unit: str = "s"
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """Project cost over raw cost (above 1: the project is slower); ``None`` when the
        reference is missing or zero."""
        if self.raw is None or self.raw <= 0 or self.project <= 0:
            return None
        if self.unit.endswith(RATE_SUFFIX):
            return self.raw / self.project
        return self.project / self.raw


def number(value: float | None, unit: str) -> str:
    """``value`` with its unit, with as many digits as its size deserves."""
    if value is None:
        return "-"
    if abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    elif abs(value) >= 1:
        text = f"{value:.2f}"
    else:
        text = f"{value:.3g}" if value else "0"
    return f"{text} {unit}"


def format_rows(rows: list[Row], title: str = "") -> str:
    """The rows as an aligned text table: figure | project | raw | ratio [| note]."""
    head = ("figure", "project", "raw", "ratio")
    cells = [
        (
            row.figure,
            number(row.project, row.unit),
            number(row.raw, row.unit),
            f"{row.ratio:.2f}x" if row.ratio is not None else "-",
            row.note,
        )
        for row in rows
    ]
    widths = [max([len(head[i])] + [len(c[i]) for c in cells]) for i in range(4)]
    lines = [title] if title else []
    lines.append(
        f"{head[0]:<{widths[0]}} | {head[1]:>{widths[1]}} | {head[2]:>{widths[2]}} | "
        f"{head[3]:>{widths[3]}}"
    )
    lines.append("-" * len(lines[-1]))
    for cell in cells:
        text = (
            f"{cell[0]:<{widths[0]}} | {cell[1]:>{widths[1]}} | {cell[2]:>{widths[2]}} | "
            f"{cell[3]:>{widths[3]}}"
        )
        lines.append(f"{text}  {cell[4]}".rstrip())
    return "\n".join(lines)


@dataclass
class Report:
    """Rows collected by one benchmark, printed as one table."""

    title: str = ""
    rows: list[Row] = field(default_factory=list)

    def add(
        self,
        figure: str,
        project: float,
        raw: float | None,
        unit: str = "s",
        note: str = "",
    ) -> Row:
        row = Row(figure, project, raw, unit, note)
        self.rows.append(row)
        return row

    def text(self) -> str:
        return format_rows(self.rows, self.title)

    def print(self) -> None:
        print("\n" + self.text(), flush=True)


def median_time(work: Callable[[], object], repeat: int = 5, warmup: int = 1) -> float:
    """Median wall seconds of ``work()`` over ``repeat`` calls, after ``warmup`` calls."""
    for _ in range(warmup):
        work()
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        work()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def _cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or platform.machine()
    found = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    return found.group(1).strip() if found else platform.machine()


def _ram_gb() -> float | None:
    try:
        text = Path("/proc/meminfo").read_text()
    except OSError:
        return None
    found = re.search(r"^MemTotal:\s*(\d+) kB", text, re.MULTILINE)
    return int(found.group(1)) / 2**20 if found else None


def postgres_version(url: str | None = None) -> str | None:
    """The server version of PostgreSQL at ``url`` (default: 127.0.0.1:5432 as postgres),
    or ``None`` when there is no server to ask."""
    url = url or os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    try:
        import psycopg

        with psycopg.connect(url, connect_timeout=3) as connection:
            row = connection.execute("SHOW server_version").fetchone()
    except Exception:
        return None
    return str(row[0]).split(" ")[0] if row else None


def machine(postgres: bool = True) -> dict[str, str]:
    """What the figures were measured on: CPU model, cores, RAM, Python, PostgreSQL."""
    ram = _ram_gb()
    info = {
        "CPU": _cpu_model(),
        "cores": str(os.cpu_count() or "?"),
        "RAM": f"{ram:.1f} GB" if ram is not None else "?",
        "Python": platform.python_version(),
        "load average": " ".join(f"{v:.2f}" for v in os.getloadavg()),
    }
    if postgres:
        info["PostgreSQL"] = postgres_version() or "not running"
    return info


def machine_text(postgres: bool = True) -> str:
    """One line naming the machine, for the top of a run."""
    return "Machine: " + ", ".join(f"{k} {v}" for k, v in machine(postgres).items())


def git_revision(root: Path | None = None) -> str:
    """The checked-out commit (short), with ``+dirty`` when files differ from it."""
    folder = str(root or Path(__file__).resolve().parent.parent)
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=folder,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=folder,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return rev + ("+dirty" if dirty else "")
