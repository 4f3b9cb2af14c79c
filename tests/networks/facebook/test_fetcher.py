"""fetch_facebook and exchange_long_lived against the fake Graph API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import requests

from app.networks.base import AuthExpired, NetworkError
from app.networks.facebook.fetcher import (
    FRIENDS_DECLINED_NOTE,
    NO_EDGES_NOTE,
    POSTS_NOTE,
    GraphError,
    _app_usage,
    exchange_long_lived,
    fetch_facebook,
    post_from_graph,
)
from app.networks.http import ApiClient
from tests.fakes.facebook import FakeFacebook
from tests.fakes.world import World, big_world


@pytest.fixture
def fb(world: World) -> Iterator[FakeFacebook]:
    with FakeFacebook(world) as server:
        yield server


def test_profile_and_friends_total_vs_listed(fb: FakeFacebook, progress, api) -> None:
    data = fetch_facebook(api(fb.graph_url, "Facebook", token="test-token", progress=progress))
    owner = data.owner
    assert (owner.external_id, owner.name, owner.handle) == ("10000001", "Me Myself", "me.myself")
    assert owner.url == "https://www.facebook.com/app_scoped_user_id/10000001/"
    assert owner.avatar_url == "https://platform-lookaside.fbsbx.com/1.jpg"
    # 7 friends in all (followers and friends of the world), 2 of them use the app
    assert (owner.followers_count, owner.following_count) == (7, 7)
    assert data.followers == data.friends == ["10000002", "10000004"]
    assert data.people["10000004"].name == "Andrew"
    assert data.people["10000004"].followers_count is None
    assert data.notes == [
        "Facebook lists only the 2 of your 7 friends who also use this app; import your "
        "archive for the rest.",
        POSTS_NOTE,
        NO_EDGES_NOTE,
    ]
    assert data.posts == [] and data.follows == set()
    assert ("friends", 7) in progress.stages


def test_friends_paging_follows_next_links(api) -> None:
    world = big_world(n_followers=250, n_friends=20, n_mutual=5, n_posts=0, seed=4)
    with FakeFacebook(world) as server:
        server.app_users = set(range(2, 300))
        data = fetch_facebook(api(server.graph_url, "Facebook", token="test-token"))
        assert server.count("/v21.0/me/friends") == 3
    assert data.followers is not None and len(data.followers) == 265
    assert data.owner.followers_count == 265
    assert not any("lists only" in n for n in data.notes)


def test_friends_declined(fb: FakeFacebook, api) -> None:
    fb.granted.discard("user_friends")
    data = fetch_facebook(api(fb.graph_url, "Facebook", token="test-token"))
    assert data.followers is None and data.friends is None
    assert data.owner.followers_count is None
    assert FRIENDS_DECLINED_NOTE in data.notes
    assert fb.count("/v21.0/me/friends") == 0


def test_posts_when_granted(fb: FakeFacebook, world: World, api) -> None:
    fb.granted.add("user_posts")
    data = fetch_facebook(api(fb.graph_url, "Facebook", token="test-token"))
    posts = {p.external_id: p for p in data.posts}
    assert len(posts) == len(world.posts)
    post = posts["10000001_104"]
    assert post.text == "First paragraph.\n\nSecond paragraph\nwith a break."
    assert (post.reply_count, post.like_count, post.repost_count) == (3, 10, 4)
    assert post.created_at == datetime(2026, 2, 26, 12, 0, tzinfo=UTC)
    assert post.url == "https://www.facebook.com/10000001/posts/104"
    shared = posts["10000001_105"]
    assert shared.text.startswith("Me Myself shared a post")
    assert shared.repost_count is None
    assert POSTS_NOTE not in data.notes


def test_posts_cap(fb: FakeFacebook, api) -> None:
    fb.granted.add("user_posts")
    data = fetch_facebook(api(fb.graph_url, "Facebook", token="test-token"), max_posts=4)
    assert len(data.posts) == 4


def test_posts_permission_error_is_a_note(fb: FakeFacebook, api) -> None:
    fb.granted.add("user_posts")
    fb.posts_permission_error = True
    data = fetch_facebook(api(fb.graph_url, "Facebook", token="test-token"))
    assert data.posts == [] and POSTS_NOTE in data.notes
    assert data.followers == ["10000002", "10000004"]


def test_post_mapping_without_summaries() -> None:
    post = post_from_graph({"id": "1_2", "created_time": "2026-01-01T10:00:00+0100"})
    assert (post.text, post.reply_count, post.like_count, post.repost_count) == (
        "",
        None,
        None,
        None,
    )
    assert post.created_at == datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


def test_expired_token(fb: FakeFacebook, api) -> None:
    fb.expire()
    with pytest.raises(AuthExpired, match="Session has expired"):
        fetch_facebook(api(fb.graph_url, "Facebook", token="test-token"))


def test_unknown_token(fb: FakeFacebook, api) -> None:
    with pytest.raises(AuthExpired):
        fetch_facebook(api(fb.graph_url, "Facebook", token="nope"))


@pytest.mark.parametrize("code", [4, 17, 32, 613])
def test_rate_limit_pauses_then_resumes(fb: FakeFacebook, progress, sleeps, code: int, api) -> None:
    fb.graph_limit_next(1, code=code)
    data = fetch_facebook(
        api(fb.graph_url, "Facebook", token="test-token", progress=progress, sleep=sleeps),
        rate_wait=90,
    )
    assert data.owner.name == "Me Myself"
    assert sleeps.calls == [90]
    assert len(progress.pauses) == 1


def test_rate_limit_gives_up_with_a_message(fb: FakeFacebook, sleeps, api) -> None:
    fb.graph_limit_next(3, code=17)
    with pytest.raises(NetworkError, match=r"User request limit reached.*in an hour"):
        fetch_facebook(
            api(fb.graph_url, "Facebook", token="test-token", sleep=sleeps), max_rate_waits=2
        )
    assert len(sleeps.calls) == 2


def test_app_usage_at_100_waits_before_the_next_call(fb: FakeFacebook, sleeps, api) -> None:
    fb.app_usage = 100
    fetch_facebook(api(fb.graph_url, "Facebook", token="test-token", sleep=sleeps), rate_wait=5)
    # /me, /me/permissions and /me/friends each left the app at 100%
    assert sleeps.calls == [5, 5]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('{"call_count": 28, "total_time": 25, "total_cputime": 99}', 99),
        (None, 0),
        ("not json", 0),
        ("[1, 2]", 0),
    ],
)
def test_app_usage_header(header: str | None, expected: int) -> None:
    assert _app_usage(header) == expected


def test_other_graph_errors(fb: FakeFacebook) -> None:
    fb.graph_limit_next(1, code=100)
    client = ApiClient(fb.graph_url, token="test-token", service="Facebook")
    with pytest.raises(GraphError, match="does not exist") as info:
        fetch_facebook(client)
    assert (info.value.code, info.value.subcode) == (100, 33)
    # a given client is left open for its owner
    assert client.get_json("me")["id"] == "10000001"
    client.close()


def test_error_without_graph_body(fb: FakeFacebook, api) -> None:
    fb.fail_next(1, status=403)
    with pytest.raises(NetworkError, match=r"Facebook refused the request \(403\)"):
        fetch_facebook(api(fb.graph_url, "Facebook", token="test-token"))


# -- tokens ---------------------------------------------------------------------------------


def test_login_dialog_and_long_lived_exchange(fb: FakeFacebook, api) -> None:
    dialog = requests.get(
        f"{fb.graph_url}/dialog/oauth",
        params={"client_id": "fb-app", "redirect_uri": "http://app/cb", "state": "s1"},
        allow_redirects=False,
        timeout=5,
    )
    assert dialog.status_code == 302
    location = dialog.headers["Location"]
    assert location.startswith("http://app/cb?code=") and "state=s1" in location
    code = location.split("code=")[1].split("&")[0]
    short = requests.get(
        f"{fb.graph_url}/oauth/access_token",
        params={
            "client_id": "fb-app",
            "client_secret": "fb-secret",
            "redirect_uri": "http://app/cb",
            "code": code,
        },
        timeout=5,
    ).json()["access_token"]
    token, expires_at = exchange_long_lived(
        short,
        token_url=f"{fb.graph_url}/oauth/access_token",
        client_id="fb-app",
        client_secret="fb-secret",
        clock=lambda: 1_800_000_000.0,
    )
    assert token != short and fb.exchanged == [short]
    assert expires_at == datetime.fromtimestamp(1_800_000_000 + 5_183_944, UTC)
    assert fetch_facebook(api(fb.graph_url, "Facebook", token=token)).owner.name == "Me Myself"


def test_denied_login(fb: FakeFacebook) -> None:
    fb.deny_consent = True
    dialog = requests.get(
        f"{fb.graph_url}/dialog/oauth",
        params={"client_id": "fb-app", "redirect_uri": "http://app/cb"},
        allow_redirects=False,
        timeout=5,
    )
    assert "error=access_denied" in dialog.headers["Location"]
    assert "error_reason=user_denied" in dialog.headers["Location"]


def test_exchange_refusals(fb: FakeFacebook) -> None:
    url = f"{fb.graph_url}/oauth/access_token"
    with pytest.raises(NetworkError, match="client secret"):
        exchange_long_lived("test-token", token_url=url, client_id="fb-app", client_secret="x")
    fb.expire()
    with pytest.raises(AuthExpired):
        exchange_long_lived(
            "test-token", token_url=url, client_id="fb-app", client_secret="fb-secret"
        )


def test_other_error_on_posts_is_raised(fb: FakeFacebook, api) -> None:
    fb.granted.add("user_posts")
    fb.graph_limit_next(1, code=1, path="me/posts")
    with pytest.raises(GraphError) as info:
        fetch_facebook(api(fb.graph_url, "Facebook", token="test-token"))
    assert info.value.code == 1
    assert fb.count("/v21.0/me/friends") == 1
