import json
from datetime import UTC, datetime

import pytest

from app.analysis.graph import analyse_graphs
from app.analysis.growth import growth_between
from app.analysis.sentiment import analyse_sentiment
from app.demo.synthetic import DEMO_BIO, evolve, make_account
from app.networks import CONNECTORS

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_deterministic() -> None:
    a = make_account("github", 200, posts=50, seed=3, now=NOW)
    b = make_account("github", 200, posts=50, seed=3, now=NOW)
    c = make_account("github", 200, posts=50, seed=4, now=NOW)
    assert a == b
    assert a.follows != c.follows


def test_github_shape() -> None:
    data = make_account("github", 300, friends=100, posts=400, now=NOW)
    assert len(data.followers or []) == 300
    assert len(data.friends or []) == 100
    mutual = set(data.followers or []) & set(data.friends or [])
    assert len(mutual) == 100  # 35% of 300 = 105, capped by 100 friends
    assert len(data.people) == 300
    handles = [p.handle for p in data.people.values()]
    assert len(set(handles)) == len(handles)
    assert data.owner.bio is not None and data.owner.bio.startswith(DEMO_BIO)
    assert all(p.followers_count is not None for p in data.people.values())
    assert data.follows and all(e.source in data.lists_fetched for e in data.follows)
    assert all(e.source in data.people and e.target in data.people for e in data.follows)
    assert 0.8 < len(data.lists_fetched) / len(data.people) < 1.0
    assert len(data.posts) == 400
    assert all(p.created_at <= NOW for p in data.posts)
    assert min(p.created_at for p in data.posts) >= NOW.replace(year=2024)
    assert any(p.first_response_at for p in data.posts)
    assert any(p.like_count == 0 for p in data.posts)
    assert all(p.repost_count is None for p in data.posts)  # GitHub has no reposts
    assert data.notes == list(CONNECTORS["github"].notes)


def test_default_friends_and_reciprocity() -> None:
    data = make_account("mastodon", 1000, posts=10, now=NOW)
    followers, friends = set(data.followers or []), set(data.friends or [])
    assert len(friends) == 800
    assert len(followers & friends) == 350
    assert all(
        p.text.startswith("<p>") or p.text == "" or p.text.startswith("https://")
        for p in data.posts
    )


@pytest.mark.parametrize("network", ["linkedin", "facebook", "instagram"])
def test_networks_without_counts_or_edges(network: str) -> None:
    data = make_account(network, 120, friends=50, posts=60, now=NOW)
    assert all(
        p.followers_count is None and p.following_count is None for p in data.people.values()
    )
    assert data.follows == set()
    assert data.lists_fetched == set()
    assert all(p.reply_count is None and p.like_count is None for p in data.posts)
    graphs = analyse_graphs(data)
    row = next(iter(graphs["followers"]["people"].values()))
    assert row["my_followers_they_follow"] is None and row["followers_count"] is None


def test_linkedin_connections_are_followers_and_friends() -> None:
    data = make_account("linkedin", 80, friends=5, posts=0, now=NOW)
    assert data.followers == data.friends
    assert len(data.followers or []) == 80
    grown = evolve(data, seed=1, gained=5, lost=3)
    assert grown.followers == grown.friends
    assert len(grown.followers or []) == 82


def test_posts_have_mixed_sentiment() -> None:
    data = make_account("x", 10, posts=300, now=NOW)
    _, summary = analyse_sentiment(data.posts, "vader")
    counts = summary["counts"]
    assert all(counts[tag] > 30 for tag in ("positive", "neutral", "negative"))
    # X reposts keep the "RT @user:" text; only bare links have none.
    links = [p for p in data.posts if p.text.startswith("https://example.org/link/")]
    assert summary["no_text"] == len(links) > 0
    assert any(p.text.startswith("RT @") for p in data.posts if p.is_repost)


def test_evolve_gains_and_loses() -> None:
    before = make_account("bluesky", 100, friends=40, posts=5, now=NOW)
    after = evolve(before, seed=7, gained=10, lost=4)
    assert len(before.followers or []) == 100  # input untouched
    growth = growth_between(
        set(before.followers or []),
        set(before.friends or []),
        set(after.followers or []),
        set(after.friends or []),
    )
    assert len(growth["followers"]["gained"]) == 10
    assert len(growth["followers"]["lost"]) == 4
    assert growth["friends"]["net"] == 0
    assert after.owner.followers_count == 106
    new = growth["followers"]["gained"]
    assert all(pid in after.people and pid in after.lists_fetched for pid in new)
    assert all(after.people[pid].followers_count is not None for pid in new)
    lost_only = set(growth["followers"]["lost"]) - set(after.friends or [])
    assert not lost_only & set(after.people)
    assert all(e.source in after.people and e.target in after.people for e in after.follows)
    assert evolve(before, seed=7, gained=10, lost=4) == after
    json.dumps(analyse_graphs(after))


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="unknown network"):
        make_account("myspace", 10)
    with pytest.raises(ValueError, match="negative"):
        make_account("github", -1)


def test_empty_and_default_now() -> None:
    data = make_account("github", 0, friends=0, posts=3, edges_per_person=0)
    assert data.people == {} and data.follows == set()
    assert all(p.created_at.tzinfo is UTC for p in data.posts)
