"""Live Facebook fetcher: the Graph API with a Facebook Login user token.

What Graph gives a plain app in 2026 (developers.facebook.com, Graph API reference):

* ``GET /me?fields=id,name,link,picture``: the profile (``id`` is app-scoped; ``link`` only
  with ``user_link``);
* ``GET /me/permissions``: which permissions the person granted, so a declined one is a note,
  not an error;
* ``GET /me/friends`` (``user_friends``): ``summary.total_count`` is *all* the person's
  friends, but ``data`` lists only friends who also use this app;
* ``GET /me/posts`` (``user_posts``, which needs App Review): the person's posts, paged with
  ``paging.next`` absolute URLs.

Errors are ``{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}``, mostly
with HTTP 400: code 190 (or 102) is an expired or revoked token (:class:`AuthExpired`); codes
4, 17, 32 and 613 are rate limits, which carry no reset time: the fetcher waits
``rate_wait`` seconds (reporting the pause) up to ``max_rate_waits`` times, then raises a
:class:`NetworkError` saying to try later. ``X-App-Usage`` (percentages of the app's hourly
allowance) at 100 makes the next call wait likewise. Codes 10 and 200-299 are missing
permissions.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from app.networks.archive import slugify
from app.networks.base import (
    AccountData,
    AuthExpired,
    NetworkError,
    PartState,
    Person,
    Post,
    Progress,
)
from app.networks.http import ApiClient, HttpError
from app.networks.text import safe_url

FACEBOOK_GRAPH_URL = "https://graph.facebook.com/v21.0"
PAGE_LIMIT = 100
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613})
AUTH_CODES = frozenset({102, 190})
POST_FIELDS = (
    "id,message,story,created_time,permalink_url,shares,"
    "comments.limit(0).summary(true),reactions.limit(0).summary(true)"
)

FRIENDS_PARTIAL_NOTE = (
    "Facebook lists only the {listed:,} of your {total:,} friends who also use this app; "
    "import your archive for the rest."
)
FRIENDS_DECLINED_NOTE = (
    "You did not let this app see your friend list on Facebook; import your archive to get "
    "your friends."
)
POSTS_NOTE = (
    "Facebook gives your posts only to apps it has approved for the user_posts permission; "
    "import your archive to get them."
)
NO_EDGES_NOTE = "Facebook does not publish who your friends are friends with."


class GraphError(NetworkError):
    """A Graph API error object.

    :param code: ``error.code``; :param subcode: ``error.error_subcode``.
    """

    def __init__(self, message: str, code: int | None, subcode: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.subcode = subcode


def _graph_error(exc: HttpError) -> NetworkError:
    """Turn an :class:`HttpError` with a Graph error body into a typed error."""
    body = exc.payload.get("error") if isinstance(exc.payload, dict) else None
    if not isinstance(body, dict):
        return NetworkError(f"Facebook refused the request ({exc.status}).")
    code = body.get("code") if isinstance(body.get("code"), int) else None
    subcode = body.get("error_subcode") if isinstance(body.get("error_subcode"), int) else None
    message = str(body.get("message") or "no reason given")
    if code in AUTH_CODES:
        return AuthExpired(
            f"Facebook no longer accepts the saved login ({message}); please reconnect."
        )
    return GraphError(f"Facebook refused the request: {message}", code, subcode)


def _is_permission(exc: GraphError) -> bool:
    return exc.code == 10 or (exc.code is not None and 200 <= exc.code <= 299)


def _app_usage(value: str | None) -> int:
    """The highest percentage in an ``X-App-Usage`` header (0 when absent or unreadable)."""
    try:
        usage = json.loads(value or "{}")
    except ValueError:
        return 0
    if not isinstance(usage, dict):
        return 0
    numbers = [v for v in usage.values() if isinstance(v, int | float)]
    return int(max(numbers, default=0))


def _time(value: str) -> datetime:
    """Graph times look like ``2026-02-28T12:00:00+0000``."""
    return datetime.fromisoformat(value).astimezone(UTC)


def person_from_user(user: dict[str, Any]) -> Person:
    """Map a Graph user (``id``, ``name``, maybe ``link`` and ``picture``) to a Person.

    Graph has no usernames any more: the handle is made from the name.
    """
    name = user.get("name") or None
    picture = ((user.get("picture") or {}).get("data") or {}).get("url")
    return Person(
        external_id=str(user["id"]),
        handle=slugify(name) if name else str(user["id"]),
        name=name,
        url=safe_url(user.get("link")),
        avatar_url=safe_url(picture),
    )


def post_from_graph(post: dict[str, Any]) -> Post:
    """Map a Graph post; counts come from the ``comments`` / ``reactions`` summaries and
    ``shares.count`` and stay ``None`` where Graph left them out."""

    def total(edge: str) -> int | None:
        summary = (post.get(edge) or {}).get("summary") or {}
        value = summary.get("total_count")
        return int(value) if isinstance(value, int) else None

    shares = post.get("shares")
    return Post(
        external_id=str(post["id"]),
        created_at=_time(post["created_time"]),
        text=post.get("message") or post.get("story") or "",
        url=safe_url(post.get("permalink_url")),
        reply_count=total("comments"),
        like_count=total("reactions"),
        repost_count=shares.get("count") if isinstance(shares, dict) else None,
    )


class _Graph:
    """Graph reads through an :class:`ApiClient`, with Graph's error and limit rules."""

    def __init__(self, api: ApiClient, rate_wait: float, max_waits: int) -> None:
        self.api = api
        self.rate_wait = rate_wait
        self.max_waits = max_waits
        self.saturated = False

    def _pause(self) -> None:
        until = datetime.fromtimestamp(self.api.clock() + self.rate_wait, UTC)
        self.api.progress.paused(until)
        self.api.sleep(self.rate_wait)

    def get(self, path_or_url: str, params: dict[str, Any] | None = None) -> Any:
        waits = 0
        while True:
            if self.saturated:
                self.saturated = False
                self._pause()
            try:
                data, response = self.api.request("GET", path_or_url, params=params)
            except HttpError as exc:
                error = _graph_error(exc)
                if not (isinstance(error, GraphError) and error.code in RATE_LIMIT_CODES):
                    raise error from None
                waits += 1
                if waits > self.max_waits:
                    raise NetworkError(
                        f"{error} Facebook is limiting requests from this app; the sync will "
                        "need to run again in an hour."
                    ) from None
                self._pause()
                continue
            self.saturated = _app_usage(response.headers.get("X-App-Usage")) >= 100
            return data

    def pages(
        self, path: str, params: dict[str, Any], max_items: int | None = None
    ) -> Iterator[dict[str, Any]]:
        """Yield each page, following ``paging.next`` until it is missing."""
        url: str | None = path
        query: dict[str, Any] | None = params
        seen = 0
        while url is not None and (max_items is None or seen < max_items):
            page = self.get(url, query)
            query = None  # the next link carries its own query
            seen += len(page.get("data") or [])
            yield page
            url = (page.get("paging") or {}).get("next")


