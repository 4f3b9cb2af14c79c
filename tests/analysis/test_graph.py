import json

import networkx as nx
import pytest

from app.analysis.graph import NO_COMMUNITY, analyse_graphs
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
    expected = nx.pagerank(graph)
    for node in nodes:
        assert node["pagerank"] == pytest.approx(expected[node["id"]], abs=1e-7)
