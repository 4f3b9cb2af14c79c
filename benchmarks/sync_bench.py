"""Whole sync of synthetic accounts against a raw write of the same rows.

Each size runs in its own subprocesses against a fresh SQLite file, or the database in
``DATABASE_URL``:

1. **sync**: a synthetic account (``size`` followers, 80% as many friends, about five follow
   edges per follower among the people, ``--posts`` posts) is made (not timed), then
   :func:`app.sync.service.store_snapshot` runs as the job runs it: analysis (timeline,
   sentiment, counts, graphs), saving (people, follows and posts rows), the switch and
   pruning. ``data`` is the resident memory once the account's records are made (the
   producer's share), ``sync peak`` the highest resident memory sampled every 50 ms during
   the sync, ``max RSS`` the process's maximum (``ru_maxrss``: the generator's own
   transient lists and dicts included).
2. **raw**: the same account's rows (one per person, follow and post, values as the sync
   writes them) built in memory first, then timed alone as the bare driver call:
   ``COPY ... FROM STDIN`` (psycopg 3 ``write_row``) on PostgreSQL, ``executemany`` of one
   ``INSERT`` on SQLite, into the same tables with their indexes, and committed.

``save/raw`` is the sync's saving stage over the raw write; ``sync/raw`` the whole sync.

``--resync`` runs a second sync of the same account on top of the first (a scheduled sync
that found nothing changed: its layouts start from the first snapshot's pictures) and adds
its time and ``resync/raw``.

Run: ``.venv/bin/python benchmarks/sync_bench.py --sizes 10000,50000``
(``DATABASE_URL=postgresql://... `` for PostgreSQL; ``--sizes 1000000`` for the big one).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from typing import Any

from common import bench_connection

NOW = datetime(2026, 1, 1, tzinfo=UTC)
#: Follow edges among the people per follower (5M edges for 1M followers).
EDGES_PER_FOLLOWER = 5.0


def rss_mb() -> int:
    """The process's peak resident memory so far, in MB."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def current_rss_mb() -> float:
    """The process's resident memory now, in MB (Linux)."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class Sampler(threading.Thread):
    """Samples the resident memory every 50 ms until stopped; ``peak`` is the highest."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = current_rss_mb()
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.05):
            self.peak = max(self.peak, current_rss_mb())


def account(size: int, posts: int) -> Any:
    """The synthetic account of ``size`` followers (the same for both runs)."""
    from app.demo.synthetic import FETCHED_SHARE, make_account

    friends = round(size * 0.8)
    people = size + friends - round(min(friends, size * 0.3))
    per_person = EDGES_PER_FOLLOWER * size / max(1.0, people * FETCHED_SHARE)
    return make_account(
        "github", size, posts=posts, edges_per_person=per_person, now=NOW, friends=friends
    )


