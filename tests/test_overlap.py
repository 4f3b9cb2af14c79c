"""The audience overlap picture: people per exact combination of networks, against the
cross-network table (pairs) and the matches themselves; weak name-only matches stay apart."""

from __future__ import annotations

import re
from collections import Counter
from itertools import combinations

import pytest
from sqlalchemy import select

from app.analysis.matching import (
    Member,
    combinations_of,
    combinations_of_listed,
    find_matches,
    summarise,
)
from app.dashboard import service
from app.demo.user import create_demo_user
from app.extensions import db
from app.models import CrossCheck
from app.sync.matches import refresh_matches
from tests.conftest import csrf_token
from tests.factories import PASSWORD, UserFactory

LABELS = {"github": "GitHub", "mastodon": "Mastodon", "bluesky": "Bluesky", "x": "X"}
DEMO_PASSWORD = "demo password 1"


def person(network, handle, name=None, follower=True, friend=False):
    return Member(network, f"{network}-{handle}", handle, name, None, (), follower, friend)


@pytest.fixture
def people():
    """ada on four networks, bob on three, cy on two, dee on two, and two name-only pairs."""
    return {
        "github": [
            person("github", "adalove"),
            person("github", "bobross", friend=True),
            person("github", "cyborg"),
            person("github", "nameonly1", "Eve Smith"),
        ],
        "mastodon": [
            person("mastodon", "adalove@hachyderm.io"),
            person("mastodon", "bobross@mastodon.social", friend=True),
            person("mastodon", "deedee@x.y", follower=False, friend=True),
            person("mastodon", "other1", "Eve Smith"),
        ],
        "bluesky": [
            person("bluesky", "adalove.bsky.social", follower=False),
            person("bluesky", "bobross.bsky.social", friend=True),
            person("bluesky", "cyborg.bsky.social"),
        ],
        "x": [person("x", "adalove"), person("x", "deedee"), person("x", "zed", "Eve Smith")],
    }


def test_combinations_count_each_person_once_under_their_networks(people):
    matches = find_matches(people)
    combos = combinations_of(matches)
    assert combos == [
        {
            "networks": ["bluesky", "github", "mastodon", "x"],
            "people": 1,
            "follow_all": 0,  # ada does not follow you on Bluesky
            "friends_all": 0,
        },
        {
            "networks": ["bluesky", "github", "mastodon"],
            "people": 1,
            "follow_all": 1,
            "friends_all": 1,
        },
        {"networks": ["bluesky", "github"], "people": 1, "follow_all": 1, "friends_all": 0},
        {"networks": ["mastodon", "x"], "people": 1, "follow_all": 0, "friends_all": 0},
    ]
    summary = summarise(matches, LABELS)
    assert summary["weak"] >= 1  # the Eve Smiths: listed, not counted
    assert sum(c["people"] for c in combos) == summary["strong"]
    assert combinations_of_listed(summary["matches"]) == combos


def pair_counts(combos):
    """The pairs table recomputed from the combinations: a person on three networks is on
    each of their three pairs."""
    counts: Counter[tuple[str, str]] = Counter()
    for combo in combos:
        for pair in combinations(combo["networks"], 2):
            counts[pair] += combo["people"]
    return counts


def test_the_combinations_add_up_to_the_pairs_table(people):
    matches = find_matches(people)
    summary = summarise(matches, LABELS)
    table = {tuple(row["networks"]): row["people"] for row in summary["pairs"]}
    assert pair_counts(combinations_of(matches)) == table


@pytest.fixture
def demo(app, client):
    user, _ = create_demo_user("demo", DEMO_PASSWORD, followers=60)
    token = csrf_token(client, "/signin")
    client.post("/signin", data={"login": "demo", "password": DEMO_PASSWORD, "csrf_token": token})
    return user


def test_demo_chart_numbers_match_the_table_and_the_matches(client, demo):
    results = db.session.get(CrossCheck, demo.id).results
    combos = results["combinations"]
    assert any(len(combo["networks"]) >= 3 for combo in combos)  # three or more networks
    # against the cross-network table
    table = {tuple(row["networks"]): row["people"] for row in results["pairs"]}
    assert pair_counts(combos) == table
    # against the matches themselves, counted independently
    strong = Counter(
        tuple(sorted(p["network"] for p in match["people"]))
        for match in results["matches"]
        if not match["weak"]
    )
    assert {tuple(c["networks"]): c["people"] for c in combos} == dict(strong)
    assert sum(strong.values()) == results["strong"]

    page = client.get("/dashboard/user").get_data(as_text=True)
    drawn = {
        tuple(networks.split()): int(count)
        for count, networks in re.findall(
            r'class="upset-column" data-people="(\d+)" data-networks="([a-z ]+)"', page
        )
    }
    assert drawn == dict(strong)
    assert "on three or more" in page
    assert f"The {results['weak']} who share only a display name are not counted" in page


