import json
import math

import networkx as nx
import numpy as np
import pytest

from app.analysis.graph import NO_COMMUNITY, PreviousPicture, analyse_graphs
from app.analysis.layout import (
    GRID_CELLS,
    LAYOUT_SEED,
    SETTLED,
    _balanced_scale,
    _exact_field,
    _Mesh,
    _near_field,
    force_layout,
    warm_start,
)
from app.networks.base import AccountData, Follow, Person


def person(pid: str, followers: int | None = None, following: int | None = None) -> Person:
    return Person(pid, pid.lower(), name=pid, followers_count=followers, following_count=following)


@pytest.fixture
def data() -> AccountData:
    # Bob, Rick, Andrew and Zoe follow me; I follow Andrew, Carl and Dora.
    people = {
        p.external_id: p
        for p in (
            person("Bob", 10, 5),
            person("Rick", 20, 6),
            person("Andrew", 30, 7),
            person("Zoe"),
            person("Carl", 40, 8),
            person("Dora", 50, 9),
        )
    }
    follows = {
        Follow("Andrew", "Bob"),
        Follow("Andrew", "Rick"),
        Follow("Andrew", "Carl"),
        Follow("Bob", "Rick"),
        Follow("Carl", "Andrew"),
        Follow("Carl", "Dora"),
        Follow("Zoe", "Bob"),  # Zoe's list was not fetched: partial knowledge only
        Follow("Bob", "me"),  # owner edges in follows are ignored
    }
    return AccountData(
        owner=Person("me", "owner"),
        people=people,
        followers=["Bob", "Rick", "Andrew", "Zoe"],
        friends=["Andrew", "Carl", "Dora"],
        follows=follows,
        lists_fetched={"Bob", "Rick", "Andrew", "Carl", "Dora"},
    )


def test_follower_overlap_counts(data: AccountData) -> None:
    people = analyse_graphs(data)["followers"]["people"]
    assert people["Andrew"]["my_followers_they_follow"] == 2
    assert people["Bob"]["my_followers_they_follow"] == 1
    assert people["Rick"]["my_followers_they_follow"] == 0
    assert people["Zoe"]["my_followers_they_follow"] is None
    assert people["Andrew"]["followers_count"] == 30
    assert people["Zoe"]["followers_count"] is None
    assert {pid for pid, row in people.items() if row["follows_back"]} == {"Andrew"}


def test_friend_overlap_counts(data: AccountData) -> None:
    result = analyse_graphs(data)
    friends = result["friends"]["people"]
    # Carl follows Andrew and Dora, both my friends; Andrew follows Carl.
    assert friends["Carl"]["common_friends"] == 2
    assert friends["Andrew"]["common_friends"] == 1
    assert friends["Dora"]["common_friends"] == 0
    assert friends["Carl"]["following_count"] == 8
    assert {pid for pid, row in friends.items() if row["follows_back"]} == {"Andrew"}
    assert result["mutuals"] == 1
    assert result["followers"]["fetched"] == 3
    assert result["friends"]["fetched"] == 3


def test_graph_edges_and_nodes(data: AccountData) -> None:
    result = analyse_graphs(data)
    followers = result["followers"]
    links = {(e["source"], e["target"]) for e in followers["graph"]["links"]}
    assert links == {
        ("Bob", "me"),
        ("Rick", "me"),
        ("Andrew", "me"),
        ("Zoe", "me"),
        ("Andrew", "Bob"),
        ("Andrew", "Rick"),
        ("Bob", "Rick"),
        ("Zoe", "Bob"),
    }
    nodes = {n["id"]: n for n in followers["graph"]["nodes"]}
    assert nodes["me"]["me"] is True and nodes["me"]["label"] == "@owner"
    assert nodes["me"]["community"] == NO_COMMUNITY
    assert nodes["Bob"]["label"] == "@bob" and nodes["Bob"]["me"] is False
    assert followers["covered"] == followers["total"] == 4
    friend_links = {(e["source"], e["target"]) for e in result["friends"]["graph"]["links"]}
    assert friend_links == {
        ("me", "Andrew"),
        ("me", "Carl"),
        ("me", "Dora"),
        ("Carl", "Andrew"),
        ("Carl", "Dora"),
        ("Andrew", "Carl"),
    }
    # PageRank is a distribution over the graph.
    assert sum(n["pagerank"] for n in followers["graph"]["nodes"]) == pytest.approx(1, abs=1e-6)
    json.dumps(result)


