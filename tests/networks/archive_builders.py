"""Build archives in each network's real format, in a temporary folder, for the tests.

Everything here is synthetic: invented names and texts, never real people's data. The shapes
follow the networks' exports (see each importer's module docstring for the sources).
"""

from __future__ import annotations

import hashlib
import io
import json
import stat
import tarfile
import zipfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import libipld

Files = Mapping[str, str | bytes]


# -- containers --------------------------------------------------------------------------------


def write_zip(path: Path, files: Files) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    return path


def write_folder(path: Path, files: Files) -> Path:
    for name, content in files.items():
        target = path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            target.write_text(content, encoding="utf-8")
        else:
            target.write_bytes(content)
    return path


def write_tar_gz(path: Path, files: Files) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        for name, content in files.items():
            data = content.encode() if isinstance(content, str) else content
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


def add_symlink_member(path: Path, name: str, target: str) -> None:
    """Append a symlink member (Unix mode in the external attributes) to a zip."""
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr(info, target)


# -- X -----------------------------------------------------------------------------------------


def ytd(data_type: str, items: Any, part: int = 0) -> str:
    return f"window.YTD.{data_type}.part{part} = " + json.dumps(items, indent=2, ensure_ascii=False)


def x_date(dt: datetime) -> str:
    return dt.strftime("%a %b %d %H:%M:%S +0000 %Y")


def tweet(
    tweet_id: str,
    text: str,
    when: datetime,
    *,
    likes: int = 0,
    retweets: int = 0,
    reply_to: str | None = None,
    urls: list[tuple[str, str]] = (),  # type: ignore[assignment]
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "edit_info": {"initial": {"editTweetIds": [tweet_id], "editableUntil": "x"}},
        "retweeted": False,
        "source": '<a href="https://mobile.twitter.com" rel="nofollow">Twitter Web App</a>',
        "entities": {
            "hashtags": [],
            "symbols": [],
            "user_mentions": [],
            "urls": [
                {"url": short, "expanded_url": long, "display_url": long[8:], "indices": ["0", "1"]}
                for short, long in urls
            ],
        },
        "display_text_range": ["0", str(len(text))],
        "favorite_count": str(likes),
        "id_str": tweet_id,
        "truncated": False,
        "retweet_count": str(retweets),
        "id": tweet_id,
        "created_at": x_date(when),
        "favorited": False,
        "full_text": text,
        "lang": "en",
    }
    if reply_to:
        body["in_reply_to_status_id_str"] = reply_to
        body["in_reply_to_status_id"] = reply_to
        body["in_reply_to_screen_name"] = "someone"
    return {"tweet": body}


