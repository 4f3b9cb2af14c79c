"""Mastodon archive importer."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.networks.base import ArchiveError, NullProgress
from app.networks.mastodon.importer import html_to_text, import_mastodon
from tests.networks import archive_builders as b

ITEMS = [
    b.mastodon_note(
        "1",
        '<p>Hello café</p><p>Second <a href="https://x.example">'
        '<span class="invisible">https://</span>x.example</a><br>line 🎉</p>',
        "2023-01-02T03:04:05Z",
    ),
    b.mastodon_note(
        "2",
        "<p>@bob agreed &amp; done</p>",
        "2023-01-03T00:00:00Z",
        reply_to="https://other.example/users/bob/statuses/9",
    ),
    b.mastodon_boost("3", "https://other.example/users/bob/statuses/10", "2023-01-04T00:00:00Z"),
    {"type": "Create", "object": {"id": "x"}},
    {"type": "Like"},
    "junk",
]
FOLLOWS = ["bob@other.example", "@Carol@Zürich.example", "dave@social.example"]


@pytest.mark.parametrize("container", ["zip", "tar"])
def test_archive_with_follows(tmp_path: Path, container: str) -> None:
    files = b.mastodon_files(ITEMS, follows=b.following_csv(FOLLOWS))
    if container == "zip":
        path = b.write_zip(tmp_path / "archive-20240102030405-0123abcd.zip", files)
    else:
        path = b.write_tar_gz(tmp_path / "archive-20240102030405-0123abcd.tar.gz", files)
    data = import_mastodon(str(path), NullProgress())
    owner = data.owner
    assert (owner.external_id, owner.handle, owner.name) == (
        "https://social.example/users/ana",
        "ana@social.example",
        "Ana Exämple",
    )
    assert owner.url == "https://social.example/@ana"
    assert owner.bio == "Café & code"
    assert owner.links == ("https://ana.example.org",)
    assert (owner.followers_count, owner.following_count, owner.posts_count) == (None, 3, 3)
    assert data.followers is None
    assert data.friends == ["bob@other.example", "carol@zürich.example", "dave@social.example"]
    assert data.people["bob@other.example"].url == "https://other.example/@bob"
    p1, p2, p3 = data.posts
    assert p1.text == "Hello café\n\nSecond https://x.example\nline 🎉"
    assert p1.created_at == datetime(2023, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert (p1.external_id, p1.url) == (
        "https://social.example/users/ana/statuses/1",
        "https://social.example/@ana/1",
    )
    assert (p1.like_count, p1.repost_count, p1.reply_count) == (None, None, None)
    assert (p2.kind, p2.in_reply_to, p2.text) == (
        "reply",
        "https://other.example/users/bob/statuses/9",
        "@bob agreed & done",
    )
    assert (p3.kind, p3.is_repost, p3.text, p3.url) == (
        "repost",
        True,
        "",
        "https://other.example/users/bob/statuses/10",
    )
    assert data.archive_date == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert data.missing_parts == []
    assert any("no list of your followers" in n for n in data.notes)
    assert any("3 outbox items were skipped" in n for n in data.notes)


def test_archive_without_follows_folder(tmp_path: Path) -> None:
    items = [
        *ITEMS[:2],
        {
            "type": "Announce",
            "object": {"id": "https://o/1"},
            "id": "a",
            "published": "2023-02-01T00:00:00Z",
        },
    ]
    items[0]["object"]["summary"] = "CW: food"
    root = b.write_folder(tmp_path / "m", b.mastodon_files(items))
    data = import_mastodon(str(root), NullProgress())
    assert data.friends is None and data.followers is None
    assert data.missing_parts == ["following_accounts.csv"]
    assert data.posts[0].text.startswith("CW: food\n\nHello café")
    assert data.posts[2].url == "https://o/1"
    assert data.archive_date is None


def test_lone_follows_csv_old_and_new(tmp_path: Path) -> None:
    new = tmp_path / "following_accounts.csv"
    new.write_text(b.following_csv(FOLLOWS[:1]))
    data = import_mastodon(str(new), NullProgress())
    assert data.friends == ["bob@other.example"]
    assert data.owner.external_id == "mastodon:owner" and data.owner.handle == "me"
    assert set(data.missing_parts) == {"actor.json", "outbox.json"}
    assert data.owner.posts_count is None
    old = tmp_path / "follows.csv"
    old.write_text(b.following_csv(FOLLOWS, header=False) + "\n")
    assert len(import_mastodon(str(old), NullProgress()).friends or []) == 3


def test_bad_inputs(tmp_path: Path) -> None:
    bad_csv = tmp_path / "following_accounts.csv"
    bad_csv.write_text("Account address,Show boosts\nnot-an-address,true\n")
    with pytest.raises(
        ArchiveError, match=r"following_accounts.csv: line 2: 'not-an-address' is not an account"
    ):
        import_mastodon(str(bad_csv), NullProgress())
    nul_csv = tmp_path / "x.csv"
    nul_csv.write_text('"' + "a" * 200_000 + '"\n')
    with pytest.raises(ArchiveError, match=r"x.csv: line 1"):
        import_mastodon(str(nul_csv), NullProgress())
    files = b.mastodon_files(ITEMS)
    files["outbox.json"] = '{"orderedItems": [\n{]}'
    with pytest.raises(ArchiveError, match=r"outbox.json: line 2: invalid JSON"):
        import_mastodon(str(b.write_zip(tmp_path / "a.zip", files)), NullProgress())
    files["outbox.json"] = '{"type": "OrderedCollection"}'
    with pytest.raises(ArchiveError, match=r"outbox.json: no orderedItems"):
        import_mastodon(str(b.write_zip(tmp_path / "b.zip", files)), NullProgress())


def test_malformed_actor_is_reported(tmp_path: Path) -> None:
    files = b.mastodon_files(ITEMS)
    files["actor.json"] = "{"
    data = import_mastodon(
        str(b.write_zip(tmp_path / "archive-20249999999999-x.zip", files)), NullProgress()
    )
    assert len(data.posts) == 3
    assert "actor.json (unreadable)" in data.missing_parts
    assert data.archive_date is None


def test_wrong_network(tmp_path: Path) -> None:
    li = {"Connections.csv": b.connections_csv([])}
    with pytest.raises(
        ArchiveError, match=r"^This looks like a LinkedIn archive, not a Mastodon archive.$"
    ):
        import_mastodon(str(b.write_zip(tmp_path / "li.zip", li)), NullProgress())


def test_html_to_text() -> None:
    assert html_to_text("<p>a</p><p></p><p>b<br/>c</p>") == "a\n\nb\nc"
    assert html_to_text("plain &lt;3") == "plain <3"
