"""The benchmark runner (``make bench``) and its "project | raw | ratio" rows."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import report  # noqa: E402
import run_all  # noqa: E402


def test_ratio_is_project_cost_over_raw_cost_for_times_and_rates() -> None:
    assert report.Row("csv", project=0.3, raw=0.1, unit="s").ratio == pytest.approx(3.0)
    # for a rate the raw reference's rate over the project's: above 1 is still "slower"
    assert report.Row("pages", project=25, raw=100, unit="req/s").ratio == pytest.approx(4.0)
    assert report.Row("no raw", project=1.0, raw=None).ratio is None
    assert report.Row("zero raw", project=1.0, raw=0.0).ratio is None


def test_rows_print_as_an_aligned_table() -> None:
    table = report.Report("Title")
    table.add("followers CSV", 345.0, 98.6, "ms", "target <= 1.5x")
    table.add("graph", 2.6, None, "s")
    lines = table.text().splitlines()
    assert lines[0] == "Title"
    assert lines[1].split("|")[0].strip() == "figure"
    assert [cell.strip() for cell in lines[3].split("|")] == [
        "followers CSV",
        "345 ms",
        "98.6 ms",
        "3.50x  target <= 1.5x",
    ]
    assert [cell.strip() for cell in lines[4].split("|")] == ["graph", "2.60 s", "-", "-"]
    # every row's separators line up with the header's
    assert len({line.index("|") for line in lines[1:] if "|" in line}) == 1


def test_machine_names_cpu_cores_ram_and_python() -> None:
    found = report.machine(postgres=False)
    assert set(found) >= {"CPU", "cores", "RAM", "Python"}
    assert found["Python"] == ".".join(map(str, sys.version_info[:3]))
    assert "PostgreSQL" not in found


def test_median_time_runs_the_work_warmup_plus_repeat_times() -> None:
    calls: list[int] = []
    seconds = report.median_time(lambda: calls.append(1), repeat=3, warmup=2)
    assert len(calls) == 5
    assert seconds >= 0


def _script(folder: Path, name: str, body: str) -> None:
    (folder / name).write_text(f"import sys\n{body}\n")


def test_runner_runs_scripts_skips_what_is_missing_and_names_failures(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    _script(tmp_path, "ok_bench.py", "print('args', sys.argv[1:])")
    _script(tmp_path, "broken_bench.py", "sys.exit(3)")
    _script(tmp_path, "browser_bench.py", "print('should not run')")
    benches = [
        run_all.Bench("ok_bench.py", ("--size", "10")),
        run_all.Bench("gone_bench.py"),
        run_all.Bench("browser_bench.py", needs=("chromium",)),
        run_all.Bench("broken_bench.py"),
    ]

    def missing(need: str) -> str | None:
        return "Chromium is not installed" if need == "chromium" else None

    outcomes = run_all.run_all(benches, tmp_path, None, missing)
    out = capfd.readouterr().out
    assert [(o.name, o.status) for o in outcomes] == [
        ("ok_bench", "ok"),
        ("gone_bench", "skipped"),
        ("browser_bench", "skipped"),
        ("broken_bench", "failed"),
    ]
    assert "args ['--size', '10']" in out
    assert "skipped: gone_bench.py is not in" in out
    assert "skipped: Chromium is not installed" in out
    assert "should not run" not in out
    assert outcomes[3].detail == "exit status 3"
    text = run_all.summary(outcomes)
    assert "broken_bench" in text and "failed" in text and "exit status 3" in text


def test_runner_gives_database_scripts_the_database_url(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite:///elsewhere.db")
    _script(tmp_path, "db_bench.py", "import os; print('url', os.environ.get('DATABASE_URL'))")
    with_db = run_all.Bench("db_bench.py", database=True)
    run_all.run_one(with_db, tmp_path, "postgresql://x/md_bench_run")
    run_all.run_one(with_db, tmp_path, None)  # no PostgreSQL: its own SQLite file
    out = capfd.readouterr().out
    assert "url postgresql://x/md_bench_run" in out
    assert "url None" in out


def test_runner_selects_by_name_and_refuses_unknown_names() -> None:
    chosen = run_all.select(run_all.BENCHMARKS, "loadtest, sentiment_bench.py")
    assert [bench.script for bench in chosen] == ["loadtest.py", "sentiment_bench.py"]
    with pytest.raises(SystemExit, match="unknown benchmark"):
        run_all.select(run_all.BENCHMARKS, "nosuch")
    assert run_all.select(run_all.BENCHMARKS, None) == list(run_all.BENCHMARKS)


def test_every_listed_benchmark_of_this_branch_exists() -> None:
    # the runner skips a missing script; the ones this branch owns must be there
    owned = {"loadtest.py", "sentiment_bench.py", "fetch_bench.py", "dashboard_bench.py"}
    listed = {bench.script for bench in run_all.BENCHMARKS}
    assert owned <= listed
    assert all((BENCHMARKS / script).is_file() for script in owned)