def test_each_bar_links_to_its_people(client, demo):
    results = db.session.get(CrossCheck, demo.id).results
    page = client.get("/dashboard/user").get_data(as_text=True)
    for combo in results["combinations"]:
        anchor = service.overlap_id(combo["networks"])
        url = f"/dashboard/user/matches?combo={anchor}"
        assert f'href="{url}"' in page
        listing = client.get(url).get_data(as_text=True)
        table = listing.split('id="matches"', 1)[1].split("</table>", 1)[0]
        members = [
            match
            for match in results["matches"]
            if not match["weak"]
            and sorted(p["network"] for p in match["people"]) == combo["networks"]
        ]
        assert table.count("<tr>") - 1 == combo["people"] == len(members)  # less the header
        for match in members:
            for found in match["people"]:
                assert f"@{found['handle']}" in table


def test_the_dashboard_lists_only_the_top_matches(client, demo):
    results = db.session.get(CrossCheck, demo.id).results
    strong = [match for match in results["matches"] if not match["weak"]]
    assert len(strong) > service.TOP_MATCHES
    page = client.get("/dashboard/user").get_data(as_text=True)
    top = page.split('id="top-matches"', 1)[1].split("</table>", 1)[0]
    assert top.count("<tr>") - 1 == service.TOP_MATCHES
    assert f"All {len(strong)} people matched by a link or handle" in page
    # the full list, a page at a time, strongest first, then the weak ones apart
    listed = []
    url = "/dashboard/user/matches"
    while url:
        body = client.get(url).get_data(as_text=True)
        listed += re.findall(r"<tr>\s*<td>(.*?)</td>", body.split('id="matches"', 1)[1], re.S)
        found = re.search(r'rel="next" href="([^"]+)"', body)
        url = found.group(1).replace("&amp;", "&") if found else None
    assert len(listed) == len(strong)
    weak = client.get("/dashboard/user/matches?kind=weak").get_data(as_text=True)
    weak_listed = sum(1 for match in results["matches"] if match["weak"])
    assert weak_listed > 1
    assert f"{weak_listed} people listed: a weak signal" in weak


def test_the_matches_page_is_the_users_own(app, demo):
    assert app.test_client().get("/dashboard/user/matches").status_code == 302  # sign in
    UserFactory(username="intruder")
    intruder = app.test_client()
    token = csrf_token(intruder, "/signin")
    intruder.post("/signin", data={"login": "intruder", "password": PASSWORD, "csrf_token": token})
    assert intruder.get("/dashboard/user/matches").status_code == 404  # no check of theirs


def test_no_inline_script_or_style_in_the_chart(client, demo):
    page = client.get("/dashboard/user").get_data(as_text=True)
    chart = page.split('<figure class="overlap', 1)[1].split("</figure>", 1)[0]
    assert "style=" not in chart and "<script" not in chart and "<style" not in chart


def test_older_checks_are_counted_from_the_listed_matches(client, demo):
    check = db.session.get(CrossCheck, demo.id)
    stored = dict(check.results)
    combos = stored.pop("combinations")
    assert service.overlap_combinations(stored) == (combos, True)
    # the listed matches cut short: counted, but said to be incomplete
    cut = {**stored, "matches": [m for m in stored["matches"] if not m["weak"]][1:]}
    chart = service.overlap_chart(cut)
    assert chart is not None and chart["complete"] is False
    check.results = cut
    db.session.commit()
    page = client.get("/dashboard/user").get_data(as_text=True)
    assert "Counted from the listed matches only" in page


def test_no_chart_without_strong_matches(app, demo):
    assert service.overlap_chart(None) is None
    assert service.overlap_chart({"combinations": [], "matches": []}) is None
    refresh = refresh_matches(demo.id)
    assert refresh.results["combinations"]
    assert db.session.scalar(select(CrossCheck.user_id)) == demo.id


def test_the_api_gives_the_combinations(client, demo):
    from app.api.tokens import create_token

    _, token = create_token(demo, "overlap")
    body = client.get("/api/v1/matches", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert body["combinations"] == db.session.get(CrossCheck, demo.id).results["combinations"]
