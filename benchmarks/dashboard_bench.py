"""Server time of every dashboard page with the demo account sized at N followers, next to
the page's own SQL run raw in the same run.

Builds the demo user (7 networks, two snapshots each) in a fresh SQLite file (or the
database in ``DATABASE_URL``), signs in with the test client and times each page and export
(median of ``--repeat`` requests; exports are read to the end, as a download would be).
``--reuse URL --login NAME --password P`` times an existing demo user instead (the load
test's database, ``make bench`` does this) and leaves that database as it was.

The raw reference of each page is its data read with plain SQL on the same engine (no ORM,
no template): the user's connections and snapshots for the dashboard, both lists' first page
and count for the network page, one page and its count for a list page or a search, the
graph column for the graph JSON, and SQL + pandas ``to_csv`` for the CSV exports. Printed as
"figure | project | raw | ratio" (``report.py``).

Run: ``.venv/bin/python benchmarks/dashboard_bench.py --followers 10000``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from report import Report  # noqa: E402

PAGES = [
    ("dashboard", "/dashboard/user"),
    ("network page", "/dashboard/user/{network}"),
    ("list page", "/dashboard/user/{network}?list=followers&sort=count&order=desc&page=20"),
    ("search", "/dashboard/user/{network}?list=friends&q=an"),
    ("status.json", "/dashboard/user/{network}/status.json"),
    ("graph JSON", "/dashboard/user/{network}/graph/followers.json"),
    ("followers CSV", "/dashboard/user/{network}/export/followers.csv"),
    ("followers graph JSON export", "/dashboard/user/{network}/export/followers-graph.json"),
    ("posts CSV", "/dashboard/user/{network}/export/posts.csv"),
]

PEOPLE = """
SELECT handle, name, {url}followers_count, following_count, {overlap}, {back}, {community}
FROM people WHERE snapshot_id = :snapshot AND {flag} {search}
"""
#: What the pages read of a snapshot (its graphs are deferred: only the graph JSON reads one).
SNAPSHOT_COLUMNS = (
    "s.id, s.created_at, s.archive_date, s.followers_count, s.friends_count, "
    "s.posts_count, s.mutuals_count, s.results, s.parts"
)
SEARCH = "AND (lower(handle) LIKE :pattern OR lower(name) LIKE :pattern)"
ROLE_COLUMNS = {
    "followers": {
        "overlap": "my_followers_they_follow",
        "back": "is_friend",
        "community": "follower_community",
        "flag": "is_follower",
    },
    "friends": {
        "overlap": "common_friends",
        "back": "is_follower",
        "community": "friend_community",
        "flag": "is_friend",
    },
}


def people_sql(role: str, search: bool = False, url: bool = True) -> str:
    """The list's columns (``url`` too for a page; the CSV export has no url column)."""
    return PEOPLE.format(
        **ROLE_COLUMNS[role], search=SEARCH if search else "", url="url, " if url else ""
    )


