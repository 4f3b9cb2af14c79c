"""Dashboard pages, lists, exports, imports and disconnecting, on the demo account."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import threading
from collections import defaultdict
from xml.etree import ElementTree

import networkx as nx
import pytest
import requests
from sqlalchemy import func, select
from werkzeug.serving import make_server

from app.dashboard import service
from app.demo.user import create_demo_user
from app.extensions import db
from app.models import Connection, CrossCheck, Person, Post, Snapshot, SyncRun
from app.networks import CONNECTORS
from tests.conftest import csrf_token
from tests.factories import PASSWORD, UserFactory
from tests.networks.archive_builders import connections_csv

DEMO_PASSWORD = "demo password 1"


@pytest.fixture
def demo(app, client):
    user, _ = create_demo_user("demo", DEMO_PASSWORD, followers=60)
    token = csrf_token(client, "/signin")
    client.post("/signin", data={"login": "demo", "password": DEMO_PASSWORD, "csrf_token": token})
    return user


def connection_of(user, network):
    return db.session.scalar(
        select(Connection).where(Connection.user_id == user.id, Connection.network == network)
    )


def snapshot_of(user, network) -> Snapshot:
    return connection_of(user, network).current_snapshot


def text(response) -> str:
    return response.get_data(as_text=True)


def test_home_cards_show_stored_counts(client, demo):
    page = text(client.get("/dashboard/user"))
    for network in CONNECTORS.values():
        snap = snapshot_of(demo, network.key)
        assert f'href="/dashboard/user/{network.key}"' in page
        assert f"Open {network.label}" in page
        assert f">{snap.followers_count:,}<" in page or f">{snap.followers_count}<" in page
    assert 'data-chart="spark-github"' in page  # two snapshots: a sparkline
    assert "Across networks" in page


def test_home_without_connections_has_connect_buttons(auth, client, user):
    auth.login()
    page = text(client.get("/dashboard/user"))
    for network in CONNECTORS.values():
        door = "connect" if network.door else "import"
        assert f'href="/dashboard/user/{network.key}/{door}"' in page
    assert "Once two or more networks have data" in page


def test_network_page_numbers_are_the_stored_ones(client, demo):
    snap = snapshot_of(demo, "bluesky")
    page = text(client.get("/dashboard/user/bluesky"))
    for stat_id, value in (
        ("stat-posts", snap.posts_count),
        ("stat-followers", snap.followers_count),
        ("stat-friends", snap.friends_count),
        ("stat-mutuals", snap.mutuals_count),
    ):
        assert re.search(rf'id="{stat_id}">{value:,}<', page), stat_id
    share = snap.results["timeline"]["response_share"]
    assert f">{round(100 * share)}%<" in page
    assert "Demo data: every person and post on this page is made up." in page
    for name in ("posts-by-month", "responses-by-month", "sentiment-by-month", "growth"):
        assert f'id="chart-{name}"' in page
    assert 'data-graph-url="/dashboard/user/bluesky/graph/followers.json"' in page


def test_network_page_says_what_linkedin_cannot_give(client, demo):
    page = text(client.get("/dashboard/user/linkedin"))
    assert "LinkedIn does not publish who your connections are connected to" in page
    assert "graph-viewer" not in page
    assert ">n/a<" in page  # their follower counts are not published


def first_rows(page: str, role: str) -> list[str]:
    section = page.split(f'id="{role}" role="tabpanel"')[1].split("</section>")[0]
    return re.findall(r">@([^<]+)</a></td>", section)


def sorted_in_sql(snap, role, sort, order, search=""):
    """The list as one plain SQL sort (the reference): known values first, then by id,
    both in the list's direction."""
    key = service.SORTS[role][sort]
    direction = (lambda column: column.desc()) if order == "desc" else (lambda column: column)
    params = service.people_params(snap, search)
    base = service.list_order(role, sort, order == "desc", "pattern" in params).base
    query = base.params(params).with_only_columns(Person.handle)
    return list(
        db.session.scalars(query.order_by(key.is_(None), direction(key), direction(Person.id)))
    )


