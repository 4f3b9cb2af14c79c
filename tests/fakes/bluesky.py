"""A fake Bluesky AppView (``public.api.bsky.app``): the XRPC queries the fetcher reads.

Shapes follow the app.bsky lexicons: ``getProfile`` / ``getProfiles`` (at most 25 actors,
more is a 400) give ``profileViewDetailed`` with counts, ``getFollowers`` / ``getFollows``
give ``profileView`` entries without counts plus an opaque ``cursor`` (limit 1..100),
``getAuthorFeed`` gives ``feedViewPost`` items whose ``reason`` marks reposts. Unknown
actors are a 400 ``InvalidRequest`` "Profile not found", as the AppView answers. Rate-limit
headers are ``RateLimit-Limit/Remaining/Reset`` (epoch seconds) and ``RateLimit-Policy``.

Knob beyond :class:`~tests.fakes.server.FakeServer`'s: :attr:`FakeBluesky.trailing_cursor`
(hand out a cursor on the last full page that leads to an empty page).
"""

from __future__ import annotations

import math
from typing import Any

from tests.fakes.server import FakeServer, Request, Response
from tests.fakes.world import Account, World, WorldPost

XRPC = "/xrpc/"
MAX_ACTORS = 25


def did_of(account: Account) -> str:
    return f"did:plc:fake{account.id:020d}"


def handle_of(account: Account) -> str:
    return account.domain_handle or f"{account.handle}.bsky.social"


def rkey_of(post_id: int) -> str:
    return f"3lfake{post_id:07d}"


def _iso(moment: Any) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


class FakeBluesky(FakeServer):
    """Fake Bluesky AppView at :attr:`url`; no authentication."""

    def __init__(self, world: World, *, rate_limit: int = 3000) -> None:
        super().__init__(world, tokens=set(), rate_limit=rate_limit)
        self.trailing_cursor = False
        self._index: dict[str, Account] = {}

    def rate_headers(self, remaining: int, reset: float) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.rate_limit),
            "RateLimit-Remaining": str(remaining),
            "RateLimit-Reset": str(math.ceil(reset)),
            "RateLimit-Policy": f"{self.rate_limit};w=300",
        }

    def rate_limited_body(self) -> Any:
        return {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}

    # -- entities ---------------------------------------------------------------------

    def basic(self, account: Account) -> dict[str, Any]:
        return {
            "did": did_of(account),
            "handle": handle_of(account),
            "displayName": account.name,
            "avatar": f"https://cdn.bsky.app/img/avatar/plain/{did_of(account)}/x@jpeg",
            "labels": [],
            "createdAt": _iso(account.created_at),
        }

    def view(self, account: Account) -> dict[str, Any]:
        view = {**self.basic(account), "indexedAt": _iso(account.created_at)}
        if account.bio:
            view["description"] = account.bio
        return view

    def detailed(self, account: Account) -> dict[str, Any]:
        world = self.world
        posts = len(world.posts) if account.id == world.owner_id else 0
        return {
            **self.view(account),
            "followersCount": len(world.followers(account.id)),
            "followsCount": len(world.following(account.id)),
            "postsCount": posts,
            "associated": {"lists": 0, "feedgens": 0, "starterPacks": 0, "labeler": False},
        }

    def feed_item(self, post: WorldPost) -> dict[str, Any]:
        owner = self.world.owner
        author = owner
        if post.kind == "repost":
            author = next(a for a in self.world.accounts.values() if a.id != owner.id)
        uri = f"at://{did_of(author)}/app.bsky.feed.post/{rkey_of(post.id)}"
        record: dict[str, Any] = {
            "$type": "app.bsky.feed.post",
            "text": post.text,
            "createdAt": _iso(post.created_at),
            "langs": ["en"],
        }
        if post.reply_to:
            parent = {
                "uri": f"at://did:plc:other/app.bsky.feed.post/{rkey_of(post.reply_to)}",
                "cid": "bafyparent",
            }
            record["reply"] = {"root": parent, "parent": parent}
        item: dict[str, Any] = {
            "post": {
                "uri": uri,
                "cid": f"bafy{post.id}",
                "author": self.basic(author),
                "record": record,
                "replyCount": post.replies,
                "repostCount": post.reposts,
                "likeCount": post.likes,
                "quoteCount": 0,
                "indexedAt": _iso(post.created_at),
                "labels": [],
            }
        }
        if post.kind == "repost":
            item["reason"] = {
                "$type": "app.bsky.feed.defs#reasonRepost",
                "by": self.basic(owner),
                "indexedAt": _iso(post.created_at),
            }
        return item

    # -- routing --------------------------------------------------------------------

    def _actor(self, key: str | None) -> Account | None:
        if len(self._index) != 2 * len(self.world.accounts):
            self._index = {}
            for account in self.world.accounts.values():
                self._index[did_of(account)] = account
                self._index[handle_of(account)] = account
        return self._index.get(key or "")

    @staticmethod
    def _bad(message: str, error: str = "InvalidRequest") -> Response:
        return Response(400, {"error": error, "message": message})

    def route(self, request: Request) -> Response:
        if not request.path.startswith(XRPC):
            return Response(404, {"error": "NotFound", "message": "Not Found"})
        method = request.path[len(XRPC) :]
        if method == "app.bsky.actor.getProfiles":
            actors = request.query.get("actors", [])
            if len(actors) > MAX_ACTORS:
                return self._bad(f"Error: actors must not have more than {MAX_ACTORS} elements")
            found = [self._actor(a) for a in actors]
            return Response(200, {"profiles": [self.detailed(a) for a in found if a]})
        handlers = {
            "app.bsky.actor.getProfile": None,
            "app.bsky.graph.getFollowers": "followers",
            "app.bsky.graph.getFollows": "follows",
            "app.bsky.feed.getAuthorFeed": "feed",
        }
        if method not in handlers:
            return Response(
                501, {"error": "MethodNotImplemented", "message": "Method Not Implemented"}
            )
        account = self._actor(request.arg("actor"))
        if account is None:
            return self._bad("Profile not found")
        kind = handlers[method]
        if kind is None:
            return Response(200, self.detailed(account))
        try:
            limit = int(request.arg("limit", "50") or 50)
        except ValueError:
            return self._bad("Error: limit must be an integer")
        if not 1 <= limit <= 100:
            return self._bad("Error: limit must be between 1 and 100")
        cursor = request.arg("cursor")
        start = int(cursor[2:]) if cursor and cursor.startswith("o:") else 0
        if kind == "feed":
            items: list[Any] = [self.feed_item(p) for p in self.world.posts]
        else:
            ids = (
                self.world.followers(account.id)
                if kind == "followers"
                else self.world.following(account.id)
            )
            items = [self.view(self.world.accounts[i]) for i in reversed(ids)]
        chunk = items[start : start + limit]
        body: dict[str, Any] = {kind: chunk}
        if kind != "feed":
            body["subject"] = self.view(account)
        more = start + limit < len(items)
        if more or (self.trailing_cursor and len(chunk) == limit):
            body["cursor"] = f"o:{start + limit}"
        return Response(200, body)