def test_communities_found_on_two_cliques() -> None:
    a = [f"a{i}" for i in range(5)]
    b = [f"b{i}" for i in range(5)]
    follows = {Follow(x, y) for group in (a, b) for x in group for y in group if x != y}
    follows.add(Follow("a0", "b0"))
    data = AccountData(
        owner=Person("me", "me"),
        people={p: person(p) for p in a + b + ["lonely"]},
        followers=[*a, *b, "lonely"],
        friends=None,
        follows=follows,
        lists_fetched=set(a + b),
    )
    result = analyse_graphs(data)
    section = result["followers"]
    assert section["communities"] == 2
    people = section["people"]
    assert len({people[p]["community"] for p in a}) == 1
    assert len({people[p]["community"] for p in b}) == 1
    assert people["a1"]["community"] != people["b1"]["community"]
    assert people["lonely"]["community"] == NO_COMMUNITY
    assert people["a1"]["follows_back"] is None  # friends unknown
    assert result["mutuals"] is None
    assert result["friends"] == {
        "available": False,
        "total": None,
        "covered": 0,
        "fetched": 0,
        "communities": 0,
        "people": {},
        "graph": {"nodes": [], "links": []},
    }


def test_cap_keeps_fetched_and_highest_overlap_first() -> None:
    ids = [f"p{i}" for i in range(10)]
    # p9 follows everyone; p8 follows three; nobody else's list was fetched except p0.
    follows = {Follow("p9", t) for t in ids if t != "p9"} | {
        Follow("p8", "p1"),
        Follow("p8", "p2"),
        Follow("p8", "p3"),
    }
    data = AccountData(
        owner=Person("me", "me"),
        people={p: person(p, followers=i) for i, p in enumerate(ids)},
        followers=ids,
        friends=[],
        follows=follows,
        lists_fetched={"p9", "p8", "p0"},
    )
    section = analyse_graphs(data, max_people=4)["followers"]
    assert (section["covered"], section["total"]) == (4, 10)
    kept = {n["id"] for n in section["graph"]["nodes"]} - {"me"}
    # fetched first by overlap (p9: 9, p8: 3, p0: 0), then the highest follower count (p7).
    assert kept == {"p9", "p8", "p0", "p7"}
    # Overlap counts are still given for everyone fetched, in the graph or not.
    assert section["people"]["p9"]["my_followers_they_follow"] == 9
    assert section["people"]["p1"]["in_graph"] is False
    assert section["people"]["p1"]["community"] is None
    assert section["people"]["p1"]["pagerank"] is None
    assert section["people"]["p9"]["in_graph"] is True


def test_empty_account_and_unknown_people() -> None:
    data = AccountData(owner=Person("me", "me"), followers=["ghost"], friends=[])
    result = analyse_graphs(data)
    ghost = result["followers"]["people"]["ghost"]
    assert ghost["handle"] == "ghost" and ghost["followers_count"] is None
    assert ghost["my_followers_they_follow"] is None
    assert result["followers"]["communities"] == 0
    only_me = analyse_graphs(AccountData(owner=Person("me", "me")))
    assert only_me["friends"]["graph"]["nodes"][0]["pagerank"] == 1.0
    assert only_me["mutuals"] == 0


def test_pagerank_matches_networkx(data: AccountData) -> None:
    nodes = analyse_graphs(data)["friends"]["graph"]["nodes"]
    graph = nx.DiGraph(
        [("me", "Andrew"), ("me", "Carl"), ("me", "Dora"), ("Carl", "Andrew"), ("Carl", "Dora")]
    )
    graph.add_edge("Andrew", "Carl")
    expected = nx.pagerank(graph, tol=1e-12)
    for node in nodes:
        assert node["pagerank"] == pytest.approx(expected[node["id"]], abs=1e-7)


