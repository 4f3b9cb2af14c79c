"""fetch_github against the fake GitHub: graph, counts, posts, request counts, errors."""

from __future__ import annotations

import math
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from app.networks.base import AuthExpired, Follow, NetworkError
from app.networks.github.fetcher import EVENTS_NOTE, fetch_github, post_from_event
from tests.fakes.github import FakeGitHub
from tests.fakes.world import World, big_world


def expected_requests(world: World, chosen: list[int], events: int) -> int:
    """The minimum the REST API allows (see the fetcher's docstring)."""
    owner = world.owner_id
    return (
        1
        + max(1, math.ceil(len(world.followers(owner)) / 100))
        + max(1, math.ceil(len(world.following(owner)) / 100))
        + len(world.people())
        + sum(math.ceil(len(world.following(p)) / 100) for p in chosen)
        + min(3, max(1, math.ceil(events / 100)))
    )


def str_edges(edges: set[tuple[int, int]]) -> set[Follow]:
    return {Follow(str(s), str(t)) for s, t in edges}


def test_small_world(github: FakeGitHub, world: World, progress, api) -> None:
    data = fetch_github(api(github.url, "GitHub", token="test-token", progress=progress))
    assert data.owner.handle == "me"
    assert (data.owner.followers_count, data.owner.following_count) == (5, 4)
    assert data.followers == ["2", "3", "4", "6", "7"]
    assert data.friends == ["5", "6", "4", "10"]
    assert set(data.people) == {"2", "3", "4", "5", "6", "7", "10"}
    andrew = data.people["4"]
    assert (andrew.handle, andrew.followers_count, andrew.following_count) == ("andrew", 2, 4)
    assert data.people["2"].links == ("https://x.com/bobtweets", "https://bob.example")
    assert data.people["3"].links == ()
    assert data.follows == str_edges(world.circle_edges())
    # Andrew follows two of my followers (Bob and Rick); his follow of Zed is not stored.
    followers = set(data.followers)
    assert {f.target for f in data.follows if f.source == "4"} & followers == {"2", "3"}
    assert data.lists_fetched == set(data.people)
    assert data.notes == [EVENTS_NOTE]
    assert progress.requests == len(github.requests)
    assert ("profiles", 7) in progress.stages


def test_small_world_request_count(github: FakeGitHub, world: World, api) -> None:
    data = fetch_github(api(github.url, "GitHub", token="test-token"))
    chosen = [p for p in world.people() if world.following(p)]
    assert len(github.requests) == expected_requests(world, chosen, 5)
    # Gus follows nobody: his list is known without asking.
    assert github.count("/users/gus/following") == 0
    assert "10" in data.lists_fetched


def test_posts_mapping(github: FakeGitHub, api) -> None:
    posts = {
        p.external_id: p for p in fetch_github(api(github.url, "GitHub", token="test-token")).posts
    }
    assert set(posts) == {"106", "104", "103", "102", "101"}  # 105 is a push: not a post
    comment = posts["106"]
    assert (comment.kind, comment.text, comment.like_count) == ("comment", "Thanks Bob & <co>!", 2)
    assert comment.in_reply_to == "https://github.com/me/project/issues/9001"
    assert comment.url.endswith("#issuecomment-106")
    issue = posts["102"]
    assert (issue.kind, issue.text, issue.reply_count, issue.in_reply_to) == (
        "issue",
        "Another one",
        0,
        None,
    )
    assert posts["103"].kind == "pull_request"
    assert posts["103"].url == "https://github.com/me/project/pull/103"
    review = posts["104"]
    assert review.kind == "review"
    assert review.text.startswith("First paragraph.")
    assert review.created_at.tzinfo is not None
    assert all(p.first_response_at is None for p in posts.values())


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"type": "IssuesEvent", "payload": {"action": "closed"}}, None),
        ({"type": "WatchEvent", "payload": {"action": "started"}}, None),
        (
            {
                "type": "PullRequestReviewEvent",
                "payload": {
                    "review": {"body": "", "html_url": "u"},
                    "pull_request": {"title": "Fix it", "html_url": "pr"},
                },
            },
            ("review", "Fix it", "pr"),
        ),
        (
            {
                "type": "PullRequestReviewCommentEvent",
                "payload": {
                    "comment": {"body": " nit ", "html_url": "c"},
                    "pull_request": {"html_url": "pr"},
                },
            },
            ("review_comment", "nit", "pr"),
        ),
    ],
)
def test_event_mapping_edge_cases(event: dict, expected: tuple | None) -> None:
    post = post_from_event({"id": 1, "created_at": "2026-01-01T00:00:00Z", **event})
    if expected is None:
        assert post is None
    else:
        assert post is not None
        assert (post.kind, post.text, post.in_reply_to) == expected


def test_pagination_and_minimum_requests(api) -> None:
    world = big_world(
        n_followers=250,
        n_friends=130,
        n_mutual=60,
        n_outsiders=30,
        n_posts=350,
        max_out_degree=150,
        seed=3,
    )
    with FakeGitHub(world) as server:
        data = fetch_github(api(server.url, "GitHub", token="test-token"))
        chosen = [p for p in world.people() if world.following(p)]
        assert len(server.requests) == expected_requests(world, chosen, 350)
        assert server.count("/user/1/followers") == 2  # pages 2 and 3 came from Link
        assert server.count("/users/owner/events/public") == 1
        assert server.count("/user/1/events/public") == 2
    assert len(data.followers or []) == 250
    assert len(data.friends or []) == 130
    assert len(data.people) == 320
    assert data.follows == str_edges(world.circle_edges())
    assert data.lists_fetched == {str(p) for p in world.people()}
    # 350 posts, GitHub serves 300 events of which pushes (reposts) are skipped
    assert len(data.posts) == 300 - 300 // 4
    assert any(max(len(world.following(p)), 0) > 100 for p in chosen)