def fetch_facebook(
    client: ApiClient,
    *,
    max_posts: int = 1000,
    rate_wait: float = 60.0,
    max_rate_waits: int = 2,
) -> AccountData:
    """Read the profile, the friends Graph lists and (when granted) the posts.

    :param client: an :class:`ApiClient` for ``FACEBOOK_GRAPH_URL`` including the version
        (a fake in tests), carrying a (long-lived) Facebook user access token, service name
        "Facebook"; its ``sleep`` also waits out Graph's rate limits. It is left open for
        its owner.
    :param max_posts: stop paging posts after this many.
    :param rate_wait: seconds to wait after a rate-limit error (Graph names no reset time).
    :param max_rate_waits: rate-limit waits per request before giving up.
    :returns: ``owner.followers_count`` / ``following_count`` are the friend total; the
        ``followers`` / ``friends`` lists hold only the friends Graph lists (or ``None`` when
        the permission was declined); ``notes`` say what is missing.
    :raises AuthExpired: the token expired or was revoked (code 190).
    :raises NetworkError: Graph could not be read, or kept rate-limiting.
    """
    graph = _Graph(client, rate_wait, max_rate_waits)
    report = client.progress
    me = graph.get("me", {"fields": "id,name,link,picture"})
    data = AccountData(owner=person_from_user(me))
    granted = {
        p.get("permission")
        for p in graph.get("me/permissions").get("data") or []
        if p.get("status") == "granted"
    }
    _friends(graph, data, "user_friends" in granted, report)
    if "user_posts" in granted:
        _posts(graph, data, max_posts, report)
    else:
        data.notes.append(POSTS_NOTE)
        data.mark("posts", PartState.REFUSED, reason=POSTS_NOTE)
    data.notes.append(NO_EDGES_NOTE)
    return data