def test_followers_list_sorted_by_overlap(client, demo):
    snap = snapshot_of(demo, "github")
    expected = sorted_in_sql(snap, "followers", "overlap", "desc")[:50]
    assert first_rows(text(client.get("/dashboard/user/github")), "followers") == expected


def next_link(page: str, role: str, rel: str = "next") -> str | None:
    section = page.split(f'id="{role}" role="tabpanel"')[1].split("</section>")[0]
    found = re.search(rf'rel="{rel}" href="([^"]+)"', section)
    return found.group(1).replace("&amp;", "&") if found else None


def walk(client, url: str, role: str, rel: str = "next") -> list[list[str]]:
    pages = []
    while url:
        page = text(client.get(url))
        pages.append(first_rows(page, role))
        url = next_link(page, role, rel)
    return pages


@pytest.mark.parametrize("sort", ["overlap", "handle", "name", "count", "community"])
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_next_links_walk_the_whole_list_in_order(client, demo, sort, order):
    snap = snapshot_of(demo, "bluesky")
    expected = sorted_in_sql(snap, "followers", sort, order)
    pages = walk(
        client, f"/dashboard/user/bluesky?list=followers&sort={sort}&order={order}", "followers"
    )
    assert [handle for rows in pages for handle in rows] == expected
    assert all(len(rows) == 50 for rows in pages[:-1])


def test_previous_links_walk_back_to_the_start(client, demo):
    snap = snapshot_of(demo, "x")
    expected = sorted_in_sql(snap, "followers", "count", "asc")
    url = "/dashboard/user/x?list=followers&sort=count&order=asc"
    last = url
    while (following := next_link(text(client.get(last)), "followers")) is not None:
        last = following
    back = walk(client, last, "followers", rel="prev")
    assert len(back) > 1
    assert [handle for rows in reversed(back) for handle in rows] == expected
    first = text(client.get(url))
    assert next_link(first, "followers", "prev") is None
    assert f"1\N{EN DASH}50 of {snap.followers_count:,}" in first


def test_friends_list_sort_search_and_pages(client, demo):
    snap = snapshot_of(demo, "x")
    handles = sorted_in_sql(snap, "friends", "handle", "asc")
    page = text(client.get("/dashboard/user/x?list=friends&sort=handle&order=asc"))
    assert first_rows(page, "friends") == handles[:50]
    assert f"{snap.friends_count:,} people" in page
    # an old page-number link still shows that page
    followers = sorted_in_sql(snap, "followers", "handle", "asc")
    assert len(followers) > 50
    page2 = text(client.get("/dashboard/user/x?list=followers&sort=handle&order=asc&page=2"))
    assert first_rows(page2, "followers") == followers[50:100]
    assert f"51\N{EN DASH}{min(100, len(followers))} of {snap.followers_count:,}" in page2
    target = handles[7]
    found = text(client.get(f"/dashboard/user/x?list=friends&q=@{target.upper()}"))
    assert target in first_rows(found, "friends")
    assert "list-total" not in found.split('id="friends" role="tabpanel"')[1]  # no count
    none = text(client.get("/dashboard/user/x?list=friends&q=zzzz-nobody"))
    assert "Nobody matches" in none


def test_a_search_is_paged_by_position(client, demo):
    snap = snapshot_of(demo, "github")
    expected = sorted_in_sql(snap, "followers", "handle", "desc", "a")
    assert len(expected) > 50  # more than a page
    pages = walk(
        client, "/dashboard/user/github?list=followers&sort=handle&order=desc&q=a", "followers"
    )
    assert [handle for rows in pages for handle in rows] == expected


@pytest.mark.parametrize(
    "query",
    [
        "after=forged",
        "before=" + "x" * 3000,
        "page=0",
        "page=-3",
        "page=100000000000",
        "page=x",
        "sort=pagerank&order=sideways",
    ],
)
def test_bad_paging_values_show_the_first_page(client, demo, query):
    snap = snapshot_of(demo, "github")
    page = text(client.get(f"/dashboard/user/github?list=followers&{query}"))
    assert first_rows(page, "followers") == sorted_in_sql(snap, "followers", "overlap", "desc")[:50]


