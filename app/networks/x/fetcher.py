"""Live X (Twitter) fetcher: API v2 with the user's OAuth 2.0 token, inside a read budget.

Billing model. X's pay-per-use API bills reads *per resource returned*, not per request
(docs.x.com/x-api/getting-started/pricing, "Read operations: charged per resource returned
in the response": Posts: Read $0.005, User: Read $0.010, Following/Followers: Read $0.010
per resource; only successful responses that return data are billed, and the same post read
twice within a UTC day counts once). So one *read* here is one user or post object in a
response:

==================================  =========================================  ===========
stage                               endpoint                                   reads
==================================  =========================================  ===========
profile                             ``GET /2/users/me``                        1 user
posts                               ``GET /2/users/:id/tweets`` (100 a page)   min(P, 3,200) posts
followers                           ``GET /2/users/:id/followers`` (1,000)     F users
friends                             ``GET /2/users/:id/following`` (1,000)     G users
follows (opt-in)                    ``GET /2/users/:s/following`` per person   following(s) users
==================================  =========================================  ===========

The budget (``X_MAX_READS``) is never exceeded because every page asks for
``max_results = min(page size, reads left)``: X never returns more objects than asked for,
and no expansions are requested, so nothing else is billed. The profile, posts, followers
and friends share what the budget allows fairly (see :func:`plan_reads`); follower-of-follower
links get what is left, and a person's list is read only when all of it fits, so
``lists_fetched`` holds complete lists only.

tweepy. tweepy 4.17's ``Client.request`` builds every URL from a literal
``host = "https://api.twitter.com"`` inside the method (no argument, no attribute; a PR
adding one, tweepy/tweepy#1971, was never merged) and calls ``session.request`` without a
timeout. It cannot be pointed at ``X_API_URL`` (or a test server) without monkeypatching,
and a call could hang a worker, so the same v2 endpoints ``Client.get_me``,
``get_users_tweets``, ``get_users_followers`` and ``get_users_following`` call are read here
with the project's :class:`~app.networks.http.ApiClient` (timeouts, retries, typed errors).

Rate limits. X names its headers ``x-rate-limit-limit/-remaining/-reset`` (epoch seconds),
which :mod:`app.networks.http` does not read (it knows ``X-RateLimit-*``); a response hook
copies them under the names it knows, so a 429 waits until the announced reset. A 429 whose
body is a ``usage-capped`` problem is the monthly cap, not a window, and is raised at once.
"""

from __future__ import annotations

import html
import json
import time
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import requests

from app.networks.base import (
    AccountData,
    Follow,
    NetworkError,
    NotAvailable,
    PartState,
    Person,
    Post,
    Progress,
)
from app.networks.http import ApiClient, HttpError, graph_candidates
from app.networks.text import safe_links, safe_url

X_API_URL = "https://api.x.com"
#: X's timeline endpoint serves only the newest 3,200 posts of an account.
TIMELINE_LIMIT = 3200
POSTS_PAGE = (5, 100)  #: max_results bounds of /2/users/:id/tweets
USERS_PAGE = (1, 1000)  #: max_results bounds of /2/users/:id/followers and /following
#: Dollars per resource read (docs.x.com pricing page, pay-per-use, 2026).
PRICE_POST_READ = 0.005
PRICE_USER_READ = 0.010
#: Assumed accounts followed per person, for the follow-graph estimate before a sync.
ASSUMED_FOLLOWING = 500
#: GET /2/users/:id/following allows 15 requests per 15 minutes per user.
FOLLOWING_REQUESTS_PER_WINDOW = 15

USER_FIELDS = "public_metrics,description,entities,profile_image_url,url,protected"
TWEET_FIELDS = "public_metrics,created_at,in_reply_to_user_id,referenced_tweets,note_tweet"

TIMELINE_NOTE = (
    "X returns at most the 3,200 newest posts of an account; older posts come only from "
    "your X archive."
)
FOLLOWERS_PLAN_NOTE = "Your X API plan does not include followers; import your archive to get them."
FRIENDS_PLAN_NOTE = (
    "Your X API plan does not include the accounts you follow; import your archive to get them."
)
POSTS_PLAN_NOTE = "Your X API plan does not include reading posts; import your archive to get them."
CREDITS_NOTE = (
    "The X app has no credits left (402 Payment Required), so the sync stopped after "
    "{stage}; add credits in the X Developer Console, or import your archive."
)
USAGE_CAP_MESSAGE = (
    "The X app has reached its monthly usage cap; X refuses reads until the cap resets "
    "or the plan is raised. Importing your X archive works meanwhile."
)
GRAPH_NOTE = (
    "Follow links were read for {done} of {people} people; links of the others are unknown."
)
STAGE_LABELS = {
    "posts": "posts",
    "followers": "followers",
    "friends": "accounts you follow",
    "follows": "follow lists",
}