def _friends(graph: _Graph, data: AccountData, granted: bool, report: Progress) -> None:
    if not granted:
        data.followers = data.friends = None
        data.notes.append(FRIENDS_DECLINED_NOTE)
        for part in ("followers", "friends"):
            data.mark(part, PartState.REFUSED, reason=FRIENDS_DECLINED_NOTE)
        return
    ids: list[str] = []
    total: int | None = None
    first = True
    for page in graph.pages("me/friends", {"fields": "id,name,picture", "limit": PAGE_LIMIT}):
        if first:
            summary = page.get("summary") or {}
            total = summary.get("total_count") if isinstance(summary, dict) else None
            report.stage("friends", total)
            first = False
        for user in page.get("data") or []:
            person = person_from_user(user)
            data.people[person.external_id] = person
            ids.append(person.external_id)
        report.advance(len(page.get("data") or []))
    data.followers, data.friends = ids, list(ids)
    # friendship is mutual: the total is both counts
    data.owner.followers_count = data.owner.following_count = total
    if total is not None and len(ids) < total:
        note = FRIENDS_PARTIAL_NOTE.format(listed=len(ids), total=total)
        data.notes.append(note)
        for part in ("followers", "friends"):
            data.mark(part, PartState.PARTIAL, total=total, reason=note)


def _posts(graph: _Graph, data: AccountData, max_posts: int, report: Progress) -> None:
    report.stage("posts", None)
    try:
        for page in graph.pages(
            "me/posts", {"fields": POST_FIELDS, "limit": PAGE_LIMIT}, max_items=max_posts
        ):
            items = page.get("data") or []
            data.posts.extend(post_from_graph(p) for p in items[: max_posts - len(data.posts)])
            report.advance(len(items))
    except GraphError as exc:
        if not _is_permission(exc):
            raise
        data.notes.append(POSTS_NOTE)
        data.mark("posts", PartState.REFUSED, reason=POSTS_NOTE)


def exchange_long_lived(
    token: str,
    *,
    token_url: str,
    client_id: str,
    client_secret: str,
    timeout: tuple[float, float] = (5, 30),
    clock: Callable[[], float] = time.time,
) -> tuple[str, datetime | None]:
    """Swap a short-lived user token for a long-lived one (about 60 days).

    ``GET {token_url}?grant_type=fb_exchange_token&client_id&client_secret&fb_exchange_token``
    (developers.facebook.com, "Long-Lived Access Tokens").

    :param token_url: ``FACEBOOK_TOKEN_URL`` (``.../oauth/access_token``).
    :returns: ``(access_token, expires_at)``; ``expires_at`` is ``None`` when not given.
    :raises AuthExpired: the short-lived token is already expired (code 190).
    :raises NetworkError: any other refusal.
    """
    parts = urlsplit(token_url)
    with ApiClient(
        f"{parts.scheme}://{parts.netloc}", timeout=timeout, max_retries=1, service="Facebook"
    ) as api:
        try:
            body = api.get_json(
                token_url,
                {
                    "grant_type": "fb_exchange_token",
                    "client_id": client_id,
                    "client_secret": client_secret,
                    "fb_exchange_token": token,
                },
            )
        except HttpError as exc:
            raise _graph_error(exc) from None
    expires_in = body.get("expires_in")
    expires_at = (
        datetime.fromtimestamp(clock() + expires_in, UTC) if isinstance(expires_in, int) else None
    )
    return str(body["access_token"]), expires_at