def test_a_position_of_another_list_or_sort_starts_at_the_top(client, demo):
    snap = snapshot_of(demo, "github")
    page = text(client.get("/dashboard/user/github?list=followers&sort=handle&order=asc"))
    token = next_link(page, "followers").split("after=")[1].split("&")[0].split("#")[0]
    for query, role, sort, order in (
        (f"list=friends&sort=handle&order=asc&after={token}", "friends", "handle", "asc"),
        (f"list=followers&sort=handle&order=desc&after={token}", "followers", "handle", "desc"),
        (f"list=followers&sort=handle&order=asc&q=b&after={token}", "followers", "handle", "asc"),
    ):
        shown = first_rows(text(client.get(f"/dashboard/user/github?{query}")), role)
        search = "b" if "q=b" in query else ""
        assert shown == sorted_in_sql(snap, role, sort, order, search)[:50], query


def test_a_page_past_the_end_offers_the_way_back(client, demo):
    page = text(client.get("/dashboard/user/github?list=followers&page=90"))
    section = page.split('id="followers" role="tabpanel"')[1].split("</section>")[0]
    assert "No more followers past this point." in section
    assert next_link(page, "followers", "prev") is not None


def test_hostile_people_render_escaped_in_lists(client, demo):
    """Handles, names and links come from other people: a list row prints them escaped, and
    links only an http(s) URL."""
    snap = snapshot_of(demo, "github")
    people = db.session.scalars(
        select(Person)
        .where(Person.snapshot_id == snap.id, Person.is_follower)
        .order_by(Person.id)
        .limit(3)
    ).all()
    hostile = [
        ("<script>x</script>", '"><img src=x onerror=alert(1)>', "javascript:alert(1)"),
        ("a&b'", "Tom <b>", 'https://a.example/"><b>'),
        ("fb:1", "<i>Name</i> & co", 'https://a.example/?a=1&b="2"'),  # shown by name
    ]
    for person, (handle, name, url) in zip(people, hostile, strict=True):
        person.handle, person.name, person.url = handle, name, url
    db.session.commit()

    def row(search: str) -> str:
        page = text(client.get("/dashboard/user/github", query_string={"q": search}))
        followers = page.split('id="followers" role="tabpanel"')[1].split("</section>")[0]
        rows = re.findall(r"<tr>\s*<td>.*?</tr>", followers, re.DOTALL)
        assert len(rows) == 1 and "javascript:" not in page and "<script>x" not in page
        return re.sub(r"\s+", " ", rows[0])

    link = '<a href="{}" rel="noopener noreferrer" target="_blank">{}</a>'
    assert row("<script>").startswith(
        "<tr> <td>@&lt;script&gt;x&lt;/script&gt;</td> "
        "<td>&#34;&gt;&lt;img src=x onerror=alert(1)&gt;</td>"
    )
    assert row("a&b").startswith(
        "<tr> <td>"
        + link.format("https://a.example/&#34;&gt;&lt;b&gt;", "@a&amp;b&#39;")
        + "</td> <td>Tom &lt;b&gt;</td>"
    )
    assert row("<i>name").startswith(
        '<tr> <td><span class="text-muted small">no handle</span></td> <td>'
        + link.format(
            "https://a.example/?a=1&amp;b=&#34;2&#34;", "&lt;i&gt;Name&lt;/i&gt; &amp; co"
        )
        + "</td>"
    )


@pytest.mark.parametrize(
    "search", ["", "a", "ana b", "a&b=c#d", "100%+x", "é/ü?", "@bob", "~x.y_z-1", "'!$()*,;:"]
)
def test_list_links_match_url_for(app, search):
    """The lists' links are made from the page's path and a query string: the same URLs as
    ``url_for`` makes, whatever the search."""
    from flask import url_for

    from app.dashboard.views import ListLinks

    with app.test_request_context("/dashboard/user/github"):
        links = ListLinks("github", "friends", "name", "desc", search)
        shown = {"list": "friends", "sort": "name", "order": "desc", "q": search or None}
        assert links() == url_for("dashboard.network", network="github", _anchor="friends", **shown)
        token = "eyJh.bc-d_e"
        assert links(after=token) == url_for(
            "dashboard.network", network="github", _anchor="friends", **shown, after=token
        )
        for key, active_role, order in (
            ("name", "friends", "asc"),
            ("name", "followers", "desc"),
            ("count", "friends", "desc"),
        ):
            asked = {"list": "friends", "sort": key, "order": order, "q": search or None}
            expected = url_for("dashboard.network", network="github", _anchor="friends", **asked)
            assert links.sort(key, active_role) == expected


