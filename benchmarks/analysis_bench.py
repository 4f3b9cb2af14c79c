"""Time and peak memory of each analysis stage on synthetic accounts.

Each size runs in its own subprocess so peak RSS (``ru_maxrss``) is per size. Stages:
synthetic data (not part of the budget), timeline, sentiment (default engine), graph
(overlap counts for everyone + graphs capped at ``--cap`` people) and export (posts CSV, both
graphs as JSON, GEXF and GraphML, consumed and counted; the lists' exports read the database
and are measured by ``pages_bench.py``).

Run: ``.venv/bin/python benchmarks/analysis_bench.py --sizes 1000,10000,50000``
Add ``--cap 50000`` to run Louvain and PageRank on the whole graph.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _drain(chunks: Iterable[str]) -> int:
    return sum(len(chunk) for chunk in chunks)


def run_one(size: int, posts: int, cap: int, network: str) -> dict[str, Any]:
    """Run every stage once for ``size`` followers; return seconds per stage and peak MB."""
    from app.analysis import export
    from app.analysis.graph import analyse_graphs
    from app.analysis.sentiment import DEFAULT_ENGINE, analyse_sentiment, get_engine
    from app.analysis.timeline import analyse_timeline
    from app.demo.synthetic import make_account

    times: dict[str, float] = {}

    def timed(name: str, fn: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        result = fn()
        times[name] = round(time.perf_counter() - start, 2)
        return result

    data = timed(
        "synthetic",
        lambda: make_account(network, size, posts=posts, now=datetime(2026, 1, 1, tzinfo=UTC)),
    )
    timed("timeline", lambda: analyse_timeline(data.posts, "Europe/Paris"))
    timed("engine_load", lambda: get_engine(DEFAULT_ENGINE))
    per_post, _ = timed("sentiment", lambda: analyse_sentiment(data.posts))
    graphs = timed("graph", lambda: analyse_graphs(data, max_people=cap))

    def do_export() -> int:
        # The lists' exports read the database (pages_bench.py, dashboard_bench.py).
        total = _drain(
            export.csv_stream(export.post_rows(data.posts, per_post), export.POST_COLUMNS)
        )
        for key in ("followers", "friends"):
            graph = graphs[key]["graph"]
            total += _drain(export.graph_json(graph))
            total += _drain(export.gexf_stream(graph))
            total += _drain(export.graphml_stream(graph))
        return total

    out_bytes = timed("export", do_export)
    budget = sum(times[k] for k in ("timeline", "engine_load", "sentiment", "graph", "export"))
    return {
        "followers": size,
        "people": len(data.people),
        "edges": len(data.follows),
        "posts": len(data.posts),
        "graph_nodes": graphs["followers"]["covered"] + 1,
        "communities": graphs["followers"]["communities"],
        "export_mb": round(out_bytes / 1e6, 1),
        **times,
        "analysis_total": round(budget, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,50000", help="follower counts")
    parser.add_argument("--posts", type=int, default=20000)
    parser.add_argument("--cap", type=int, default=2000, help="max_people per graph")
    parser.add_argument("--network", default="github")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(run_one(args.one, args.posts, args.cap, args.network)))
        return
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        cmd = [sys.executable, __file__, "--one", str(size), "--posts", str(args.posts)]
        cmd += ["--cap", str(args.cap), "--network", args.network]
        done = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=3600)
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    columns = list(results[0])
    print(" ".join(f"{c:>14}" for c in columns))
    for row in results:
        print(" ".join(f"{row[c]!s:>14}" for c in columns))


if __name__ == "__main__":
    main()
