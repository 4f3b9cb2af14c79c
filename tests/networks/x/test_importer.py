"""X archive importer."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.networks.base import ArchiveError, NullProgress
from app.networks.x.importer import import_x, parse_x_date
from tests.networks import archive_builders as b

T1 = datetime(2018, 10, 10, 20, 19, 24, tzinfo=UTC)
T2 = datetime(2023, 5, 1, 12, 0, 0, tzinfo=UTC)
LONG = "Long posts are split: " + "café and Zürich 🎉 " * 30


class Recorder:
    def __init__(self) -> None:
        self.stages: list[tuple[str, int | None]] = []
        self.done = 0

    def stage(self, name: str, total: int | None = None) -> None:
        self.stages.append((name, total))

    def advance(self, done: int = 1) -> None:
        self.done += done

    def paused(self, until: datetime) -> None:  # pragma: no cover - not used by importers
        pass

    def request(self) -> None:  # pragma: no cover - not used by importers
        pass


def tweets() -> list[dict]:
    return [
        b.tweet(
            "1",
            "Hello &amp; welcome to my café https://t.co/a",
            T1,
            likes=5,
            retweets=2,
            urls=[("https://t.co/a", "https://example.org/café")],
        ),
        b.tweet("2", "@bob I agree 👍", T1.replace(hour=21), reply_to="99"),
        b.tweet("3", "RT @carol: boosted text", T1.replace(hour=22), likes=0, retweets=7),
        b.tweet("4", LONG[:270] + "… https://t.co/more", T2, likes=1),
    ]


def files(**kw) -> dict[str, str]:
    kw.setdefault("tweets", tweets())
    kw.setdefault("followers", ["11", "12", "13"])
    kw.setdefault("following", ["12", "14"])
    kw.setdefault("notes", [b.note_tweet("55555", LONG, T2)])
    return b.x_files(**kw)


def test_full_zip(tmp_path: Path) -> None:
    path = b.write_zip(tmp_path / "twitter-2024.zip", files(root="twitter-2024-02-03-abc"))
    progress = Recorder()
    data = import_x(str(path), progress)
    owner = data.owner
    assert (owner.external_id, owner.handle, owner.name) == ("1000", "ana_example", "Ana Exämple")
    assert owner.url == "https://x.com/ana_example"
    assert owner.bio == "Writes about café culture"
    assert owner.links == ("https://t.co/abc",)
    assert owner.avatar_url == "https://pbs.twimg.com/profile_images/1/a.jpg"
    assert (owner.followers_count, owner.following_count, owner.posts_count) == (3, 2, 4)
    assert data.followers == ["11", "12", "13"]
    assert data.friends == ["12", "14"]
    assert set(data.people) == {"11", "12", "13", "14"}
    person = data.people["12"]
    assert (person.handle, person.name, person.url) == ("12", None, "https://x.com/i/user/12")
    assert data.archive_date == datetime(2024, 2, 3, 4, 5, 6, 789000, tzinfo=UTC)
    assert data.missing_parts == []
    assert any("numeric id only" in n for n in data.notes)

    p1, p2, p3, p4 = data.posts
    assert p1.text == "Hello & welcome to my café https://example.org/café"
    assert p1.created_at == T1
    assert (p1.like_count, p1.repost_count, p1.reply_count) == (5, 2, None)
    assert (p1.kind, p1.is_repost, p1.in_reply_to) == ("post", False, None)
    assert p1.url == "https://x.com/ana_example/status/1"
    assert (p2.kind, p2.in_reply_to, p2.text) == ("reply", "99", "@bob I agree 👍")
    assert (p3.kind, p3.is_repost, p3.repost_count) == ("repost", True, 7)
    assert p4.text == LONG
    assert p4.like_count == 1
    assert ("posts: reading tweets.js (MiB)", 1) in progress.stages
    assert ("followers: reading follower.js (MiB)", 1) in progress.stages
    assert progress.done == 4  # one MiB-or-less step per file read


def test_folder_without_manifest_old_names_and_parts(tmp_path: Path) -> None:
    many = [b.tweet(str(i), f"post {i}", T1.replace(minute=i)) for i in range(10)]
    root = b.write_folder(
        tmp_path / "arch",
        b.x_files(
            tweets=many,
            followers=["1"],
            following=None,
            manifest=False,
            tweet_parts=3,
            old_names=True,
        ),
    )
    data = import_x(str(root), NullProgress())
    assert [p.external_id for p in data.posts] == [str(i) for i in range(10)]
    assert data.friends is None
    assert "data/following.js" in data.missing_parts
    assert data.archive_date is None
    assert data.owner.handle == "ana_example"


def test_manifest_parts_are_followed(tmp_path: Path) -> None:
    many = [b.tweet(str(i), f"post {i}", T1.replace(minute=i)) for i in range(7)]
    path = b.write_zip(
        tmp_path / "a.zip", b.x_files(tweets=many, tweet_parts=2, followers=[], following=[])
    )
    data = import_x(str(path), NullProgress())
    assert len(data.posts) == 7
    assert data.followers == []
    assert data.friends == []
    assert data.owner.followers_count == 0


def test_lone_tweets_file_and_bare_items(tmp_path: Path) -> None:
    path = tmp_path / "tweets.js"
    bare = [
        b.tweet("7", "bare", T1)["tweet"],
        {"tweet": {"id_str": "8", "full_text": "no date"}},
        "junk",
    ]
    path.write_text(b.ytd("tweets", bare))
    data = import_x(str(path), NullProgress())
    assert [p.external_id for p in data.posts] == ["7"]
    assert data.posts[0].url == "https://x.com/i/web/status/7"
    assert data.owner.external_id == "unknown"
    assert data.followers is None and data.friends is None
    assert set(data.missing_parts) == {"data/account.js", "data/follower.js", "data/following.js"}
    assert any("2 posts were skipped" in n for n in data.notes)


def test_owner_from_manifest_only_and_duplicates(tmp_path: Path) -> None:
    twice = [b.tweet("1", "same", T1), b.tweet("1", "same", T1)]
    f = b.x_files(tweets=twice, followers=["5", "5"], following=["5"], account=False)
    data = import_x(str(b.write_zip(tmp_path / "a.zip", f)), NullProgress())
    assert (data.owner.external_id, data.owner.handle, data.owner.name) == (
        "1000",
        "ana_example",
        "Ana Exämple",
    )
    assert len(data.posts) == 1
    assert data.followers == ["5"]
    assert list(data.people) == ["5"]


def test_owner_id_only(tmp_path: Path) -> None:
    f = b.x_files(tweets=[b.tweet("1", "x", T1)], account=False)
    f["data/manifest.js"] = f["data/manifest.js"].replace(
        '"userName": "ana_example"', '"userName": ""'
    )
    data = import_x(str(b.write_zip(tmp_path / "a.zip", f)), NullProgress())
    assert (data.owner.handle, data.owner.url) == ("1000", "https://x.com/i/user/1000")
    assert data.posts[0].url == "https://x.com/i/web/status/1"


def test_note_matched_by_id_when_prefix_differs(tmp_path: Path) -> None:
    f = b.x_files(
        tweets=[b.tweet("42", "short teaser", T1)], notes=[b.note_tweet("42", "The full text", T1)]
    )
    data = import_x(str(b.write_zip(tmp_path / "a.zip", f)), NullProgress())
    assert data.posts[0].text == "The full text"


def test_malformed_tweets_part_raises_with_file_and_line(tmp_path: Path) -> None:
    f = files()
    f["data/tweets.js"] = 'window.YTD.tweets.part0 = [\n  {"tweet": {\n    "id_str": "1",,\n  }}\n]'
    with pytest.raises(ArchiveError, match=r"^data/tweets.js: line 3: invalid JSON"):
        import_x(str(b.write_zip(tmp_path / "a.zip", f)), NullProgress())


def test_malformed_optional_parts_are_reported(tmp_path: Path) -> None:
    f = files()
    f["data/account.js"] = "window.YTD.account.part0 = [{"
    f["data/note-tweet.js"] = "window.YTD.noteTweet.part0 = nope"
    f["data/manifest.js"] = "window.__THAR_CONFIG = {"
    f["data/profile.js"] = 'window.YTD.profile.part0 = [{"profile": {}}]'
    data = import_x(str(b.write_zip(tmp_path / "a.zip", f)), NullProgress())
    assert len(data.posts) == 4
    assert data.followers == ["11", "12", "13"]
    assert "data/account.js (unreadable)" in data.missing_parts
    assert "data/manifest.js (unreadable)" in data.missing_parts
    assert "data/note-tweet.js (unreadable)" in data.missing_parts
    assert data.owner.external_id == "unknown"
    assert data.posts[-1].text.endswith("https://t.co/more")
    assert any(n.startswith("data/account.js: line 1: invalid JSON") for n in data.notes)


def test_wrong_network(tmp_path: Path) -> None:
    ig = b.instagram_files(followers=["a"], following=["b"], posts=[])
    with pytest.raises(
        ArchiveError, match=r"^This looks like an Instagram archive, not an X archive.$"
    ):
        import_x(str(b.write_zip(tmp_path / "ig.zip", ig)), NullProgress())


def test_not_an_archive(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(ArchiveError, match=r"does not look like an X archive: data/tweets.js"):
        import_x(str(path), NullProgress())


def test_parse_x_date() -> None:
    assert parse_x_date("Wed Oct 10 20:19:24 +0000 2018") == T1
    assert parse_x_date("Wed Oct 10 22:19:24 +0200 2018") == T1
    assert parse_x_date("2018-10-10T20:19:24Z") == T1
    assert parse_x_date(None) is None
    assert parse_x_date("yesterday") is None


def _results_note(note_id: str, text: str, *, nested: bool) -> dict[str, object]:
    """The other ``note-tweet.js`` shape: ``noteTweetResults`` instead of ``core``."""
    result = {
        "text": text,
        "entity_set": {"urls": [{"url": "https://t.co/n", "expanded_url": "https://ex.org"}]},
    }
    return {
        "noteTweet": {
            "noteTweetId": note_id,
            "noteTweetResults": {"result": result} if nested else result,
        }
    }


@pytest.mark.parametrize("nested", [False, True])
def test_note_tweet_results_shape(tmp_path: Path, nested: bool) -> None:
    f = files(notes=[_results_note("55555", LONG + " https://t.co/n", nested=nested)])
    data = import_x(str(b.write_zip(tmp_path / "a.zip", f)), NullProgress())
    assert data.posts[-1].text == LONG + " https://ex.org"


@pytest.mark.parametrize(
    "name", ["tweet.js", "tweets.js", "tweets-part1.js", "tweets_1.js", "tweets (2).js"]
)
def test_lone_file_by_its_real_names(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    data_type = "tweet" if name == "tweet.js" else "tweets"
    path.write_text("\ufeff" + b.ytd(data_type, [b.tweet("7", "hello", T1)], part=1) + ";\n")
    data = import_x(str(path), NullProgress())
    assert [p.text for p in data.posts] == ["hello"]


def test_lone_follower_file(tmp_path: Path) -> None:
    path = tmp_path / "follower_1.js"
    full = b.x_files(tweets=[], followers=["11", "12"])
    follower = next(v for k, v in full.items() if k.endswith("follower.js"))
    path.write_text(follower)
    data = import_x(str(path), NullProgress())
    assert data.followers == ["11", "12"] and data.posts == []


def test_crlf_text_normalised(tmp_path: Path) -> None:
    path = tmp_path / "tweets.js"
    path.write_text(b.ytd("tweets", [b.tweet("7", "one\r\ntwo\rthree", T1)]))
    assert import_x(str(path), NullProgress()).posts[0].text == "one\ntwo\nthree"


@pytest.mark.parametrize("offset", ["+0000", "+0530", "-0800", "-0130", "+1400"])
def test_x_dates_read_as_strptime_reads_them(offset):
    for day in ("Mon Jan 01 00:00:00", "Thu Feb 29 23:59:59", "Wed Oct 10 20:19:24"):
        value = f"{day} {offset} 2024"
        expected = datetime.strptime(value, "%a %b %d %H:%M:%S %z %Y").astimezone(UTC)
        assert parse_x_date(value) == expected and parse_x_date(value).tzinfo is UTC
    assert parse_x_date(f"Fri Feb 30 10:00:00 {offset} 2024") is None  # no such day