def run_sync(size: int, posts: int, resync: bool = False) -> dict[str, Any]:
    """Sync one synthetic account of ``size`` followers; seconds per stage and memory.

    :param resync: then sync the same account again (``resync``: seconds of the second).
    """
    from app.extensions import db
    from app.models import SyncRun
    from app.sync import service as sync_module

    times: dict[str, Any] = {}
    with bench_connection() as connection:
        run = SyncRun(connection=connection, kind="demo", params={})
        db.session.add(run)
        db.session.commit()
        start = time.perf_counter()
        data = account(size, posts)
        times["synthetic"] = round(time.perf_counter() - start, 2)
        times["edges"] = len(data.follows)
        times["data_rss_mb"] = rss_mb()

        real_analyse = sync_module.analyse

        def timed_analyse(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            result = real_analyse(*args, **kwargs)
            times["analysis"] = round(time.perf_counter() - began, 2)
            return result

        real_write = sync_module.write_rows

        def timed_write(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            result = real_write(*args, **kwargs)
            times["saving"] = round(time.perf_counter() - began, 2)
            return result

        sync_module.analyse = timed_analyse  # type: ignore[assignment]
        sync_module.write_rows = timed_write  # type: ignore[assignment]
        sampler = Sampler()
        times["before_sync_mb"] = round(sampler.peak)
        sampler.start()
        began = time.perf_counter()
        sync_module.store_snapshot(connection, run, data, sync_module.RunProgress(run))
        times["total"] = round(time.perf_counter() - began, 2)
        sampler.done.set()
        sampler.join()
        times["sync_peak_mb"] = round(max(sampler.peak, current_rss_mb()))
        times["peak_rss_mb"] = rss_mb()
        if resync:
            first = dict(times)
            run = SyncRun(connection=connection, kind="demo", params={})
            db.session.add(run)
            db.session.commit()
            data = account(size, posts)
            began = time.perf_counter()
            sync_module.store_snapshot(connection, run, data, sync_module.RunProgress(run))
            resync_seconds = round(time.perf_counter() - began, 2)
            times = {**first, "resync": resync_seconds}
    return times


def raw_rows(size: int, posts: int) -> tuple[list[Any], list[Any], list[Any]]:
    """The rows the sync writes for the account, built plainly from its records."""
    from app.analysis.sentiment import analyse_sentiment, get_engine
    from app.sync.circle import Circle

    data = account(size, posts)
    per_post, _ = analyse_sentiment(data.posts, get_engine("vader"))
    circle = Circle.of(data)
    empty = {"people": {}}
    people = list(circle.person_rows(1, {"followers": empty, "friends": empty}))
    follows = list(circle.follow_rows(1))
    post_list = [
        (
            1,
            p.external_id,
            p.created_at,
            p.kind,
            p.text,
            p.url,
            p.reply_count,
            p.like_count,
            p.repost_count,
            p.in_reply_to,
            p.is_repost,
            p.first_response_at,
            *per_post.get(p.external_id, (None, None)),
        )
        for p in data.posts
    ]
    return people, follows, post_list


def run_raw(size: int, posts: int) -> dict[str, Any]:
    """Time the bare driver write of the account's rows (built beforehand)."""
    from sqlalchemy import JSON

    from app.extensions import db
    from app.models import Follow, Person, Post, Snapshot
    from app.sync.service import FOLLOW_COLUMNS, PERSON_COLUMNS, POST_COLUMNS

    with bench_connection() as connection:
        snapshot = Snapshot(connection_id=connection.id, complete=False)
        db.session.add(snapshot)
        db.session.commit()
        people, follows, post_list = raw_rows(size, posts)
        sid = snapshot.id
        tables = (
            (Person.__table__, PERSON_COLUMNS, people),
            (Follow.__table__, FOLLOW_COLUMNS, follows),
            (Post.__table__, POST_COLUMNS, post_list),
        )
        raw = db.session.connection().connection.driver_connection
        postgres = db.engine.dialect.name == "postgresql"
        # Values as the driver takes them, made before the clock starts.
        prepared = []
        for table, columns, rows in tables:
            json_at = [i for i, c in enumerate(columns) if isinstance(table.c[c].type, JSON)]
            dates = [i for i, c in enumerate(columns) if c in ("created_at", "first_response_at")]
            out = []
            for row in rows:
                values = [sid, *row[1:]]
                for i in json_at:
                    values[i] = json.dumps(values[i])
                if not postgres:
                    for i in dates:
                        if values[i] is not None:
                            values[i] = values[i].replace(tzinfo=None).isoformat(" ")
                out.append(values)
            prepared.append((table.name, columns, out))
        db.session.commit()
        began = time.perf_counter()
        cursor = raw.cursor()
        for name, columns, rows in prepared:
            names = ", ".join(f'"{c}"' for c in columns)
            if postgres:
                with cursor.copy(f'COPY "{name}" ({names}) FROM STDIN') as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" for _ in columns)
                cursor.executemany(f'INSERT INTO "{name}" ({names}) VALUES ({marks})', rows)
        raw.commit()
        seconds = time.perf_counter() - began
        cursor.close()
        return {
            "raw": round(seconds, 2),
            "rows": sum(len(rows) for _, _, rows in prepared),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,50000")
    parser.add_argument("--posts", type=int, default=20000)
    parser.add_argument("--resync", action="store_true", help="time a second sync too")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--raw", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        if args.raw:
            print(json.dumps(run_raw(args.one, args.posts)))
        else:
            print(json.dumps(run_sync(args.one, args.posts, args.resync)))
        return
    db_name = os.environ.get("DATABASE_URL", "sqlite").split(":", 1)[0]
    print(f"database: {db_name}; posts: {args.posts:,}")
    print(
        f"{'followers':>9} | {'edges':>9} | {'rows':>9} | {'analysis':>8} | {'saving':>7} | "
        f"{'sync':>7} | {'raw':>6} | {'save/raw':>8} | {'sync/raw':>8} | {'data':>6} | "
        f"{'sync peak':>9} | {'max RSS':>7}" + (" | resync | resync/raw" if args.resync else "")
    )
    for size in (int(s) for s in args.sizes.split(",")):
        rows = []
        for extra in (["--resync"] if args.resync else [], ["--raw"]):
            out = subprocess.run(
                [sys.executable, __file__, "--one", str(size), "--posts", str(args.posts), *extra],
                capture_output=True,
                text=True,
                check=True,
            )
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        sync, raw = rows
        print(
            f"{size:>9,} | {sync['edges']:>9,} | {raw['rows']:>9,} | {sync['analysis']:>7.2f}s | "
            f"{sync['saving']:>6.2f}s | {sync['total']:>6.2f}s | {raw['raw']:>5.2f}s | "
            f"{sync['saving'] / raw['raw']:>7.2f}x | {sync['total'] / raw['raw']:>7.2f}x | "
            f"{sync['before_sync_mb']:>3} MB | {sync['sync_peak_mb']:>6} MB | "
            f"{sync['peak_rss_mb']:>4} MB"
            + (
                f" | {sync['resync']:>5.2f}s | {sync['resync'] / raw['raw']:>9.2f}x"
                if args.resync
                else ""
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
