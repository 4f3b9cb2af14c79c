"""The followers graph at sync time: communities, PageRank and layout, next to the raw calls.

For each size, a synthetic Bluesky-shaped account (``app.demo.synthetic.make_account``:
planted communities, about 6 follows per person, 90% of lists read) with that many
followers, all of them drawn (``max_people`` = the size). Prints seconds for:

* communities: the analyzer's ``_communities`` (NetworKit PLM on the people graph, seeded,
  one thread, plus ranking) next to the raw ``PLM(...).run()`` on the same ``networkit.Graph``
  (graph building included in the first, not in the second);
* PageRank: ``_pagerank`` next to the raw ``PageRank(...).run()``;
* layout: ``_positions`` (ForceAtlas2 with grid repulsion in numpy/scipy, run until settled)
  next to the bare ``force_layout`` call, with its iteration count and final movement;
* the whole ``analyse_graphs`` call (followers and friends graphs, overlap counts).

``--networkx`` adds networkx's Louvain and PageRank on the same graph (the previous engine;
slow above a few thousand people).

Run: ``.venv/bin/python benchmarks/graph_bench.py --sizes 2000,10000,20000``
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def measure(size: int, with_networkx: bool) -> None:
    import networkit as nk
    import numpy as np

    from app.analysis import graph as g
    from app.analysis.layout import force_layout
    from app.demo.synthetic import make_account

    data = make_account("bluesky", size, posts=0, seed=1)
    following = g._following_map(data)
    kept = list(dict.fromkeys(data.followers or []))[:size]
    index = {pid: i for i, pid in enumerate(kept)}
    me = len(kept)
    people = sorted(
        {(index[p], index[t]) for p in kept for t in following.get(p, ()) if t in index}
    )
    owner_edges = [(i, me) for i in range(me)]
    pairs = sorted({(min(s, t), max(s, t)) for s, t in people})
    nk.setNumberOfThreads(1)

    t_comm, found = timed(lambda: g._communities(me, pairs))
    undirected = nk.Graph(me, weighted=False, directed=False)
    for s, t in pairs:
        undirected.addEdge(s, t)
    nk.engineering.setSeed(g.LOUVAIN_SEED, False)
    t_plm, _ = timed(lambda: nk.community.PLM(undirected, refine=True, turbo=True).run())

    t_pr, _ = timed(lambda: g._pagerank(me + 1, owner_edges + people))
    directed = nk.Graph(me + 1, weighted=False, directed=True)
    for s, t in owner_edges + people:
        directed.addEdge(s, t)
    sinks = nk.centrality.SinkHandling.DistributeSinks
    t_pr_raw, _ = timed(
        lambda: nk.centrality.PageRank(directed, damp=0.85, tol=1e-10, distributeSinks=sinks).run()
    )

    community = [g.NO_COMMUNITY] * me
    for number, members in enumerate(found):
        for member in members:
            community[member] = number
    t_layout, (_, layout) = timed(lambda: g._positions(me, pairs, community))
    edges = np.asarray(pairs, dtype=np.int64)
    t_fa2, _ = timed(lambda: force_layout(me, edges, np.asarray(community, dtype=np.int64)))

    t_all, result = timed(lambda: g.analyse_graphs(data, max_people=size))
    friends = result["friends"]["covered"]

    print(
        f"{size:>6,} people, {len(people):>7,} links, {len(found):>3} communities | "
        f"communities {t_comm:5.2f} s (raw PLM {t_plm:5.2f}) | "
        f"PageRank {t_pr:5.2f} s (raw {t_pr_raw:5.2f}) | "
        f"layout {t_layout:5.2f} s (bare {t_fa2:5.2f}; {layout['iterations']} it, "
        f"move {layout['movement']:.5f}) | "
        f"analyse_graphs (followers {size:,} + friends {friends:,}) {t_all:5.2f} s",
        flush=True,
    )
    if with_networkx:
        import networkx as nx

        graph = nx.Graph(pairs)
        t_nx, _ = timed(lambda: nx.community.louvain_communities(graph, seed=g.LOUVAIN_SEED))
        digraph = nx.DiGraph(owner_edges + people)
        t_nx_pr, _ = timed(lambda: nx.pagerank(digraph))
        print(f"{'':>6}  networkx: Louvain {t_nx:6.2f} s, PageRank {t_nx_pr:5.2f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="2000,10000,20000")
    parser.add_argument("--networkx", action="store_true", help="also time networkx")
    args = parser.parse_args()
    for size in (int(s) for s in args.sizes.split(",")):
        measure(size, args.networkx)


if __name__ == "__main__":
    main()
