"""fetch_bluesky against the fake AppView."""

from __future__ import annotations

import math
from urllib.parse import urlencode

import pytest

from app.networks.base import Follow, NetworkError, NotAvailable
from app.networks.bluesky.fetcher import fetch_bluesky, post_from_feed_item
from app.networks.http import HttpError
from tests.fakes.bluesky import FakeBluesky, did_of
from tests.fakes.world import World, big_world


def did(world: World, uid: int) -> str:
    return did_of(world.accounts[uid])


def did_edges(world: World, edges: set[tuple[int, int]]) -> set[Follow]:
    return {Follow(did(world, s), did(world, t)) for s, t in edges}


def test_small_world(bluesky: FakeBluesky, world: World, progress, api) -> None:
    data = fetch_bluesky(api(bluesky.url, "Bluesky", progress=progress), "@me.bsky.social")
    assert data.owner.external_id == did(world, 1)
    assert (data.owner.followers_count, data.owner.following_count, data.owner.posts_count) == (
        5,
        4,
        6,
    )
    assert data.followers == [did(world, i) for i in (7, 6, 4, 3, 2)]
    assert data.friends == [did(world, i) for i in (10, 4, 6, 5)]
    andrew = data.people[did(world, 4)]
    assert andrew.handle == "andrew.example"
    assert andrew.links == ("https://andrew.example",)
    assert (andrew.followers_count, andrew.following_count) == (2, 4)
    assert data.people[did(world, 2)].links == ()
    assert data.follows == did_edges(world, world.circle_edges())
    assert data.lists_fetched == set(data.people)
    assert data.notes == []
    assert progress.requests == len(bluesky.requests)
    # 1 profile + 1 followers + 1 follows + 1 getProfiles + 6 follow lists (Gus: none) + 1 feed
    assert len(bluesky.requests) == 11
    assert bluesky.count("/xrpc/app.bsky.actor.getProfiles") == 1


def test_posts_mapping(bluesky: FakeBluesky, world: World, api) -> None:
    posts = fetch_bluesky(api(bluesky.url, "Bluesky"), "me.bsky.social").posts
    assert len(posts) == 6
    reply, repost, post = posts[0], posts[1], posts[2]
    assert reply.kind == "reply"
    assert reply.in_reply_to == "at://did:plc:other/app.bsky.feed.post/3lfake0009001"
    assert reply.text == "Thanks Bob & <co>!"
    assert reply.url == "https://bsky.app/profile/me.bsky.social/post/3lfake0000106"
    assert repost.is_repost and repost.kind == "repost"
    assert repost.external_id.startswith("repost:at://")
    assert repost.url == "https://bsky.app/profile/bob.bsky.social/post/3lfake0000105"
    assert (post.reply_count, post.like_count, post.repost_count) == (3, 10, 4)
    assert post.external_id == f"at://{did(world, 1)}/app.bsky.feed.post/3lfake0000104"


def test_feed_item_fallbacks() -> None:
    item = {
        "post": {
            "uri": "at://did:plc:x/app.bsky.feed.post/abc",
            "indexedAt": "2026-01-01T00:00:00Z",
            "record": {},
        }
    }
    post = post_from_feed_item(item)
    assert post.url == "https://bsky.app/profile/did:plc:x/post/abc"
    assert post.text == ""
    assert post.created_at.year == 2026


def test_pinned_post_is_not_counted_twice(bluesky: FakeBluesky, world: World, api) -> None:
    world.posts.insert(0, world.posts[3])
    assert len(fetch_bluesky(api(bluesky.url, "Bluesky"), "me.bsky.social").posts) == 6


def test_unknown_handle(bluesky: FakeBluesky, api) -> None:
    with pytest.raises(NotAvailable, match=r"no account called nobody\.bsky\.social"):
        fetch_bluesky(api(bluesky.url, "Bluesky"), "nobody.bsky.social")


def test_other_profile_errors_propagate(bluesky: FakeBluesky, api) -> None:
    bluesky.fail_next(status=403, path="/xrpc/app.bsky.actor.getProfile")
    with pytest.raises(HttpError):
        fetch_bluesky(api(bluesky.url, "Bluesky"), "me.bsky.social")