def raw_references(snapshot: int, user: int) -> dict[str, Callable[[Any], object]]:
    """Per page name, the page's data read with plain SQL on a connection."""
    import pandas as pd
    from sqlalchemy import text

    def page(conn: Any, role: str, sort: str, offset: int, search: str = "") -> None:
        sql = people_sql(role, bool(search))
        params = {"snapshot": snapshot, "pattern": f"%{search}%"}
        order = f" ORDER BY {sort} IS NULL, {sort} DESC, lower(handle) LIMIT 50 OFFSET {offset}"
        conn.execute(text(sql + order), params).fetchall()
        conn.execute(text(f"SELECT count(*) FROM ({sql}) AS found"), params).scalar()

    def dashboard(conn: Any) -> None:
        conn.execute(
            text(
                f"SELECT c.*, {SNAPSHOT_COLUMNS} FROM connections c LEFT JOIN snapshots s "
                "ON s.id = c.current_snapshot_id WHERE c.user_id = :user"
            ),
            {"user": user},
        ).fetchall()
        conn.execute(
            text("SELECT * FROM cross_checks WHERE user_id = :user"), {"user": user}
        ).fetchall()

    def network(conn: Any) -> None:
        conn.execute(
            text(f"SELECT {SNAPSHOT_COLUMNS} FROM snapshots s WHERE id = :s"), {"s": snapshot}
        ).fetchall()
        page(conn, "followers", ROLE_COLUMNS["followers"]["overlap"], 0)
        page(conn, "friends", ROLE_COLUMNS["friends"]["overlap"], 0)

    def graph(conn: Any) -> None:
        row = conn.execute(
            text("SELECT followers_graph FROM snapshots WHERE id = :s"), {"s": snapshot}
        ).scalar()
        json.dumps(json.loads(row) if isinstance(row, str) else row)

    def to_csv(sql: str) -> Callable[[Any], object]:
        def run(conn: Any) -> None:
            result = conn.execute(text(sql), {"snapshot": snapshot})
            rows = [tuple(row) for row in result]  # pandas reads Row objects ~3x slower
            pd.DataFrame(rows, columns=list(result.keys())).to_csv(index=False)

        return run

    return {
        "dashboard": dashboard,
        "network page": network,
        "list page": lambda conn: page(conn, "followers", "followers_count", 950),
        "search": lambda conn: page(conn, "friends", "common_friends", 0, "an"),
        "graph JSON": graph,
        "followers CSV": to_csv(people_sql("followers", url=False) + " ORDER BY lower(handle), id"),
        "posts CSV": to_csv(
            "SELECT external_id AS id, created_at, kind, text, url, reply_count, like_count, "
            "repost_count, sentiment_label, sentiment_score FROM posts "
            "WHERE snapshot_id = :snapshot ORDER BY created_at DESC, id"
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--followers", type=int, default=10000)
    parser.add_argument("--network", default="bluesky")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--reuse", metavar="URL", help="an existing database with a demo user")
    parser.add_argument("--login", default="demo")
    parser.add_argument("--password", default="bench password")
    args = parser.parse_args()

    from sqlalchemy import select

    from app.app import create_app
    from app.demo.user import create_demo_user
    from app.extensions import db
    from app.models import Connection, User
    from app.settings import DevConfig, database_url

    url = args.reuse or os.environ.get("DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/b.db"
    os.environ["DATABASE_URL"] = url
    config = type(
        "BenchConfig",
        (DevConfig,),
        {
            "SQLALCHEMY_DATABASE_URI": database_url(url),
            "SECRET_KEY": "bench",
            "TOKEN_ENCRYPTION_KEY": "bench key",
            "JOBS_MODE": "inline",
            "SCHEDULER": False,
            "WTF_CSRF_ENABLED": False,
        },
    )
    app = create_app(config)
    with app.app_context():
        if not args.reuse:
            db.drop_all()
            db.create_all()
            began = time.perf_counter()
            create_demo_user(args.login, args.password, followers=args.followers)
            print(
                f"demo built in {time.perf_counter() - began:.1f} s "
                f"({args.followers:,} followers on each of 7 networks)"
            )
        user = User.find_by_login(args.login)
        if user is None:
            raise SystemExit(f"no user {args.login!r} in {url}")
        connection = db.session.scalar(
            select(Connection).where(
                Connection.user_id == user.id, Connection.network == args.network
            )
        )
        if connection is None or connection.current_snapshot_id is None:
            raise SystemExit(f"{args.login} has no {args.network} snapshot")
        snapshot, user_id = connection.current_snapshot_id, user.id
        db.session.remove()
    raws = raw_references(snapshot, user_id)
    client = app.test_client()
    client.post("/signin", data={"login": args.login, "password": args.password})
    report = Report(
        f"Dashboard pages, server time in-process, median of {args.repeat} "
        f"({args.network}, {url.split(':')[0]})"
    )
    print(f"{'page':<72} {'median':>8} {'max':>8} {'bytes':>10}")
    for name, template in PAGES:
        path = template.format(network=args.network)
        times, size = [], 0
        for _ in range(args.repeat):
            began = time.perf_counter()
            response = client.get(path)
            body = response.get_data()
            times.append(time.perf_counter() - began)
            size = len(body)
            assert response.status_code == 200, (path, response.status_code)
        print(
            f"{path:<72} {statistics.median(times) * 1000:>6.0f}ms "
            f"{max(times) * 1000:>6.0f}ms {size:>10,}"
        )
        raw_ms = None
        if name in raws:
            raw_ms = raw_time(app, raws[name], args.repeat) * 1000
        report.add(name, statistics.median(times) * 1000, raw_ms, "ms")
    report.print()
    print("raw: the page's data read with plain SQL on the same engine (CSV: + pandas to_csv)")
    if not args.reuse:
        with app.app_context():
            db.session.remove()
            db.drop_all()


def raw_time(app: Any, work: Callable[[Any], object], repeat: int) -> float:
    """Median seconds of ``work(connection)`` on the app's engine."""
    from app.extensions import db

    with app.app_context(), db.engine.connect() as conn:
        work(conn)
        times = []
        for _ in range(repeat):
            began = time.perf_counter()
            work(conn)
            times.append(time.perf_counter() - began)
    return statistics.median(times)


if __name__ == "__main__":
    main()
