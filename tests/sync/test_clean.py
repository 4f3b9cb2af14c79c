"""Values from outside are made safe before storage: over-long values cut with a note, NUL and
control characters stripped, on SQLite and PostgreSQL alike (where they would otherwise fail
the whole import)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from app.extensions import db
from app.models import Connection, Person, Post, SyncRun
from app.networks.base import AccountData, Follow
from app.networks.base import Person as PersonRecord
from app.networks.base import Post as PostRecord
from app.sync import producers
from app.sync.clean import make_safe
from app.sync.runner import start_sync


def hostile() -> AccountData:
    long_id = "9" * 300
    data = AccountData(
        owner=PersonRecord("me", "me\x00", name="Me\x07"),
        people={
            long_id: PersonRecord(
                long_id, "h" * 300, name="N\x00ame", url="https://x.example/" + "a" * 600
            ),
            "2": PersonRecord("2", "two", links=("https://ok.example", "bad\x00" + "b" * 600)),
        },
        followers=[long_id, "2"],
        friends=["2"],
        follows={Follow(long_id, "2")},
        lists_fetched={long_id},
        posts=[
            PostRecord(
                "p1",
                datetime(2026, 1, 2, tzinfo=UTC),
                "a NUL\x00 here,\ttab and\nnewline kept\x1b",
                url="https://x.example/" + "u" * 600,
                kind="k" * 40,
            )
        ],
    )
    return data


def test_make_safe_cuts_strips_and_counts() -> None:
    data = hostile()
    assert make_safe(data) == 6  # id, handle, url, a link; the post url and kind
    assert data.owner.handle == "me" and data.owner.name == "Me"
    (long_id,) = [pid for pid in data.people if pid != "2"]
    assert len(long_id) == 255
    assert data.followers == [long_id, "2"] and data.lists_fetched == {long_id}
    assert data.follows == {Follow(long_id, "2")}
    person = data.people[long_id]
    assert (len(person.handle), person.name, len(person.url or "")) == (255, "Name", 500)
    post = data.posts[0]
    assert post.text == "a NUL here,\ttab and\nnewline kept"
    assert (len(post.url or ""), post.kind) == (500, "k" * 20)
    assert data.notes[-1].startswith("6 values were too long to store")


def test_a_hostile_account_stores_on_any_database(app, user, monkeypatch):
    connection = Connection(user_id=user.id, network="x", source="demo")
    db.session.add(connection)
    db.session.commit()
    monkeypatch.setitem(producers.PRODUCERS, "demo", lambda c, r, p: hostile())
    run = start_sync(connection, "demo")
    db.session.refresh(run)
    assert (run.status, run.error) == ("done", None)
    handles = set(db.session.scalars(select(Person.handle)))
    assert "two" in handles and "h" * 255 in handles
    assert db.session.scalars(select(Post.text)).one() == "a NUL here,\ttab and\nnewline kept"
    snapshot = db.session.get(Connection, connection.id).current_snapshot
    assert any(note.startswith("6 values were too long") for note in snapshot.results["notes"])
    assert db.session.scalars(select(SyncRun)).one().status == "done"


def test_lists_take_any_page_and_search(app, auth, client, user):
    from app.demo.user import create_demo_user

    create_demo_user(user.username, "correct horse battery staple", followers=30)
    auth.login(user.username, "correct horse battery staple")
    for query in (
        "?page=99999999999999999999",
        "?page=-3",
        "?q=%00",
        "?q=" + "x" * 5000,
        "?page=abc",
    ):
        response = client.get(f"/dashboard/user/github{query}")
        assert response.status_code == 200, query


def test_next_with_control_characters_is_not_followed(app, client, user):
    from tests.conftest import PASSWORD, csrf_token

    token = csrf_token(client, "/signin")
    response = client.post(
        "/signin?next=/%0d%0aX:1",
        data={"login": user.username, "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard/user"


def test_a_long_stage_name_fits_its_column(app, user, monkeypatch):
    connection = Connection(user_id=user.id, network="x", source="demo")
    db.session.add(connection)
    db.session.commit()

    def long_stage(c, r, progress):
        progress.stage("posts: reading data/your_posts_1_of_a_very_long_name.json (MiB)", 10)
        return hostile()

    monkeypatch.setitem(producers.PRODUCERS, "demo", long_stage)
    run = start_sync(connection, "demo")
    db.session.refresh(run)
    assert (run.status, run.error) == ("done", None)
