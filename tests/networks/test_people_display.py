"""People without a handle (Facebook, LinkedIn exports) are shown by name, not as ``@id``."""

from __future__ import annotations

from types import SimpleNamespace

from flask import Flask, render_template_string

from app.dashboard.service import ListRow, list_row
from app.networks.text import is_handle, no_handle

TEMPLATE = (
    "{% from 'dashboard/_macros.html' import people_table %}"
    "{{ people_table('followers', listing, 'overlap', 'desc', '', 'followers', network, urls) }}"
)
SORT_URLS = {
    key: f"/sorted-by-{key}" for key in ("handle", "name", "count", "overlap", "community")
}


def _row(handle: str, name: str | None, url: str | None) -> ListRow:
    person = SimpleNamespace(
        handle=handle,
        name=name,
        url=url,
        followers_count=None,
        following_count=None,
        my_followers_they_follow=None,
        common_friends=None,
        is_friend=False,
        is_follower=True,
        follower_community=None,
        friend_community=None,
    )
    return list_row(person, "followers")


def test_handle_helpers() -> None:
    assert no_handle("fb:1234abcd") == "fb:1234abcd"
    assert no_handle("1234") == "id:1234"
    assert not is_handle("fb:1234abcd") and not is_handle("did:plc:abc") and not is_handle("")
    assert is_handle("ana") and is_handle("ana@social.example") and is_handle("ana.bsky.social")


def test_people_table_shows_names_for_ids(app: Flask) -> None:
    rows = [
        _row("ana", "Ana", "https://x.com/ana"),
        _row("li:0d1a767032216bcd", "Đinh Ngọc Thiện", "https://www.linkedin.com/in/dinh"),
        _row("fb:1403b975b886ea7a", "สมชาย ใจดี", None),
        _row("did:plc:bob", None, "https://bsky.app/profile/did:plc:bob"),
    ]
    listing = SimpleNamespace(
        rows=rows, total=len(rows), start=0, end=len(rows), prev_url=None, next_url=None
    )
    network = SimpleNamespace(key="facebook")
    with app.test_request_context("/dashboard/user/facebook"):
        html = render_template_string(TEMPLATE, listing=listing, network=network, urls=SORT_URLS)
    assert ">@ana</a>" in html
    assert ">Đinh Ngọc Thiện</a>" in html and "@li:" not in html
    assert "สมชาย ใจดี" in html and "@fb:" not in html
    assert html.count("no handle") == 2
    assert ">@did:plc:bob</a>" in html  # an id with no name is all there is to show


def test_shown_handle_names_people_without_one() -> None:
    from app.networks.text import shown_handle

    assert (
        shown_handle("ana") == "@ana"
        and shown_handle("ana@social.example", "Ana") == "@ana@social.example"
    )
    assert shown_handle("li:0d1a767032216bcd", "Đinh Ngọc Thiện") == "Đinh Ngọc Thiện"
    # Without a name the id is all there is, as the list pages show it.
    assert shown_handle("did:plc:bob") == "@did:plc:bob"
    assert shown_handle(None) == "someone without a handle"


def test_growth_lists_name_people_without_a_handle(auth, client, user) -> None:
    """Someone who left a LinkedIn export (no URL column value, so no handle) is named, on
    the network page, never shown as ``@li:…``."""
    from tests.networks.archive_builders import connections_csv
    from tests.test_dashboard import text, upload

    ada = ("Ada", "Lovelace", "https://www.linkedin.com/in/ada", "", "", "", "12 Mar 2021")
    grace = ("Grace", "Hopper", "", "", "", "", "01 Jan 2020")
    auth.login()
    upload(client, "linkedin", "Connections.csv", connections_csv([ada, grace]).encode())
    upload(client, "linkedin", "Connections.csv", connections_csv([ada]).encode())
    page = text(client.get("/dashboard/user/linkedin"))
    assert "Grace Hopper" in page and "@li:" not in page
