"""Live reads (:mod:`app.sync.producers` with each network's connector) inside the sync
engine, against the fakes on 127.0.0.1: config base URLs, stored tokens, retries, rate-limit
pauses, revoked tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Connection, SyncRun
from app.networks import CONNECTORS
from app.networks.base import AuthExpired
from app.sync.producers import PRODUCERS, produce_live
from app.sync.runner import start_sync
from app.sync.service import RunProgress, SyncRefused
from tests.conftest import csrf_token
from tests.fakes.bluesky import FakeBluesky, did_of
from tests.fakes.github import FakeGitHub
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.world import small_world


@pytest.fixture
def gh():
    with FakeGitHub(small_world()) as server:
        yield server


@pytest.fixture
def masto():
    with FakeMastodon(small_world()) as server:
        yield server


@pytest.fixture
def sky():
    with FakeBluesky(small_world()) as server:
        yield server


@pytest.fixture
def config_overrides(gh, sky, masto) -> dict[str, Any]:
    return {
        "GITHUB_API_URL": gh.url,
        "BLUESKY_APPVIEW_URL": sky.url,
        # a Mastodon server is the user's choice: the guard lets only the fake through
        "ALLOW_INSECURE_INSTANCES": True,
        "OUTBOUND_ALLOWED_HOSTS": f"127.0.0.1:{masto.port}",
        "HTTP_BACKOFF": 0.01,
        "HTTP_TIMEOUT": 1.0,
    }


@pytest.fixture
def pauses(monkeypatch) -> list[datetime]:
    """Every rate-limit pause the sync reported."""
    seen: list[datetime] = []
    original = RunProgress.paused

    def spy(self: RunProgress, until: datetime) -> None:
        seen.append(until)
        original(self, until)
        assert self.run.status == "paused" and self.run.paused_until == until

    monkeypatch.setattr(RunProgress, "paused", spy)
    return seen


def connect(user, network: str, **fields: Any) -> Connection:
    defaults: dict[str, Any] = {
        "github": {"source": "live", "access_token": "test-token"},
        "mastodon": {"source": "live", "access_token": "test-token"},
        "bluesky": {"source": "public"},
    }[network]
    connection = Connection(user_id=user.id, network=network, **{**defaults, **fields})
    db.session.add(connection)
    db.session.commit()
    return connection


def sync(connection: Connection) -> SyncRun:
    run = start_sync(connection, connection.source)
    db.session.refresh(run)
    db.session.refresh(connection)
    return run


def test_live_and_public_syncs_read_through_the_connectors():
    assert PRODUCERS["live"] is PRODUCERS["public"] is produce_live
    assert {key for key, c in CONNECTORS.items() if c.can_fetch} == {
        "github",
        "mastodon",
        "bluesky",
        "x",
        "facebook",
        "linkedin",
    }


def test_github_sync_counts_its_requests(user, gh):
    connection = connect(user, "github")
    run = sync(connection)
    assert (run.status, run.error) == ("done", None)
    assert run.requests == len(gh.requests) == 17
    assert {r.bearer for r in gh.requests} == {"test-token"}
    assert gh.requests[0].headers["accept"] == "application/vnd.github+json"
    assert connection.current_snapshot.followers_count == 5


def test_server_errors_are_retried(user, gh):
    connection = connect(user, "github")
    gh.fail_next(2, status=502, path="/users/andrew")
    gh.truncate_next(1, mode="json", path="/users/bob")
    run = sync(connection)
    assert run.status == "done", run.error
    assert run.requests == 17 + 3
    assert connection.current_snapshot.followers_count == 5


def test_a_timeout_is_retried(app, user, gh):
    app.config["HTTP_TIMEOUT"] = 0.2
    connection = connect(user, "github")
    gh.slow_next(1, delay=0.5, path="/users/rick")
    run = sync(connection)
    assert run.status == "done", run.error
    assert run.requests == 18


def test_server_errors_beyond_the_retries_fail_the_run_and_keep_the_data(user, gh):
    connection = connect(user, "github")
    sync(connection)
    first = connection.current_snapshot_id
    gh.fail_next(4, path="/users/me/followers")
    run = sync(connection)
    assert run.status == "failed"
    assert run.error == "GitHub did not answer properly after 4 tries (HTTP 500)."
    assert connection.current_snapshot_id == first and connection.status == "ok"


def test_rate_limit_pauses_then_finishes(user, gh, pauses):
    connection = connect(user, "github")
    gh.rate_limit_next(1, reset_in=0.2, path="/users/dave")
    run = sync(connection)
    assert (run.status, run.paused_until) == ("done", None)
    assert len(pauses) == 1
    assert run.requests == 18
    assert connection.current_snapshot.followers_count == 5


def test_mastodon_429_pauses_then_finishes(user, masto, pauses):
    connection = connect(user, "mastodon", instance_url=masto.url)
    masto.rate_limit_next(1, reset_in=0.2, path="/api/v1/accounts/1/following")
    run = sync(connection)
    assert run.status == "done", run.error
    assert len(pauses) == 1
    assert connection.current_snapshot.friends_count == 4


def test_revoked_token_marks_reconnect_and_keeps_the_snapshot(user, gh):
    connection = connect(user, "github")
    sync(connection)
    first = connection.current_snapshot_id
    gh.tokens.clear()
    run = sync(connection)
    assert run.status == "failed"
    assert "no longer accepts the saved login" in (run.error or "")
    assert connection.status == "reconnect"
    assert connection.current_snapshot_id == first
    with pytest.raises(SyncRefused):
        start_sync(connection, "live")


def test_unreadable_token_marks_reconnect(user, gh):
    connection = connect(user, "github", access_token=None)
    run = sync(connection)
    assert run.status == "failed"
    assert run.error == "The saved GitHub sign-in can no longer be used; please reconnect."
    assert connection.status == "reconnect"
    assert gh.count() == 0


def test_producer_raises_auth_expired_without_token(user):
    connection = connect(user, "mastodon", access_token=None, instance_url="https://x.example")
    with pytest.raises(AuthExpired):
        produce_live(connection, SyncRun(params={}), None)  # type: ignore[arg-type]


def test_mastodon_sync_reads_the_connections_own_server(user, masto):
    connection = connect(user, "mastodon", instance_url=masto.url)
    run = sync(connection)
    assert (run.status, run.error) == ("done", None)
    assert run.requests == len(masto.requests)
    assert all(r.bearer == "test-token" for r in masto.requests)
    snapshot = connection.current_snapshot
    assert (snapshot.followers_count, snapshot.friends_count) == (5, 4)
    masto.tokens.clear()
    assert sync(connection).status == "failed"
    assert connection.status == "reconnect"
    assert connection.current_snapshot_id == snapshot.id


def test_bluesky_reads_by_did(user, sky):
    did = did_of(sky.world.owner)
    connection = connect(user, "bluesky", external_id=did, handle="old-handle.example")
    run = sync(connection)
    assert run.status == "done", run.error
    assert sky.requests[0].arg("actor") == did
    assert connection.handle == "me.bsky.social"


def test_bluesky_account_gone(user, sky):
    connection = connect(user, "bluesky", handle="gone.bsky.social")
    run = sync(connection)
    assert (run.status, run.error) == ("failed", "Bluesky has no account called gone.bsky.social.")
    assert connection.status == "ok"  # public: nothing to reconnect


def test_sync_now_runs_the_live_producer(auth, client, user, gh):
    connection = connect(user, "github")
    auth.login()
    token = csrf_token(client, "/dashboard/user/github")
    client.post("/dashboard/user/github/sync", data={"csrf_token": token})
    run = db.session.scalars(select(SyncRun)).one()
    assert (run.kind, run.status) == ("live", "done")
    db.session.refresh(connection)
    page = client.get("/dashboard/user/github").get_data(as_text=True)
    assert "17 requests" in page
