"""Server time of every dashboard page with the demo account sized at N followers.

Builds the demo user (7 networks, two snapshots each) in a fresh SQLite file (or the
database in ``DATABASE_URL``), signs in with the test client and times each page and export
(median of ``--repeat`` requests; exports are read to the end, as a download would be).

Run: ``.venv/bin/python benchmarks/dashboard_bench.py --followers 10000``
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAGES = [
    "/dashboard/user",
    "/dashboard/user/{network}",
    "/dashboard/user/{network}?list=followers&sort=count&order=desc&page=20",
    "/dashboard/user/{network}?list=friends&q=an",
    "/dashboard/user/{network}/status.json",
    "/dashboard/user/{network}/graph/followers.json",
    "/dashboard/user/{network}/export/followers.csv",
    "/dashboard/user/{network}/export/followers-graph.json",
    "/dashboard/user/{network}/export/posts.csv",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--followers", type=int, default=10000)
    parser.add_argument("--network", default="bluesky")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from app.app import create_app
    from app.demo.user import create_demo_user
    from app.extensions import db
    from app.settings import DevConfig, database_url

    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    config = type(
        "BenchConfig",
        (DevConfig,),
        {
            "SQLALCHEMY_DATABASE_URI": database_url(url),
            "SECRET_KEY": "bench",
            "TOKEN_ENCRYPTION_KEY": "bench key",
            "JOBS_MODE": "inline",
            "WTF_CSRF_ENABLED": False,
        },
    )
    app = create_app(config)
    with app.app_context():
        db.drop_all()
        db.create_all()
        began = time.perf_counter()
        create_demo_user("demo", "bench password", followers=args.followers)
        print(
            f"demo built in {time.perf_counter() - began:.1f} s "
            f"({args.followers:,} followers on each of 7 networks)"
        )
    client = app.test_client()
    client.post("/signin", data={"login": "demo", "password": "bench password"})
    print(f"{'page':<72} {'median':>8} {'max':>8} {'bytes':>10}")
    for template in PAGES:
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
    with app.app_context():
        db.session.remove()
        db.drop_all()


if __name__ == "__main__":
    main()