def x_files(
    *,
    tweets: list[dict[str, Any]],
    followers: list[str] | None = None,
    following: list[str] | None = None,
    notes: list[dict[str, Any]] | None = None,
    manifest: bool = True,
    tweet_parts: int = 1,
    old_names: bool = False,
    account: bool = True,
    root: str = "",
    generated: str = "2024-02-03T04:05:06.789Z",
    account_id: str = "1000",
    username: str = "ana_example",
) -> dict[str, str]:
    """An X archive's files: ``data/manifest.js``, tweets (in parts), followers, account..."""
    tweet_type = "tweet" if old_names else "tweets"
    files: dict[str, str] = {}
    manifest_types: dict[str, Any] = {}
    size = max(1, -(-len(tweets) // tweet_parts))
    tweet_files = []
    for index in range(tweet_parts):
        chunk = tweets[index * size : (index + 1) * size]
        if tweet_parts == 1:
            name = f"data/{tweet_type}.js"
        else:
            name = f"data/{tweet_type}-part{index + 1}.js"
        files[name] = ytd(tweet_type, chunk, index)
        tweet_files.append(
            {
                "fileName": name,
                "globalName": f"YTD.{tweet_type}.part{index}",
                "count": str(len(chunk)),
            }
        )
    manifest_types[tweet_type] = {"files": tweet_files}
    if followers is not None:
        files["data/follower.js"] = ytd(
            "follower",
            [
                {
                    "follower": {
                        "accountId": a,
                        "userLink": f"https://twitter.com/intent/user?user_id={a}",
                    }
                }
                for a in followers
            ],
        )
        manifest_types["follower"] = {"files": [{"fileName": "data/follower.js"}]}
    if following is not None:
        files["data/following.js"] = ytd(
            "following",
            [
                {
                    "following": {
                        "accountId": a,
                        "userLink": f"https://twitter.com/intent/user?user_id={a}",
                    }
                }
                for a in following
            ],
        )
        manifest_types["following"] = {"files": [{"fileName": "data/following.js"}]}
    if notes is not None:
        files["data/note-tweet.js"] = ytd("noteTweet", notes)
        manifest_types["noteTweet"] = {"files": [{"fileName": "data/note-tweet.js"}]}
    if account:
        files["data/account.js"] = ytd(
            "account",
            [
                {
                    "account": {
                        "email": "owner@example.org",
                        "createdVia": "web",
                        "username": username,
                        "accountId": account_id,
                        "createdAt": "2010-01-01T00:00:00.000Z",
                        "accountDisplayName": "Ana Exämple",
                    }
                }
            ],
        )
        files["data/profile.js"] = ytd(
            "profile",
            [
                {
                    "profile": {
                        "description": {
                            "bio": "Writes about café culture",
                            "website": "https://t.co/abc",
                            "location": "Zürich",
                        },
                        "avatarMediaUrl": "https://pbs.twimg.com/profile_images/1/a.jpg",
                    }
                }
            ],
        )
    if manifest:
        config = {
            "userInfo": {
                "accountId": account_id,
                "userName": username,
                "displayName": "Ana Exämple",
            },
            "archiveInfo": {
                "sizeBytes": "1000",
                "generationDate": generated,
                "isPartialArchive": False,
                "maxPartSizeBytes": "53687091200",
            },
            "readmeInfo": {
                "fileName": "data/README.txt",
                "directory": "data/",
                "name": "README.txt",
            },
            "dataTypes": manifest_types,
        }
        files["data/manifest.js"] = "window.__THAR_CONFIG = " + json.dumps(config, indent=2)
    files["Your archive.html"] = "<html><body>archive</body></html>"
    if root:
        files = {f"{root}/{k}": v for k, v in files.items()}
    return files


def note_tweet(note_id: str, text: str, when: datetime) -> dict[str, Any]:
    return {
        "noteTweet": {
            "noteTweetId": note_id,
            "updatedAt": when.isoformat().replace("+00:00", ".000Z"),
            "lifecycle": {
                "value": "1",
                "name": "Active",
                "originalName": "Active",
                "annotations": {},
            },
            "createdAt": when.isoformat().replace("+00:00", ".000Z"),
            "core": {
                "styletags": [],
                "urls": [],
                "text": text,
                "mentions": [],
                "cashtags": [],
                "hashtags": [],
            },
        }
    }


# -- Meta (Facebook, Instagram) ----------------------------------------------------------------


def _mojibake(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-8").decode("latin-1")
    if isinstance(value, list):
        return [_mojibake(v) for v in value]
    if isinstance(value, dict):
        return {k: _mojibake(v) for k, v in value.items()}
    return value


def meta_json(value: Any) -> str:
    """JSON the way Meta writes it: each UTF-8 byte of a non-ASCII character as ``\\u00XX``."""
    return json.dumps(_mojibake(value), indent=2, ensure_ascii=True)


def string_list(
    names: list[str], start: int = 1_700_000_000, *, title_only: bool = False
) -> list[Any]:
    items = []
    for index, name in enumerate(names):
        if title_only:
            data = {"href": f"https://www.instagram.com/_u/{name}", "timestamp": start - index}
            items.append({"title": name, "string_list_data": [data]})
        else:
            data = {
                "href": f"https://www.instagram.com/{name}",
                "value": name,
                "timestamp": start - index,
            }
            items.append({"title": "", "media_list_data": [], "string_list_data": [data]})
    return items


def fb_people(names: list[str], start: int = 1_700_000_000) -> list[dict[str, Any]]:
    return [{"name": n, "timestamp": start - i * 86400} for i, n in enumerate(names)]


def fb_posts(posts: list[tuple[int, str]]) -> list[dict[str, Any]]:
    return [
        {
            "timestamp": stamp,
            "data": [{"post": text}, {"update_timestamp": stamp}],
            "title": "Ana Exämple updated her status.",
        }
        for stamp, text in posts
    ]


def facebook_files(
    era: str,
    *,
    friends: list[str],
    followers: list[str] | None = None,
    following: list[str] | None = None,
    posts: list[tuple[int, str]] = (),  # type: ignore[assignment]
    profile: bool = True,
    friend_rows: list[dict[str, Any]] | None = None,
) -> dict[str, str]:
    rows = friend_rows if friend_rows is not None else fb_people(friends)
    files: dict[str, str] = {}
    if era == "2019":
        files["friends/friends.json"] = meta_json({"friends": rows})
        if following is not None:
            files["following_and_followers/following.json"] = meta_json(
                {"following": fb_people(following)}
            )
        if followers is not None:
            files["following_and_followers/followers.json"] = meta_json(
                {"followers": [{"name": n} for n in followers]}
            )
        files["posts/your_posts_1.json"] = meta_json(fb_posts(list(posts)))
        profile_path = "profile_information/profile_information.json"
        profile_doc = {"profile": {"name": "Ana Exämple", "username": "ana.example"}}
    elif era == "2021":
        files["friends_and_followers/friends.json"] = meta_json({"friends_v2": rows})
        files["friends_and_followers/removed_friends.json"] = meta_json(
            {"deleted_friends_v2": fb_people(["Old Friend"])}
        )
        if following is not None:
            files["friends_and_followers/following.json"] = meta_json(
                {"following_v2": fb_people(following)}
            )
        if followers is not None:
            files["friends_and_followers/followers.json"] = meta_json(
                {"followers_v2": [{"name": n} for n in followers]}
            )
        files["posts/your_posts_1.json"] = meta_json(fb_posts(list(posts)))
        profile_path = "profile_information/profile_information.json"
        profile_doc = {
            "profile_v2": {
                "name": {"full_name": "Ana Exämple", "first_name": "Ana", "last_name": "Exämple"},
                "profile_uri": "https://www.facebook.com/profile.php?id=100004242424242",
            }
        }
    else:
        files["connections/friends/your_friends.json"] = meta_json({"friends_v2": rows})
        files["connections/friends/removed_friends.json"] = meta_json(
            {"deleted_friends_v2": fb_people(["Old Friend"])}
        )
        if following is not None:
            files["connections/followers/who_you've_followed.json"] = meta_json(
                {"following_v3": fb_people(following)}
            )
        if followers is not None:
            half = len(followers) // 2
            files["connections/followers/people_who_followed_you_1.json"] = meta_json(
                string_list(followers[:half])
            )
            files["connections/followers/people_who_followed_you_2.json"] = meta_json(
                string_list(followers[half:])
            )
        files[
            "your_activity_across_facebook/posts/your_posts__check_ins__photos_and_videos_1.json"
        ] = meta_json(fb_posts(list(posts)))
        profile_path = "personal_information/profile_information/profile_information.json"
        profile_doc = {
            "profile_v2": {
                "name": {"full_name": "Ana Exämple"},
                "username": "ana.example",
                "profile_uri": "https://www.facebook.com/ana.example",
            }
        }
    if profile:
        files[profile_path] = meta_json(profile_doc)
    return files


def instagram_files(
    *,
    followers: list[str],
    following: list[str],
    posts: list[dict[str, Any]],
    new_layout: bool = True,
    follower_parts: int = 1,
    profile: bool = True,
) -> dict[str, str]:
    base = "connections/followers_and_following" if new_layout else "followers_and_following"
    files: dict[str, str] = {}
    size = max(1, -(-len(followers) // follower_parts))
    for index in range(follower_parts):
        chunk = followers[index * size : (index + 1) * size]
        files[f"{base}/followers_{index + 1}.json"] = meta_json(string_list(chunk))
    files[f"{base}/following.json"] = meta_json(
        {"relationships_following": string_list(following, title_only=new_layout)}
    )
    post_dir = "your_instagram_activity/content" if new_layout else "content"
    files[f"{post_dir}/posts_1.json"] = meta_json(posts)
    if profile:
        personal = (
            "personal_information/personal_information/personal_information.json"
            if new_layout
            else "personal_information/personal_information.json"
        )
        files[personal] = meta_json(
            {
                "profile_user": [
                    {
                        "media_map_data": {
                            "Profile Photo": {"uri": "media/p.jpg", "creation_timestamp": 1}
                        },
                        "string_map_data": {
                            "Email": {"href": "", "value": "owner@example.org", "timestamp": 0},
                            "Name": {"href": "", "value": "Ana Exämple", "timestamp": 0},
                            "Username": {"href": "", "value": "ana.example", "timestamp": 0},
                            "Bio": {"href": "", "value": "Café ☕ in Zürich", "timestamp": 0},
                            "Website": {"href": "", "value": "https://example.org", "timestamp": 0},
                        },
                    }
                ]
            }
        )
    return files


def ig_post(caption: str, stamp: int, *, multi: bool = False) -> dict[str, Any]:
    if multi:
        return {
            "media": [
                {"uri": f"media/posts/{stamp}_1.jpg", "creation_timestamp": stamp, "title": ""},
                {"uri": f"media/posts/{stamp}_2.jpg", "creation_timestamp": stamp, "title": ""},
            ],
            "title": caption,
            "creation_timestamp": stamp,
        }
    return {
        "media": [
            {"uri": f"media/posts/{stamp}.jpg", "creation_timestamp": stamp, "title": caption}
        ]
    }


# -- LinkedIn ----------------------------------------------------------------------------------

CONNECTIONS_NOTES = (
    "Notes:\n"
    '"When exporting your connection data, you may notice that some of the email addresses '
    "are missing. You will only see email addresses for connections who have allowed their "
    "connections to see or download their email address using this setting "
    "https://www.linkedin.com/psettings/privacy/email. "
    'You can learn more here https://www.linkedin.com/help/linkedin/answer/261"\n'
    "\n"
)


def connections_csv(
    rows: list[tuple[str, str, str, str, str, str, str]], *, notes: bool = True
) -> str:
    out = io.StringIO()
    import csv

    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["First Name", "Last Name", "URL", "Email Address", "Company", "Position", "Connected On"]
    )
    for row in rows:
        writer.writerow(row)
    return (CONNECTIONS_NOTES if notes else "") + out.getvalue()


def shares_csv(rows: list[tuple[str, str, str]]) -> str:
    import csv

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Date", "ShareLink", "ShareCommentary", "SharedUrl", "MediaUrl", "Visibility"])
    for date, link, text in rows:
        writer.writerow([date, link, text, "", "", "MEMBER_NETWORK"])
    return out.getvalue()


PROFILE_CSV = (
    "First Name,Last Name,Maiden Name,Address,Birth Date,Headline,Summary,Industry,Zip Code,"
    "Geo Location,Twitter Handles,Websites,Instant Messengers\n"
    'Ana,Exämple,,,,"Engineer at Example, Inc.",Builds things,Software,,"Zürich, Switzerland",'
    '[ana_example],"[PERSONAL:https://ana.example.org,COMPANY:https://example.com]",\n'
)


# -- Mastodon ----------------------------------------------------------------------------------

MASTODON_ACTOR = {
    "@context": ["https://www.w3.org/ns/activitystreams"],
    "id": "https://social.example/users/ana",
    "type": "Person",
    "following": "https://social.example/users/ana/following",
    "followers": "https://social.example/users/ana/followers",
    "inbox": "https://social.example/users/ana/inbox",
    "outbox": "outbox.json",
    "preferredUsername": "ana",
    "name": "Ana Exämple",
    "summary": "<p>Café &amp; code</p>",
    "url": "https://social.example/@ana",
    "published": "2022-11-01T00:00:00Z",
    "attachment": [
        {
            "type": "PropertyValue",
            "name": "Web",
            "value": '<a href="https://ana.example.org" rel="me">ana.example.org</a>',
        }
    ],
    "icon": {"type": "Image", "mediaType": "image/png", "url": "avatar.png"},
    "likes": "likes.json",
    "bookmarks": "bookmarks.json",
}


def mastodon_note(
    status_id: str, html: str, published: str, *, reply_to: str | None = None
) -> dict[str, Any]:
    uri = f"https://social.example/users/ana/statuses/{status_id}"
    return {
        "id": f"{uri}/activity",
        "type": "Create",
        "actor": "https://social.example/users/ana",
        "published": published,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "cc": ["https://social.example/users/ana/followers"],
        "object": {
            "id": uri,
            "type": "Note",
            "summary": None,
            "inReplyTo": reply_to,
            "published": published,
            "url": f"https://social.example/@ana/{status_id}",
            "attributedTo": "https://social.example/users/ana",
            "sensitive": False,
            "content": html,
            "contentMap": {"en": html},
            "attachment": [],
            "tag": [],
        },
    }


def mastodon_boost(status_id: str, target: str, published: str) -> dict[str, Any]:
    return {
        "id": f"https://social.example/users/ana/statuses/{status_id}/activity",
        "type": "Announce",
        "actor": "https://social.example/users/ana",
        "published": published,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": target,
    }


def mastodon_files(
    items: list[dict[str, Any]], *, follows: str | None = None, actor: bool = True
) -> dict[str, str]:
    files = {
        "outbox.json": json.dumps(
            {
                "@context": "https://www.w3.org/ns/activitystreams",
                "id": "outbox.json",
                "type": "OrderedCollection",
                "totalItems": len(items),
                "orderedItems": items,
            }
        ),
        "likes.json": json.dumps(
            {"id": "likes.json", "type": "OrderedCollection", "orderedItems": []}
        ),
        "bookmarks.json": json.dumps(
            {"id": "bookmarks.json", "type": "OrderedCollection", "orderedItems": []}
        ),
    }
    if actor:
        files["actor.json"] = json.dumps(MASTODON_ACTOR)
    if follows is not None:
        files["following_accounts.csv"] = follows
    return files


def following_csv(addresses: list[str], *, header: bool = True) -> str:
    lines = ["Account address,Show boosts,Notify on new posts,Languages"] if header else []
    lines += [f"{a},true,false," if header else a for a in addresses]
    return "\n".join(lines) + "\n"


# -- Bluesky -----------------------------------------------------------------------------------


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def cid_for(block: bytes) -> bytes:
    return bytes([1, 0x71, 0x12, 0x20]) + hashlib.sha256(block).digest()


TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"


def tid(when: datetime, clock: int = 0) -> str:
    value = (int(when.timestamp() * 1_000_000) << 10) | clock
    chars = []
    for _ in range(13):
        chars.append(TID_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def bluesky_car(
    did: str,
    *,
    posts: list[tuple[str, str, str | None]],
    follows: list[str],
    reposts: list[str] = (),  # type: ignore[assignment]
    profile: dict[str, Any] | None = None,
    rev_time: datetime = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC),
    extra_blocks: list[tuple[bytes, bytes]] = (),  # type: ignore[assignment]
    version: int = 3,
    commit_last: bool = False,
) -> bytes:
    """A repository CAR: commit, one MST node, records. ``posts`` are (text, createdAt, parent).

    ``version`` 3 has a commit with ``rev``; 2 has ``prev`` and no ``rev``; 1 a signed root
    ``{"root", "sig"}`` pointing at ``{"did", "data", "prev", "meta"}``. ``commit_last`` puts
    the commit blocks after the records (block order is free in a CAR).
    """
    records: list[tuple[str, dict[str, Any]]] = []
    for index, (text, created, parent) in enumerate(posts):
        record: dict[str, Any] = {
            "$type": "app.bsky.feed.post",
            "text": text,
            "createdAt": created,
            "langs": ["en"],
        }
        if parent:
            ref = {"uri": parent, "cid": "bafyreiexample"}
            record["reply"] = {"root": ref, "parent": ref}
        records.append((f"app.bsky.feed.post/3kpost{index:05d}", record))
    for index, subject in enumerate(follows):
        records.append(
            (
                f"app.bsky.graph.follow/3kfollow{index:05d}",
                {
                    "$type": "app.bsky.graph.follow",
                    "subject": subject,
                    "createdAt": "2024-01-01T00:00:00.000Z",
                },
            )
        )
    for index, uri in enumerate(reposts):
        records.append(
            (
                f"app.bsky.feed.repost/3krepost{index:05d}",
                {
                    "$type": "app.bsky.feed.repost",
                    "subject": {"uri": uri, "cid": "bafyreiexample"},
                    "createdAt": "2024-03-01T12:00:00.000Z",
                },
            )
        )
    if profile is not None:
        records.append(
            ("app.bsky.actor.profile/self", {"$type": "app.bsky.actor.profile", **profile})
        )
    records.sort(key=lambda r: r[0])
    blocks: list[tuple[bytes, bytes]] = []
    entries = []
    previous = b""
    for key, record in records:
        data = libipld.encode_dag_cbor(record)
        cid = cid_for(data)
        blocks.append((cid, data))
        raw_key = key.encode()
        common = 0
        while common < min(len(previous), len(raw_key)) and previous[common] == raw_key[common]:
            common += 1
        entries.append({"p": common, "k": raw_key[common:], "v": cid, "t": None})
        previous = raw_key
    node = libipld.encode_dag_cbor({"l": None, "e": entries})
    node_cid = cid_for(node)
    fields: dict[str, Any] = {"did": did, "version": version, "data": node_cid, "prev": None}
    if version >= 3:
        fields["rev"] = tid(rev_time)
    if version >= 2:
        fields["sig"] = b"\x01" * 64
    else:
        del fields["version"]
        fields["meta"] = cid_for(b"meta")
    commit = libipld.encode_dag_cbor(fields)
    commit_cid = cid_for(commit)
    commits = [(commit_cid, commit)]
    root_cid = commit_cid
    if version < 2:
        signed = libipld.encode_dag_cbor({"root": commit_cid, "sig": b"\x01" * 64})
        root_cid = cid_for(signed)
        commits.insert(0, (root_cid, signed))
    header = libipld.encode_dag_cbor({"version": 1, "roots": [root_cid]})
    out = bytearray(_varint(len(header)) + header)
    ordered = [(node_cid, node), *blocks, *extra_blocks]
    ordered = [*ordered, *commits] if commit_last else [*commits, *ordered]
    for cid, data in ordered:
        out += _varint(len(cid) + len(data)) + cid + data
    return bytes(out)
