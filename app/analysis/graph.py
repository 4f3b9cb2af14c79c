"""Followers and friends: per-person overlap counts, graphs, communities and PageRank.

Overlap counts are plain set intersections over everyone whose following list was fetched;
the graphs are capped at ``max_people`` people (20,000 by default) so the browser can draw
them and the sync stays fast. Communities (Louvain: NetworKit's PLM, seeded, one thread) and
PageRank (NetworKit) are computed on the drawn people, and their positions are laid out here
(:mod:`app.analysis.layout`) and stored with the graph, so the page draws a settled picture
at once. A cut graph says so: ``drawn`` (``{"people", "of"}``) and ``note`` (in words).

Given the previous snapshot's picture (:class:`PreviousPicture`), the layout starts from it
(a warm start): most of a graph is the same people from one sync to the next, and they keep
their places, so the picture stays familiar and settles in a few iterations.
"""

from __future__ import annotations

import math
import sys
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import Any

import numpy as np

from app.analysis.layout import LAYOUT_SEED, force_layout
from app.networks.base import AccountData, Person

#: Default cap on people drawn in each graph (the page's graph view, Louvain and the layout).
GRAPH_MAX_PEOPLE = 20000
#: Seed for Louvain so the same data gives the same communities.
LOUVAIN_SEED = 42
#: Positions are scaled to this many units either side of the owner, who is at (0, 0).
LAYOUT_EXTENT = 1000.0
#: Community number of the owner and of people with no edge to anyone else in the graph.
NO_COMMUNITY = -1
#: A warm start needs at least this share of a graph's people drawn in the previous picture;
#: below it the layout starts from the seeded communities.
WARM_MIN_SHARE = 0.5


@dataclass(frozen=True)
class PreviousPicture:
    """Where one graph of an earlier snapshot drew each person (owner left out): the start
    of a warm layout."""

    snapshot: int
    positions: Mapping[str, tuple[float, float]]


def _following_map(data: AccountData) -> dict[str, set[str]]:
    """Who each person follows among ``data.people`` (owner edges left out)."""
    owner = data.owner.external_id
    following: dict[str, set[str]] = defaultdict(set)
    for edge in data.follows:
        if edge.source != owner and edge.target != owner and edge.source != edge.target:
            following[edge.source].add(edge.target)
    return following


def _person_base(person: Person | None, pid: str) -> dict[str, Any]:
    if person is None:
        return {
            "handle": pid,
            "name": None,
            "followers_count": None,
            "following_count": None,
        }
    return {
        "handle": person.handle,
        "name": person.name,
        "followers_count": person.followers_count,
        "following_count": person.following_count,
    }


def _select(
    ids: list[str], overlap: dict[str, int | None], data: AccountData, cap: int
) -> list[str]:
    """Pick at most ``cap`` ids: fetched lists first, then by overlap, then follower count."""
    if len(ids) <= cap:
        return ids

    def key(pid: str) -> tuple[int, int, int, str]:
        person = data.people.get(pid)
        count = person.followers_count if person and person.followers_count is not None else -1
        value = overlap.get(pid)
        return (0 if value is not None else 1, -(value or 0), -count, pid)

    return sorted(ids, key=key)[:cap]


#: What NetworKit's package imports, when installed, only for parts the app does not use
#: (plots, profiling, link prediction, its networkx adapter): kept out of its import.
NETWORKIT_EXTRAS = ("matplotlib", "networkx", "pandas", "psutil", "sklearn", "tabulate")


@cache
def _networkit() -> ModuleType:
    """NetworKit, imported on first use and without its optional extras.

    The package imports pandas, scikit-learn, networkx and matplotlib when it finds them,
    which took a process from 73 to 175 MB; the app calls only PLM and PageRank. Each extra
    not loaded yet is marked absent while NetworKit imports (``sys.modules[name] = None``
    makes its import raise ``ImportError``, which NetworKit handles by leaving that part
    out), so it costs about 28 MB; the marks are taken away afterwards, so the extras can
    still be imported by whoever needs them. A web process that never analyses a graph with
    edges among people does not import NetworKit at all.
    """
    blocked = [name for name in NETWORKIT_EXTRAS if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        import networkit
    finally:
        for name in blocked:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]
    return networkit


