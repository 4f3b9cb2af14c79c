"""Data-loss drills: sequences of syncs and imports with faults between them, through the real
routes, against the fake X API and real archive files. After each step every part the page
shows must be the last complete one known, and growth must report nobody who did not arrive
or leave. They run on SQLite and, with ``DATABASE_URL``, on PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from app.dashboard.service import growth_series
from app.extensions import db
from app.models import Connection, Person, Post, Snapshot, SyncRun
from tests.conftest import csrf_token
from tests.fakes.world import big_world
from tests.fakes.x import FakeX
from tests.networks import archive_builders as b
from tests.networks.x.test_connect import consent, to_x
from tests.test_dashboard import text, upload

PAGE = "/dashboard/user/x"
FOLLOWERS, FRIENDS, POSTS = 300, 60, 80


@pytest.fixture
def fx():
    world = big_world(
        n_followers=FOLLOWERS, n_friends=FRIENDS, n_mutual=30, n_outsiders=10, n_posts=POSTS
    )
    with FakeX(world) as server:
        yield server


@pytest.fixture
def config_overrides(fx, tmp_path) -> dict[str, Any]:
    return {
        "X_CLIENT_ID": "x-client",
        "X_CLIENT_SECRET": "x-secret",
        "X_API_URL": fx.url,
        "X_AUTHORIZE_URL": f"{fx.url}/i/oauth2/authorize",
        "X_TOKEN_URL": f"{fx.url}/2/oauth2/token",
        "X_MAX_READS": 5000,
        "GRAPH_MAX_PEOPLE": 50,
        "HTTP_BACKOFF": 0.01,
        "HTTP_MAX_RETRIES": 1,
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
    }


def connect_x(client) -> Connection:
    client.get(consent(to_x(client)))
    return db.session.scalars(select(Connection)).one()


def sync(client) -> SyncRun:
    client.post(f"{PAGE}/sync", data={"csrf_token": csrf_token(client, PAGE)})
    return db.session.scalars(select(SyncRun).order_by(SyncRun.id.desc())).first()


def current(connection: Connection) -> Snapshot:
    db.session.expire_all()
    snapshot = db.session.get(Connection, connection.id).current_snapshot
    assert snapshot is not None
    return snapshot


def exported(client, dataset: str) -> list[dict[str, str]]:
    body = client.get(f"{PAGE}/export/{dataset}.csv").get_data(as_text=True)
    return list(csv.DictReader(io.StringIO(body)))


def counts_are_rows(snapshot: Snapshot) -> None:
    """The counts stored with the snapshot, which the list pages show as totals, are the
    rows it kept: a partial read never leaves a total the list cannot page through."""
    kept = {
        "followers": Person.is_follower.is_(True),
        "friends": Person.is_friend.is_(True),
    }
    for role, flag in kept.items():
        rows = db.session.scalar(
            select(func.count()).where(Person.snapshot_id == snapshot.id, flag)
        )
        stored = getattr(snapshot, f"{role}_count")
        assert (stored or 0) == rows, (role, stored, rows)
    posts = db.session.scalar(select(func.count()).where(Post.snapshot_id == snapshot.id))
    assert (snapshot.posts_count or 0) == posts, (snapshot.posts_count, posts)


def no_phantoms(snapshot: Snapshot) -> None:
    """Growth counts nobody unless both reads of the list were complete."""
    growth = snapshot.results["growth"]
    if growth is None:
        return
    for role in ("followers", "friends"):
        read = snapshot.parts[role]["read"]
        if read["state"] != "complete":
            assert growth[role]["known"] is False, (role, growth[role])


def test_budget_cut_syncs_keep_the_complete_lists_and_report_no_departures(
    app, auth, client, user, fx
):
    auth.login()
    connection = connect_x(client)
    first = current(connection)
    assert (first.followers_count, first.friends_count, first.posts_count) == (
        FOLLOWERS,
        FRIENDS,
        POSTS,
    )

    app.config["X_MAX_READS"] = 150  # the budget now covers part of the followers only
    for _ in range(2):
        run = sync(client)
        assert run.status == "done"
        cut = current(connection)
        assert (cut.followers_count, cut.friends_count) == (FOLLOWERS, FRIENDS)
        followers = cut.parts["followers"]
        assert followers["read"]["state"] != "complete"
        assert followers["shown"]["state"] == "complete"
        assert followers["shown"]["count"] == FOLLOWERS
        no_phantoms(cut)
        counts_are_rows(cut)
        assert len(exported(client, "followers")) == FOLLOWERS
        page = text(client.get(PAGE))
        assert "the earlier complete version is shown" in page
        assert "Not compared: one of the two reads of followers was not complete" in page

    app.config["X_MAX_READS"] = 5000
    assert sync(client).status == "done"
    full = current(connection)
    counts_are_rows(full)
    growth = full.results["growth"]
    assert growth["followers"]["known"] is True
    # counted from the last complete read (the first sync), not from the cut ones
    assert growth["since"] == first.parts["followers"]["read"]["as_of"]
    assert (growth["followers"]["gained_count"], growth["followers"]["lost_count"]) == (0, 0)

    series = growth_series(db.session.get(Connection, connection.id))
    assert [point["followers"] for point in series] == [FOLLOWERS, None, None, FOLLOWERS]


def test_a_refused_part_keeps_what_was_known(app, auth, client, user, fx):
    auth.login()
    connection = connect_x(client)
    fx.refuse(f"/2/users/{fx.world.owner_id}/followers", "credits")
    run = sync(client)
    assert run.status == "done"
    snapshot = current(connection)
    assert snapshot.parts["followers"]["read"]["state"] == "refused"
    assert (snapshot.followers_count, snapshot.friends_count) == (FOLLOWERS, FRIENDS)
    assert len(exported(client, "followers")) == FOLLOWERS
    assert len(exported(client, "friends")) == FRIENDS
    no_phantoms(snapshot)
    counts_are_rows(snapshot)
    assert "refused" in text(client.get(PAGE))


def test_a_sync_that_fails_past_its_retries_changes_nothing(app, auth, client, user, fx):
    auth.login()
    connection = connect_x(client)
    before = current(connection).id
    fx.fail_next(10, status=503, path="/2/users/me")
    run = sync(client)
    assert run.status == "failed" and run.requests == 2
    assert current(connection).id == before


def hostile_x_zip(tmp_path: Path) -> bytes:
    """Only a manifest, a symlinked follower.js, a ../ member and an absolute one."""
    manifest = b.x_files(tweets=[])["data/manifest.js"]
    path = b.write_zip(tmp_path / "x.zip", {"data/manifest.js": manifest})
    b.add_symlink_member(path, "data/follower.js", "/etc/passwd")
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("../data/follower.js", "window.YTD.follower.part0 = []")
        zf.writestr("/data/tweets.js", "window.YTD.tweets.part0 = []")
    return path.read_bytes()


def test_an_archive_with_nothing_importable_is_refused_and_changes_nothing(
    app, auth, client, user, fx, tmp_path
):
    auth.login()
    connection = connect_x(client)
    before = current(connection).id
    upload(client, "x", "twitter.zip", hostile_x_zip(tmp_path))
    run = db.session.scalars(select(SyncRun).order_by(SyncRun.id.desc())).first()
    assert run.status == "failed"
    assert "Nothing in this upload could be imported" in run.error
    assert current(connection).id == before
    assert len(exported(client, "followers")) == FOLLOWERS

    other = b.instagram_files(followers=["ada"], following=[], posts=[])
    upload(client, "x", "instagram.zip", b.write_zip(tmp_path / "ig.zip", other).read_bytes())
    run = db.session.scalars(select(SyncRun).order_by(SyncRun.id.desc())).first()
    assert run.status == "failed" and "Instagram archive" in run.error
    assert current(connection).id == before


def test_an_x_archive_then_a_budget_cut_live_sync_combine(app, auth, client, user, fx, tmp_path):
    """The archive lists every follower by id; the live read, cut by its budget, gives names
    for some of them and the newest posts. Nothing of the archive is lost, and names arrive."""
    owner = fx.world.owner
    follower_ids = sorted(fx.world.followers(fx.world.owner_id))
    files = b.x_files(
        tweets=[b.tweet("1", "an old post from the archive", datetime(2023, 5, 6, tzinfo=UTC))],
        followers=[str(uid) for uid in follower_ids],
        following=[],
        account_id=str(owner.id),
        username=owner.handle,
    )
    auth.login()
    upload(client, "x", "twitter.zip", b.write_zip(tmp_path / "t.zip", files).read_bytes())
    connection = db.session.scalars(select(Connection)).one()
    archived = current(connection)
    assert archived.followers_count == FOLLOWERS and archived.posts_count == 1
    names_before = {row["handle"] for row in exported(client, "followers")}
    assert names_before == {str(uid) for uid in follower_ids}  # ids only

    app.config["X_MAX_READS"] = 200
    client.get(consent(to_x(client)))  # connecting live keeps the archive's data
    combined = current(connection)
    assert db.session.get(Connection, connection.id).source == "live"
    assert combined.followers_count == FOLLOWERS  # the archive's complete list
    live_posts = combined.parts["posts"]["read"]["count"]
    assert 0 < live_posts < POSTS  # the budget cut the live read of posts too
    assert combined.posts_count == 1 + live_posts  # the archive's post and the live ones
    assert combined.parts["posts"]["read"]["total"] == POSTS  # "70 of 80" on the page
    handles = {row["handle"] for row in exported(client, "followers")}
    assert len(handles) == FOLLOWERS
    named = {h for h in handles if not h.isdigit()}
    assert named  # people read live now have names
    assert combined.parts["posts"]["shown"]["sources"][0]["kind"] == "import"
    no_phantoms(combined)
    counts_are_rows(combined)


def test_mastodon_archive_then_follows_csv_keep_each_other(auth, client, user, tmp_path):
    auth.login()
    note = b.mastodon_note("1", "Hello from the archive", "2024-01-02T03:04:05Z")
    archive = b.write_zip(tmp_path / "m.zip", b.mastodon_files([note]))
    upload(client, "mastodon", "archive.zip", archive.read_bytes())
    connection = db.session.scalars(select(Connection)).one()
    assert current(connection).posts_count == 1

    csv_body = b.following_csv(["ada@one.example", "bob@two.example"]).encode()
    upload(client, "mastodon", "following_accounts.csv", csv_body)
    both = current(connection)
    assert (both.posts_count, both.friends_count) == (1, 2)
    counts_are_rows(both)
    assert both.parts["posts"]["shown"]["sources"][0]["file"] == "archive.zip"
    assert both.parts["friends"]["shown"]["sources"][0]["file"] == "following_accounts.csv"

    # and the other way round: a newer archive without the CSV keeps the follows
    note2 = b.mastodon_note("2", "A newer post", "2024-02-02T03:04:05Z")
    newer = b.write_zip(tmp_path / "m2.zip", b.mastodon_files([note, note2]))
    upload(client, "mastodon", "archive.zip", newer.read_bytes())
    last = current(connection)
    assert (last.posts_count, last.friends_count) == (2, 2)
    counts_are_rows(last)
    page = text(client.get("/dashboard/user/mastodon"))
    assert "Where these numbers come from" in page and "following_accounts.csv" in page


def test_a_malformed_archive_changes_nothing(auth, client, user, tmp_path):
    auth.login()
    upload(client, "mastodon", "following_accounts.csv", b.following_csv(["a@b.example"]).encode())
    connection = db.session.scalars(select(Connection)).one()
    before = current(connection).id
    broken = b.write_zip(tmp_path / "bad.zip", {"outbox.json": "{not json", "actor.json": "{"})
    upload(client, "mastodon", "bad.zip", broken.read_bytes())
    run = db.session.scalars(select(SyncRun).order_by(SyncRun.id.desc())).first()
    assert run.status == "failed"
    assert current(connection).id == before
    assert json.loads(json.dumps(current(connection).parts))["friends"]["shown"]["count"] == 1


def test_each_note_appears_once(auth, client, user, fx):
    auth.login()
    connect_x(client)
    page = text(client.get(PAGE))
    notes = page.split('<ul class="data-notes">', 1)[1].split("</ul>", 1)[0]
    items = [item.split("</li>", 1)[0].strip() for item in notes.split("<li>")[1:]]
    assert items and len(items) == len(set(items))
    assert sum("3,200 newest posts" in item for item in items) == 1
