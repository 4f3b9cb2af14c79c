"""Followers and friends: per-person overlap counts, graphs, communities and PageRank.

Overlap counts are plain set intersections over everyone whose following list was fetched;
the graphs (and Louvain / PageRank on them) are capped at ``max_people`` people so the
browser can draw them and the sync stays fast.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import networkx as nx

from app.networks.base import AccountData, Person

#: Default cap on people drawn in each graph (the page's graph view and Louvain cost).
GRAPH_MAX_PEOPLE = 2000
#: Seed for Louvain so the same data gives the same communities.
LOUVAIN_SEED = 42
#: Community number of the owner and of people with no edge to anyone else in the graph.
NO_COMMUNITY = -1


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


def _graph_section(
    data: AccountData,
    ids: list[str],
    following: dict[str, set[str]],
    me_follows: bool,
    max_people: int,
    overlap: dict[str, int | None],
) -> tuple[dict[str, Any], dict[str, tuple[int, float]]]:
    """Build one graph; return its node-link dict info and ``{id: (community, pagerank)}``."""
    owner = data.owner.external_id
    kept = _select(ids, overlap, data, max_people)
    kept_set = set(kept)
    graph = nx.DiGraph()
    graph.add_node(owner)
    graph.add_nodes_from(kept)
    for pid in kept:
        if me_follows:
            graph.add_edge(owner, pid)
        else:
            graph.add_edge(pid, owner)
        for target in following.get(pid, ()):
            if target in kept_set:
                graph.add_edge(pid, target)

    # Communities among the people only: the owner is linked to everyone, which says nothing.
    undirected = graph.to_undirected(as_view=False)
    undirected.remove_node(owner)
    undirected.remove_nodes_from([n for n in list(undirected) if undirected.degree(n) == 0])
    community: dict[str, int] = {}
    if undirected.number_of_edges():
        found = nx.community.louvain_communities(undirected, seed=LOUVAIN_SEED)
        found = [c for c in found if len(c) > 1]
        found.sort(key=lambda c: (-len(c), min(c)))
        for number, members in enumerate(found):
            for member in members:
                community[member] = number
        n_communities = len(found)
    else:
        n_communities = 0
    pagerank: dict[str, float] = nx.pagerank(graph) if len(graph) > 1 else {owner: 1.0}
    top_people = max((pagerank[n] for n in kept), default=0.0) or 1.0

    nodes = []
    for node in [owner, *kept]:
        is_me = node == owner
        person = data.owner if is_me else data.people.get(node)
        rank = pagerank[node]
        nodes.append(
            {
                "id": node,
                "label": "@" + (person.handle if person else node),
                "me": is_me,
                "community": community.get(node, NO_COMMUNITY),
                "pagerank": round(rank, 8),
                "size": 20.0 if is_me else round(4 + 12 * math.sqrt(rank / top_people), 2),
            }
        )
    links = [{"source": s, "target": t} for s, t in graph.edges()]
    metrics = {n: (community.get(n, NO_COMMUNITY), pagerank[n]) for n in kept}
    return (
        {
            "graph": {"nodes": nodes, "links": links},
            "covered": len(kept),
            "communities": n_communities,
        },
        metrics,
    )


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
    built, metrics = _graph_section(data, id_list, following, me_follows, max_people, overlap)
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


def analyse_graphs(data: AccountData, max_people: int = GRAPH_MAX_PEOPLE) -> dict[str, Any]:
    """Per-person overlap counts and the followers / friends graphs of one account.

    For a follower X, ``my_followers_they_follow`` is ``|following(X) & followers(me)|``;
    for a friend F, ``common_friends`` is ``|following(me) & following(F)|``. Both are
    ``None`` when X's / F's following list was not fetched (``data.lists_fetched``).

    :param data: one account's records.
    :param max_people: most people drawn per graph; the rest still get overlap counts.
    :returns: ``{"followers": section, "friends": section, "mutuals": int | None}``, where a
        section is ``{"available", "total", "covered", "fetched", "communities", "people",
        "graph"}``; see :mod:`app.analysis` for the exact keys.
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
        ),
        "mutuals": mutuals,
    }