def _communities(n: int, pairs: list[tuple[int, int]]) -> list[list[int]]:
    """Louvain (NetworKit's PLM, one thread, seeded) on the undirected people graph.

    :returns: communities of two or more people, biggest first (ties: smallest index).
    """
    if not pairs:
        return []
    nk = _networkit()
    graph = nk.Graph(n, weighted=False, directed=False)
    for source, target in pairs:
        graph.addEdge(source, target)
    nk.engineering.setSeed(LOUVAIN_SEED, False)
    plm = nk.community.PLM(graph, refine=True, turbo=True)
    plm.run()
    labels = plm.getPartition().getVector()
    degree = [0] * n
    for source, target in pairs:
        degree[source] += 1
        degree[target] += 1
    members: dict[int, list[int]] = defaultdict(list)
    for node, label in enumerate(labels):
        if degree[node]:
            members[label].append(node)
    found = [group for group in members.values() if len(group) > 1]
    found.sort(key=lambda group: (-len(group), group[0]))
    return found


#: PageRank's damping factor.
DAMPING = 0.85


def _star_pagerank(people: int, me_follows: bool) -> list[float]:
    """PageRank of the owner's star alone (no edge among the people), in closed form.

    With ``N = people + 1`` nodes and damping ``d``, every person has the same score ``a``
    and the owner ``b = 1 - people * a``. Followers point at the owner, who has no way out
    and spreads evenly: ``a = (1 - d) / N + d * b / N``, so ``a = 1 / (N + d * people)``.
    The owner follows everyone, who all spread evenly: ``b = (1 - d) / N + d * (1 - b) / N``,
    so ``b = 1 / (N + d)``. The owner comes last, as in :func:`_pagerank`.
    """
    n, d = people + 1, DAMPING
    if me_follows:
        owner = 1 / (n + d)
        each = (1 - owner) / people
    else:
        each = 1 / (n + d * people)
        owner = 1 - people * each
    return [each] * people + [owner]


def _pagerank(n: int, edges: list[tuple[int, int]]) -> list[float]:
    """PageRank (damping 0.85, dangling nodes spread evenly, as networkx) by NetworKit."""
    nk = _networkit()
    graph = nk.Graph(n, weighted=False, directed=True)
    for source, target in edges:
        graph.addEdge(source, target)
    rank = nk.centrality.PageRank(
        graph, damp=DAMPING, tol=1e-10, distributeSinks=nk.centrality.SinkHandling.DistributeSinks
    )
    rank.run()
    scores = rank.scores()
    total = sum(scores) or 1.0
    return [score / total for score in scores]


def _start(
    kept: list[str], previous: PreviousPicture | None
) -> tuple[np.ndarray | None, dict[str, int] | None]:
    """The previous places of ``kept`` (``NaN`` where none), and the layout's ``warm_start``
    note should it start there (``{"snapshot", "placed"}``); ``(None, None)`` when too few
    of them have a place for a warm start (:data:`WARM_MIN_SHARE`)."""
    if previous is None or not kept:
        return None, None
    start = np.full((len(kept), 2), np.nan)
    placed = 0
    for number, pid in enumerate(kept):
        place = previous.positions.get(pid)
        if place is not None:
            start[number] = place
            placed += 1
    if placed < WARM_MIN_SHARE * len(kept):
        return None, None
    return start, {"snapshot": previous.snapshot, "placed": placed}