def planted(groups: int = 4, size: int = 30) -> tuple[AccountData, list[list[str]]]:
    """``groups`` cliques of ``size`` followers (everyone follows everyone in their clique),
    one bridge follow between consecutive cliques, and everybody follows the hub ``c0_0``."""
    cliques = [[f"c{g}_{i}" for i in range(size)] for g in range(groups)]
    follows = {Follow(x, y) for clique in cliques for x in clique for y in clique if x != y}
    follows |= {Follow(cliques[g][1], cliques[(g + 1) % groups][2]) for g in range(groups)}
    everyone = [p for clique in cliques for p in clique]
    follows |= {Follow(p, "c0_0") for p in everyone if p != "c0_0"}
    data = AccountData(
        owner=Person("me", "me"),
        people={p: person(p) for p in everyone},
        followers=everyone,
        friends=None,
        follows=follows,
        lists_fetched=set(everyone),
    )
    return data, cliques


def test_communities_and_pagerank_on_planted_cliques() -> None:
    data, cliques = planted()
    section = analyse_graphs(data)["followers"]
    people = section["people"]
    assert section["communities"] == 4
    numbers = [{people[p]["community"] for p in clique} for clique in cliques]
    assert all(len(found) == 1 for found in numbers)
    assert len(set.union(*numbers)) == 4
    # Everyone follows c0_0: the most central person.
    ranks = {pid: row["pagerank"] for pid, row in people.items()}
    assert max(ranks, key=lambda pid: ranks[pid]) == "c0_0"
    nodes = section["graph"]["nodes"]
    assert sum(n["pagerank"] for n in nodes) == pytest.approx(1, abs=1e-6)


def test_positions_stored_settled_finite_and_repeatable() -> None:
    data, cliques = planted()
    first = analyse_graphs(data)["followers"]["graph"]
    again = analyse_graphs(data)["followers"]["graph"]
    assert first["nodes"] == again["nodes"]
    points = {n["id"]: (n["x"], n["y"]) for n in first["nodes"]}
    assert points["me"] == (0.0, 0.0)
    assert all(math.isfinite(x) and math.isfinite(y) for x, y in points.values())
    assert max(max(abs(x), abs(y)) for x, y in points.values()) == pytest.approx(1000, abs=0.1)
    layout = first["layout"]
    assert layout["algorithm"] == "ForceAtlas2" and layout["seed"] == LAYOUT_SEED
    assert layout["movement"] < SETTLED
    # The cliques are drawn apart: each member is nearer its own clique's centre than any other.
    centres = [
        (
            sum(points[p][0] for p in clique) / len(clique),
            sum(points[p][1] for p in clique) / len(clique),
        )
        for clique in cliques
    ]
    for number, clique in enumerate(cliques):
        for p in clique[3:]:  # the hub and the bridge ends sit between cliques
            distances = [math.dist(points[p], centre) for centre in centres]
            assert min(range(len(centres)), key=distances.__getitem__) == number


def test_reduction_is_said_in_the_document() -> None:
    data, _ = planted(groups=2, size=10)
    full = analyse_graphs(data)["followers"]["graph"]
    assert full["drawn"] == {"people": 20, "of": 20}
    assert full["note"] is None
    cut = analyse_graphs(data, max_people=5)["followers"]["graph"]
    assert cut["drawn"] == {"people": 5, "of": 20}
    assert cut["note"].startswith("5 of 20 people drawn: those whose follow lists were read")
    assert "your other followers" in cut["note"]
    assert len(cut["nodes"]) == 6  # the owner and five people
    friends = AccountData(
        owner=Person("me", "me"),
        people=data.people,
        friends=list(data.people),
        follows=data.follows,
        lists_fetched=data.lists_fetched,
    )
    note = analyse_graphs(friends, max_people=3)["friends"]["graph"]["note"]
    assert note.startswith("3 of 20 people drawn") and "the others you follow" in note


def test_force_layout_edge_cases() -> None:
    empty, info = force_layout(0, np.zeros((0, 2), dtype=np.int64))
    assert empty.shape == (0, 2) and info["iterations"] == 0
    one, _ = force_layout(1, np.zeros((0, 2), dtype=np.int64))
    assert one.tolist() == [[0.0, 0.0]]
    # No edges at all (LinkedIn, say): an even disc at once, no simulation.
    loose, info = force_layout(50, np.zeros((0, 2), dtype=np.int64))
    assert np.isfinite(loose).all() and info["iterations"] == 0
    assert len({(round(x, 3), round(y, 3)) for x, y in loose}) == 50
    gaps = [
        min(math.dist(p, q) for j, q in enumerate(loose) if j != i) for i, p in enumerate(loose)
    ]
    assert min(gaps) > 0.5 and max(np.hypot(*loose.T)) < math.sqrt(50) + 1
    # A seed gives the same positions; another seed other ones.
    edges = np.array([[i, (i + 1) % 40] for i in range(40)], dtype=np.int64)
    a, _ = force_layout(40, edges, seed=1)
    b, _ = force_layout(40, edges, seed=1)
    c, _ = force_layout(40, edges, seed=2)
    assert np.array_equal(a, b) and not np.allclose(a, c)


