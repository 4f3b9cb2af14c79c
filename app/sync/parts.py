"""Parts with provenance: nothing known is lost when a read is partial, refused or absent.

An account's data is five parts (:data:`~app.networks.base.PARTS`): the profile counts, the
followers list, the friends list, the posts, and the follow edges among them. Each sync or
import reads each part completely, partially, not at all (an archive without that file, an
API without that endpoint) or is refused it. :func:`combine` merges a new read with what the
connection's current snapshot shows, part by part:

* a **complete** read replaces the part;
* a **partial** read replaces only a part that was never complete (else the last complete
  version stays, and the page says what the new read gave beside it);
* an **absent** or **refused** read never replaces anything;
* **posts** from several sources are merged by id (an archive's old posts and a live sync's
  newest ones), unless a complete read replaces them;
* a **person** known only by id (an X archive) takes their name and counts from any earlier
  source that had them.

Every part's record says what is shown (state, count of total, the sources it came from and
as of when) and what the newest read gave; :func:`growth_between_parts` counts arrivals and
departures only between two complete reads of the same list.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import Follow, Person, Post, Snapshot, SyncRun
from app.networks.base import PARTS, AccountData, PartRead, PartState, PostSpool
from app.networks.base import Follow as FollowRecord
from app.networks.base import Person as PersonRecord
from app.networks.base import Post as PostRecord

COMPLETE, PARTIAL = PartState.COMPLETE.value, PartState.PARTIAL.value
Lists = Collection[str] | None
#: States whose rows are worth keeping when a later read gives less.
KEEPABLE = {COMPLETE, PARTIAL}


def source_of(run: SyncRun, data: AccountData, at: datetime) -> dict[str, Any]:
    """Where a read came from: ``kind`` (live, public, import, demo), the uploaded file's
    name, and the date its data is as of (an archive's own date when it says)."""
    path = run.params.get("path") if run.params else None
    as_of = data.archive_date if run.kind == "import" and data.archive_date else at
    return {
        "kind": run.kind,
        "file": os.path.basename(str(path)) if path else None,
        "as_of": as_of.isoformat(),
    }


def read_record(read: PartRead, source: dict[str, Any]) -> dict[str, Any]:
    """A part read as stored: its state, counts, reason and source."""
    return {
        "state": read.state.value,
        "count": read.count,
        "total": read.total,
        "reason": read.reason,
        **source,
    }


@dataclass
class Kept:
    """What the connection's current snapshot shows, read back for a merge."""

    parts: dict[str, dict[str, Any]]
    profile: dict[str, Any]
    people: dict[str, PersonRecord] = field(default_factory=dict)
    followers: list[str] = field(default_factory=list)
    friends: list[str] = field(default_factory=list)
    follows: set[FollowRecord] = field(default_factory=set)
    lists_fetched: set[str] = field(default_factory=set)
    posts: PostSpool = field(default_factory=PostSpool)
    #: The snapshot read, for handles looked up later.
    snapshot_id: int | None = None


def shown_parts(snapshot: Snapshot) -> dict[str, dict[str, Any]]:
    """What each part of ``snapshot`` shows; derived from its counts for a snapshot stored
    before parts were recorded."""
    if snapshot.parts:
        return {name: dict(part["shown"]) for name, part in snapshot.parts.items()}
    results = snapshot.results or {}
    source = {
        "kind": results.get("source", "live"),
        "file": None,
        "as_of": (snapshot.archive_date or snapshot.created_at).isoformat(),
    }

    def legacy(count: int | None) -> dict[str, Any]:
        state = COMPLETE if count is not None else PartState.ABSENT.value
        return {"state": state, "count": count, "total": None, "reason": None, "sources": [source]}

    fetched = ((results.get("graph_meta") or {}).get("followers") or {}).get("fetched")
    return {
        "profile": legacy(0 if results.get("profile") else None),
        "followers": legacy(snapshot.followers_count),
        "friends": legacy(snapshot.friends_count),
        "posts": legacy(snapshot.posts_count),
        "edges": legacy(fetched or None),
    }


def load_lists(snapshot: Snapshot) -> Kept:
    """Only the follower and friend ids of ``snapshot``: all growth needs when the new read
    replaces every part (the handles of the few people growth lists by name are read when
    needed, :func:`kept_people`)."""
    kept = Kept(
        parts=shown_parts(snapshot),
        profile=dict(snapshot.results.get("profile") or {}),
        snapshot_id=snapshot.id,
    )
    rows = db.session.execute(
        select(Person.external_id, Person.is_follower, Person.is_friend)
        .where(Person.snapshot_id == snapshot.id)
        .execution_options(yield_per=10_000)
    )
    for pid, is_follower, is_friend in rows:
        if is_follower:
            kept.followers.append(pid)
        if is_friend:
            kept.friends.append(pid)
    return kept


def kept_people(kept: Kept, ids: Collection[str]) -> dict[str, tuple[str, str | None]]:
    """The handle and name of ``ids`` in the kept snapshot: from its records when they were
    read, else from its rows."""
    found = {
        pid: (kept.people[pid].handle, kept.people[pid].name) for pid in ids if pid in kept.people
    }
    missing = [pid for pid in ids if pid not in found]
    if missing and kept.snapshot_id is not None:
        for start in range(0, len(missing), 900):
            rows = db.session.execute(
                select(Person.external_id, Person.handle, Person.name).where(
                    Person.snapshot_id == kept.snapshot_id,
                    Person.external_id.in_(missing[start : start + 900]),
                )
            )
            found.update((pid, (handle, name)) for pid, handle, name in rows)
    return found


def load_kept(snapshot: Snapshot) -> Kept:
    """The rows and part records of ``snapshot``: what a merge keeps."""
    kept = Kept(parts=shown_parts(snapshot), profile=dict(snapshot.results.get("profile") or {}))
    for row in db.session.scalars(select(Person).where(Person.snapshot_id == snapshot.id)):
        kept.people[row.external_id] = PersonRecord(
            external_id=row.external_id,
            handle=row.handle,
            name=row.name,
            url=row.url,
            followers_count=row.followers_count,
            following_count=row.following_count,
            posts_count=row.posts_count,
            avatar_url=row.avatar_url,
            links=tuple(row.links or ()),
        )
        if row.is_follower:
            kept.followers.append(row.external_id)
        if row.is_friend:
            kept.friends.append(row.external_id)
        if row.following_known:
            kept.lists_fetched.add(row.external_id)
    for source, target in db.session.execute(
        select(Follow.source, Follow.target).where(Follow.snapshot_id == snapshot.id)
    ):
        kept.follows.add(FollowRecord(source, target))
    rows = select(Post).where(Post.snapshot_id == snapshot.id).execution_options(yield_per=5000)
    for post in db.session.scalars(rows):
        kept.posts.append(
            PostRecord(
                external_id=post.external_id,
                created_at=post.created_at,
                text=post.text,
                url=post.url,
                kind=post.kind,
                reply_count=post.reply_count,
                like_count=post.like_count,
                repost_count=post.repost_count,
                in_reply_to=post.in_reply_to,
                is_repost=post.is_repost,
                first_response_at=post.first_response_at,
            )
        )
    return kept


def replaces(read: PartRead, shown: dict[str, Any] | None) -> bool:
    """Whether a new read of a part takes the place of what is shown."""
    if shown is None or shown["state"] not in KEEPABLE:
        return True
    if read.state == PartState.COMPLETE:
        return True
    return read.state == PartState.PARTIAL and shown["state"] != COMPLETE


def id_only(person: PersonRecord) -> bool:
    """A person known only by id (an X archive lists followers by account id)."""
    return person.name is None and person.handle == person.external_id


def enrich(new: PersonRecord | None, old: PersonRecord | None) -> PersonRecord | None:
    """One person from two sources: the newer record, with what it lacks from the older."""
    if new is None or old is None:
        return new or old
    if id_only(new):
        new = replace(new, handle=old.handle, name=old.name)
    return replace(
        new,
        name=new.name or old.name,
        url=new.url or old.url,
        avatar_url=new.avatar_url or old.avatar_url,
        followers_count=new.followers_count
        if new.followers_count is not None
        else old.followers_count,
        following_count=new.following_count
        if new.following_count is not None
        else old.following_count,
        posts_count=new.posts_count if new.posts_count is not None else old.posts_count,
        links=new.links or old.links,
    )


@dataclass
class Combined:
    """The merged account to analyse and store, and the record of every part."""

    data: AccountData
    parts: dict[str, dict[str, Any]]
    #: Lists whose new read is complete and whose previous version was complete too: the
    #: only ones growth may compare.
    comparable: set[str]
    kept: Kept | None


def combine(previous: Snapshot | None, data: AccountData, source: dict[str, Any]) -> Combined:
    """Merge a new read into what ``previous`` (the current snapshot) shows, part by part
    (see the module's rules).

    The previous rows are read only when something of them is kept: a read that replaces
    every part (the usual complete sync) reads back only the previous lists, for growth.
    """
    reads = {name: data.part(name) for name in PARTS}
    shown = shown_parts(previous) if previous is not None else {}
    parts: dict[str, dict[str, Any]] = {}
    taken: dict[str, bool] = {}
    for name in PARTS:
        read = reads[name]
        taken[name] = replaces(read, shown.get(name))
        if taken[name]:
            record = read_record(read, {})
            show = {**record, "sources": [source]}
        else:
            show = dict(shown[name])
        parts[name] = {"read": read_record(read, source), "shown": show}
    comparable = {
        name
        for name in ("followers", "friends")
        if reads[name].state == PartState.COMPLETE and shown.get(name, {}).get("state") == COMPLETE
    }
    if previous is None:
        return Combined(data, parts, comparable, None)
    keeps = not all(taken.values()) or not reads["posts"].usable
    named_elsewhere = any(id_only(person) for person in data.people.values())
    if keeps or named_elsewhere:
        kept = load_kept(previous)
        _merge_into(data, kept, taken, parts, source)
    else:
        kept = load_lists(previous)
    return Combined(data, parts, comparable, kept)


def _merge_into(
    data: AccountData,
    kept: Kept,
    taken: dict[str, bool],
    parts: dict[str, dict[str, Any]],
    source: dict[str, Any],
) -> None:
    if not taken["followers"]:
        data.followers = list(kept.followers)
    if not taken["friends"]:
        data.friends = list(kept.friends)
    circle = set(data.followers or ()) | set(data.friends or ())
    data.people = {
        pid: person
        for pid in circle
        if (person := enrich(data.people.get(pid), kept.people.get(pid))) is not None
    }
    if not taken["edges"]:
        data.follows = {
            edge for edge in kept.follows if edge.source in circle | {data.owner.external_id}
        }
        data.lists_fetched = kept.lists_fetched & circle
    if not taken["profile"]:
        for key in ("followers_count", "following_count", "posts_count"):
            if getattr(data.owner, key) is None:
                setattr(data.owner, key, kept.profile.get(key))
        data.owner.name = data.owner.name or kept.profile.get("name")
    _merge_posts(data, kept, taken["posts"] and data.part("posts").usable, parts, source)


def _merge_posts(
    data: AccountData,
    kept: Kept,
    complete: bool,
    parts: dict[str, dict[str, Any]],
    source: dict[str, Any],
) -> None:
    """Posts of several sources are one set by id; a complete read replaces them."""
    if complete or not kept.posts:
        return
    merged = PostSpool(data.posts)  # the new read of a post is kept over the stored one
    read_any = len(merged) > 0
    merged.extend(kept.posts)
    data.posts = merged
    show = parts["posts"]["shown"]
    show["count"] = len(merged)
    if read_any and source not in show["sources"]:
        show["sources"] = [*show["sources"], source]
    if show["state"] not in KEEPABLE:
        show["state"] = (
            COMPLETE if kept.parts.get("posts", {}).get("state") == COMPLETE else PARTIAL
        )


def growth_lists(combined: Combined) -> tuple[Lists, Lists, Lists, Lists]:
    """The lists :func:`app.analysis.growth.growth_between` may compare: a list is ``None``
    (unknown) on either side unless both reads of it are complete."""
    kept, data = combined.kept, combined.data
    previous_followers = kept.followers if kept and "followers" in combined.comparable else None
    previous_friends = kept.friends if kept and "friends" in combined.comparable else None
    current_followers = data.followers if "followers" in combined.comparable else None
    current_friends = data.friends if "friends" in combined.comparable else None
    return previous_followers, previous_friends, current_followers, current_friends


def nothing_read(data: AccountData) -> bool:
    """Whether a read gave no part at all (an archive with nothing importable)."""
    wanted = ("followers", "friends", "posts")
    return all(data.part(name).state in (PartState.ABSENT, PartState.REFUSED) for name in wanted)