def _positions(
    n: int,
    pairs: list[tuple[int, int]],
    community: list[int],
    start: np.ndarray | None = None,
    warm: dict[str, int] | None = None,
) -> tuple[list[tuple[float, float]], dict[str, Any]]:
    """Settled ForceAtlas2 positions of the people, scaled to +-1000 around the owner.

    ``start`` and ``warm``: previous places and their note (:func:`_start`); the note goes
    in the layout's meta when the layout did start there."""
    found, info = force_layout(
        n,
        np.asarray(pairs, dtype=np.int64).reshape(-1, 2),
        np.asarray(community, dtype=np.int64),
        start=start,
    )
    reach = float(np.abs(found).max()) if n else 0.0
    scale = LAYOUT_EXTENT / reach if reach > 0 else 0.0
    points = [(round(float(x) * scale, 1), round(float(y) * scale, 1)) for x, y in found]
    meta = {
        "algorithm": "ForceAtlas2",
        "seed": LAYOUT_SEED,
        "iterations": int(info["iterations"]),
        "movement": round(info["movement"], 6),
    }
    if info["warm"] and warm is not None:
        meta["warm_start"] = warm
    return points, meta


def _reduction_note(kept: int, total: int, me_follows: bool) -> str | None:
    """What the drawing leaves out, in words, or ``None`` when everyone is drawn."""
    if kept >= total:
        return None
    others = "the others you follow" if me_follows else "your other followers"
    return (
        f"{kept:,} of {total:,} people drawn: those whose follow lists were read first, "
        f"then those linked to most of {others}, then the most followed. "
        f"The lists and exports have everyone."
    )


def _graph_section(
    data: AccountData,
    ids: list[str],
    following: dict[str, set[str]],
    me_follows: bool,
    max_people: int,
    overlap: dict[str, int | None],
    previous: PreviousPicture | None = None,
) -> tuple[dict[str, Any], dict[str, tuple[int, float]]]:
    """Build one graph; return its node-link dict info and ``{id: (community, pagerank)}``."""
    owner = data.owner.external_id
    kept = _select(ids, overlap, data, max_people)
    index = {pid: number for number, pid in enumerate(kept)}
    me = len(kept)  # the owner's index
    people_edges = sorted(
        {
            (index[pid], index[target])
            for pid in kept
            for target in following.get(pid, ())
            if target in index
        }
    )
    owner_edges = [(me, i) if me_follows else (i, me) for i in range(len(kept))]
    # Communities and positions among the people only: the owner is linked to everyone,
    # which says nothing.
    pairs = sorted({(min(s, t), max(s, t)) for s, t in people_edges})
    if not people_edges:  # the owner's star alone: nothing to detect, ranks in closed form
        found = []
        pagerank = _star_pagerank(len(kept), me_follows) if kept else [1.0]
    else:
        nk = _networkit()
        threads = nk.getMaxNumberOfThreads()
        nk.setNumberOfThreads(1)  # one thread: seeded results repeat, and no idle spinning
        try:
            found = _communities(len(kept), pairs)
            pagerank = _pagerank(me + 1, owner_edges + people_edges)
        finally:
            nk.setNumberOfThreads(threads)
    community = [NO_COMMUNITY] * len(kept)
    for number, members in enumerate(found):
        for member in members:
            community[member] = number
    points, layout = _positions(len(kept), pairs, community, *_start(kept, previous))
    top_people = max(pagerank[:me], default=0.0) or 1.0

    nodes = [
        {
            "id": owner,
            "label": "@" + data.owner.handle,
            "me": True,
            "community": NO_COMMUNITY,
            "pagerank": round(pagerank[me], 8),
            "size": 20.0,
            "x": 0.0,
            "y": 0.0,
        }
    ]
    for number, node in enumerate(kept):
        person = data.people.get(node)
        rank = pagerank[number]
        nodes.append(
            {
                "id": node,
                "label": "@" + (person.handle if person else node),
                "me": False,
                "community": community[number],
                "pagerank": round(rank, 8),
                "size": round(4 + 12 * math.sqrt(rank / top_people), 2),
                "x": points[number][0],
                "y": points[number][1],
            }
        )
    ids_of = [*kept, owner]
    links = [{"source": ids_of[s], "target": ids_of[t]} for s, t in owner_edges + people_edges]
    metrics = {pid: (community[i], pagerank[i]) for i, pid in enumerate(kept)}
    graph = {
        "nodes": nodes,
        "links": links,
        "layout": layout,
        "drawn": {"people": len(kept), "of": len(ids)},
        "note": _reduction_note(len(kept), len(ids), me_follows),
    }
    return {"graph": graph, "covered": len(kept), "communities": len(found)}, metrics