@pytest.mark.parametrize(
    "url",
    [
        "/dashboard/user/myspace",
        "/dashboard/user/github/export/followers.xlsx",
        "/dashboard/user/github/export/secrets.csv",
        "/dashboard/user/github/export/posts.gexf",
        "/dashboard/user/github/graph/enemies.json",
    ],
)
def test_unknown_things_are_404(client, demo, url):
    assert client.get(url).status_code == 404


def test_other_users_pages_and_exports_are_404(app, client, demo):
    other = UserFactory(username="intruder")
    intruder = app.test_client()
    token = csrf_token(intruder, "/signin")
    intruder.post("/signin", data={"login": "intruder", "password": PASSWORD, "csrf_token": token})
    for url in (
        "/dashboard/user/github",
        "/dashboard/user/github/export/followers.csv",
        "/dashboard/user/github/graph/followers.json",
        "/dashboard/user/github/status.json",
        "/dashboard/user/github/export/followers-graph.json",
    ):
        assert intruder.get(url).status_code == 404, url
    token = csrf_token(intruder, "/dashboard/user")
    response = intruder.post(
        "/dashboard/user/github/disconnect", data={"csrf_token": token, "confirm": "y"}
    )
    assert response.status_code == 404
    assert connection_of(demo, "github") is not None
    assert other.id != demo.id


def download(client, url):
    response = client.get(url)
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert re.fullmatch(
        r'attachment; filename="[a-z]+-[a-z-]+-\d{4}-\d\d-\d\d\.[a-z]+"', disposition
    )
    return text(response)


def test_list_exports_parse_back_to_the_list(client, demo):
    snap = snapshot_of(demo, "github")
    stored = {
        p.handle: p
        for p in db.session.scalars(
            select(Person).where(Person.snapshot_id == snap.id, Person.is_follower.is_(True))
        )
    }
    rows = list(
        csv.DictReader(io.StringIO(download(client, "/dashboard/user/github/export/followers.csv")))
    )
    assert len(rows) == snap.followers_count == len(stored)
    for row in rows:
        person = stored[row["handle"]]
        expected = person.my_followers_they_follow
        assert row["my_followers_they_follow"] == ("" if expected is None else str(expected))
        assert row["follows_back"] == str(person.is_friend).lower()
    data = json.loads(download(client, "/dashboard/user/github/export/friends.json"))
    assert len(data) == snap.friends_count
    assert set(data[0]) == {
        "handle",
        "name",
        "followers_count",
        "following_count",
        "common_friends",
        "follows_back",
        "community",
    }
    posts = json.loads(download(client, "/dashboard/user/github/export/posts.json"))
    assert len(posts) == snap.posts_count
    posts_csv = list(
        csv.DictReader(io.StringIO(download(client, "/dashboard/user/github/export/posts.csv")))
    )
    assert [p["id"] for p in posts_csv] == [p["id"] for p in posts]


def test_overlap_counts_recomputed_from_graph_export(client, demo):
    graph = json.loads(download(client, "/dashboard/user/mastodon/export/followers-graph.json"))
    me = next(node["id"] for node in graph["nodes"] if node["me"])
    followers = {link["source"] for link in graph["links"] if link["target"] == me}
    following = defaultdict(set)
    for link in graph["links"]:
        following[link["source"]].add(link["target"])
    rows = json.loads(download(client, "/dashboard/user/mastodon/export/followers.json"))
    by_handle = {n["label"].lstrip("@"): n["id"] for n in graph["nodes"]}
    checked = 0
    for row in rows:
        if row["my_followers_they_follow"] is None:
            continue
        pid = by_handle[row["handle"]]
        assert row["my_followers_they_follow"] == len(following[pid] & followers)
        checked += 1
    assert checked > 0.8 * len(rows)


