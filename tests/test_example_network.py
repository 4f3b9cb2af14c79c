"""Adding a network is adding one folder: Pebble (``tests/example_network/``), registered
here, goes through the real connect page, sync, dashboard, exports and import like the
built-in networks, with no code of its own outside its folder."""

from __future__ import annotations

import csv
import io
import json

import pytest

from app.extensions import db
from app.models import Connection
from app.networks import CONNECTORS
from app.networks.registry import register, unregister
from tests.conftest import csrf_token
from tests.example_network import Pebble
from tests.example_network.fake import FakePebble
from tests.test_dashboard import text, upload


@pytest.fixture
def pebble(app):
    register(Pebble)
    with FakePebble() as server:
        app.config["PEBBLE_API_URL"] = server.url
        yield server
    unregister("pebble")


def connect(client, handle: str):
    token = csrf_token(client, "/dashboard/user/pebble/connect")
    return client.post(
        "/dashboard/user/pebble/connect", data={"csrf_token": token, "handle": handle}
    )


def test_the_registry_lists_it_while_registered(pebble):
    assert list(CONNECTORS)[-1] == "pebble"
    assert CONNECTORS["pebble"].can_fetch and CONNECTORS["pebble"].can_import


def test_connect_page_shows_the_networks_own_partial(auth, client, user, pebble):
    auth.login()
    page = text(client.get("/dashboard/user/pebble/connect"))
    assert "Pebble publishes followers and posts openly" in page
    assert "Pebble handle" in page and "Like ada." in page
    assert "Import archive" in page
    assert "Connect Pebble" in text(client.get("/dashboard/user"))


def test_connect_by_handle_syncs_and_shows_the_page(auth, client, user, pebble):
    auth.login()
    response = connect(client, "@Ada")
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard/user/pebble"
    connection = db.session.scalars(db.select(Connection)).one()
    assert (connection.network, connection.source, connection.handle) == ("pebble", "public", "ada")
    snapshot = connection.current_snapshot
    assert (snapshot.followers_count, snapshot.friends_count, snapshot.posts_count) == (2, 1, 2)
    assert snapshot.mutuals_count == 1  # bob follows ada and ada follows bob
    assert snapshot.results["notes"][0] == "Pebble does not publish who your followers follow."
    assert [r.path for r in pebble.requests] == [
        "/users/ada",  # the lookup that checked the handle
        "/users/ada",
        "/users/ada/followers",
        "/users/ada/following",
        "/users/ada/posts",
    ]
    page = text(client.get("/dashboard/user/pebble"))
    assert "@ada" in page and "@bob" in page and "@cy" in page

    rows = list(
        csv.reader(io.StringIO(text(client.get("/dashboard/user/pebble/export/followers.csv"))))
    )
    assert rows[0][:2] == ["handle", "name"]
    assert sorted(row[1] for row in rows[1:]) == ["'=Cy", "Bob"]  # formulas escaped


def test_a_handle_the_network_does_not_know_is_refused_on_the_form(auth, client, user, pebble):
    auth.login()
    response = connect(client, "nobody")
    assert response.status_code == 200
    assert "Pebble has no account called nobody." in text(response)
    assert "A Pebble handle is letters and digits only." in text(connect(client, "no body!"))
    assert db.session.scalars(db.select(Connection)).all() == []


def test_its_archive_imports_through_the_dashboard(app, auth, client, user, pebble, tmp_path):
    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    auth.login()
    export = {
        "me": {"id": 1, "handle": "ada"},
        "followers": [{"id": 2, "handle": "bob"}, {"id": 3, "handle": "cy"}],
        "following": [{"id": 2, "handle": "bob"}],
        "posts": [{"id": 9, "text": "hello", "created_at": "2026-09-09T09:09:00+00:00"}],
    }
    response = upload(client, "pebble", "pebble.json", json.dumps(export).encode())
    assert response.headers["Location"] == "/dashboard/user/pebble"
    connection = db.session.scalars(db.select(Connection)).one()
    assert connection.source == "import"
    snapshot = connection.current_snapshot
    assert (snapshot.followers_count, snapshot.friends_count, snapshot.posts_count) == (2, 1, 1)
    assert "A Pebble export has no follower counts of other people." in snapshot.results["notes"]

    upload(client, "pebble", "pebble.json", b"not json")
    db.session.refresh(connection)
    assert connection.current_snapshot_id == snapshot.id  # a bad file keeps what was stored
    assert "This is not a Pebble export" in text(client.get("/dashboard/user/pebble"))