def _section(
    data: AccountData,
    ids: Iterable[str] | None,
    other: set[str] | None,
    following: dict[str, set[str]],
    *,
    overlap_with: set[str],
    overlap_key: str,
    me_follows: bool,
    max_people: int,
    previous: PreviousPicture | None,
) -> dict[str, Any]:
    owner = data.owner.external_id
    if ids is None:
        return {
            "available": False,
            "total": None,
            "covered": 0,
            "fetched": 0,
            "communities": 0,
            "people": {},
            "graph": {"nodes": [], "links": []},
        }
    id_list = list(dict.fromkeys(i for i in ids if i != owner))
    overlap: dict[str, int | None] = {}
    for pid in id_list:
        if pid in data.lists_fetched:
            overlap[pid] = len(following.get(pid, set()) & overlap_with)
        else:
            overlap[pid] = None
    built, metrics = _graph_section(
        data, id_list, following, me_follows, max_people, overlap, previous
    )
    people: dict[str, dict[str, Any]] = {}
    for pid in id_list:
        row = _person_base(data.people.get(pid), pid)
        row[overlap_key] = overlap[pid]
        row["follows_back"] = None if other is None else pid in other
        in_graph = metrics.get(pid)
        row["in_graph"] = in_graph is not None
        row["community"] = in_graph[0] if in_graph else None
        row["pagerank"] = round(in_graph[1], 8) if in_graph else None
        people[pid] = row
    return {
        "available": True,
        "total": len(id_list),
        "covered": built["covered"],
        "fetched": sum(1 for v in overlap.values() if v is not None),
        "communities": built["communities"],
        "people": people,
        "graph": built["graph"],
    }


def analyse_graphs(
    data: AccountData,
    max_people: int = GRAPH_MAX_PEOPLE,
    previous: Mapping[str, PreviousPicture] | None = None,
) -> dict[str, Any]:
    """Per-person overlap counts and the followers / friends graphs of one account.

    For a follower X, ``my_followers_they_follow`` is ``|following(X) & followers(me)|``;
    for a friend F, ``common_friends`` is ``|following(me) & following(F)|``. Both are
    ``None`` when X's / F's following list was not fetched (``data.lists_fetched``).

    :param data: one account's records.
    :param max_people: most people drawn per graph; the rest still get overlap counts.
    :param previous: the previous snapshot's pictures by section (``"followers"``,
        ``"friends"``), to start the layouts from (a warm start); a graph without one, or
        with too few of its people in it, starts from the seeded communities.
    :returns: ``{"followers": section, "friends": section, "mutuals": int | None}``, where a
        section is ``{"available", "total", "covered", "fetched", "communities", "people",
        "graph"}``; see :mod:`app.analysis` for the exact keys. ``graph`` is ``{"nodes":
        [{"id", "label", "me", "community", "pagerank", "size", "x", "y"}], "links":
        [{"source", "target"}], "layout", "drawn", "note"}`` (only ``nodes`` and ``links``
        when the list is unavailable).
    """
    following = _following_map(data)
    followers = None if data.followers is None else set(data.followers)
    friends = None if data.friends is None else set(data.friends)
    mutuals = None if followers is None or friends is None else len(followers & friends)
    return {
        "followers": _section(
            data,
            data.followers,
            friends,
            following,
            overlap_with=followers or set(),
            overlap_key="my_followers_they_follow",
            me_follows=False,
            max_people=max_people,
            previous=(previous or {}).get("followers"),
        ),
        "friends": _section(
            data,
            data.friends,
            followers,
            following,
            overlap_with=friends or set(),
            overlap_key="common_friends",
            me_follows=True,
            max_people=max_people,
            previous=(previous or {}).get("friends"),
        ),
        "mutuals": mutuals,
    }