def test_max_people_reads_mutuals_first(github: FakeGitHub, api) -> None:
    data = fetch_github(api(github.url, "GitHub", token="test-token"), max_people=3)
    # mutuals Andrew and Dave first, then the first other follower, Bob
    assert data.lists_fetched == {"4", "6", "2"}
    assert github.count("/users/rick/following") == 0
    assert "Follow links were read for 3 of 7 people" in data.notes[0]


def test_deleted_person_keeps_list_entry(github: FakeGitHub, sleeps, api) -> None:
    github.fail_next(status=404, path="/users/bob")
    github.fail_next(status=404, path="/users/andrew/following")
    data = fetch_github(api(github.url, "GitHub", token="test-token", sleep=sleeps))
    bob = data.people["2"]
    assert bob.handle == "bob"
    assert bob.followers_count is None  # only the simple user from the list
    assert "4" not in data.lists_fetched
    assert not any(f.source == "4" for f in data.follows)
    assert "2" in data.lists_fetched  # Bob's count unknown, so his list was read


def test_revoked_token(github: FakeGitHub, api) -> None:
    github.tokens.clear()
    with pytest.raises(AuthExpired):
        fetch_github(api(github.url, "GitHub", token="test-token"))


def test_outage_raises_network_error(github: FakeGitHub, sleeps, api) -> None:
    github.fail_next(100, path="/users/me/followers")
    with pytest.raises(NetworkError, match="GitHub did not answer"):
        fetch_github(api(github.url, "GitHub", token="test-token", sleep=sleeps, max_retries=2))
    assert sleeps.calls == [0.5, 1.0]


def test_rate_limit_mid_sync_pauses_and_finishes(
    github: FakeGitHub, world, progress, sleeps, api
) -> None:
    github.rate_limit_next(reset_in=30, path="/users/dave")
    data = fetch_github(
        api(github.url, "GitHub", token="test-token", progress=progress, sleep=sleeps)
    )
    assert len(progress.pauses) == 1
    assert data.follows == str_edges(world.circle_edges())


# -- the fake's OAuth endpoints, which the Flask-level tests will drive ----------------------


def test_oauth_authorize_and_token(github: FakeGitHub, api) -> None:
    redirect = "http://127.0.0.1:5000/connect/github/callback"
    answer = requests.get(
        f"{github.url}/login/oauth/authorize",
        params={"client_id": "gh-client", "redirect_uri": redirect, "state": "xyz"},
        allow_redirects=False,
        timeout=5,
    )
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith(redirect + "?")
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == ["xyz"]
    form = {
        "client_id": "gh-client",
        "client_secret": "gh-secret",
        "code": query["code"][0],
        "redirect_uri": redirect,
    }
    token = requests.post(
        f"{github.url}/login/oauth/access_token",
        data=form,
        headers={"Accept": "application/json"},
        timeout=5,
    ).json()
    assert token["token_type"] == "bearer"
    assert token["access_token"] in github.tokens
    data = fetch_github(api(github.url, "GitHub", token=token["access_token"]), max_people=0)
    assert data.owner.handle == "me"
    again = requests.post(f"{github.url}/login/oauth/access_token", data=form, timeout=5)
    assert parse_qs(again.text)["error"] == ["bad_verification_code"]


def test_oauth_denied_and_bad_client(github: FakeGitHub) -> None:
    github.deny_consent = True
    answer = requests.get(
        f"{github.url}/login/oauth/authorize",
        params={"client_id": "gh-client", "redirect_uri": "http://app/cb?x=1", "state": "s"},
        allow_redirects=False,
        timeout=5,
    )
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query["error"] == ["access_denied"]
    assert query["x"] == ["1"]
    unknown = requests.get(
        f"{github.url}/login/oauth/authorize",
        params={"client_id": "nope", "redirect_uri": "http://app/cb"},
        allow_redirects=False,
        timeout=5,
    )
    assert unknown.status_code == 404
    bad = requests.post(
        f"{github.url}/login/oauth/access_token",
        data={"client_id": "gh-client", "client_secret": "wrong", "code": "x"},
        headers={"Accept": "application/json"},
        timeout=5,
    ).json()
    assert bad["error"] == "incorrect_client_credentials"


@pytest.mark.parametrize("status", [404, 403, 500])
def test_unreadable_events_keep_the_rest(github: FakeGitHub, world, sleeps, status, api) -> None:
    github.fail_next(10, status=status, path="/users/me/events/public")
    data = fetch_github(api(github.url, "GitHub", token="test-token", sleep=sleeps, max_retries=1))
    assert data.posts == []
    assert any(
        note.startswith("GitHub did not let us read your public events") for note in data.notes
    )
    assert data.follows == str_edges(world.circle_edges())  # the graph is all there
    assert len(data.followers or []) == 5


def test_revoked_token_while_reading_events_still_needs_reconnecting(
    github: FakeGitHub, api
) -> None:
    github.fail_next(status=401, path="/users/me/events/public")
    with pytest.raises(AuthExpired):
        fetch_github(api(github.url, "GitHub", token="test-token"))