def test_grid_repulsion_approximates_the_exact_sum():
    """Big graphs sum repulsion on a grid (plus exact near pairs); small ones exactly. The two
    agree, so a graph's picture does not change in kind at the size where the method does."""
    rng = np.random.default_rng(7)
    pos = rng.normal(size=(400, 2)) * 50
    mass = rng.integers(1, 6, size=400).astype(float)
    exact_x, exact_y = _exact_field(pos, mass)
    grid_x, grid_y, h = _Mesh(GRID_CELLS).field(pos, mass)
    near_x, near_y = _near_field(pos, mass, h)
    exact = np.hypot(exact_x, exact_y)
    error = np.hypot(grid_x + near_x - exact_x, grid_y + near_y - exact_y)
    assert np.median(error / exact) < 0.02


#: Five groups of 40 (200 people: the grid's path, not the exact sum).
GROUPS = [list(range(g * 40, g * 40 + 40)) for g in range(5)]


def clique_edges(groups: list[list[int]]) -> np.ndarray:
    """Every pair within each group, and one link from each group to the next."""
    edges = [(a, b) for group in groups for i, a in enumerate(group) for b in group[i + 1 :]]
    edges += [(groups[g][0], groups[(g + 1) % len(groups)][1]) for g in range(len(groups))]
    return np.array(edges, dtype=np.int64)


def labels(groups: list[list[int]]) -> np.ndarray:
    community = np.full(sum(map(len, groups)), -1, dtype=np.int64)
    for number, group in enumerate(groups):
        community[group] = number
    return community


def as_stored(pos: np.ndarray) -> np.ndarray:
    """Positions as a graph stores them: +-1000, one decimal."""
    return np.round(pos * 1000 / np.abs(pos).max(), 1)


def separated(pos: np.ndarray, groups: list[list[int]]) -> bool:
    """Each member (bar the bridge ends) is nearer its own group's centre than any other."""
    centres = np.array([pos[group].mean(axis=0) for group in groups])
    for number, group in enumerate(groups):
        for member in group[2:]:
            if np.argmin(np.hypot(*(centres - pos[member]).T)) != number:
                return False
    return True


def test_a_warm_start_on_the_same_links_settles_at_once_on_the_same_picture():
    edges, community = clique_edges(GROUPS), labels(GROUPS)
    cold, cold_info = force_layout(200, edges, community)
    warm, info = force_layout(200, edges, community, start=as_stored(cold))
    assert info["warm"] and info["movement"] < SETTLED
    assert info["iterations"] <= cold_info["iterations"] / 2
    assert np.abs(as_stored(warm) - as_stored(cold)).max() < 20  # 2% of the reach
    again, _ = force_layout(200, edges, community, start=as_stored(cold))
    assert np.array_equal(warm, again)


def test_a_warm_start_on_links_that_changed_a_lot_settles_to_the_new_links():
    """Every new group takes eight people of each old one: the old picture draws the new
    links worse than the seeded start, which is taken instead; the run ends settled, the
    new groups drawn apart."""
    old = force_layout(200, clique_edges(GROUPS), labels(GROUPS))[0]
    regrouped = [[g * 40 + k * 8 + i for g in range(5) for i in range(8)] for k in range(5)]
    assert not separated(old, regrouped)
    warm, info = force_layout(200, clique_edges(regrouped), labels(regrouped), start=as_stored(old))
    assert not info["warm"] and info["movement"] < SETTLED
    assert separated(warm, regrouped)


