"""fetch_x against the fake X API: mapping, the read budget, graph edges, refusals, limits."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from app.networks.base import AuthExpired, Follow, NetworkError
from app.networks.http import ApiClient
from app.networks.x.fetcher import (
    FOLLOWERS_PLAN_NOTE,
    FRIENDS_PLAN_NOTE,
    POSTS_PLAN_NOTE,
    TIMELINE_NOTE,
    UsageCapped,
    estimate_reads,
    fetch_x,
    person_from_user,
    plan_reads,
    post_from_tweet,
    x_client,
)
from tests.fakes.world import WORLD_NOW, World, WorldPost, big_world, small_world
from tests.fakes.x import FakeX


@pytest.fixture
def x(world: World) -> Iterator[FakeX]:
    with FakeX(world) as server:
        yield server


def str_edges(edges: set[tuple[int, int]]) -> set[Follow]:
    return {Follow(str(s), str(t)) for s, t in edges}


def test_small_world_mapping(x: FakeX, world: World, progress, api) -> None:
    data = fetch_x(api(x.url, "X", token="test-token", progress=progress))
    owner = data.owner
    assert (owner.external_id, owner.handle, owner.name) == ("1", "me", "Me Myself")
    assert (owner.followers_count, owner.following_count, owner.posts_count) == (5, 4, 6)
    assert owner.links == ("https://me.example",)
    assert owner.url == "https://x.com/me"
    # X lists followers and following newest first
    assert data.followers == ["7", "6", "4", "3", "2"]
    assert data.friends == ["10", "4", "6", "5"]
    andrew = data.people["4"]
    assert (andrew.handle, andrew.followers_count, andrew.following_count) == ("andrew", 2, 4)
    assert data.people["2"].links == ("bob.example",)
    assert data.follows == set() and data.lists_fetched == set()
    assert data.notes == [TIMELINE_NOTE]
    # 1 profile + 6 posts + 5 followers + 4 friends, each billed once
    assert x.total_reads() == 16
    assert progress.requests == len(x.requests) == 4
    assert ("posts", 6) in progress.stages and ("followers", 5) in progress.stages


def test_posts_mapping(x: FakeX, api) -> None:
    posts = {p.external_id: p for p in fetch_x(api(x.url, "X", token="test-token")).posts}
    assert list(posts) == ["106", "105", "104", "103", "102", "101"]
    reply = posts["106"]
    assert (reply.kind, reply.text, reply.in_reply_to, reply.like_count) == (
        "reply",
        "Thanks Bob & <co>!",
        "9001",
        2,
    )
    assert reply.url == "https://x.com/me/status/106"
    assert reply.created_at == datetime(2026, 2, 28, 12, 0, tzinfo=UTC)
    repost = posts["105"]
    assert repost.is_repost and repost.kind == "repost"
    assert (repost.reply_count, repost.like_count, repost.repost_count) == (None, None, None)
    post = posts["104"]
    # 2 retweets + 2 quotes
    assert (post.kind, post.reply_count, post.like_count, post.repost_count) == ("post", 3, 10, 4)
    assert post.text == "First paragraph.\n\nSecond paragraph\nwith a break."
    assert (posts["103"].reply_count, posts["103"].repost_count) == (0, 0)


def test_post_from_tweet_long_and_reply_without_parent() -> None:
    tweet = {
        "id": "7",
        "created_at": "2026-01-01T00:00:00.000Z",
        "text": "short &amp; cut…",
        "note_tweet": {"text": "the whole long text & more"},
        "in_reply_to_user_id": "99",
    }
    post = post_from_tweet(tweet, "me")
    assert (post.text, post.kind, post.in_reply_to) == ("the whole long text & more", "reply", None)
    assert (post.reply_count, post.like_count, post.repost_count) == (None, None, None)
    quote = post_from_tweet(
        {
            "id": "8",
            "created_at": "2026-01-01T00:00:00.000Z",
            "text": "look",
            "referenced_tweets": [{"type": "quoted", "id": "5"}],
            "public_metrics": {"quote_count": 2},
        },
        "me",
    )
    assert (quote.kind, quote.is_repost, quote.repost_count) == ("post", False, 2)


def test_person_links_from_description() -> None:
    person = person_from_user(
        {
            "id": "3",
            "username": "zed",
            "entities": {
                "description": {
                    "urls": [{"url": "https://t.co/a", "expanded_url": "https://z.dev"}]
                }
            },
        }
    )
    assert (person.links, person.followers_count, person.name) == (("https://z.dev",), None, None)


def test_long_posts_use_note_tweet(api) -> None:
    world = small_world()
    long_text = "word " * 80
    world.posts.insert(0, WorldPost(107, WORLD_NOW, long_text.strip(), likes=1))
    with FakeX(world) as server:
        posts = fetch_x(api(server.url, "X", token="test-token")).posts
    assert posts[0].text == long_text.strip()


# -- the budget ------------------------------------------------------------------------


def test_plan_reads_is_max_min_fair() -> None:
    assert plan_reads(1999, {"posts": 400, "followers": 4512, "friends": 300}) == {
        "posts": 400,
        "followers": 1299,
        "friends": 300,
    }
    assert plan_reads(10, {"posts": 100, "followers": 100, "friends": 100}) == {
        "posts": 4,
        "followers": 3,
        "friends": 3,
    }
    assert plan_reads(50, {"posts": 0, "followers": 5, "friends": 5}) == {
        "posts": 0,
        "followers": 5,
        "friends": 5,
    }
    assert plan_reads(-3, {"posts": 5}) == {"posts": 0}


def test_estimate_reads() -> None:
    plan = estimate_reads(4512, 300, 5000, False, 200)
    assert plan["reads"] == {
        "profile": 1,
        "posts": 3200,
        "followers": 4512,
        "friends": 300,
        "follows": 0,
    }
    assert plan["total"] == 8013
    assert plan["requests"] == {
        "profile": 1,
        "posts": 32,
        "followers": 5,
        "friends": 1,
        "follows": 0,
    }
    assert plan["cost_usd"] == round(3200 * 0.005 + (1 + 4512 + 300) * 0.010, 3)
    assert "planned" not in plan
    budgeted = estimate_reads(4512, 300, 400, True, 200, max_reads=2000)
    assert budgeted["reads"]["follows"] == 200 * 500
    assert budgeted["graph_people"] == 200
    assert budgeted["graph_minutes"] == 15 * (200 // 15)
    assert budgeted["planned"] == {
        "profile": 1,
        "posts": 400,
        "followers": 1299,
        "friends": 300,
        "follows": 0,
    }
    assert budgeted["planned_total"] == 2000
    roomy = estimate_reads(3, 2, 1, True, 10, max_reads=10_000)
    assert roomy["planned"]["follows"] == 5 * 500
    assert roomy["graph_people"] == 5


def test_default_budget_cut_note(api) -> None:
    world = big_world(n_followers=4512, n_friends=300, n_mutual=100, n_posts=400, seed=3)
    with FakeX(world) as server:
        data = fetch_x(api(server.url, "X", token="test-token"), max_reads=2000)
        assert server.total_reads() == 2000
    assert len(data.posts) == 400
    assert data.followers is not None and len(data.followers) == 1299
    assert data.friends is not None and len(data.friends) == 300
    assert data.notes[-1] == (
        "Stopped at the read budget (2,000 of 2,000 reads): 1,299 of 4,512 followers read."
    )


@pytest.mark.parametrize("budget", [1, 2, 5, 6, 9, 17, 40, 120, 700])
@pytest.mark.parametrize("edges", [False, True])
def test_budget_never_exceeded(budget: int, edges: bool, api) -> None:
    world = big_world(n_followers=60, n_friends=30, n_mutual=10, n_posts=50, seed=5)
    with FakeX(world) as server:
        data = fetch_x(
            api(server.url, "X", token="test-token"),
            max_reads=budget,
            include_graph_edges=edges,
            max_people=20,
        )
        reads = server.total_reads()
        # no request ever asked for more than the budget had left
        assert reads <= budget
    assert len(data.posts) + len(data.followers or []) + len(data.friends or []) + 1 <= budget
    if budget < 1 + 50 + 60 + 30:
        assert data.notes[-1].startswith("Stopped at the read budget")
    if not edges:
        assert server.count("/2/users/") == server.count("/2/users/1/") + server.count(
            "/2/users/me"
        )


def test_zero_budget_is_refused(x: FakeX, api) -> None:
    with pytest.raises(NetworkError, match="budget is 0"):
        fetch_x(api(x.url, "X", token="test-token"), max_reads=0)
    assert x.requests == []


def test_tiny_budget_skips_posts_below_the_page_minimum(x: FakeX, api) -> None:
    # 1 profile + 3 each: X's timeline needs max_results >= 5, so posts are not asked for
    data = fetch_x(api(x.url, "X", token="test-token"), max_reads=7)
    assert x.count("/2/users/1/tweets") == 0
    assert data.posts == []
    assert x.total_reads() <= 7
    assert data.followers is not None and len(data.followers) == 3
    assert data.notes[-1] == (
        "Stopped at the read budget (7 of 7 reads): 0 of 6 posts read; 3 of 5 followers "
        "read; 3 of 4 accounts you follow read."
    )


def test_timeline_limit(api) -> None:
    world = big_world(n_followers=5, n_friends=5, n_mutual=0, n_posts=3300, seed=2)
    with FakeX(world) as server:
        data = fetch_x(api(server.url, "X", token="test-token"), max_reads=5000)
        assert server.count("/2/users/1/tweets") == 32
    assert len(data.posts) == 3200
    assert data.posts[0].external_id == str(world.posts[0].id)
    assert TIMELINE_NOTE in data.notes and not data.notes[-1].startswith("Stopped")


# -- follow graph -------------------------------------------------------------------------


def test_graph_edges_only_when_enabled(x: FakeX, world: World, progress, api) -> None:
    fetch_x(api(x.url, "X", token="test-token"))
    assert x.count("/2/users/") == 4
    x.reset_log()
    data = fetch_x(api(x.url, "X", token="test-token", progress=progress), include_graph_edges=True)
    # Rick protects his lists: his edges stay unknown; Gus follows nobody: not asked
    expected = {e for e in world.circle_edges() if e[0] != 3}
    assert data.follows == str_edges(expected)
    assert data.lists_fetched == set(data.people) - {"3"}
    assert x.count("/2/users/3/following") == 1
    assert x.count("/2/users/10/following") == 0
    assert data.notes == [
        "Follow links were read for 6 of 7 people; links of the others are unknown.",
        TIMELINE_NOTE,
    ]
    assert ("follows", 7) in progress.stages


def test_graph_respects_budget_and_complete_lists_only(api) -> None:
    world = big_world(n_followers=40, n_friends=20, n_mutual=10, n_posts=10, seed=9)
    needed = 1 + 10 + 40 + 20
    with FakeX(world) as server:
        data = fetch_x(
            api(server.url, "X", token="test-token"),
            max_reads=needed + 60,
            include_graph_edges=True,
            max_people=50,
        )
        assert server.total_reads() <= needed + 60
        for pid in data.lists_fetched:
            following = world.following(int(pid))
            assert server.total_reads(f"/2/users/{pid}/following") == len(following)
    assert data.lists_fetched
    assert any("the read budget did not cover" in n for n in data.notes)
    people = set(data.people)
    for edge in data.follows:
        assert edge.source in people


def test_graph_list_grown_since_count_is_not_complete(x: FakeX, world: World, api) -> None:
    data = fetch_x(api(x.url, "X", token="test-token"))
    assert data.people["4"].following_count == 4
    # Andrew follows two more accounts after his count was read: ask with a stale count
    world.follow(4, 9)
    world.follow(4, 10)
    from app.networks.x import fetcher

    sync = fetcher._XSync(x_client("test-token", x.url), 100, True, 10)
    sync.budget.left = 4
    complete = sync._follow_list("4", 4, {"1", "2", "3", "9", "10"}, data)
    assert complete is False
    assert x.total_reads("/2/users/4/following") == 4


# -- refusals and errors ------------------------------------------------------------------


def test_followers_not_in_plan_keeps_the_rest(x: FakeX, api) -> None:
    x.refuse("/2/users/1/followers", "not-enrolled")
    data = fetch_x(api(x.url, "X", token="test-token"))
    assert data.followers is None
    assert data.friends == ["10", "4", "6", "5"]
    assert len(data.posts) == 6
    assert FOLLOWERS_PLAN_NOTE in data.notes
    assert FOLLOWERS_PLAN_NOTE == (
        "Your X API plan does not include followers; import your archive to get them."
    )


def test_following_and_posts_not_in_plan(x: FakeX, api) -> None:
    x.refuse("/2/users/1/following", "not-enrolled")
    x.refuse("/2/users/1/tweets", "not-enrolled")
    data = fetch_x(api(x.url, "X", token="test-token"))
    assert data.friends is None and data.posts == []
    assert data.followers == ["7", "6", "4", "3", "2"]
    assert FRIENDS_PLAN_NOTE in data.notes and POSTS_PLAN_NOTE in data.notes


def test_credits_depleted_stops_and_keeps_posts(x: FakeX, api) -> None:
    x.refuse("/2/users/1/followers", "credits")
    data = fetch_x(api(x.url, "X", token="test-token"), include_graph_edges=True)
    assert len(data.posts) == 6
    assert data.followers is None and data.friends is None
    assert x.count("/2/users/1/following") == 0
    assert data.notes[-1].startswith("The X app has no credits left")
    assert FOLLOWERS_PLAN_NOTE not in data.notes


def test_credits_depleted_during_graph(x: FakeX, api) -> None:
    x.refuse("/2/users/7/following", "credits")
    data = fetch_x(api(x.url, "X", token="test-token"), include_graph_edges=True)
    assert "7" not in data.lists_fetched
    assert any(n.startswith("The X app has no credits left") for n in data.notes)


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("not-enrolled", "does not allow reading your profile"),
        ("unsupported-auth", "needs a user login"),
        ("credits", "no credits left"),
    ],
)
def test_profile_refusals_stop_the_sync(x: FakeX, kind: str, message: str, api) -> None:
    x.refuse("/2/users/me", kind)
    with pytest.raises(NetworkError, match=message):
        fetch_x(api(x.url, "X", token="test-token"))


def test_other_refusal_is_raised(x: FakeX, api) -> None:
    x.fail_next(1, status=400, path="/2/users/1/followers")
    with pytest.raises(NetworkError, match=r"X refused the request \(400\)"):
        fetch_x(api(x.url, "X", token="test-token"))


def test_revoked_token(x: FakeX, api) -> None:
    with pytest.raises(AuthExpired):
        fetch_x(api(x.url, "X", token="revoked"))


def test_rate_limit_waits_for_x_rate_limit_reset(x: FakeX, progress, sleeps, api) -> None:
    x.rate_limit_next(1, reset_in=30, path="/2/users/1/followers")
    data = fetch_x(api(x.url, "X", token="test-token", progress=progress, sleep=sleeps))
    assert data.followers == ["7", "6", "4", "3", "2"]
    assert len(progress.pauses) == 1
    # the wait comes from x-rate-limit-reset (about 30 s), not the 60 s fallback
    assert len(sleeps.calls) == 1 and 25 <= sleeps.calls[0] <= 31


def test_usage_cap_is_not_waited_for(x: FakeX, sleeps, api) -> None:
    x.refuse("/2/users/1/tweets", "usage-cap")
    with pytest.raises(UsageCapped, match="monthly usage cap"):
        fetch_x(api(x.url, "X", token="test-token", sleep=sleeps))
    assert sleeps.calls == []
    assert x.count("/2/users/1/tweets") == 1


def test_given_client_gets_the_hook(x: FakeX, sleeps) -> None:
    client = ApiClient(x.url, token="test-token", sleep=sleeps, service="X")
    x.rate_limit_next(1, reset_in=20, path="/2/users/me")
    data = fetch_x(client)
    assert data.owner.handle == "me"
    assert 15 <= sleeps.calls[0] <= 21
    # the caller's client stays open and usable
    assert client.get_json("/2/users/me")["data"]["username"] == "me"
    client.close()


def test_hook_details() -> None:
    import requests

    from app.networks.x.fetcher import _x_response_hook, install_hook

    response = requests.Response()
    response.status_code = 429
    response._content = b"not json"
    response.headers["x-rate-limit-reset"] = "1800000000"
    _x_response_hook(response)  # not a usage cap: left to ApiClient's wait
    assert response.headers["X-RateLimit-Reset"] == "1800000000"
    api = x_client("t", "http://127.0.0.1:9")
    install_hook(api)
    assert api.session.hooks["response"].count(_x_response_hook) == 1
    api.close()
    assert (
        person_from_user({"id": "1", "username": "a", "entities": {"url": {"urls": [{}]}}}).links
        == ()
    )
