"""Whole sync of synthetic accounts: analysis plus database writes, as the job runs it.

Each size runs in its own subprocess (peak RSS per size) against a fresh SQLite file, or the
database in ``DATABASE_URL``. Stages: synthetic data (excluded from the total), analysis
(timeline, sentiment, graph), saving (people, follows and posts rows, bulk inserts), switch
(making the snapshot current, pruning the previous one), then reading back the busiest page
queries once.

Run: ``.venv/bin/python benchmarks/sync_bench.py --sizes 1000,10000,50000``
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Any

from common import bench_connection


def run_one(size: int, posts: int) -> dict[str, Any]:
    """Sync one synthetic account of ``size`` followers; return seconds per stage."""
    from app.demo.synthetic import make_account
    from app.extensions import db
    from app.models import SyncRun
    from app.sync import service as sync_module

    times: dict[str, float] = {}
    with bench_connection() as connection:
        run = SyncRun(connection=connection, kind="demo", params={})
        db.session.add(run)
        db.session.commit()

        start = time.perf_counter()
        data = make_account("github", size, posts=posts, now=datetime(2026, 1, 1, tzinfo=UTC))
        times["synthetic"] = round(time.perf_counter() - start, 2)

        real_analyse = sync_module.analyse

        def timed_analyse(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            result = real_analyse(*args, **kwargs)
            times["analysis"] = round(time.perf_counter() - began, 2)
            return result

        sync_module.analyse = timed_analyse
        progress = sync_module.RunProgress(run)
        began = time.perf_counter()
        sync_module.store_snapshot(connection, run, data, progress)
        stored = time.perf_counter() - began
        times["saving_and_switch"] = round(stored - times["analysis"], 2)

        from app.dashboard import service

        snapshot = connection.current_snapshot
        began = time.perf_counter()
        page = service.people_page(snapshot, "followers", sort="overlap", page=3)
        assert page.items
        times["followers_page_query"] = round(time.perf_counter() - began, 3)
    times["total"] = round(times["analysis"] + times["saving_and_switch"], 2)
    times["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000,50000")
    parser.add_argument("--posts", type=int, default=20000)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.posts)))
        return
    print(
        f"{'followers':>9} | {'analysis':>8} | {'saving':>7} | {'total':>6} | "
        f"{'page q':>6} | {'peak RSS':>8}"
    )
    for size in (int(s) for s in args.sizes.split(",")):
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(size), "--posts", str(args.posts)],
            capture_output=True,
            text=True,
            check=True,
        )
        row = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"{size:>9,} | {row['analysis']:>7.2f}s | {row['saving_and_switch']:>6.2f}s | "
            f"{row['total']:>5.2f}s | {row['followers_page_query']:>5.3f}s | "
            f"{row['peak_rss_mb']:>5} MB"
        )


if __name__ == "__main__":
    main()
