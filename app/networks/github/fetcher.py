"""Live GitHub fetcher: REST v3 with the user's OAuth token.

Requests made for an owner with F followers, G friends, P distinct people among them, the
chosen people S (at most ``max_people``) and E public events::

    1                                   GET /user
    + max(1, ceil(F / 100))             GET /users/{me}/followers?per_page=100
    + max(1, ceil(G / 100))             GET /users/{me}/following?per_page=100
    + P                                 GET /users/{login} (list entries carry no counts)
    + sum over s in S with following(s) > 0 of ceil(following(s) / 100)
                                        GET /users/{s}/following?per_page=100
    + min(3, max(1, ceil(E / 100)))     GET /users/{me}/events/public?per_page=100

which is the least the API allows: a person whose profile says they follow nobody is not
asked for their list.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from app.networks.base import AccountData, Follow, NotAvailable, Person, Post, Progress
from app.networks.http import ApiClient, graph_candidates, optional_part

GITHUB_API_URL = "https://api.github.com"
PER_PAGE = 100
#: GitHub serves at most 300 public events (3 pages of 100) from the last 90 days.
MAX_EVENT_PAGES = 3
EVENTS_NOTE = (
    "GitHub keeps public events for 90 days and at most 300 of them, so older activity "
    "is not shown."
)


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _links(user: dict[str, Any]) -> tuple[str, ...]:
    links = []
    twitter = user.get("twitter_username")
    if twitter:
        links.append(f"https://x.com/{twitter}")
    blog = (user.get("blog") or "").strip()
    if blog:
        links.append(blog if "://" in blog else f"https://{blog}")
    return tuple(links)


def person_from_user(user: dict[str, Any]) -> Person:
    """Map a GitHub user object (simple or full) to a :class:`Person`.

    Counts stay ``None`` for a simple user (the list endpoints leave them out).
    """
    return Person(
        external_id=str(user["id"]),
        handle=user["login"],
        name=user.get("name") or None,
        url=user.get("html_url"),
        followers_count=user.get("followers"),
        following_count=user.get("following"),
        posts_count=None,
        avatar_url=user.get("avatar_url"),
        bio=user.get("bio") or None,
        links=_links(user),
    )


def post_from_event(event: dict[str, Any]) -> Post | None:
    """Turn a public event into a :class:`Post`, or ``None`` for events that are not
    something the user wrote (pushes, stars, closed issues...)."""
    kind = event.get("type")
    payload = event.get("payload") or {}
    action = payload.get("action")
    subject: dict[str, Any] | None
    if kind == "IssuesEvent" and action == "opened":
        post_kind, subject = "issue", payload.get("issue")
    elif kind == "PullRequestEvent" and action == "opened":
        post_kind, subject = "pull_request", payload.get("pull_request")
    elif kind == "IssueCommentEvent":
        post_kind, subject = "comment", payload.get("comment")
    elif kind == "PullRequestReviewEvent":
        post_kind, subject = "review", payload.get("review")
    elif kind == "PullRequestReviewCommentEvent":
        post_kind, subject = "review_comment", payload.get("comment")
    else:
        return None
    subject = subject or {}
    parent = payload.get("issue") or payload.get("pull_request") or {}
    if post_kind in ("issue", "pull_request"):
        text, in_reply_to = subject.get("title") or "", None
    else:
        # a review may have no body; its pull request's title says what it was about
        text = (subject.get("body") or "").strip() or parent.get("title") or ""
        in_reply_to = parent.get("html_url")
    reactions = subject.get("reactions") or {}
    return Post(
        external_id=str(event["id"]),
        created_at=_time(event["created_at"]),
        text=text,
        url=subject.get("html_url"),
        kind=post_kind,
        reply_count=subject.get("comments"),
        like_count=reactions.get("total_count"),
        repost_count=None,
        in_reply_to=in_reply_to,
    )


def fetch_github(
    token: str,
    *,
    base_url: str = GITHUB_API_URL,
    max_people: int = 2000,
    max_event_pages: int = MAX_EVENT_PAGES,
    progress: Progress | None = None,
    sleep: Callable[[float], None] = time.sleep,
    timeout: tuple[float, float] = (5, 30),
    max_retries: int = 3,
    client: ApiClient | None = None,
) -> AccountData:
    """Read the token owner's GitHub profile, followers, friends, their follow links and
    public events.

    :param token: the user's OAuth access token.
    :param base_url: ``GITHUB_API_URL`` (a local fake in tests).
    :param max_people: how many people's following lists to read (``GRAPH_MAX_PEOPLE``);
        mutuals first, then followers, then friends.
    :param client: a ready :class:`ApiClient` (the other client arguments are then unused).
    :raises AuthExpired: the token was revoked.
    :raises NetworkError: GitHub could not be read.
    """
    api = client or ApiClient(
        base_url,
        token=token,
        timeout=timeout,
        max_retries=max_retries,
        progress=progress,
        sleep=sleep,
        service="GitHub",
        headers={"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"},
    )
    report = api.progress
    try:
        me = api.get_json("/user")
        data = AccountData(owner=person_from_user(me))
        login = me["login"]
        people: dict[str, Person] = {}
        logins: dict[str, str] = {}

        def read_list(path: str, stage: str, total: int | None) -> list[str]:
            report.stage(stage, total)
            ids: list[str] = []
            for page in api.iter_link_pages(path, {"per_page": PER_PAGE}):
                for user in page:
                    person = people.setdefault(str(user["id"]), person_from_user(user))
                    logins[person.external_id] = user["login"]
                    ids.append(person.external_id)
                report.advance(len(page))
            return ids

        data.followers = read_list(f"/users/{login}/followers", "followers", me.get("followers"))
        data.friends = read_list(f"/users/{login}/following", "friends", me.get("following"))

        report.stage("profiles", len(people))
        for pid in list(people):
            # deleted or suspended since the list was read: keep the list entry
            with contextlib.suppress(NotAvailable):
                people[pid] = person_from_user(api.get_json(f"/users/{logins[pid]}"))
            report.advance()
        data.people = people

        circle = set(people) | {data.owner.external_id}
        chosen = graph_candidates(data.followers, data.friends, max_people)
        report.stage("follows", len(chosen))
        for pid in chosen:
            if people[pid].following_count == 0:
                data.lists_fetched.add(pid)
            else:
                try:
                    for page in api.iter_link_pages(
                        f"/users/{logins[pid]}/following", {"per_page": PER_PAGE}
                    ):
                        for user in page:
                            target = str(user["id"])
                            if target in circle:
                                data.follows.add(Follow(pid, target))
                except NotAvailable:
                    pass
                else:
                    data.lists_fetched.add(pid)
            report.advance()
        if len(chosen) < len(people):
            data.notes.append(
                f"Follow links were read for {len(chosen)} of {len(people)} people "
                "(the graph limit); links of the others are unknown."
            )

        report.stage("posts", None)
        with optional_part(data, "your public events", "GitHub"):
            for page in api.iter_link_pages(
                f"/users/{login}/events/public", {"per_page": PER_PAGE}, max_pages=max_event_pages
            ):
                for event in page:
                    post = post_from_event(event)
                    if post is not None:
                        data.posts.append(post)
                report.advance(len(page))
        data.notes.append(EVENTS_NOTE)
        return data
    finally:
        if client is None:
            api.close()