def test_graph_exports_in_gephi_formats(client, demo):
    snap = snapshot_of(demo, "bluesky")
    for fmt in ("gexf", "graphml"):
        body = download(client, f"/dashboard/user/bluesky/export/friends-graph.{fmt}")
        ElementTree.fromstring(body)
        graph = (nx.read_gexf if fmt == "gexf" else nx.read_graphml)(io.BytesIO(body.encode()))
        assert graph.number_of_nodes() == snap.friends_count + 1
    body = download(client, "/dashboard/user/bluesky/export/friends-graph.csv")
    kinds = [row["kind"] for row in csv.DictReader(io.StringIO(body))]
    assert kinds.count("node") == snap.friends_count + 1 and "edge" in kinds


def test_csv_export_escapes_formulas(client, demo):
    snap = snapshot_of(demo, "github")
    person = db.session.scalar(
        select(Person).where(Person.snapshot_id == snap.id, Person.is_follower.is_(True))
    )
    person.name = '=HYPERLINK("http://evil.example","click")'
    db.session.commit()
    rows = list(
        csv.DictReader(io.StringIO(download(client, "/dashboard/user/github/export/followers.csv")))
    )
    row = next(r for r in rows if r["handle"] == person.handle)
    assert row["name"] == "'" + person.name
    post = db.session.scalar(select(Post).where(Post.snapshot_id == snap.id))
    post.text = "@SUM(1+1)*cmd|' /C calc'!A0"
    post.kind = "-post"
    db.session.commit()
    posts = list(
        csv.DictReader(io.StringIO(download(client, "/dashboard/user/github/export/posts.csv")))
    )
    row = next(r for r in posts if r["id"] == post.external_id)
    assert (row["text"], row["kind"]) == ("'" + post.text, "'-post")
    assert row["created_at"] == post.created_at.isoformat()


def test_drawn_graph_json(client, demo):
    snap = snapshot_of(demo, "x")
    body = client.get("/dashboard/user/x/graph/friends.json").get_json()
    assert len(body["nodes"]) == snap.friends_count + 1
    assert body["total"] == snap.friends_count and body["covered"] == snap.friends_count
    owner = [node["id"] for node in body["nodes"] if node["me"]]
    assert len(owner) == 1
    assert all(owner[0] not in (link["source"], link["target"]) for link in body["links"])
    stored = {(link["source"], link["target"]) for link in snap.friends_graph["links"]}
    drawn = {(link["source"], link["target"]) for link in body["links"]}
    assert drawn == {edge for edge in stored if owner[0] not in edge} and drawn


def test_status_json(client, demo):
    body = client.get("/dashboard/user/github/status.json").get_json()
    assert body["run"]["status"] == "done"
    assert body["snapshot_id"] == snapshot_of(demo, "github").id


def test_sync_now_adds_a_snapshot(client, demo):
    before = db.session.scalar(select(func.count()).select_from(Snapshot))
    token = csrf_token(client, "/dashboard/user/github")
    response = client.post("/dashboard/user/github/sync", data={"csrf_token": token})
    assert response.headers["Location"] == "/dashboard/user/github"
    assert db.session.scalar(select(func.count()).select_from(Snapshot)) == before + 1
    assert client.post("/dashboard/user/github/sync").status_code == 400  # no CSRF token


def test_disconnect_needs_confirmation(client, demo):
    token = csrf_token(client, "/dashboard/user")
    response = client.post("/dashboard/user/github/disconnect", data={"csrf_token": token})
    assert response.status_code == 302
    assert connection_of(demo, "github") is not None
    response = client.post(
        "/dashboard/user/github/disconnect", data={"csrf_token": token, "confirm": "y"}
    )
    assert response.headers["Location"] == "/dashboard/user"
    db.session.expire_all()
    assert connection_of(demo, "github") is None
    assert "github" not in db.session.get(CrossCheck, demo.id).results["networks"]
    assert client.get("/dashboard/user/github").status_code == 404


def test_cross_network_panel(client, demo):
    results = db.session.get(CrossCheck, demo.id).results
    assert results["strong"] > 0
    page = text(client.get("/dashboard/user"))
    first = results["pairs"][0]
    assert CONNECTORS[first["networks"][0]].label in page
    strong = next(m for m in results["matches"] if not m["weak"])
    assert f"@{strong['people'][0]['handle']}" in page


