"""Live Mastodon fetcher and the plain (Flask-free) app registration and OAuth helpers.

Mastodon is many servers: the user names theirs (:func:`normalise_instance`), the app
registers itself there (:func:`register_app`), uses PKCE where the server announces it
(:func:`instance_supports_pkce`), and reads with the token it gets. The server is the
user's choice, so every request to it goes through an
:class:`~app.networks.outbound.OutboundPolicy` (see :mod:`app.networks.outbound`).

Requests made for an owner with F followers, G friends, the chosen people S (at most
``max_people``) and N statuses, with Mastodon's paging (a ``next`` link while a page comes
back full, so a list of exactly 80 costs a second, empty page)::

    1                                   GET /api/v1/accounts/verify_credentials (or lookup)
    + floor(F / 80) + 1                 GET /api/v1/accounts/:id/followers?limit=80
    + floor(G / 80) + 1                 GET /api/v1/accounts/:id/following?limit=80
    + sum over s in S with following(s) > 0 of floor(following(s) / 80) + 1
                                        GET /api/v1/accounts/:s/following?limit=80
    + floor(N / 40) + 1 (capped by max_posts)
                                        GET /api/v1/accounts/:id/statuses?limit=40

Counts come inside every Account, so no request is spent on them.
"""

from __future__ import annotations

import html
import re
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from app.networks.base import (
    AccountData,
    AuthExpired,
    Follow,
    NotAvailable,
    PartState,
    Person,
    Post,
)
from app.networks.http import ApiClient, HttpError, graph_candidates, optional_part
from app.networks.outbound import OutboundPolicy, OutboundRefused, host_address, netloc
from app.networks.text import html_to_text, safe_links, safe_url

ACCOUNTS_LIMIT = 80
STATUSES_LIMIT = 40
APP_NAME = "MD Analytics"
HIDDEN_NOTE = "This account hides its {which} list, so Mastodon does not show it."
PARTIAL_NOTE = (
    "{n} on other servers: your server only knows the follows it has seen, so their "
    "following lists may be incomplete."
)
HIDDEN_PEOPLE_NOTE = "{n} whom they follow; their links are unknown."

_HANDLE_RE = re.compile(r"^@?[A-Za-z0-9_.-]+@(?P<host>[^@/\s]+)$")
_HREF_RE = re.compile(r'href="([^"]+)"')


# -- instance names -------------------------------------------------------------------


def normalise_instance(text: str, policy: OutboundPolicy | None = None) -> str:
    """Turn what a person typed into an instance base URL (``https://host``).

    Accepts ``mastodon.social``, ``https://mastodon.social/`` and handles such as
    ``@me@mastodon.social``. What the outbound policy refuses without resolving the name is
    refused here, with a message for the form: ``http://`` unless the policy allows insecure
    servers, a port other than the standard one, an address that is not public (whatever
    its spelling: ``127.1``, ``0x7f.0.0.1`` and ``2130706433`` are refused as numeric
    spellings), and ``localhost``, unless ``OUTBOUND_ALLOWED_HOSTS`` names the host.

    :param policy: the outbound policy (by default: https on port 443, nothing allowed).
    :raises ValueError: with a message fit for the form, for anything else (paths,
        user names in the URL, spaces, odd schemes, invalid host names or ports).
    """
    policy = policy or OutboundPolicy()
    value = text.strip()
    if not value:
        raise ValueError("Enter the address of your Mastodon server, like mastodon.social.")
    if any(ch.isspace() for ch in value):
        raise ValueError("A server address cannot contain spaces.")
    handle = _HANDLE_RE.match(value)
    if "://" not in value and handle:
        value = handle.group("host")
    if "://" not in value:
        value = f"https://{value}"
    try:
        parts = urlsplit(value)
    except ValueError:  # an unclosed [ of an IPv6 address
        raise ValueError("That does not look like a server address.") from None
    if parts.scheme.lower() not in ("https", "http"):
        raise ValueError("Use the server's https:// address.")
    if "@" in parts.netloc:
        raise ValueError("Enter only the server's address, without a user name in it.")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError("Enter only the server's address, like mastodon.social, without a path.")
    try:
        port = parts.port
        target = policy.screen(parts.scheme, parts.hostname or "", port)
    except OutboundRefused as refused:
        raise ValueError(refused.message) from None
    except ValueError:  # a port that is not a number from 0 to 65535
        raise ValueError("That does not look like a server address.") from None
    host = target.host
    if not target.allowed and host_address(host) is None and "." not in host:
        raise ValueError("That does not look like a server address.")
    return f"{target.scheme}://{netloc(host, target.port, target.scheme)}"


# -- app registration and OAuth -----------------------------------------------------------


def _client(instance_url: str, policy: OutboundPolicy, **kwargs: Any) -> ApiClient:
    """A guarded client for registration: short timeouts, no waiting out rate limits."""
    return ApiClient(
        instance_url,
        service=urlsplit(instance_url).netloc,
        guard=policy,
        timeout=policy.timeout,
        max_wait=0.0,
        **kwargs,
    )


