"""``Cache-Control: no-store`` on what is private: every page a signed-in user sees, every
export and every JSON answer; public pages and static files keep their caching."""

from __future__ import annotations

import pytest
from flask import Response, jsonify

from app.demo.user import create_demo_user
from tests.conftest import csrf_token

DEMO_PASSWORD = "demo password 1"


def assert_no_store(response) -> None:
    assert response.headers["Cache-Control"] == "no-store", response.request.path
    assert response.headers["Pragma"] == "no-cache"


def assert_cacheable(response) -> None:
    assert "no-store" not in response.headers.get("Cache-Control", "")
    assert "Pragma" not in response.headers


@pytest.fixture
def demo(app, client):
    user, _ = create_demo_user("demo", DEMO_PASSWORD, followers=20)
    token = csrf_token(client, "/signin")
    client.post("/signin", data={"login": "demo", "password": DEMO_PASSWORD, "csrf_token": token})
    return user


#: Pages of a signed-in user: the landing page greets them, and an error page counts too.
SIGNED_IN_PAGES = (
    "/dashboard/user",
    "/dashboard/user/github",
    "/dashboard/user/github/import",
    "/connect/github",
    "/user/demo",
    "/",
    "/dashboard/user/nowhere",
)
#: Downloads and JSON answers.
EXPORTS_AND_JSON = (
    "/dashboard/user/github/export/followers.csv",
    "/dashboard/user/github/export/posts.json",
    "/dashboard/user/mastodon/export/followers-graph.gexf",
    "/dashboard/user/github/status.json",
    "/dashboard/user/github/graph/followers.json",
)


def test_signed_in_pages_exports_and_json_are_not_stored(client, demo):
    for path in SIGNED_IN_PAGES:
        assert_no_store(client.get(path))
    for path in EXPORTS_AND_JSON:
        response = client.get(path)
        assert response.status_code == 200, path
        assert_no_store(response)
        response.close()


def test_static_files_keep_their_caching_when_signed_in(client, demo):
    response = client.get("/static/js/app.js")
    assert response.status_code == 200
    assert_cacheable(response)
    response.close()


def test_public_pages_may_be_cached(client):
    for path in ("/", "/signin", "/register"):
        assert_cacheable(client.get(path))
    response = client.get("/static/img/favicon.svg")
    assert_cacheable(response)
    response.close()


def test_json_and_downloads_are_not_stored_even_signed_out(app, client):
    app.add_url_rule("/_json", "json_answer", lambda: jsonify(ok=True))
    app.add_url_rule(
        "/_download",
        "download",
        lambda: Response("a,b\n", headers={"Content-Disposition": 'attachment; filename="x.csv"'}),
    )
    assert_no_store(client.get("/_json"))
    assert_no_store(client.get("/_download"))


def test_a_view_that_sets_its_own_cache_control_keeps_it(app, auth, user):
    app.add_url_rule(
        "/_cached", "cached", lambda: Response("x", headers={"Cache-Control": "private, max-age=5"})
    )
    auth.login()
    response = auth.client.get("/_cached")
    assert response.headers["Cache-Control"] == "private, max-age=5"
    assert response.headers["Pragma"] == "no-cache"