class UsageCapped(NetworkError):
    """X answered 429 ``usage-capped``: the monthly cap, which no wait will lift."""


# -- the budget -------------------------------------------------------------------------


def plan_reads(budget: int, wants: dict[str, int]) -> dict[str, int]:
    """Split ``budget`` reads among stages fairly (max-min): each stage gets what it wants
    if that is no more than an equal share, and the others share the rest.

    Deterministic: leftover single reads go to the stages in ``wants`` order.
    """
    plan = dict.fromkeys(wants, 0)
    left = max(budget, 0)
    pending = sorted((k for k in wants if wants[k] > 0), key=lambda k: wants[k])
    while pending:
        share = left // len(pending)
        smallest = pending[0]
        if wants[smallest] <= share:
            plan[smallest] = wants[smallest]
            left -= wants[smallest]
            pending.pop(0)
            continue
        extra = left - share * len(pending)
        for key in wants:
            if key in pending:
                plan[key] = share + (1 if extra > 0 else 0)
                extra -= 1
        break
    return plan


def estimate_reads(
    followers_count: int,
    following_count: int,
    posts_count: int,
    include_graph_edges: bool,
    max_people: int,
    *,
    max_reads: int | None = None,
) -> dict[str, Any]:
    """Say what a sync would read, before it runs (for the "Sync X" page).

    :param followers_count: ``public_metrics.followers_count`` of the account.
    :param following_count: ``public_metrics.following_count``.
    :param posts_count: ``public_metrics.tweet_count``.
    :param include_graph_edges: whether follower-of-follower links are switched on.
    :param max_people: the graph limit (people whose following lists would be read).
    :param max_reads: the budget; when given, ``planned`` says what it allows.
    :returns: ``reads`` per stage if nothing were cut (the follow graph assumes
        :data:`ASSUMED_FOLLOWING` per person: the real counts are known only during the
        sync), ``total``, ``requests`` per stage, ``cost_usd`` at the listed prices,
        ``graph_people``, and with ``max_reads`` also ``planned`` (reads per stage inside
        the budget) and ``planned_total``.
    """
    posts = min(max(posts_count, 0), TIMELINE_LIMIT)
    followers, following = max(followers_count, 0), max(following_count, 0)
    people = min(max(max_people, 0), followers + following) if include_graph_edges else 0
    edges = people * ASSUMED_FOLLOWING
    reads = {
        "profile": 1,
        "posts": posts,
        "followers": followers,
        "friends": following,
        "follows": edges,
    }
    requests_ = {
        "profile": 1,
        "posts": _pages(posts, POSTS_PAGE[1]),
        "followers": _pages(followers, USERS_PAGE[1]),
        "friends": _pages(following, USERS_PAGE[1]),
        "follows": people * _pages(ASSUMED_FOLLOWING, USERS_PAGE[1]),
    }
    users = reads["profile"] + followers + following + edges
    result: dict[str, Any] = {
        "reads": reads,
        "total": sum(reads.values()),
        "requests": requests_,
        "cost_usd": round(posts * PRICE_POST_READ + users * PRICE_USER_READ, 3),
        "graph_people": people,
        # X allows 15 following-list requests per 15 minutes: the graph takes this long.
        "graph_minutes": 15 * (requests_["follows"] // FOLLOWING_REQUESTS_PER_WINDOW),
    }
    if max_reads is not None:
        main = plan_reads(
            max_reads - 1, {"posts": posts, "followers": followers, "friends": following}
        )
        planned = {"profile": min(1, max(max_reads, 0)), **main}
        planned["follows"] = min(edges, max(max_reads - sum(planned.values()), 0))
        result["planned"] = planned
        result["planned_total"] = sum(planned.values())
    return result


def _pages(items: int, per_page: int) -> int:
    return max(1, -(-items // per_page))


@dataclass
class _Budget:
    """Reads left, reads made per stage, and the stages the budget cut short."""

    left: int
    read: dict[str, int] = field(default_factory=dict)
    cut: set[str] = field(default_factory=set)

    def spend(self, stage: str, n: int) -> None:
        self.left -= n
        self.read[stage] = self.read.get(stage, 0) + n

    @property
    def used(self) -> int:
        return sum(self.read.values())


# -- mapping --------------------------------------------------------------------------------


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _links(user: dict[str, Any]) -> tuple[str, ...]:
    """Expanded profile links (the ``url`` field itself is a t.co redirect)."""
    entities = user.get("entities") or {}
    links: list[str] = []
    for part in ("url", "description"):
        for item in (entities.get(part) or {}).get("urls") or []:
            expanded = item.get("expanded_url") or item.get("url")
            if expanded:
                links.append(expanded)
    return safe_links(links)


def person_from_user(user: dict[str, Any]) -> Person:
    """Map an X v2 user object (with ``public_metrics``) to a :class:`Person`."""
    metrics = user.get("public_metrics") or {}
    handle = user["username"]
    return Person(
        external_id=str(user["id"]),
        handle=handle,
        name=user.get("name") or None,
        url=safe_url(f"https://x.com/{handle}"),
        followers_count=metrics.get("followers_count"),
        following_count=metrics.get("following_count"),
        posts_count=metrics.get("tweet_count"),
        avatar_url=safe_url(user.get("profile_image_url")),
        bio=user.get("description") or None,
        links=_links(user),
    )


def post_from_tweet(tweet: dict[str, Any], handle: str) -> Post:
    """Map an X v2 post object to a :class:`Post`.

    A repost (``referenced_tweets`` type ``retweeted``) is marked ``is_repost`` and keeps no
    counts: X reports the *original* post's numbers on it. ``repost_count`` is
    ``retweet_count + quote_count`` (a quote is a repost with a comment). ``in_reply_to`` is
    the replied-to post id, as in the archive import; a reply whose parent is not given
    (``in_reply_to_user_id`` only) is still kind ``reply``. Long posts use ``note_tweet``'s
    full text; X HTML-escapes ``& < >`` in ``text`` and they are unescaped.
    """
    refs = {ref.get("type"): str(ref.get("id")) for ref in tweet.get("referenced_tweets") or []}
    is_repost = "retweeted" in refs
    in_reply_to = refs.get("replied_to")
    is_reply = in_reply_to is not None or tweet.get("in_reply_to_user_id") is not None
    note = tweet.get("note_tweet") or {}
    text = html.unescape(note.get("text") or tweet.get("text") or "")
    metrics = {} if is_repost else (tweet.get("public_metrics") or {})
    retweets, quotes = metrics.get("retweet_count"), metrics.get("quote_count")
    reposts = None if retweets is None and quotes is None else (retweets or 0) + (quotes or 0)
    return Post(
        external_id=str(tweet["id"]),
        created_at=_time(tweet["created_at"]),
        text=text,
        url=safe_url(f"https://x.com/{handle}/status/{tweet['id']}"),
        kind="repost" if is_repost else "reply" if is_reply else "post",
        reply_count=metrics.get("reply_count"),
        like_count=metrics.get("like_count"),
        repost_count=reposts,
        in_reply_to=in_reply_to,
        is_repost=is_repost,
    )


# -- the client -----------------------------------------------------------------------------


def _x_response_hook(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    """Make X's answers readable by :class:`ApiClient`: alias ``x-rate-limit-*`` to the
    ``X-RateLimit-*`` names it parses, and raise :class:`UsageCapped` for a monthly cap
    (which is also a 429, but waiting for the window would not lift it)."""
    headers = response.headers
    for theirs, ours in (
        ("x-rate-limit-reset", "X-RateLimit-Reset"),
        ("x-rate-limit-remaining", "X-RateLimit-Remaining"),
    ):
        if theirs in headers and ours not in headers:
            headers[ours] = headers[theirs]
    if response.status_code == 429 and "usage-capped" in _problem_type(response):
        raise UsageCapped(USAGE_CAP_MESSAGE)


def _problem_type(response: requests.Response) -> str:
    try:
        body = json.loads(response.content or b"null")
    except ValueError:
        return ""
    return str(body.get("type") or "") if isinstance(body, dict) else ""


def x_client(
    token: str,
    base_url: str = X_API_URL,
    *,
    progress: Progress | None = None,
    sleep: Callable[[float], None] = time.sleep,
    timeout: tuple[float, float] = (5, 30),
    max_retries: int = 3,
) -> ApiClient:
    """An :class:`ApiClient` for X v2 with the rate-limit and usage-cap hook installed."""
    api = ApiClient(
        base_url,
        token=token,
        timeout=timeout,
        max_retries=max_retries,
        progress=progress,
        sleep=sleep,
        service="X",
    )
    install_hook(api)
    return api


def install_hook(api: ApiClient) -> None:
    """Install :func:`_x_response_hook` on ``api`` (once)."""
    hooks = api.session.hooks.setdefault("response", [])
    if _x_response_hook not in hooks:
        hooks.append(_x_response_hook)


def _refusal(exc: HttpError) -> str:
    """``"credits"`` for 402, ``"plan"`` when the plan or app lacks the endpoint (403
    ``client-not-enrolled`` / ``client-forbidden``), ``""`` for anything else."""
    payload = exc.payload if isinstance(exc.payload, dict) else {}
    if exc.status == 402:
        return "credits"
    kind = str(payload.get("type") or "")
    if exc.status == 403 and (
        payload.get("reason") == "client-not-enrolled" or kind.endswith("client-forbidden")
    ):
        return "plan"
    return ""


def _explain(exc: HttpError) -> NetworkError:
    """A message for a refusal that stops the sync."""
    payload = exc.payload if isinstance(exc.payload, dict) else {}
    kind = str(payload.get("type") or "")
    detail = str(payload.get("detail") or payload.get("title") or "")
    if kind.endswith("unsupported-authentication"):
        return NetworkError(
            "X refused the saved login for this request (it needs a user login through "
            f"OAuth 2.0, not an app-only token): {detail}"
        )
    if _refusal(exc) == "credits":
        return NetworkError(
            "The X app has no credits left (402 Payment Required); add credits in the X "
            "Developer Console, or import your archive."
        )
    if _refusal(exc) == "plan":
        return NetworkError(
            "Your X API plan does not allow reading your profile; import your archive "
            f"instead. ({detail})"
        )
    return NetworkError(f"X refused the request ({exc.status}): {detail or exc}")


def _pages_of(
    api: ApiClient,
    path: str,
    params: dict[str, Any],
    budget: _Budget,
    stage: str,
    allowance: int,
    bounds: tuple[int, int],
) -> Iterator[list[dict[str, Any]]]:
    """Yield the ``data`` of each page, asking for no more than ``allowance`` objects in
    all (and never more than the budget holds). Returns early when the next page would
    need fewer objects than the endpoint's minimum ``max_results``.

    Adds ``stage`` to ``budget.cut`` when pages were left unread.

    :raises NotAvailable: the answer holds only ``errors`` (X answers 200 with a problem
        object for a protected account's list or a suspended account).
    """
    low, high = bounds
    token: str | None = None
    taken = 0
    while True:
        room = min(allowance - taken, budget.left, high)
        if room < low:
            budget.cut.add(stage)
            return
        query = {**params, "max_results": room}
        if token:
            query["pagination_token"] = token
        page = api.get_json(path, query)
        if "data" not in page and page.get("errors"):
            problem = page["errors"][0]
            raise NotAvailable(str(problem.get("detail") or problem.get("title") or path))
        items = page.get("data") or []
        budget.spend(stage, len(items))
        taken += len(items)
        yield items
        token = (page.get("meta") or {}).get("next_token")
        if not token:
            return


# -- the fetcher ----------------------------------------------------------------------------


def fetch_x(
    client: ApiClient,
    *,
    max_reads: int = 2000,
    include_graph_edges: bool = False,
    max_people: int = 200,
) -> AccountData:
    """Read the token owner's X profile, posts, followers and friends within ``max_reads``.

    :param client: an :class:`ApiClient` for ``X_API_URL`` (a local fake in tests) carrying
        the user's OAuth 2.0 access token (``tweet.read users.read follows.read``), service
        name "X", such as :func:`x_client` builds; the rate-limit hook is installed on it if
        missing, and it is left open for its owner.
    :param max_reads: the read budget (``X_MAX_READS``): users and posts returned, never
        exceeded; what was cut is said in ``notes``.
    :param include_graph_edges: read the following lists of up to ``max_people`` people
        (mutuals first) with what the budget leaves.
    :param max_people: the graph limit (``GRAPH_MAX_PEOPLE``).
    :returns: followers / friends are ``None`` when the API plan refuses those endpoints
        (the notes point to the archive import); posts and the rest are kept.
    :raises AuthExpired: the token was revoked or expired (401).
    :raises UsageCapped: the app's monthly usage cap is reached.
    :raises NetworkError: X could not be read, or refused the profile itself.
    """
    install_hook(client)
    return _XSync(client, max_reads, include_graph_edges, max_people).run()


class _XSync:
    """One sync: the stages in order, sharing one budget."""

    def __init__(
        self, api: ApiClient, max_reads: int, include_graph_edges: bool, max_people: int
    ) -> None:
        self.api = api
        self.report = api.progress
        self.max_reads = max(max_reads, 0)
        self.budget = _Budget(left=self.max_reads)
        self.include_graph_edges = include_graph_edges
        self.max_people = max_people
        self.totals: dict[str, int] = {}
        self.refused: set[str] = set()  #: stages the API plan does not include
        self.credit_stages: set[str] = set()  #: stages a 402 refused
        self.out_of_credits: str | None = None  #: the stage where a 402 stopped the sync
        self.tweet_count = 0  #: posts the account has, beyond the timeline's reach too
        self.chosen = 0  #: people whose following lists the graph wanted

    def run(self) -> AccountData:
        if self.max_reads < 1:
            raise NetworkError("The X read budget is 0, so nothing can be read.")
        try:
            me = self.api.get_json("/2/users/me", {"user.fields": USER_FIELDS})["data"]
        except HttpError as exc:
            raise _explain(exc) from None
        self.budget.spend("profile", 1)
        data = AccountData(owner=person_from_user(me))
        metrics = me.get("public_metrics") or {}
        self.tweet_count = int(metrics.get("tweet_count") or 0)
        self.totals = {
            "posts": min(int(metrics.get("tweet_count") or 0), TIMELINE_LIMIT),
            "followers": int(metrics.get("followers_count") or 0),
            "friends": int(metrics.get("following_count") or 0),
        }
        data.posts = self._posts(data.owner)
        data.followers = self._users(data.owner, "followers", data.people)
        data.friends = self._users(data.owner, "friends", data.people)
        if self.include_graph_edges and self.out_of_credits is None:
            self._follows(data)
        data.notes.append(TIMELINE_NOTE)
        for stage, note in (
            ("posts", POSTS_PLAN_NOTE),
            ("followers", FOLLOWERS_PLAN_NOTE),
            ("friends", FRIENDS_PLAN_NOTE),
        ):
            if stage in self.refused:
                data.notes.append(note)
        if self.out_of_credits is not None:
            data.notes.append(CREDITS_NOTE.format(stage=self.out_of_credits))
        cut = self._cut_note()
        if cut:
            data.notes.append(cut)
        self._mark_parts(data)
        return data

    def _mark_parts(self, data: AccountData) -> None:
        """Say which parts are whole, cut by the budget or the timeline, or refused."""
        plan = {"posts": POSTS_PLAN_NOTE, "followers": FOLLOWERS_PLAN_NOTE}
        for stage in ("posts", "followers", "friends"):
            read = len(data.posts) if stage == "posts" else len(getattr(data, stage) or ())
            if stage in self.refused:
                data.mark(stage, PartState.REFUSED, reason=plan.get(stage, FRIENDS_PLAN_NOTE))
            elif self.out_of_credits is not None and (
                stage in self.credit_stages or (stage != "posts" and getattr(data, stage) is None)
            ):
                data.mark(
                    stage,
                    PartState.REFUSED,
                    reason=CREDITS_NOTE.format(stage=self.out_of_credits),
                )
            elif stage in self.budget.cut and self.budget.read.get(stage, 0) < self.totals[stage]:
                total = self.tweet_count if stage == "posts" else self.totals[stage]
                data.mark(
                    stage,
                    PartState.PARTIAL,
                    count=read,
                    total=total,
                    reason="X's read budget for one sync ran out.",
                )
            elif stage == "posts" and self.tweet_count > TIMELINE_LIMIT:
                data.mark(
                    stage,
                    PartState.PARTIAL,
                    count=read,
                    total=self.tweet_count,
                    reason=TIMELINE_NOTE,
                )
        if not self.include_graph_edges:
            data.mark("edges", PartState.ABSENT, reason="Follower-of-follower links are off.")
        elif len(data.lists_fetched) < self.chosen:
            data.mark(
                "edges",
                PartState.PARTIAL,
                count=len(data.lists_fetched),
                total=self.chosen,
                reason="The read budget did not cover every following list.",
            )

    def _allowance(self, stage: str) -> int:
        """This stage's fair share of the reads left, with the stages still to run."""
        order = ["posts", "followers", "friends"]
        wants = {s: self.totals[s] for s in order[order.index(stage) :]}
        return plan_reads(self.budget.left, wants)[stage]

    def _refused(self, stage: str, exc: HttpError) -> None:
        """Record a refusal that the rest of the sync survives; raise any other."""
        kind = _refusal(exc)
        if kind == "plan":
            self.refused.add(stage)
        elif kind == "credits":
            self.out_of_credits = f"{STAGE_LABELS[stage]} were refused"
            self.credit_stages.add(stage)
        else:
            raise _explain(exc) from None

    def _posts(self, owner: Person) -> list[Post]:
        self.report.stage("posts", self.totals["posts"])
        posts: list[Post] = []
        try:
            for items in _pages_of(
                self.api,
                f"/2/users/{owner.external_id}/tweets",
                {"tweet.fields": TWEET_FIELDS},
                self.budget,
                "posts",
                self._allowance("posts"),
                POSTS_PAGE,
            ):
                posts.extend(post_from_tweet(t, owner.handle) for t in items)
                self.report.advance(len(items))
        except HttpError as exc:
            self._refused("posts", exc)
        return posts

    def _users(
        self, owner: Person, stage: str, people: MutableMapping[str, Person]
    ) -> list[str] | None:
        self.report.stage(stage, self.totals[stage])
        if self.out_of_credits is not None:
            return None
        endpoint = "followers" if stage == "followers" else "following"
        ids: list[str] = []
        try:
            for items in _pages_of(
                self.api,
                f"/2/users/{owner.external_id}/{endpoint}",
                {"user.fields": USER_FIELDS},
                self.budget,
                stage,
                self._allowance(stage),
                USERS_PAGE,
            ):
                for user in items:
                    person = person_from_user(user)
                    people[person.external_id] = person
                    ids.append(person.external_id)
                self.report.advance(len(items))
        except HttpError as exc:
            self._refused(stage, exc)
            return None
        return ids

    def _follows(self, data: AccountData) -> None:
        """Read whole following lists of the chosen people while the budget covers them."""
        people = data.people
        circle = set(people) | {data.owner.external_id}
        chosen = graph_candidates(data.followers, data.friends, self.max_people)
        self.chosen = len(chosen)
        self.report.stage("follows", len(chosen))
        unaffordable = 0
        for pid in chosen:
            cost = people[pid].following_count
            if cost == 0:
                data.lists_fetched.add(pid)
            elif cost is not None and cost > self.budget.left:
                unaffordable += 1
            elif self._follow_list(pid, cost, circle, data):
                data.lists_fetched.add(pid)
            self.report.advance()
            if self.out_of_credits is not None:
                break
        done = len(data.lists_fetched)
        if unaffordable:
            data.notes.append(
                f"Follow links were read for {done:,} of {len(people):,} people: the read "
                f"budget did not cover the following lists of {unaffordable:,} more, so "
                "their links are unknown."
            )
        elif done < len(people):
            data.notes.append(GRAPH_NOTE.format(done=f"{done:,}", people=f"{len(people):,}"))

    def _follow_list(self, pid: str, cost: int | None, circle: set[str], data: AccountData) -> bool:
        """Read one following list; ``True`` when it was read to its end."""
        allowance = cost if cost is not None else self.budget.left
        self.budget.cut.discard("follows")
        try:
            for items in _pages_of(
                self.api,
                f"/2/users/{pid}/following",
                {},
                self.budget,
                "follows",
                allowance,  # a list that grew since its count was read is cut, not overspent
                USERS_PAGE,
            ):
                for user in items:
                    target = str(user["id"])
                    if target in circle:
                        data.follows.add(Follow(pid, target))
        except NotAvailable:
            return False
        except HttpError as exc:
            self._refused("follows", exc)
            return False
        return "follows" not in self.budget.cut

    def _cut_note(self) -> str:
        parts = [
            f"{self.budget.read.get(stage, 0):,} of {self.totals[stage]:,} "
            f"{STAGE_LABELS[stage]} read"
            for stage in ("posts", "followers", "friends")
            if stage in self.budget.cut and self.budget.read.get(stage, 0) < self.totals[stage]
        ]
        if not parts:
            return ""
        return (
            f"Stopped at the read budget ({self.budget.used:,} of {self.max_reads:,} reads): "
            + "; ".join(parts)
            + "."
        )


__all__ = [
    "X_API_URL",
    "UsageCapped",
    "estimate_reads",
    "fetch_x",
    "person_from_user",
    "plan_reads",
    "post_from_tweet",
]
