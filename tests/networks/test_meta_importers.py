"""Facebook and Instagram importers (Meta's mojibake JSON)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.networks.archive import stable_id
from app.networks.base import ArchiveError, NullProgress
from app.networks.facebook.importer import import_facebook
from app.networks.instagram.importer import import_instagram, username_of
from tests.networks import archive_builders as b

FRIENDS = ["Anna Schmidt", "Jürgen Müller", "Zoë 🌸 Dupont"]
POSTS = [(1_700_000_000, "Café in Zürich ☕"), (1_600_000_000, "First post 🎉")]


@pytest.mark.parametrize("era", ["2019", "2021", "2023"])
def test_facebook_eras(tmp_path: Path, era: str) -> None:
    f = b.facebook_files(
        era,
        friends=FRIENDS,
        followers=["Fan Only", "Anna Schmidt"],
        following=["Some Page"],
        posts=POSTS,
    )
    data = import_facebook(str(b.write_zip(tmp_path / "fb.zip", f)), NullProgress())
    names = {p.name for p in data.people.values()}
    assert names == {*FRIENDS, "Fan Only", "Some Page"}
    jurgen = data.people[stable_id("fb:", "Jürgen Müller")]
    # no handle is made up from the name: the id stands in, and pages show the name
    assert jurgen.handle == jurgen.external_id and jurgen.name == "Jürgen Müller"
    assert data.friends is not None and len(data.friends) == 4
    assert data.followers is not None and len(data.followers) == 4
    assert stable_id("fb:", "Some Page") not in data.followers
    assert stable_id("fb:", "Fan Only") not in data.friends
    assert [p.text for p in data.posts] == ["First post 🎉", "Café in Zürich ☕"]
    assert data.posts[1].created_at == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert data.posts[1].like_count is None and data.posts[1].reply_count is None
    assert data.owner.name == "Ana Exämple"
    assert data.owner.followers_count == 4 and data.owner.posts_count == 2
    if era == "2021":
        assert (data.owner.external_id, data.owner.handle) == ("fb:100004242424242",) * 2
        assert data.owner.url == "https://www.facebook.com/profile.php?id=100004242424242"
    else:
        assert (data.owner.external_id, data.owner.handle) == ("fb:ana.example", "ana.example")
    assert data.missing_parts == []
    assert data.archive_date is None


def test_facebook_folder_friends_only_same_names_and_label_values(tmp_path: Path) -> None:
    rows = [
        {"name": "John Smith", "timestamp": 1},
        {"name": "John Smith", "timestamp": 2},
        {"timestamp": 3, "label_values": [{"label": "Name", "value": "Łukasz Wójcik"}]},
        {"name": ""},
        "junk",
    ]
    f = b.facebook_files("2023", friends=[], friend_rows=rows, profile=False)
    f = {k: v for k, v in f.items() if "posts" not in k}
    data = import_facebook(str(b.write_folder(tmp_path / "fb", f)), NullProgress())
    assert data.friends == data.followers
    assert len(data.friends or []) == 3
    assert {p.name for p in data.people.values()} == {"John Smith", "Łukasz Wójcik"}
    assert data.owner.external_id == "fb:owner" and data.owner.handle == "me"
    assert set(data.missing_parts) == {
        "posts/your_posts_1.json",
        "profile_information/profile_information.json",
    }
    assert data.owner.posts_count is None
    assert any("mutual" in n for n in data.notes)


def test_facebook_posts_only_owner_by_name(tmp_path: Path) -> None:
    f = {
        "posts/your_posts_1.json": b.meta_json(
            [{"timestamp": 5, "title": "Ana shared a link."}, {"data": []}, 3]
        ),
        "profile_information/profile_information.json": b.meta_json(
            {"profile": {"name": "Ana Exämple"}}
        ),
    }
    data = import_facebook(str(b.write_zip(tmp_path / "fb.zip", f)), NullProgress())
    assert data.friends is None and data.followers is None
    assert [p.text for p in data.posts] == ["Ana shared a link."]
    assert data.owner.external_id == stable_id("fb:", "Ana Exämple")
    assert data.owner.handle == data.owner.external_id
    assert "friends/friends.json" in data.missing_parts and "followers.json" in data.missing_parts


def test_facebook_malformed(tmp_path: Path) -> None:
    f = b.facebook_files("2023", friends=FRIENDS)
    f["connections/friends/your_friends.json"] = '{"friends_v2": [\n{"name": }]}'
    with pytest.raises(ArchiveError, match=r"your_friends.json: line 2: invalid JSON"):
        import_facebook(str(b.write_zip(tmp_path / "fb.zip", f)), NullProgress())
    g = b.facebook_files("2023", friends=FRIENDS)
    g["personal_information/profile_information/profile_information.json"] = "{"
    data = import_facebook(str(b.write_zip(tmp_path / "fb2.zip", g)), NullProgress())
    assert len(data.friends or []) == 3
    assert any(p.endswith("profile_information.json (unreadable)") for p in data.missing_parts)


def test_facebook_wrong_network(tmp_path: Path) -> None:
    x = b.x_files(tweets=[])
    with pytest.raises(
        ArchiveError, match=r"^This looks like an X archive, not a Facebook archive.$"
    ):
        import_facebook(str(b.write_zip(tmp_path / "x.zip", x)), NullProgress())


IG_POSTS = [
    b.ig_post("Café ☕ in Zürich", 1_700_000_000),
    b.ig_post("Album 🎉", 1_650_000_000, multi=True),
    {"media": []},
]


@pytest.mark.parametrize("new_layout", [True, False])
def test_instagram(tmp_path: Path, new_layout: bool) -> None:
    f = b.instagram_files(
        followers=["bob", "carol", "dave", "zoë_z"],
        following=["carol", "eve"],
        posts=IG_POSTS,
        new_layout=new_layout,
        follower_parts=2,
    )
    data = import_instagram(str(b.write_zip(tmp_path / "ig.zip", f)), NullProgress())
    assert data.followers == ["bob", "carol", "dave", "zoë_z"]
    assert data.friends == ["carol", "eve"]
    assert data.people["eve"].url == "https://www.instagram.com/eve"
    assert [p.text for p in data.posts] == ["Album 🎉", "Café ☕ in Zürich"]
    assert data.posts[1].created_at == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert data.posts[0].like_count is None
    owner = data.owner
    assert (owner.external_id, owner.handle, owner.name) == (
        "ana.example",
        "ana.example",
        "Ana Exämple",
    )
    assert owner.bio == "Café ☕ in Zürich"
    assert owner.links == ("https://example.org",)
    assert (owner.followers_count, owner.following_count, owner.posts_count) == (4, 2, 2)
    assert data.missing_parts == []


def test_instagram_old_single_files_folder(tmp_path: Path) -> None:
    f = {
        "followers_and_following/followers.json": b.meta_json(
            {"relationships_followers": b.string_list(["bob"])}
        ),
        "followers_and_following/following.json": b.meta_json(
            {
                "relationships_following": [
                    {"string_list_data": [{"href": "https://www.instagram.com/frank/"}]},
                    {},
                ]
            }
        ),
    }
    data = import_instagram(str(b.write_folder(tmp_path / "ig", f)), NullProgress())
    assert data.followers == ["bob"] and data.friends == ["frank"]
    assert data.posts == [] and data.owner.posts_count is None
    assert set(data.missing_parts) == {
        "content/posts_1.json",
        "personal_information/personal_information.json",
    }
    assert data.owner.external_id == "instagram:owner"


def test_instagram_partial(tmp_path: Path) -> None:
    f = b.instagram_files(followers=["bob"], following=["eve"], posts=IG_POSTS, new_layout=False)
    f["content/posts_1.json"] = "[{"
    f["personal_information/personal_information.json"] = b.meta_json({"profile_user": []})
    del f["followers_and_following/following.json"]
    data = import_instagram(str(b.write_zip(tmp_path / "ig.zip", f)), NullProgress())
    assert data.friends is None and data.owner.following_count is None
    assert data.followers == ["bob"]
    assert "content/posts_1.json (unreadable)" in data.missing_parts
    assert "followers_and_following/following.json" in data.missing_parts
    assert data.owner.handle == "me"


def test_instagram_malformed_followers_and_wrong_network(tmp_path: Path) -> None:
    f = b.instagram_files(followers=["bob"], following=["eve"], posts=[])
    f["connections/followers_and_following/followers_1.json"] = "[\n\n{]"
    with pytest.raises(ArchiveError, match=r"followers_1.json: line 3: invalid JSON"):
        import_instagram(str(b.write_zip(tmp_path / "ig.zip", f)), NullProgress())
    fb = b.facebook_files("2023", friends=FRIENDS)
    with pytest.raises(
        ArchiveError, match=r"^This looks like a Facebook archive, not an Instagram archive.$"
    ):
        import_instagram(str(b.write_zip(tmp_path / "fb.zip", fb)), NullProgress())


def test_username_of_edge_cases() -> None:
    assert username_of("x") == ""
    assert (
        username_of({"string_list_data": [{"href": "https://www.instagram.com/"}]})
        == "www.instagram.com"
    )
    assert username_of({"string_list_data": ["junk"]}) == ""


def test_instagram_document_shapes(tmp_path: Path) -> None:
    f = {
        "followers_and_following/followers_1.json": b.meta_json(
            {"anything": b.string_list(["bob"])}
        ),
        "followers_and_following/following.json": b.meta_json({"a": [], "b": []}),
        "content/posts_1.json": b.meta_json(
            {"ig_posts": [b.ig_post("x", 5), {"media": [{"uri": "u"}]}, 3]}
        ),
    }
    data = import_instagram(str(b.write_zip(tmp_path / "ig.zip", f)), NullProgress())
    assert data.followers == ["bob"]
    assert data.friends == []
    assert [p.text for p in data.posts] == ["x"]


def test_instagram_followers_missing(tmp_path: Path) -> None:
    f = b.instagram_files(followers=[], following=["eve"], posts=[])
    f = {k: v for k, v in f.items() if "followers_1" not in k}
    data = import_instagram(str(b.write_zip(tmp_path / "ig.zip", f)), NullProgress())
    assert data.followers is None and data.friends == ["eve"]
    assert "followers_and_following/followers_1.json" in data.missing_parts


def test_facebook_odd_entries(tmp_path: Path) -> None:
    f = {
        "friends/friends.json": b.meta_json({"other": [], "friends": [{"title": "Titled Person"}]}),
        "following_and_followers/followers.json": b.meta_json({"followers": "nope"}),
        "following_and_followers/following.json": b.meta_json(
            [{"string_list_data": ["junk", {"value": ""}, {"value": "Listed"}]}]
        ),
        "profile_information/profile_information.json": b.meta_json(
            {"profile": {"name": "Ana", "profile_uri": "https://www.facebook.com/ana.custom/"}}
        ),
    }
    data = import_facebook(str(b.write_zip(tmp_path / "fb.zip", f)), NullProgress())
    assert {p.name for p in data.people.values()} == {"Titled Person", "Listed"}
    assert (data.owner.external_id, data.owner.handle) == ("fb:ana.custom", "ana.custom")
    assert len(data.followers or []) == 1


NAMES_WITHOUT_ASCII = ["Đinh Ngọc Thiện", "สมชาย ใจดี", "សុខ ចាន់", "রহিম উদ্দিন", "محمد علي"]


def test_facebook_names_never_become_handles(tmp_path: Path) -> None:
    f = b.facebook_files("2023", friends=NAMES_WITHOUT_ASCII)
    data = import_facebook(str(b.write_zip(tmp_path / "fb.zip", f)), NullProgress())
    assert sorted(p.name or "" for p in data.people.values()) == sorted(NAMES_WITHOUT_ASCII)
    handles = {p.handle for p in data.people.values()}
    assert len(handles) == len(NAMES_WITHOUT_ASCII)
    assert all(h.startswith("fb:") for h in handles)
    assert "unknown" not in handles and "inh.ngoc.thien" not in handles


def test_facebook_followers_without_timestamps_kept_apart(tmp_path: Path) -> None:
    """711 followers, some of the same name and none dated: 711 people, not fewer."""
    names = [f"Follower {i % 704}" for i in range(711)]
    f = b.facebook_files("2019", friends=["Anna Schmidt"], followers=names)
    data = import_facebook(str(b.write_zip(tmp_path / "fb.zip", f)), NullProgress())
    assert data.followers is not None and len(data.followers) == 1 + 711
    again = import_facebook(str(b.write_zip(tmp_path / "fb2.zip", f)), NullProgress())
    assert again.followers == data.followers  # the same ids on every import


def test_facebook_followers_keep_profile_links(tmp_path: Path) -> None:
    f = b.facebook_files("2023", friends=[], followers=["Fan One", "Fan Two"])
    data = import_facebook(str(b.write_zip(tmp_path / "fb.zip", f)), NullProgress())
    urls = sorted(p.url or "" for p in data.people.values())
    assert urls == ["https://www.instagram.com/Fan One", "https://www.instagram.com/Fan Two"]


@pytest.mark.parametrize(
    "names",
    [
        ["index.html", "connections/friends/your_friends.html", "posts/your_posts_1.html"],
        ["facebook-ana/your_facebook_activity/posts/your_posts_1.html", "facebook-ana/start.html"],
    ],
)
def test_facebook_html_export_refused_with_how_to(tmp_path: Path, names: list[str]) -> None:
    files = {name: "<html><body>Ana</body></html>" for name in names}
    with pytest.raises(ArchiveError, match=r"HTML format.*Format pick JSON"):
        import_facebook(str(b.write_zip(tmp_path / "fb.zip", files)), NullProgress())


def test_instagram_html_export_refused_with_how_to(tmp_path: Path) -> None:
    files = {
        "followers_and_following/followers_1.html": "<html></html>",
        "personal_information/personal_information.html": "<html></html>",
    }
    with pytest.raises(ArchiveError, match=r"Instagram archive is in HTML format"):
        import_instagram(str(b.write_zip(tmp_path / "ig.zip", files)), NullProgress())