def register_app(
    instance_url: str,
    redirect_uri: str,
    scopes: str = "read",
    *,
    website: str | None = None,
    policy: OutboundPolicy | None = None,
) -> tuple[str, str]:
    """Register this app on an instance (``POST /api/v1/apps``), through ``policy``.

    :returns: ``(client_id, client_secret)`` to store per instance.
    :raises NotAvailable: the answer is not an app registration (not a Mastodon server).
    :raises NetworkError: the server refused, redirected, or could not be reached.
    """
    form = {"client_name": APP_NAME, "redirect_uris": redirect_uri, "scopes": scopes}
    if website:
        form["website"] = website
    with _client(instance_url, policy or OutboundPolicy()) as api:
        app = api.post_json("/api/v1/apps", form)
        service = api.service
    client_id = app.get("client_id") if isinstance(app, dict) else None
    secret = app.get("client_secret") if isinstance(app, dict) else None
    if not (isinstance(client_id, str) and client_id and isinstance(secret, str) and secret):
        raise NotAvailable(f"{service} did not answer with an app registration.")
    return client_id, secret


def instance_supports_pkce(instance_url: str, *, policy: OutboundPolicy | None = None) -> bool:
    """Whether the instance announces PKCE S256 in its OAuth server metadata
    (``/.well-known/oauth-authorization-server``, Mastodon 4.3+). ``False`` when the
    metadata is missing (404), as on older servers. Read once, through ``policy``.

    :raises NetworkError: the metadata could not be read.
    """
    with _client(instance_url, policy or OutboundPolicy(), max_retries=0) as api:
        try:
            meta = api.get_json("/.well-known/oauth-authorization-server")
        except NotAvailable:
            return False
    methods = meta.get("code_challenge_methods_supported") if isinstance(meta, dict) else None
    return isinstance(methods, list) and "S256" in methods


# -- mapping ------------------------------------------------------------------------------


def _people(n: int) -> str:
    return "1 person lives" if n == 1 else f"{n} people live"


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def person_from_account(account: dict[str, Any], host: str) -> Person:
    """Map a Mastodon Account entity; the handle is ``user@server`` even for local users."""
    acct = account.get("acct") or account["username"]
    handle = acct if "@" in acct else f"{acct}@{host}"
    links = [
        link
        for field in account.get("fields") or []
        if field.get("verified_at")
        for link in _HREF_RE.findall(field.get("value") or "")
    ]
    if account.get("url"):
        links.append(account["url"])
    return Person(
        external_id=str(account["id"]),
        handle=handle,
        name=account.get("display_name") or None,
        url=safe_url(account.get("url")),
        followers_count=account.get("followers_count"),
        following_count=account.get("following_count"),
        posts_count=account.get("statuses_count"),
        avatar_url=safe_url(account.get("avatar")),
        bio=html_to_text(account.get("note") or "") or None,
        links=safe_links(html.unescape(link) for link in links),
    )


def post_from_status(status: dict[str, Any]) -> Post:
    """Map a Status entity; a boost keeps the boosted text and is marked ``is_repost``."""
    reblog = status.get("reblog")
    shown = reblog or status
    in_reply_to = status.get("in_reply_to_id")
    kind = "repost" if reblog else "reply" if in_reply_to else "post"
    return Post(
        external_id=str(status["id"]),
        created_at=_time(status["created_at"]),
        text=html_to_text(shown.get("content") or ""),
        url=safe_url(status.get("url")) or safe_url(shown.get("url")),
        kind=kind,
        reply_count=status.get("replies_count"),
        like_count=status.get("favourites_count"),
        repost_count=status.get("reblogs_count"),
        in_reply_to=str(in_reply_to) if in_reply_to else None,
        is_repost=bool(reblog),
    )


# -- the fetcher ----------------------------------------------------------------------------


def fetch_mastodon(
    client: ApiClient,
    *,
    acct: str | None = None,
    max_people: int = 2000,
    max_posts: int = 2000,
) -> AccountData:
    """Read a Mastodon account: profile, followers, friends, their follow links, statuses.

    :param client: an :class:`ApiClient` for the base URL from :func:`normalise_instance`
        (service name: the server's host); with the user's access token the token's owner is
        read, without one ``acct`` is looked up and only public data is read. It is left
        open for its owner.
    :param acct: ``user`` or ``user@server`` to read publicly when the client has no token.
    :param max_people: how many people's following lists to read (``GRAPH_MAX_PEOPLE``).
    :param max_posts: stop reading statuses after about this many.
    :raises ValueError: the client has no token and no ``acct`` was given.
    :raises AuthExpired: the token was revoked.
    :raises NotAvailable: the account does not exist.
    :raises NetworkError: the server could not be read.
    """
    if not client.authenticated and not acct:
        raise ValueError("fetch_mastodon needs a token or an account name")
    return _MastodonSync(client, acct, max_people, max_posts).run()


