"""First frame of the followers graph in headless Chromium, on the real network page.

Builds the demo user with ``--followers`` per network (``--cap`` people drawn, the
``GRAPH_MAX_PEOPLE`` setting), serves the app on 127.0.0.1, opens the network page's Graphs
tab in Debian's Chromium through Playwright and reads the viewer's own timings
(``window.mdGraph.viewers[0].timings``): script start to the first committed frame, and the
ForceAtlas2 layout time. Median of ``--repeat`` page loads.

Run: ``.venv/bin/python benchmarks/graph_bench.py --followers 10000 --cap 2000``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--followers", type=int, default=10000)
    parser.add_argument("--cap", type=int, default=2000)
    parser.add_argument("--network", default="bluesky")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    from app.app import create_app
    from app.demo.user import create_demo_user
    from app.extensions import db
    from app.settings import DevConfig

    folder = tempfile.mkdtemp()
    config = type(
        "BenchConfig",
        (DevConfig,),
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.db",
            "SECRET_KEY": "bench",
            "TOKEN_ENCRYPTION_KEY": "bench key",
            "JOBS_MODE": "inline",
            "GRAPH_MAX_PEOPLE": args.cap,
        },
    )
    app = create_app(config)
    with app.app_context():
        db.create_all()
        create_demo_user("demo", "bench password", followers=args.followers)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    first, layout, sizes = [], [], None
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{base}/signin")
            page.fill("#login", "demo")
            page.fill("#password", "bench password")
            page.click("#submit")
            for attempt in range(args.repeat):
                page.goto(f"{base}/dashboard/user/{args.network}?load={attempt}#graphs")
                timings = page.evaluate(
                    """async () => {
                        const viewer = window.mdGraph.viewers[0];
                        await viewer.ready;
                        await viewer.layoutDone;
                        return {...viewer.timings, nodes: viewer.graph.order,
                                links: viewer.graph.size};
                    }"""
                )
                first.append(timings["firstFrameMs"])
                layout.append(timings.get("layoutMs", 0))
                sizes = (timings["nodes"], timings["links"])
            browser.close()
    finally:
        server.shutdown()
    assert sizes is not None
    print(
        f"{args.followers:,} followers, cap {args.cap:,}: drawn {sizes[0]:,} people, "
        f"{sizes[1]:,} links"
    )
    print(
        f"first frame (script start -> committed frame): median {statistics.median(first):.0f}"
        f" ms, max {max(first):.0f} ms over {len(first)} loads"
    )
    print(f"ForceAtlas2 layout: median {statistics.median(layout) / 1000:.1f} s")


if __name__ == "__main__":
    main()
