"""Every route of /api/v1/ on the demo account: access rules across two users, paging with
cursors, sorting like the lists, revoked tokens and the per-token rate limit."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from app.api import tokens
from app.dashboard import service
from app.extensions import db
from app.models import ApiToken, Connection, CrossCheck, Person, Post
from app.networks import CONNECTORS
from tests.api.conftest import DEMO_PASSWORD, ApiClient
from tests.conftest import csrf_token

ROUTES = [
    "/api/v1/connections",
    "/api/v1/matches",
    "/api/v1/networks/github",
    "/api/v1/networks/github/followers",
    "/api/v1/networks/github/friends",
    "/api/v1/networks/github/posts",
    "/api/v1/networks/github/growth",
    "/api/v1/networks/github/graphs/followers",
    "/api/v1/networks/github/graphs/friends",
]


def connection_of(user, network):
    return db.session.scalar(
        select(Connection).where(Connection.user_id == user.id, Connection.network == network)
    )


@pytest.mark.parametrize("url", ROUTES)
def test_every_route_needs_a_token(client, demo, url):
    response = client.get(url)
    assert response.status_code == 401
    assert response.get_json()["error"]["status"] == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("url", ROUTES)
def test_every_route_answers_json_to_its_owner(api, url):
    response = api.get(url)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    assert json.loads(response.get_data(as_text=True))


@pytest.mark.parametrize(
    "header", ["Bearer mda_not-a-real-token", "Bearer ", "Basic dXNlcjpwYXNz", "mda_abc"]
)
def test_wrong_tokens_are_401(client, demo, header):
    response = client.get("/api/v1/connections", headers={"Authorization": header})
    assert response.status_code == 401


def test_a_signed_in_browser_session_opens_nothing(client, demo):
    token = csrf_token(client, "/signin")
    client.post("/signin", data={"login": "demo", "password": DEMO_PASSWORD, "csrf_token": token})
    assert client.get("/dashboard/user").status_code == 200  # signed in
    response = client.get("/api/v1/connections")
    assert response.status_code == 401
    assert "Set-Cookie" not in response.headers


def test_connections_are_the_users_own(api, other_api, demo, other):
    mine = api.get("/api/v1/connections").get_json()["connections"]
    theirs = other_api.get("/api/v1/connections").get_json()["connections"]
    assert sorted(row["network"] for row in mine) == sorted(CONNECTORS)
    assert {row["handle"] for row in mine} == {
        connection_of(demo, key).handle for key in CONNECTORS
    }
    assert {row["handle"] for row in theirs} == {
        connection_of(other, key).handle for key in CONNECTORS
    }
    assert all(row["has_data"] and row["source"] == "demo" for row in mine)


def test_a_token_sees_only_its_owners_data(api, other_api, demo, other):
    """The same URLs give each user their own numbers; the network data never crosses."""
    for network in CONNECTORS:
        mine = api.get(f"/api/v1/networks/{network}").get_json()
        theirs = other_api.get(f"/api/v1/networks/{network}").get_json()
        assert mine["snapshot"]["id"] == connection_of(demo, network).current_snapshot_id
        assert theirs["snapshot"]["id"] == connection_of(other, network).current_snapshot_id
        their_ids = {
            p["id"]
            for p in other_api.get(f"/api/v1/networks/{network}/followers?limit=200").get_json()[
                "items"
            ]
        }
        snapshot = connection_of(other, network).current_snapshot
        assert len(their_ids) == snapshot.followers_count


def test_a_network_without_a_connection_is_404(client, api, demo):
    db.session.delete(connection_of(demo, "x"))
    db.session.commit()
    for url in ("/api/v1/networks/x", "/api/v1/networks/x/followers", "/api/v1/networks/nope"):
        response = api.get(url)
        assert response.status_code == 404
        assert response.get_json() == {"error": {"status": 404, "message": "Not found."}}


def test_a_connection_without_data_has_a_null_snapshot(api, demo):
    connection = connection_of(demo, "x")
    connection.current_snapshot_id = None
    db.session.commit()
    assert api.get("/api/v1/networks/x").get_json()["snapshot"] is None
    assert api.get("/api/v1/networks/x/followers").status_code == 404
    assert api.get("/api/v1/networks/x/graphs/friends").status_code == 404
    assert api.get("/api/v1/networks/x/graphs/people").status_code == 404


def test_summary_has_counts_parts_with_provenance_and_notes(api, demo):
    body = api.get("/api/v1/networks/mastodon").get_json()
    snapshot = connection_of(demo, "mastodon").current_snapshot
    summary = body["snapshot"]
    assert summary["counts"] == {
        "followers": snapshot.followers_count,
        "friends": snapshot.friends_count,
        "posts": snapshot.posts_count,
        "mutuals": snapshot.mutuals_count,
    }
    assert [part["part"] for part in summary["parts"]] == [
        row["part"] for row in service.part_rows(snapshot)
    ]
    first = summary["parts"][0]
    assert first["sources"] and first["sources"][0]["kind"] == "demo data"
    assert "T" in first["sources"][0]["as_of"]  # ISO 8601
    assert summary["notes"] == snapshot.results["notes"]
    assert body["connection"]["network"] == "mastodon"
    assert body["sync"]["status"] == "done"


def all_pages(api: ApiClient, url: str) -> tuple[list[dict], int]:
    items, pages = [], 0
    body = api.get(url).get_json()
    while True:
        pages += 1
        items += body["items"]
        if body["next_cursor"] is None:
            return items, pages
        body = api.get(url.split("?")[0] + f"?cursor={body['next_cursor']}").get_json()


@pytest.mark.parametrize("role", ["followers", "friends"])
def test_cursors_walk_the_whole_list_once(api, demo, role):
    snapshot = connection_of(demo, "github").current_snapshot
    items, pages = all_pages(api, f"/api/v1/networks/github/{role}?limit=7")
    expected = getattr(snapshot, f"{role}_count")
    assert len(items) == expected
    assert len({item["id"] for item in items}) == expected
    assert pages == -(-expected // 7)
    first = api.get(f"/api/v1/networks/github/{role}?limit=7").get_json()
    assert first["total"] == expected  # stored with the sync, not counted


def test_previous_cursor_goes_back(api):
    first = api.get("/api/v1/networks/github/followers?limit=5").get_json()
    assert first["previous_cursor"] is None
    second = api.get(f"/api/v1/networks/github/followers?cursor={first['next_cursor']}")
    back = api.get(
        f"/api/v1/networks/github/followers?cursor={second.get_json()['previous_cursor']}"
    )
    assert back.get_json()["items"] == first["items"]


@pytest.mark.parametrize(
    ("sort", "key"),
    [("handle", "handle"), ("count", "followers_count"), ("overlap", "my_followers_they_follow")],
)
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_sorting_is_the_lists_sorting(api, demo, sort, key, order):
    url = f"/api/v1/networks/bluesky/followers?limit=9&sort={sort}&order={order}"
    items, _ = all_pages(api, url)
    snapshot = connection_of(demo, "bluesky").current_snapshot
    page = service.people_page(snapshot, "followers", sort=sort, order=order, per_page=200)
    assert [item["id"] for item in items] == [person.external_id for person in page.items]
    values = [item[key] for item in items if item[key] is not None]
    if key == "handle":
        values = [value.lower() for value in values]
    assert values == sorted(values, reverse=order == "desc")


def test_search_is_carried_by_the_cursor(api, demo):
    snapshot = connection_of(demo, "github").current_snapshot
    handle = db.session.scalar(
        select(Person.handle).where(Person.snapshot_id == snapshot.id, Person.is_follower)
    )
    needle = handle[:2]
    items, _ = all_pages(api, f"/api/v1/networks/github/followers?limit=2&q={needle}")
    expected = service.people_page(snapshot, "followers", search=needle, per_page=200).rows
    assert [item["id"] for item in items] == [person.external_id for person in expected]
    first = api.get(f"/api/v1/networks/github/followers?limit=2&q={needle}").get_json()
    assert first["total"] is None  # a search is paged without a count
    assert all(needle.lower() in (item["handle"] + (item["name"] or "")).lower() for item in items)


@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=201", "limit=x", "sort=pagerank", "order=up", "cursor=forged"],
)
def test_bad_paging_values_are_400(api, query):
    response = api.get(f"/api/v1/networks/github/followers?{query}")
    assert response.status_code == 400
    assert response.get_json()["error"]["message"]


def test_a_cursor_is_bound_to_its_list_and_sync(api, other_api):
    body = api.get("/api/v1/networks/github/followers?limit=5&sort=handle").get_json()
    cursor = body["next_cursor"]
    # another list, another network, another user's data, a contradicting sort: refused
    assert api.get(f"/api/v1/networks/github/friends?cursor={cursor}").status_code == 400
    assert api.get(f"/api/v1/networks/mastodon/followers?cursor={cursor}").status_code == 400
    assert other_api.get(f"/api/v1/networks/github/followers?cursor={cursor}").status_code == 400
    url = f"/api/v1/networks/github/followers?cursor={cursor}"
    assert api.get(url + "&sort=count").status_code == 400
    assert api.get(url + "&sort=handle").status_code == 200
    # an edited cursor fails its signature
    assert api.get(url[:-2] + ("AA" if not url.endswith("AA") else "BB")).status_code == 400


def test_a_cursor_of_an_older_sync_is_refused(api, demo):
    cursor = api.get("/api/v1/networks/github/posts?limit=5").get_json()["next_cursor"]
    connection = connection_of(demo, "github")
    older = min(
        s.id
        for s in connection.current_snapshot.__class__.query.filter_by(connection_id=connection.id)
    )
    assert older != connection.current_snapshot_id
    connection.current_snapshot_id = older
    db.session.commit()
    response = api.get(f"/api/v1/networks/github/posts?cursor={cursor}")
    assert response.status_code == 400
    assert "older sync" in response.get_json()["error"]["message"]


def test_posts_are_paged_newest_first(api, demo):
    snapshot = connection_of(demo, "mastodon").current_snapshot
    items, _ = all_pages(api, "/api/v1/networks/mastodon/posts?limit=40")
    assert len(items) == db.session.scalar(
        select(func.count()).select_from(Post).where(Post.snapshot_id == snapshot.id)
    )
    dates = [item["created_at"] for item in items]
    assert dates == sorted(dates, reverse=True)
    assert {"text", "sentiment_label", "sentiment_score", "like_count"} <= set(items[0])


def test_growth_is_the_pages_series(api, demo):
    points = api.get("/api/v1/networks/github/growth").get_json()["points"]
    series = service.growth_series(connection_of(demo, "github"))
    assert [p["followers"] for p in points] == [p["followers"] for p in series]
    assert [p["at"] for p in points] == [p["at"].isoformat() for p in series]


def test_graph_is_node_link_with_every_follower(api, demo):
    graph = api.get("/api/v1/networks/github/graphs/followers").get_json()
    snapshot = connection_of(demo, "github").current_snapshot
    assert len(graph["nodes"]) == snapshot.followers_count + 1
    assert sum(node["me"] for node in graph["nodes"]) == 1
    ids = {node["id"] for node in graph["nodes"]}
    assert graph["links"]
    assert all(link["source"] in ids and link["target"] in ids for link in graph["links"])


def test_matches_are_the_stored_cross_check(api, demo):
    body = api.get("/api/v1/matches").get_json()
    stored = db.session.get(CrossCheck, demo.id).results
    assert body["available"] is True
    assert body["pairs"] == stored["pairs"]
    assert body["strong"] == stored["strong"] and body["weak"] == stored["weak"]
    assert len(body["matches"]) == len(stored["matches"])


def test_matches_before_two_networks_have_data(client, user):
    _, token = tokens.create_token(user, "fresh")
    body = ApiClient(client, token).get("/api/v1/matches").get_json()
    assert body == {"available": False, "networks": [], "pairs": [], "matches": [], "total": 0}
    assert ApiClient(client, token).get("/api/v1/connections").get_json() == {"connections": []}


def test_a_revoked_token_is_401_at_once(api, demo):
    assert api.get("/api/v1/connections").status_code == 200
    row = db.session.scalar(select(ApiToken).where(ApiToken.user_id == demo.id))
    tokens.revoke(row)
    response = api.get("/api/v1/connections")
    assert response.status_code == 401
    assert api.get("/api/v1/networks/github").status_code == 401


def test_last_used_is_recorded(api, demo):
    row = db.session.scalar(select(ApiToken).where(ApiToken.user_id == demo.id))
    assert row.last_used_at is None
    api.get("/api/v1/connections")
    db.session.refresh(row)
    assert row.last_used_at is not None


def test_the_token_is_stored_hashed(api, demo):
    row = db.session.scalar(select(ApiToken).where(ApiToken.user_id == demo.id))
    assert row.token_hash == tokens.hash_token(api.token)
    assert api.token not in (row.token_hash, row.prefix)
    assert api.token.startswith(row.prefix) and len(api.token) > 40
    assert row.scope == "read"


def test_unknown_api_paths_and_methods_are_json(api):
    assert api.get("/api/v1/nothing/here").get_json()["error"]["status"] == 404
    assert api.get("/api/v1/").get_json()["error"]["status"] == 404
    response = api.client.post(
        "/api/v1/connections", headers={"Authorization": f"Bearer {api.token}"}
    )
    assert response.status_code == 405
    assert response.get_json()["error"]["status"] == 405


class TestRateLimit:
    @pytest.fixture
    def config_overrides(self):
        return {"API_RATE_LIMIT": "3 per minute"}

    def test_each_token_has_its_own_budget(self, api, other_api, demo):
        for url in ROUTES[:3]:  # one budget across every route
            assert api.get(url).status_code == 200
        limited = api.get("/api/v1/connections")
        assert limited.status_code == 429
        assert limited.get_json()["error"]["status"] == 429
        assert "Retry-After" in limited.headers
        # another token (even of the same user) is counted apart
        assert other_api.get("/api/v1/connections").status_code == 200
        _, second = tokens.create_token(demo, "second")
        assert ApiClient(api.client, second).get("/api/v1/connections").status_code == 200