class _MastodonSync:
    """One sync: the stages in order, sharing the people met so far."""

    def __init__(self, api: ApiClient, acct: str | None, max_people: int, max_posts: int) -> None:
        self.api = api
        self.report = api.progress
        self.host = urlsplit(api.base_url).netloc
        self.authenticated = api.authenticated
        self.acct = acct
        self.max_people = max_people
        self.max_posts = max_posts
        self.people: dict[str, Person] = {}

    def run(self) -> AccountData:
        if self.authenticated:
            me = self.api.get_json("/api/v1/accounts/verify_credentials")
        else:
            me = self.api.get_json("/api/v1/accounts/lookup", {"acct": self.acct})
        data = AccountData(owner=person_from_account(me, self.host))
        self._own_lists(data)
        self._follows(data)
        self._posts(data)
        return data

    def _accounts(self, account_id: str, which: str, *, collect: bool) -> list[str] | None:
        """Ids in one follow list; ``None`` when the server refuses to show it.

        :param collect: add the accounts met, other than ``account_id`` itself, to
            ``people`` (the owner's own lists).
        """
        ids: list[str] = []
        try:
            for page in self.api.iter_link_pages(
                f"/api/v1/accounts/{account_id}/{which}", {"limit": ACCOUNTS_LIMIT}
            ):
                for entry in page:
                    pid = str(entry["id"])
                    if collect and pid not in self.people and pid != account_id:
                        self.people[pid] = person_from_account(entry, self.host)
                    ids.append(pid)
                if collect:
                    self.report.advance(len(page))
        except HttpError as exc:
            if exc.status != 403:
                raise
            return None
        except AuthExpired:
            if self.authenticated:
                raise
            return None  # the server wants a login to show lists
        return ids

    def _own_lists(self, data: AccountData) -> None:
        """The owner's followers and following; a hidden list is ``None`` and a note."""
        owner = data.owner
        lists: dict[str, list[str] | None] = {}
        for reading, count in (
            ("followers", owner.followers_count),
            ("following", owner.following_count),
        ):
            self.report.stage("followers" if reading == "followers" else "friends", count)
            ids = self._accounts(owner.external_id, reading, collect=True)
            if ids is not None and not ids and (count or 0) > 0:
                ids = None  # hide_collections: an empty list although the count says more
            if ids is None:
                note = HIDDEN_NOTE.format(which=reading)
                data.notes.append(note)
                data.mark(
                    "followers" if reading == "followers" else "friends",
                    PartState.ABSENT,
                    reason=note,
                )
            lists[reading] = ids
        data.followers, data.friends = lists["followers"], lists["following"]
        data.people = self.people

    def _follows(self, data: AccountData) -> None:
        """Read the following lists of the chosen people; keep the links inside the circle."""
        people = self.people
        circle = set(people) | {data.owner.external_id}
        chosen = graph_candidates(data.followers, data.friends, self.max_people)
        self.report.stage("follows", len(chosen))
        outcomes = [self._following(pid, circle, data) for pid in chosen]
        partial, hidden = outcomes.count("partial"), outcomes.count("hidden")
        if partial:
            data.notes.append(PARTIAL_NOTE.format(n=_people(partial)))
        if hidden:
            who = "1 person hides" if hidden == 1 else f"{hidden} people hide"
            data.notes.append(HIDDEN_PEOPLE_NOTE.format(n=who))
        if len(chosen) < len(people):
            data.notes.append(
                f"Follow links were read for {len(chosen)} of {len(people)} people "
                "(the graph limit); links of the others are unknown."
            )

    def _following(self, pid: str, circle: set[str], data: AccountData) -> str:
        """Read one person's following list.

        :returns: ``"fetched"`` (complete, in ``lists_fetched``), ``"partial"`` (shorter
            than their count: a remote account) or ``"hidden"`` (refused or empty).
        """
        expected = self.people[pid].following_count
        if expected == 0:
            data.lists_fetched.add(pid)
            self.report.advance()
            return "fetched"
        ids = self._accounts(pid, "following", collect=False)
        self.report.advance()
        if ids is None or (not ids and expected):
            return "hidden"
        for target in ids:
            if target in circle:
                data.follows.add(Follow(pid, target))
        if expected is None or len(ids) >= expected:
            data.lists_fetched.add(pid)
            return "fetched"
        return "partial"

    def _posts(self, data: AccountData) -> None:
        """The owner's newest statuses, up to about ``max_posts``; a refusal is a note."""
        owner = data.owner
        self.report.stage("posts", owner.posts_count)
        max_pages = max(1, -(-self.max_posts // STATUSES_LIMIT))
        with optional_part(data, "your posts", "Your Mastodon server"):
            for page in self.api.iter_link_pages(
                f"/api/v1/accounts/{owner.external_id}/statuses",
                {"limit": STATUSES_LIMIT},
                max_pages=max_pages,
            ):
                data.posts.extend(post_from_status(status) for status in page)
                self.report.advance(len(page))
        if owner.posts_count is not None and len(data.posts) < owner.posts_count:
            note = f"Only the newest {len(data.posts)} posts were read."
            data.notes.append(note)
            if "posts" not in data.parts:  # not refused
                data.mark("posts", PartState.PARTIAL, total=owner.posts_count, reason=note)
