"""Bluesky: connecting by handle (no login) against a fake AppView on 127.0.0.1."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Connection, SyncRun
from tests.conftest import csrf_token
from tests.fakes.bluesky import FakeBluesky, did_of
from tests.fakes.world import Account, World, small_world

NETWORK_PAGE = "/dashboard/user/bluesky"
CONNECT = "/dashboard/user/bluesky/connect"


@pytest.fixture
def sky():
    with FakeBluesky(small_world()) as server:
        yield server


@pytest.fixture
def config_overrides(sky) -> dict[str, Any]:
    return {"BLUESKY_APPVIEW_URL": sky.url, "HTTP_BACKOFF": 0.01}


def submit(client, handle: str):
    token = csrf_token(client, CONNECT)
    return client.post(CONNECT, data={"handle": handle, "csrf_token": token})


def connections() -> list[Connection]:
    return list(db.session.scalars(select(Connection)))


def test_connect_page_has_the_handle_form(auth, client, user):
    auth.login()
    page = client.get(CONNECT).get_data(as_text=True)
    assert 'name="handle"' in page and "no sign-in is needed" in page


@pytest.mark.parametrize(
    "typed", ["@me.bsky.social", "  Me.Bsky.Social ", "https://bsky.app/profile/me.bsky.social"]
)
def test_handle_connects_and_syncs_the_exact_graph(auth, client, user, sky, typed):
    auth.login()
    response = submit(client, typed)
    assert response.status_code == 302 and response.headers["Location"] == NETWORK_PAGE
    (connection,) = connections()
    owner = sky.world.owner
    assert (connection.source, connection.status, connection.access_token) == ("public", "ok", None)
    assert (connection.external_id, connection.handle) == (did_of(owner), "me.bsky.social")
    run = db.session.scalars(select(SyncRun)).one()
    assert (run.kind, run.status, run.error) == ("public", "done", None)
    snapshot = connection.current_snapshot
    assert (snapshot.followers_count, snapshot.friends_count, snapshot.posts_count) == (5, 4, 6)
    body = client.get(f"{NETWORK_PAGE}/export/followers.csv").get_data(as_text=True)
    followers = {row["handle"]: row for row in csv.DictReader(io.StringIO(body))}
    assert followers["andrew.example"]["my_followers_they_follow"] == "2"
    assert followers["bob.bsky.social"]["followers_count"] == "3"
    assert "Bluesky connected as @me.bsky.social" in client.get(NETWORK_PAGE).get_data(as_text=True)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter a Bluesky handle"),
        ("@", "Enter a Bluesky handle"),
        ("me bsky.social", "no spaces"),
        ("me@bsky.social", "no spaces and at most one leading @"),
        ("localhost", "That is not a Bluesky handle"),
        ("-me.bsky.social", "That is not a Bluesky handle"),
        ("me.123", "That is not a Bluesky handle"),
    ],
)
def test_invalid_handles(auth, client, user, sky, typed, message):
    auth.login()
    response = submit(client, typed)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert connections() == [] and sky.count() == 0


def test_unknown_handle_is_a_form_error(auth, client, user, sky):
    auth.login()
    page = submit(client, "nobody.bsky.social").get_data(as_text=True)
    assert "Bluesky has no account called nobody.bsky.social." in page
    assert connections() == []
    assert sky.count("/xrpc/app.bsky.actor.getProfile") == 1


def test_a_did_is_accepted(auth, client, user, sky):
    auth.login()
    did = did_of(sky.world.owner)
    assert submit(client, did).headers["Location"] == NETWORK_PAGE
    assert connections()[0].handle == "me.bsky.social"


@pytest.mark.parametrize(
    ("status", "message"),
    [(500, "Bluesky could not be reached"), (403, "Bluesky could not be read")],
)
def test_appview_failure_is_a_form_error(auth, client, user, sky, status, message):
    sky.fail_next(10, status=status)
    auth.login()
    assert message in submit(client, "me.bsky.social").get_data(as_text=True)
    assert connections() == []


def test_empty_account_syncs_to_zeros_not_errors(auth, client, user, sky):
    world = World(owner_id=1)
    world.add(Account(1, "quiet", "Quiet"))
    sky.world = world
    auth.login()
    assert submit(client, "quiet.bsky.social").headers["Location"] == NETWORK_PAGE
    snapshot = connections()[0].current_snapshot
    assert (snapshot.followers_count, snapshot.friends_count, snapshot.posts_count) == (0, 0, 0)
    body = client.get(f"{NETWORK_PAGE}/export/followers.csv").get_data(as_text=True)
    assert body.strip().splitlines()[1:] == []


def test_same_handle_again_resyncs_and_another_is_refused(auth, client, user, sky):
    auth.login()
    submit(client, "me.bsky.social")
    submit(client, "me.bsky.social")
    (connection,) = connections()
    assert db.session.scalar(select(func.count(SyncRun.id))) == 2
    page = submit(client, "bob.bsky.social").get_data(as_text=True)
    assert "already holds @me.bsky.social" in page
    db.session.refresh(connection)
    assert connection.handle == "me.bsky.social"


def test_an_imported_archive_of_another_account_is_not_overwritten(auth, client, user, sky):
    db.session.add(
        Connection(
            user_id=user.id,
            network="bluesky",
            source="import",
            external_id="did:plc:someoneelse",
            handle="did:plc:someoneelse",
        )
    )
    db.session.commit()
    auth.login()
    page = submit(client, "me.bsky.social").get_data(as_text=True)
    assert "already holds @did:plc:someoneelse (an imported archive)" in page
    assert connections()[0].source == "import"


def test_an_imported_archive_of_the_same_account_goes_live_and_keeps_its_data(
    auth, client, user, sky
):
    me = did_of(sky.world.owner)
    db.session.add(
        Connection(user_id=user.id, network="bluesky", source="import", external_id=me, handle=me)
    )
    db.session.commit()
    auth.login()
    submit(client, "me.bsky.social")
    (connection,) = connections()
    assert (connection.source, connection.external_id) == ("public", me)
    assert connection.current_snapshot is not None  # the public read ran and was stored


def test_a_demo_bluesky_with_a_handle_is_not_overwritten(auth, client, user, sky):
    db.session.add(Connection(user_id=user.id, network="bluesky", source="demo", handle="demo"))
    db.session.commit()
    auth.login()
    page = submit(client, "me.bsky.social").get_data(as_text=True)
    assert "already holds @demo (demo data)" in page


def test_prefills_the_connected_handle(auth, client, user, sky):
    auth.login()
    submit(client, "me.bsky.social")
    assert 'value="me.bsky.social"' in client.get(CONNECT).get_data(as_text=True)