def upload(client, network, filename, content: bytes):
    token = csrf_token(client, f"/dashboard/user/{network}/import")
    return client.post(
        f"/dashboard/user/{network}/import",
        data={"csrf_token": token, "archive": (io.BytesIO(content), filename)},
        content_type="multipart/form-data",
    )


def test_import_page_says_what_to_get(auth, client, user):
    auth.login()
    page = text(client.get("/dashboard/user/linkedin/import"))
    assert "Get a copy of your data" in page and 'enctype="multipart/form-data"' in page
    assert client.get("/dashboard/user/github/import").status_code == 404


def test_import_linkedin_connections(app, auth, client, user, tmp_path):
    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    auth.login()
    rows = [
        (
            "Ada",
            "Lovelace",
            "https://www.linkedin.com/in/ada",
            "",
            "Analytical",
            "CTO",
            "12 Mar 2021",
        ),
        (
            "Alan",
            "Turing",
            "https://www.linkedin.com/in/alan",
            "",
            "Bletchley",
            "Lead",
            "01 Jan 2020",
        ),
    ]
    response = upload(client, "linkedin", "Connections.csv", connections_csv(rows).encode())
    assert response.headers["Location"] == "/dashboard/user/linkedin"
    connection = connection_of(user, "linkedin")
    assert connection.source == "import"
    snap = connection.current_snapshot
    assert (snap.followers_count, snap.friends_count) == (2, 2)
    assert list((tmp_path / "uploads").iterdir()) == []  # the upload is deleted
    page = text(client.get("/dashboard/user/linkedin"))
    assert "imported" in page and "@" in page


def test_bad_import_keeps_what_was_stored(app, client, demo, tmp_path):
    app.config["UPLOAD_FOLDER"] = str(tmp_path)
    kept = snapshot_of(demo, "linkedin").id
    response = upload(client, "linkedin", "Connections.csv", b"")
    assert response.status_code == 302
    run = db.session.scalar(select(SyncRun).order_by(SyncRun.id.desc()))
    assert run.status == "failed" and run.error
    assert snapshot_of(demo, "linkedin").id == kept
    page = text(client.get("/dashboard/user/linkedin"))
    assert "Last sync failed" in page


def test_import_without_file_shows_error(auth, client, user):
    auth.login()
    token = csrf_token(client, "/dashboard/user/x/import")
    response = client.post(
        "/dashboard/user/x/import", data={"csrf_token": token}, content_type="multipart/form-data"
    )
    assert "Choose the archive file to upload." in text(response)


def test_too_large_upload_is_413(app, auth, client, user):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    auth.login()
    response = upload(client, "x", "archive.zip", b"x" * 4096)
    assert response.status_code == 413
    assert "File too large" in text(response)


def test_partial_lists_show_the_total(client, demo):
    snap = snapshot_of(demo, "facebook")
    results = dict(snap.results)
    results["profile"] = {**results["profile"], "followers_count": snap.followers_count + 500}
    snap.results = results
    db.session.commit()
    page = text(client.get("/dashboard/user/facebook"))
    assert f"listed; {snap.followers_count + 500:,} in total" in page


def test_sentiment_numbers_table(client, demo):
    snap = snapshot_of(demo, "github")
    first = snap.results["sentiment"]["by_month"][0]
    page = text(client.get("/dashboard/user/github"))
    assert f'<td>{first["period"]}</td><td class="text-end">{first["positive"]}</td>' in page


