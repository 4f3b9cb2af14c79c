"""Live Bluesky fetcher: public AppView reads by handle, no login.

Requests made for an owner with F followers, G friends, P distinct people, the chosen
people S (at most ``max_people``) and N feed items::

    1                                   app.bsky.actor.getProfile
    + max(1, ceil(F / 100))             app.bsky.graph.getFollowers (limit 100)
    + max(1, ceil(G / 100))             app.bsky.graph.getFollows (limit 100)
    + ceil(P / 25)                      app.bsky.actor.getProfiles (25 actors a call: list
                                        entries carry no counts)
    + sum over s in S with follows(s) > 0 of ceil(follows(s) / 100)
                                        app.bsky.graph.getFollows (limit 100)
    + max(1, ceil(N / 100)) (capped by max_posts)
                                        app.bsky.feed.getAuthorFeed (limit 100)

A page ends the list when it has no cursor or no items, so a server that hands out one
cursor too many costs one empty page per list.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.networks.base import AccountData, Follow, NotAvailable, PartState, Person, Post
from app.networks.http import ApiClient, HttpError, graph_candidates, optional_part
from app.networks.text import safe_links, safe_url

BLUESKY_APPVIEW_URL = "https://public.api.bsky.app"
PAGE_LIMIT = 100
PROFILES_PER_CALL = 25
REPOST = "app.bsky.feed.defs#reasonRepost"


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def person_from_profile(profile: dict[str, Any]) -> Person:
    """Map a ``profileView`` / ``profileViewDetailed``; a domain handle becomes a link."""
    handle = profile["handle"]
    links = (
        ()
        if handle.endswith(".bsky.social") or handle == "handle.invalid"
        else safe_links([f"https://{handle}"])
    )
    return Person(
        external_id=profile["did"],
        handle=handle,
        name=profile.get("displayName") or None,
        url=safe_url(f"https://bsky.app/profile/{handle}"),
        followers_count=profile.get("followersCount"),
        following_count=profile.get("followsCount"),
        posts_count=profile.get("postsCount"),
        avatar_url=safe_url(profile.get("avatar")),
        bio=profile.get("description") or None,
        links=links,
    )


def post_from_feed_item(item: dict[str, Any]) -> Post:
    """Map a ``feedViewPost``; a ``reasonRepost`` makes it the owner's repost."""
    post = item["post"]
    record = post.get("record") or {}
    reason = item.get("reason") or {}
    is_repost = reason.get("$type") == REPOST
    uri = post["uri"]
    rkey = uri.rsplit("/", 1)[-1]
    author = (post.get("author") or {}).get("handle") or uri.split("/")[2]
    parent = ((record.get("reply") or {}).get("parent") or {}).get("uri")
    created = reason.get("indexedAt") if is_repost else record.get("createdAt")
    return Post(
        external_id=f"repost:{uri}" if is_repost else uri,
        created_at=_time(created or post["indexedAt"]),
        text=record.get("text") or "",
        url=safe_url(f"https://bsky.app/profile/{author}/post/{rkey}"),
        kind="repost" if is_repost else "reply" if parent else "post",
        reply_count=post.get("replyCount"),
        like_count=post.get("likeCount"),
        repost_count=post.get("repostCount"),
        in_reply_to=parent,
        is_repost=is_repost,
    )


def fetch_bluesky(
    client: ApiClient,
    handle: str,
    *,
    max_people: int = 2000,
    max_posts: int = 2000,
) -> AccountData:
    """Read a Bluesky account's public profile, followers, friends, their follow links
    and author feed.

    :param client: an :class:`ApiClient` for ``BLUESKY_APPVIEW_URL`` (service name
        "Bluesky", no token); it is left open for its owner.
    :param handle: ``alice.bsky.social``, a domain handle, or a DID (a leading ``@`` is
        ignored).
    :param max_people: how many people's follow lists to read (``GRAPH_MAX_PEOPLE``).
    :param max_posts: stop reading the feed after about this many items.
    :raises NotAvailable: no such handle.
    :raises NetworkError: the AppView could not be read.
    """
    return _BlueskySync(client, max_people, max_posts).run(handle.strip().lstrip("@"))