def test_newcomers_start_among_their_neighbours_and_any_unit_is_scaled_to_balance():
    edges, community = clique_edges(GROUPS), labels(GROUPS)
    cold = force_layout(200, edges, community)[0]
    start = as_stored(cold)
    newcomers = [5, 50, 95]
    start[newcomers] = np.nan
    pos = warm_start(start, edges, community, LAYOUT_SEED)
    kept = np.isfinite(start).all(axis=1)
    scale = pos[kept] / start[kept]
    assert np.allclose(scale, scale[0])  # the others keep their places, in a new unit
    centres = np.array([pos[group].mean(axis=0) for group in GROUPS])
    for newcomer in newcomers:
        assert np.argmin(np.hypot(*(centres - pos[newcomer]).T)) == newcomer // 40
    # The unit the picture was stored in does not matter; a settled picture is balanced.
    assert np.allclose(warm_start(start / 1000, edges, community, LAYOUT_SEED), pos)
    mass = np.bincount(edges.ravel(), minlength=200) + 1.0
    assert _balanced_scale(cold, edges[:, 0], edges[:, 1], mass) == pytest.approx(1, abs=0.15)


def test_analyse_graphs_starts_from_a_previous_picture_that_holds_enough_people():
    data, _ = planted()
    first = analyse_graphs(data)["followers"]["graph"]
    assert "warm_start" not in first["layout"]
    places = {n["id"]: (n["x"], n["y"]) for n in first["nodes"] if not n["me"]}
    again = analyse_graphs(data, previous={"followers": PreviousPicture(12, places)})
    layout = again["followers"]["graph"]["layout"]
    assert layout["warm_start"] == {"snapshot": 12, "placed": 120}
    assert layout["movement"] < SETTLED
    assert layout["iterations"] < first["layout"]["iterations"]
    # Under half of the people drawn before: the seeded start, as if there were no picture.
    few = PreviousPicture(12, dict(list(places.items())[:59]))
    cold = analyse_graphs(data, previous={"followers": few})["followers"]["graph"]
    assert cold["nodes"] == first["nodes"] and cold["layout"] == first["layout"]


@pytest.mark.parametrize("me_follows", [False, True])
@pytest.mark.parametrize("people", [1, 2, 7, 500])
def test_the_owners_star_alone_ranks_as_networkx_ranks_it(people: int, me_follows: bool) -> None:
    """No follow among the people (an archive's lists, a first sync): PageRank in closed
    form, without NetworKit, equal to networkx's on the same star."""
    from app.analysis.graph import _star_pagerank

    ids = [f"p{i}" for i in range(people)]
    edges = [("me", pid) if me_follows else (pid, "me") for pid in ids]
    expected = nx.pagerank(nx.DiGraph(edges), tol=1e-13, max_iter=1000)
    ranks = _star_pagerank(people, me_follows)
    assert sum(ranks) == pytest.approx(1.0, abs=1e-12)
    assert ranks[-1] == pytest.approx(expected["me"], abs=1e-9)
    assert ranks[0] == pytest.approx(expected["p0"], abs=1e-9)
    data = AccountData(
        owner=Person("me", "me"),
        people={pid: person(pid) for pid in ids},
        followers=None if me_follows else ids,
        friends=ids if me_follows else None,
    )
    section = analyse_graphs(data)["friends" if me_follows else "followers"]
    by_id = {node["id"]: node["pagerank"] for node in section["graph"]["nodes"]}
    assert by_id["me"] == pytest.approx(expected["me"], abs=1e-6)


def test_networkit_is_loaded_only_for_follows_among_people() -> None:
    """A web process never pays NetworKit's memory for a star, and a worker pays it without
    the extras NetworKit would load (pandas, scikit-learn...), which stay importable (the
    two the dev requirements install are imported afterwards)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from app.analysis.graph import NETWORKIT_EXTRAS, analyse_graphs\n"
        "from app.networks.base import AccountData, Person, Follow\n"
        "ids = ['a', 'b']\n"
        "people = {i: Person(i, i) for i in ids}\n"
        "analyse_graphs(AccountData(owner=Person('me', 'me'), people=people, followers=ids))\n"
        "print('networkit' in sys.modules)\n"
        "analyse_graphs(AccountData(owner=Person('me', 'me'), people=people, followers=ids,\n"
        "    follows={Follow('a', 'b')}, lists_fetched={'a', 'b'}))\n"
        "print('networkit' in sys.modules)\n"
        "print(sorted(name for name in NETWORKIT_EXTRAS if name in sys.modules) or 'none')\n"
        "import networkx, sklearn\n"  # both installed with the dev requirements
        "print(sys.modules['sklearn'] is not None and sys.modules['networkx'] is not None)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["False", "True", "none", "True"]