def test_pagination_and_minimum_requests(api) -> None:
    world = big_world(
        n_followers=260,
        n_friends=140,
        n_mutual=70,
        n_outsiders=30,
        n_posts=250,
        max_out_degree=160,
        seed=11,
    )
    owner = world.owner_id
    with FakeBluesky(world) as server:
        data = fetch_bluesky(api(server.url, "Bluesky"), "owner.bsky.social", max_posts=1000)
        people = world.people()
        chosen = [p for p in people if world.following(p)]
        expected = (
            1
            + math.ceil(len(world.followers(owner)) / 100)
            + math.ceil(len(world.following(owner)) / 100)
            + math.ceil(len(people) / 25)
            + sum(math.ceil(len(world.following(p)) / 100) for p in chosen)
            + math.ceil(250 / 100)
        )
        assert len(server.requests) == expected
        batches = [r.query["actors"] for r in server.requests if r.path.endswith("getProfiles")]
    assert max(len(b) for b in batches) == 25
    assert len(data.people) == 330
    assert len(data.posts) == 250
    assert data.follows == did_edges(world, world.circle_edges())
    assert data.lists_fetched == {did(world, p) for p in people}


def test_trailing_cursor_costs_one_empty_page(bluesky: FakeBluesky, api) -> None:
    bluesky.trailing_cursor = True
    data = fetch_bluesky(api(bluesky.url, "Bluesky"), "me.bsky.social")
    assert len(data.followers or []) == 5
    assert len(bluesky.requests) == 11  # small pages: the trailing cursor never shows


def test_max_people_and_failed_list(bluesky: FakeBluesky, world: World, sleeps, api) -> None:
    query = urlencode({"actor": did(world, 6)})
    bluesky.fail_next(status=400, path=f"/xrpc/app.bsky.graph.getFollows?{query}")
    data = fetch_bluesky(api(bluesky.url, "Bluesky", sleep=sleeps), "me.bsky.social", max_people=3)
    # mutuals Andrew and Dave first, then Erin (newest follower); Dave's list failed
    assert data.lists_fetched == {did(world, 4), did(world, 7)}
    assert data.notes == [
        "Follow links were read for 3 of 7 people (the graph limit); "
        "links of the others are unknown."
    ]


def test_rate_limit_and_errors(bluesky: FakeBluesky, world: World, progress, sleeps, api) -> None:
    bluesky.rate_limit_next(reset_in=15, path="/xrpc/app.bsky.actor.getProfiles")
    bluesky.fail_next(1, path="/xrpc/app.bsky.feed.getAuthorFeed")
    bluesky.truncate_next(mode="json", path="/xrpc/app.bsky.graph.getFollowers")
    data = fetch_bluesky(
        api(bluesky.url, "Bluesky", progress=progress, sleep=sleeps), "me.bsky.social"
    )
    assert len(progress.pauses) == 1
    assert 12 < sleeps.calls[1] <= 16
    assert len(data.posts) == 6
    assert data.follows == did_edges(world, world.circle_edges())


def test_persistent_outage(bluesky: FakeBluesky, sleeps, api) -> None:
    bluesky.fail_next(10, status=503)
    with pytest.raises(NetworkError, match="Bluesky did not answer"):
        fetch_bluesky(api(bluesky.url, "Bluesky", sleep=sleeps), "me.bsky.social")


def test_unreadable_feed_keeps_the_rest(bluesky: FakeBluesky, world: World, sleeps, api) -> None:
    bluesky.fail_next(10, status=500, path="/xrpc/app.bsky.feed.getAuthorFeed")
    data = fetch_bluesky(api(bluesky.url, "Bluesky", sleep=sleeps, max_retries=1), "me.bsky.social")
    assert data.posts == []
    assert data.notes and data.notes[-1].startswith("Bluesky did not let us read your posts")
    assert data.follows == did_edges(world, world.circle_edges())