class _BlueskySync:
    """One sync: the stages in order, sharing the people met so far."""

    def __init__(self, api: ApiClient, max_people: int, max_posts: int) -> None:
        self.api = api
        self.report = api.progress
        self.max_people = max_people
        self.max_posts = max_posts
        self.people: dict[str, Person] = {}

    def run(self, actor: str) -> AccountData:
        try:
            profile = self.api.get_json("/xrpc/app.bsky.actor.getProfile", {"actor": actor})
        except HttpError as exc:
            if exc.status == 400:
                raise NotAvailable(f"Bluesky has no account called {actor}.") from None
            raise
        owner = person_from_profile(profile)
        data = AccountData(owner=owner)
        self.report.stage("followers", owner.followers_count)
        data.followers = self._list("getFollowers", owner.external_id, "followers", collect=True)
        self.report.stage("friends", owner.following_count)
        data.friends = self._list("getFollows", owner.external_id, "follows", collect=True)
        self.people.pop(owner.external_id, None)
        self._profiles()
        data.people = self.people
        self._follows(data)
        self._posts(data)
        return data

    def _list(self, method: str, did: str, field: str, *, collect: bool) -> list[str]:
        """DIDs in one follow list.

        :param collect: add the accounts met to ``people`` (the owner's own lists).
        """
        ids: list[str] = []
        for page in self.api.iter_cursor_pages(
            f"/xrpc/app.bsky.graph.{method}",
            {"actor": did, "limit": PAGE_LIMIT},
            items_field=field,
        ):
            for entry in page.get(field) or []:
                if collect and entry["did"] not in self.people:
                    self.people[entry["did"]] = person_from_profile(entry)
                ids.append(entry["did"])
            if collect:
                self.report.advance(len(page.get(field) or []))
        return ids

    def _profiles(self) -> None:
        """Replace each list entry by the detailed profile, which carries the counts."""
        people = self.people
        self.report.stage("profiles", len(people))
        dids = list(people)
        for start in range(0, len(dids), PROFILES_PER_CALL):
            batch = dids[start : start + PROFILES_PER_CALL]
            found = self.api.get_json(
                "/xrpc/app.bsky.actor.getProfiles", [("actors", did) for did in batch]
            )
            for detailed in found.get("profiles") or []:
                if detailed["did"] in people:
                    people[detailed["did"]] = person_from_profile(detailed)
            self.report.advance(len(batch))

    def _follows(self, data: AccountData) -> None:
        """Read the follow lists of the chosen people; keep the links inside the circle."""
        people = self.people
        circle = set(people) | {data.owner.external_id}
        chosen = graph_candidates(data.followers, data.friends, self.max_people)
        self.report.stage("follows", len(chosen))
        for did in chosen:
            if people[did].following_count != 0:
                try:
                    targets = self._list("getFollows", did, "follows", collect=False)
                except (HttpError, NotAvailable):
                    self.report.advance()
                    continue  # deleted or taken down since the list was read
                data.follows.update(Follow(did, t) for t in targets if t in circle)
            data.lists_fetched.add(did)
            self.report.advance()
        if len(chosen) < len(people):
            data.notes.append(
                f"Follow links were read for {len(chosen)} of {len(people)} people "
                "(the graph limit); links of the others are unknown."
            )

    def _posts(self, data: AccountData) -> None:
        """The owner's author feed, up to about ``max_posts`` items; a refusal is a note."""
        owner = data.owner
        self.report.stage("posts", owner.posts_count)
        max_pages = max(1, -(-self.max_posts // PAGE_LIMIT))
        seen: set[str] = set()
        with optional_part(data, "your posts", "Bluesky"):
            for page in self.api.iter_cursor_pages(
                "/xrpc/app.bsky.feed.getAuthorFeed",
                {"actor": owner.external_id, "limit": PAGE_LIMIT},
                items_field="feed",
                max_pages=max_pages,
            ):
                for item in page.get("feed") or []:
                    post = post_from_feed_item(item)
                    if post.external_id not in seen:  # a pinned post can come twice
                        seen.add(post.external_id)
                        data.posts.append(post)
                self.report.advance(len(page.get("feed") or []))
        cut = owner.posts_count is not None and len(data.posts) < owner.posts_count
        if cut and "posts" not in data.parts:  # a refusal says more than a cut
            data.mark(
                "posts",
                PartState.PARTIAL,
                total=owner.posts_count,
                reason=f"Only the newest {len(data.posts):,} posts were read.",
            )
