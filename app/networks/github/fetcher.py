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
from datetime import datetime
from typing import Any

from app.networks.base import AccountData, Follow, NotAvailable, Person, Post
from app.networks.http import ApiClient, graph_candidates, optional_part
from app.networks.text import safe_links, safe_url

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
    return safe_links(links)


def person_from_user(user: dict[str, Any]) -> Person:
    """Map a GitHub user object (simple or full) to a :class:`Person`.

    Counts stay ``None`` for a simple user (the list endpoints leave them out).
    """
    return Person(
        external_id=str(user["id"]),
        handle=user["login"],
        name=user.get("name") or None,
        url=safe_url(user.get("html_url")),
        followers_count=user.get("followers"),
        following_count=user.get("following"),
        posts_count=None,
        avatar_url=safe_url(user.get("avatar_url")),
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
        url=safe_url(subject.get("html_url")),
        kind=post_kind,
        reply_count=subject.get("comments"),
        like_count=reactions.get("total_count"),
        repost_count=None,
        in_reply_to=in_reply_to,
    )


def fetch_github(
    client: ApiClient,
    *,
    max_people: int = 2000,
    max_event_pages: int = MAX_EVENT_PAGES,
) -> AccountData:
    """Read the token owner's GitHub profile, followers, friends, their follow links and
    public events.

    :param client: an :class:`ApiClient` for ``GITHUB_API_URL`` (a local fake in tests)
        carrying the user's OAuth token, service name "GitHub" and GitHub's API headers; it
        is left open for its owner.
    :param max_people: how many people's following lists to read (``GRAPH_MAX_PEOPLE``);
        mutuals first, then followers, then friends.
    :param max_event_pages: how many pages of public events to read (GitHub serves 3).
    :raises AuthExpired: the token was revoked.
    :raises NetworkError: GitHub could not be read.
    """
    return _GitHubSync(client, max_people, max_event_pages).run()


class _GitHubSync:
    """One sync: the stages in order, sharing the people met so far."""

    def __init__(self, api: ApiClient, max_people: int, max_event_pages: int) -> None:
        self.api = api
        self.report = api.progress
        self.max_people = max_people
        self.max_event_pages = max_event_pages
        self.people: dict[str, Person] = {}
        self.logins: dict[str, str] = {}  #: login by person id, for the per-person URLs

    def run(self) -> AccountData:
        me = self.api.get_json("/user")
        data = AccountData(owner=person_from_user(me))
        login = me["login"]
        data.followers = self._list(f"/users/{login}/followers", "followers", me.get("followers"))
        data.friends = self._list(f"/users/{login}/following", "friends", me.get("following"))
        self._profiles()
        data.people = self.people
        self._follows(data)
        self._events(data, login)
        data.notes.append(EVENTS_NOTE)
        return data

    def _list(self, path: str, stage: str, total: int | None) -> list[str]:
        """Ids in one of the owner's lists; the people met are kept (simple users)."""
        self.report.stage(stage, total)
        ids: list[str] = []
        for page in self.api.iter_link_pages(path, {"per_page": PER_PAGE}):
            for user in page:
                person = self.people.setdefault(str(user["id"]), person_from_user(user))
                self.logins[person.external_id] = user["login"]
                ids.append(person.external_id)
            self.report.advance(len(page))
        return ids

    def _profiles(self) -> None:
        """Replace each simple user by the full one, which carries the counts."""
        self.report.stage("profiles", len(self.people))
        for pid in list(self.people):
            # deleted or suspended since the list was read: keep the list entry
            with contextlib.suppress(NotAvailable):
                self.people[pid] = person_from_user(self.api.get_json(f"/users/{self.logins[pid]}"))
            self.report.advance()

    def _follows(self, data: AccountData) -> None:
        """Read the following lists of the chosen people; keep the links inside the circle."""
        people = self.people
        circle = set(people) | {data.owner.external_id}
        chosen = graph_candidates(data.followers, data.friends, self.max_people)
        self.report.stage("follows", len(chosen))
        for pid in chosen:
            if people[pid].following_count == 0 or self._following(pid, circle, data):
                data.lists_fetched.add(pid)
            self.report.advance()
        if len(chosen) < len(people):
            data.notes.append(
                f"Follow links were read for {len(chosen)} of {len(people)} people "
                "(the graph limit); links of the others are unknown."
            )

    def _following(self, pid: str, circle: set[str], data: AccountData) -> bool:
        """Read one person's following list; ``False`` when it is gone (404)."""
        try:
            for page in self.api.iter_link_pages(
                f"/users/{self.logins[pid]}/following", {"per_page": PER_PAGE}
            ):
                for user in page:
                    target = str(user["id"])
                    if target in circle:
                        data.follows.add(Follow(pid, target))
        except NotAvailable:
            return False
        return True

    def _events(self, data: AccountData, login: str) -> None:
        """The owner's public events that are something they wrote; a refusal is a note."""
        self.report.stage("posts", None)
        with optional_part(data, "your public events", "GitHub"):
            for page in self.api.iter_link_pages(
                f"/users/{login}/events/public",
                {"per_page": PER_PAGE},
                max_pages=self.max_event_pages,
            ):
                for event in page:
                    post = post_from_event(event)
                    if post is not None:
                        data.posts.append(post)
                self.report.advance(len(page))
