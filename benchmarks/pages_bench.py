"""Signed-in pages and exports of one synthetic account: server time, CPU, statements.

Syncs one synthetic GitHub-shaped account of N followers (``app.demo.synthetic``, as
``sync_bench.py`` does) into a fresh SQLite file, or the database in ``DATABASE_URL``, signs
in with the test client and requests each page ``--repeat`` times: median wall time, median
CPU time of this process (with SQLite that includes the database's work; with PostgreSQL
the server's share is not in it), and the SQL statements per request. Exports are read to
the end, as a download is, and compared with the raw reference of the same rows: one
``SELECT`` through the DB-API cursor and ``csv.writer`` (no formula escaping, no ORM). The
query plans of the list pages are printed, to show they are index range reads.

Run: ``.venv/bin/python benchmarks/pages_bench.py --followers 10000`` (``--plans`` for the
plans, ``--redis redis://127.0.0.1:6379/7`` to keep page fragments in Redis; each size in
its own run).
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import statistics
import time
from datetime import UTC, datetime
from typing import Any

from common import bench_connection

PAGES = [
    ("dashboard", "/dashboard/user"),
    ("network page", "/dashboard/user/github"),
    ("followers by count", "/dashboard/user/github?list=followers&sort=count&order=desc"),
    ("  its next page", "NEXT"),
    ("friends by name asc", "/dashboard/user/github?list=friends&sort=name&order=asc"),
    ("old link ?page=20", "/dashboard/user/github?list=followers&sort=handle&page=20"),
    ("search 'an'", "/dashboard/user/github?list=followers&q=an"),
    ("API followers", None),
]
EXPORTS = ["followers.csv", "followers.json", "friends.csv", "posts.csv"]


class Statements:
    """Counts the statements an engine runs."""

    def __init__(self, engine: Any) -> None:
        from sqlalchemy import event

        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *args: Any) -> None:
        self.count += 1


def timed(client: Any, path: str, statements: Statements, repeat: int) -> dict[str, Any]:
    walls, cpus, counts, size = [], [], [], 0
    for _ in range(repeat):
        statements.count = 0
        wall, cpu = time.perf_counter(), time.process_time()
        response = client.get(path)
        body = response.get_data()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
        counts.append(statements.count)
        size = len(body)
        assert response.status_code == 200, (path, response.status_code)
    return {
        "wall": statistics.median(walls) * 1000,
        "cpu": statistics.median(cpus) * 1000,
        "statements": max(counts),
        "bytes": size,
        "body": body,
    }


def raw_csv(engine: Any, snapshot_id: int, table: str, flag: str | None) -> tuple[float, int]:
    """The reference: one SELECT through the DB-API cursor, ``csv.writer`` into memory."""
    if table == "posts":
        columns = (
            "external_id, created_at, kind, text, url, reply_count, like_count, repost_count, "
            "sentiment_label, sentiment_score"
        )
        sql = (
            f"SELECT {columns} FROM posts WHERE snapshot_id = {snapshot_id} "
            "ORDER BY created_at DESC, id"
        )
    else:
        columns = (
            "handle, name, followers_count, following_count, my_followers_they_follow, "
            "is_friend, follower_community"
        )
        sql = (
            f"SELECT {columns} FROM people WHERE snapshot_id = {snapshot_id} AND {flag} "
            "ORDER BY lower(handle), id"
        )
    began = time.perf_counter()
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute(sql)
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(columns.split(", "))
        rows = 0
        while batch := cursor.fetchmany(5000):
            writer.writerows(batch)
            rows += len(batch)
    finally:
        connection.close()
    return (time.perf_counter() - began) * 1000, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--followers", type=int, default=10000)
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--plans", action="store_true")
    parser.add_argument("--no-analyze", action="store_true", help="skip ANALYZE after the sync")
    parser.add_argument("--redis", help="keep fragments in this Redis (REDIS_URL)")
    args = parser.parse_args()

    from flask import current_app
    from sqlalchemy import text

    from app.demo.synthetic import make_account
    from app.extensions import db
    from app.models import SyncRun
    from app.sync import service as sync_module

    with bench_connection() as connection:
        app = current_app._get_current_object()
        app.config["WTF_CSRF_ENABLED"] = False
        if args.redis:
            app.config.update(REDIS_URL=args.redis, FRAGMENT_CACHE=True)
            print(f"fragments kept in {args.redis} (the first request of each page fills it)")
        run = SyncRun(connection=connection, kind="demo", params={})
        db.session.add(run)
        db.session.commit()
        data = make_account(
            "github", args.followers, posts=args.posts, now=datetime(2026, 1, 1, tzinfo=UTC)
        )
        began = time.perf_counter()
        sync_module.store_snapshot(connection, run, data, sync_module.RunProgress(run))
        print(
            f"{db.engine.dialect.name}: {args.followers:,} followers synced in "
            f"{time.perf_counter() - began:.1f} s"
        )
        if db.engine.dialect.name == "postgresql" and not args.no_analyze:
            # Fresh rows have no planner statistics until autovacuum gets to them; the sync
            # should ANALYZE after its bulk load (app/sync is not this benchmark's).
            db.session.commit()
            db.session.execute(text("ANALYZE people"))
            db.session.commit()
        snapshot = connection.current_snapshot
        snapshot_id, token = snapshot.id, connection.user.session_token
        engine = db.engine
        if args.plans:
            print_plans(snapshot)
        db.session.remove()

        statements = Statements(engine)
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = token
            session["_fresh"] = True
        api_token = make_api_token(connection.user_id)
        print(f"{'page':<26} {'wall ms':>8} {'cpu ms':>8} {'stmts':>6} {'bytes':>10}")
        next_url = None
        for name, path in PAGES:
            if path == "NEXT":
                path = next_url
            if path is None:
                found = timed_api(app, api_token, statements, args.repeat)
            else:
                found = timed(client, path, statements, args.repeat)
            body = found.pop("body").decode()
            link = re.search(r'rel="next" href="([^"]+)"', body)
            next_url = link.group(1).replace("&amp;", "&") if link else None
            print(
                f"{name:<26} {found['wall']:>8.1f} {found['cpu']:>8.1f} "
                f"{found['statements']:>6} {found['bytes']:>10,}"
            )
        print(f"\n{'export':<16} {'ms':>8} {'raw ms':>8} {'ratio':>6} {'rows':>9}")
        for name in EXPORTS:
            found = timed(client, f"/dashboard/user/github/export/{name}", statements, args.repeat)
            table = "posts" if name.startswith("posts") else "people"
            flag = "is_follower" if name.startswith("followers") else "is_friend"
            raws = [raw_csv(engine, snapshot_id, table, flag) for _ in range(args.repeat)]
            raw = statistics.median(ms for ms, _ in raws)
            print(
                f"{name:<16} {found['wall']:>8.1f} {raw:>8.1f} {found['wall'] / raw:>6.2f} "
                f"{raws[0][1]:>9,}"
            )


def make_api_token(user_id: int) -> str:
    from app.api import tokens
    from app.extensions import db
    from app.models import User

    user = db.session.get(User, user_id)
    made = tokens.create_token(user, "bench")
    db.session.commit()
    return str(made[1])


def timed_api(app: Any, token: str, statements: Statements, repeat: int) -> dict[str, Any]:
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return timed(
        client, "/api/v1/networks/github/followers?sort=count&limit=50", statements, repeat
    )


def print_plans(snapshot: Any) -> None:
    """The plan of a deep list page per sort: an index range read, not a sort of the list."""
    from sqlalchemy import text

    from app.dashboard import keyset, service
    from app.extensions import db

    for role in service.ROLES:
        for sort in service.SORTS[role]:
            window = service.people_page(snapshot, role, sort=sort, order="desc", page=3)
            after = window.last or keyset.Position(1, None, 0, 0)
            query = keyset._phase_query(
                service.list_order(role, sort, True, False), after.phase, bounded=True, down=True
            ).params(
                service.people_params(snapshot),
                **{keyset.BOUND_VALUE: after.value, keyset.BOUND_ID: after.id, keyset.LIMIT: 51},
            )
            compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
            prefix = "EXPLAIN QUERY PLAN " if db.engine.dialect.name == "sqlite" else "EXPLAIN "
            plan = db.session.execute(text(prefix + str(compiled))).all()
            lines = [" ".join(str(cell) for cell in row[-1:]) for row in plan]
            print(f"{role}/{sort}: " + " | ".join(lines))


if __name__ == "__main__":
    main()
