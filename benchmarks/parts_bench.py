"""What keeping parts costs: three syncs of one synthetic account, each timed whole.

1. the first sync (nothing before it);
2. a complete sync (every part replaced: only the previous lists are read back, for growth);
3. a sync whose followers read was cut (the followers list, people and posts are read back
   from the previous snapshot and merged).

Peak RSS is the subprocess's maximum resident memory over the three syncs.

Each size runs in its own subprocess against a fresh SQLite file, or ``DATABASE_URL``.

Run: ``.venv/bin/python benchmarks/parts_bench.py --sizes 1000,10000,50000``
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Any

from common import bench_connection


def run_one(size: int, posts: int) -> dict[str, Any]:
    """Three syncs of ``size`` followers; seconds for each and the parts they record."""
    from app.demo.synthetic import make_account
    from app.extensions import db
    from app.models import SyncRun
    from app.networks.base import PartState
    from app.sync import service

    times: dict[str, Any] = {}
    with bench_connection() as connection:
        now = datetime(2026, 1, 1, tzinfo=UTC)
        for name in ("first", "complete", "followers_cut"):
            data = make_account("github", size, posts=posts, now=now)
            if name == "followers_cut":
                kept = len(data.followers or ()) // 2
                data.followers = (data.followers or [])[:kept]
                data.mark("followers", PartState.PARTIAL, total=size, reason="a read budget")
            run = SyncRun(connection=connection, kind="demo", params={})
            db.session.add(run)
            db.session.commit()
            began = time.perf_counter()
            service.store_snapshot(connection, run, data, service.RunProgress(run))
            times[name] = round(time.perf_counter() - began, 2)
            times[f"{name}_followers_shown"] = connection.current_snapshot.followers_count
    times["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.posts)))
        return
    print(f"database: {os.environ.get('DATABASE_URL', 'sqlite').split(':', 1)[0]}")
    print(
        f"{'followers':>9} | {'first':>6} | {'complete':>8} | {'cut':>6} | {'peak RSS':>8} | "
        "shown after cut"
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
            f"{size:>9,} | {row['first']:>6} | {row['complete']:>8} | {row['followers_cut']:>6} "
            f"| {row['peak_rss_mb']:>5} MB | {row['followers_cut_followers_shown']:,}",
            flush=True,
        )


if __name__ == "__main__":
    main()