@pytest.fixture
def live_server(app):
    """The app on a real HTTP server in a thread, with no app context borrowed from the test."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


def test_exports_stream_to_the_end_on_a_real_server(live_server, demo):
    browser = requests.Session()
    page = browser.get(f"{live_server}/signin", timeout=10).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    browser.post(
        f"{live_server}/signin",
        timeout=10,
        data={"login": "demo", "password": DEMO_PASSWORD, "csrf_token": token},
    )
    snap = snapshot_of(demo, "github")
    posts = browser.get(f"{live_server}/dashboard/user/github/export/posts.csv", timeout=30)
    assert len(list(csv.DictReader(io.StringIO(posts.text)))) == snap.posts_count
    posts = browser.get(f"{live_server}/dashboard/user/github/export/posts.json", timeout=30)
    assert len(posts.json()) == snap.posts_count
    people = browser.get(f"{live_server}/dashboard/user/github/export/followers.json", timeout=30)
    assert len(people.json()) == snap.followers_count
    graph = browser.get(
        f"{live_server}/dashboard/user/github/export/followers-graph.json", timeout=30
    ).json()
    assert len(graph["nodes"]) == snap.followers_count + 1 and graph["links"]


def test_most_positive_and_negative_posts_link_to_the_originals(client, demo):
    sentiment = snapshot_of(demo, "mastodon").results["sentiment"]
    page = text(client.get("/dashboard/user/mastodon"))
    for item in (sentiment["most_positive"][0], sentiment["most_negative"][0]):
        assert item["url"] and f'href="{item["url"]}"' in page
        assert f"{item['score']:+.2f}" in page


@pytest.fixture
def small_list(app):
    """A snapshot of 23 followers: counts with ties and unknowns, names with gaps."""
    user = UserFactory(username="lister")
    connection = Connection(user_id=user.id, network="github", source="demo")
    db.session.add(connection)
    db.session.commit()
    snapshot = Snapshot(connection_id=connection.id, complete=True, followers_count=23)
    db.session.add(snapshot)
    db.session.commit()
    for number in range(23):
        db.session.add(
            Person(
                snapshot_id=snapshot.id,
                external_id=str(number),
                handle=f"P{number % 7}x{number}",
                name=None if number % 4 == 0 else f"name {number % 5}",
                followers_count=None if number % 3 == 0 else number % 4,
                is_follower=True,
            )
        )
    db.session.add(
        Person(snapshot_id=snapshot.id, external_id="f", handle="friend", is_friend=True)
    )
    db.session.commit()
    return snapshot


@pytest.mark.parametrize("sort", ["count", "name", "handle"])
@pytest.mark.parametrize("order", ["asc", "desc"])
@pytest.mark.parametrize("per_page", [1, 4, 5, 30])
def test_keyset_pages_forward_backward_and_by_offset(small_list, sort, order, per_page):
    expected = sorted_in_sql(small_list, "followers", sort, order)
    assert len(expected) == 23 and "friend" not in expected

    def handles(window):
        return [person.handle for person in window.rows]

    forward, window = (
        [],
        service.people_page(small_list, "followers", sort=sort, order=order, per_page=per_page),
    )
    pages = [window]
    while window.has_next:
        window = service.people_page(
            small_list, "followers", sort=sort, order=order, after=window.last, per_page=per_page
        )
        pages.append(window)
    for page in pages:
        assert page.start == len(forward)
        forward += handles(page)
    assert forward == expected
    # backwards from the last page gives the same pages
    back = pages[-1]
    for page in reversed(pages[:-1]):
        back = service.people_page(
            small_list, "followers", sort=sort, order=order, before=back.first, per_page=per_page
        )
        assert handles(back) == handles(page) and back.start == page.start
    assert not back.has_prev
    # the old page numbers land on the same rows
    for number, page in enumerate(pages, 1):
        by_number = service.people_page(
            small_list, "followers", sort=sort, order=order, page=number, per_page=per_page
        )
        assert handles(by_number) == handles(page)


def test_list_statements_are_built_once_and_bind_their_values(small_list):
    """A list's statements are made once and shared by every snapshot: the snapshot, the
    position and the search are bound at each read, never built into a kept statement."""
    other = Snapshot(connection_id=small_list.connection_id, complete=True, followers_count=4)
    db.session.add(other)
    db.session.commit()
    for number, handle in enumerate(["a_1", "ax1", "b%2", "c"]):
        db.session.add(
            Person(
                snapshot_id=other.id,
                external_id=f"o{number}",
                handle=handle,
                followers_count=number,
                is_follower=True,
            )
        )
    db.session.commit()

    def handles(snapshot, **asked):
        window = service.people_page(snapshot, "followers", sort="count", per_page=2, **asked)
        return window, [person.handle for person in window.rows]

    order = service.list_order("followers", "count", True, False)
    window, first = handles(other)
    _, second = handles(other, after=window.last)
    assert (first, second) == (["c", "b%2"], ["ax1", "a_1"])
    kept = dict(order.statements)
    assert kept and service.list_order("followers", "count", True, False) is order
    window, _ = handles(small_list)
    expected = sorted_in_sql(small_list, "followers", "count", "desc")[2:4]
    assert handles(small_list, after=window.last)[1] == expected
    assert order.statements == kept  # the same statements, other values
    assert handles(other, search="_")[1] == ["a_1"]  # a search's _ and % are literal
    assert handles(other, search="%")[1] == ["b%2"]


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ("x", int),
        ([0, 1, 2], int),
        ([2, None, 1, 0], int),
        ([1, 5, 1, 0], int),
        ([0, "a", 1, 0], int),
        ([0, 1, 1, 0], str),
        ([0, True, 1, 0], int),
        ([0, 1, 1, -1], int),
        ([0, "x" * 1001, 1, 0], str),
        ([0, 1, "1", 0], int),
    ],
)
def test_positions_are_checked(raw, kind):
    from app.dashboard import keyset

    with pytest.raises(keyset.TokenError):
        keyset.Position.load(raw, kind)
    assert keyset.Position.load([1, None, 3, 4], kind) == keyset.Position(1, None, 3, 4)


def redis_or_skip(url: str):
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=0.5)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip("no Redis at " + url)
    return client


def test_fragments_are_kept_per_user_and_snapshot(app, client, demo):
    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/7"
    store = redis_or_skip(url)
    app.config.update(REDIS_URL=url, FRAGMENT_CACHE=True)
    connection = connection_of(demo, "github")
    snap = connection.current_snapshot
    prefix = f"md:fragment:v1:{demo.id}:{snap.id}:"
    for found in store.scan_iter(prefix + "*"):
        store.delete(found)
    first = text(client.get("/dashboard/user/github"))
    kept = sorted(store.scan_iter(prefix + "*"))
    assert len(kept) == 3  # the overview and both lists
    # a kept fragment is served as stored: a row changed under the same snapshot is not read
    shown = first_rows(first, "followers")[0]
    person = db.session.scalar(
        select(Person).where(Person.snapshot_id == snap.id, Person.handle == shown)
    )
    person.handle = "renamed-under-the-cache"
    db.session.commit()
    again = text(client.get("/dashboard/user/github"))
    assert first_rows(again, "followers")[0] == shown
    # another sort is another fragment
    text(client.get("/dashboard/user/github?list=followers&sort=handle"))
    assert len(list(store.scan_iter(prefix + "*"))) == 4
    # a new snapshot misses: the page reads the rows again
    older = db.session.scalar(
        select(Snapshot.id).where(Snapshot.connection_id == connection.id, Snapshot.id != snap.id)
    )
    connection.current_snapshot_id = older
    db.session.commit()
    fresh = text(client.get("/dashboard/user/github"))
    assert any(store.scan_iter(f"md:fragment:v1:{demo.id}:{older}:*"))
    assert "renamed-under-the-cache" not in fresh
    # with Redis gone the page still renders
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    assert client.get("/dashboard/user/github").status_code == 200
    for found in store.scan_iter(f"md:fragment:v1:{demo.id}:*"):
        store.delete(found)


def count_statements(client, url: str) -> int:
    from sqlalchemy import event

    seen = []

    def listen(*args):
        seen.append(args[2])

    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
    return len(seen)


def test_pages_run_a_fixed_number_of_statements(client, demo):
    # seven connected networks, two syncs each: the dashboard reads them all at once
    assert len(demo.connections) == 7
    assert count_statements(client, "/dashboard/user") <= 12
    # a visit after that also reads what changed since (the same few queries for 7 networks)
    assert count_statements(client, "/dashboard/user") <= 10
    # the network page: both lists' first pages and the stored results, no count
    assert count_statements(client, "/dashboard/user/github") <= 8
    assert count_statements(client, "/dashboard/user/github?list=friends&sort=name&q=a") <= 8
