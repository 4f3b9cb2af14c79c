"""X / Twitter: OAuth 2.0 with PKCE, a read budget per sync, and archive imports.

X bills every read, so a sync never reads more than its budget (``X_MAX_READS``) and the
connect page shows the budget and its price (``X_PRICE_POST_READ``, ``X_PRICE_USER_READ``)
before anything is read. Access tokens last two hours; the refresh token is rotated on every
refresh. Live reads are in :mod:`.fetcher`, the archive in :mod:`.importer`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.networks.base import (
    AccountData,
    ConnectOption,
    Connector,
    Door,
    Login,
    OAuthSpec,
    Person,
    Progress,
)
from app.networks.http import ApiClient
from app.networks.registry import register
from app.networks.x.fetcher import (
    TIMELINE_NOTE,
    USER_FIELDS,
    estimate_reads,
    fetch_x,
    install_hook,
    person_from_user,
)
from app.networks.x.importer import import_x

GRAPH_EDGES = "include_graph_edges"
READ_CAP = "read_cap"


@dataclass(frozen=True)
class XBudget:
    """What the connect page says about a sync's reads and their price, before any read.

    :param max_reads: the per-sync budget (``X_MAX_READS``).
    :param max_cost: the most a sync can cost: every read billed as a user read.
    :param known: whether the counts come from an earlier sync (else only the cap is known).
    :param planned: reads a sync without graph edges would make (when ``known``).
    :param planned_cost: their price.
    :param graph_people: people whose following lists the opt-in would read.
    :param graph_reads: reads those lists would take without a budget (about 500 a person).
    :param graph_cost: their price.
    :param graph_minutes: how long X's rate limit (15 lists per 15 minutes) makes them take.
    """

    max_reads: int
    max_cost: float
    known: bool
    planned: int | None
    planned_cost: float | None
    graph_people: int
    graph_reads: int
    graph_cost: float
    graph_minutes: int
    price_post: float
    price_user: float


def max_reads(config: Mapping[str, Any], options: Mapping[str, Any] | None = None) -> int:
    """The read budget of one X sync: ``X_MAX_READS`` as set now, or the user's own lower
    cap (``read_cap``, chosen on the connect page)."""
    budget = int(config["X_MAX_READS"])
    cap = (options or {}).get(READ_CAP)
    if isinstance(cap, int) and not isinstance(cap, bool) and cap > 0:
        budget = min(budget, cap)
    return max(budget, 0)


def budget(
    config: Mapping[str, Any], counts: tuple[int, int, int] | None, options: Mapping[str, Any]
) -> XBudget:
    """Estimate a sync's reads with :func:`~app.networks.x.fetcher.estimate_reads`.

    With an earlier sync's counts (followers, friends, posts) those are used; before the
    first one only the cap is certain, and the graph estimate assumes the graph limit's
    worth of people.
    """
    reads = max_reads(config, options)
    max_people = int(config["GRAPH_MAX_PEOPLE"])
    price_post = float(config["X_PRICE_POST_READ"])
    price_user = float(config["X_PRICE_USER_READ"])
    known = counts is not None
    plain = estimate_reads(*(counts or (max_people, 0, 0)), False, max_people, max_reads=reads)
    graph = estimate_reads(*(counts or (max_people, 0, 0)), True, max_people)
    follows = graph["reads"]["follows"]

    def cost(planned: Mapping[str, int]) -> float:
        users = sum(n for stage, n in planned.items() if stage != "posts")
        return round(planned.get("posts", 0) * price_post + users * price_user, 2)

    return XBudget(
        max_reads=reads,
        max_cost=round(reads * price_user, 2),
        known=known,
        planned=plain["planned_total"] if known else None,
        planned_cost=cost(plain["planned"]) if known else None,
        graph_people=graph["graph_people"],
        graph_reads=follows,
        graph_cost=round(follows * price_user, 2),
        graph_minutes=graph["graph_minutes"],
        price_post=price_post,
        price_user=price_user,
    )


@register
class X(Connector):
    key = "x"
    label = "X / Twitter"
    name = "X"
    door = Door.OAUTH
    people_counts = True
    edges = True
    profile_url = "https://x.com/{handle}"
    notes = (
        "Every read on X is billed: follower-of-follower links are read only when you "
        "switch them on.",
    )
    archive_hint = "Settings > Your account > Download an archive of your data"
    archive_help = (
        "Request it in Settings and privacy > Your account > Download an archive of your data; "
        "X e-mails a link a day or more later. Upload the .zip as it is (or the unpacked "
        "folder). We read your posts with their like and repost counts (data/tweets.js, with "
        "long posts from note-tweet.js), your followers and the accounts you follow "
        "(follower.js, following.js: ids only, names appear once X is connected live) and "
        "your account details (account.js, profile.js). Reply counts are not in the archive."
    )
    oauth = OAuthSpec(
        prefix="X",
        scopes=("tweet.read", "users.read", "follows.read", "offline.access"),
        pkce="S256",
        secret_required=False,
        rotating_refresh=True,
        authorize_method="POST",
        own_client=True,
    )
    api_setting = "X_API_URL"
    service = "X"
    connect_options = (
        ConnectOption(GRAPH_EDGES, "Also read who my followers follow (graph edges)"),
        ConnectOption(
            READ_CAP,
            "My own read cap per sync (optional)",
            "Lower than the server's budget to spend less; empty for the server's budget.",
            kind="int",
        ),
    )
    expired_message = "The X sign-in has run out and cannot be renewed; please reconnect."
    refreshable = True

    def prepare_client(self, client: ApiClient) -> None:
        install_hook(client)

    def whoami(self, client: ApiClient, config: Mapping[str, Any]) -> Person:
        me = client.get_json("/2/users/me", {"user.fields": USER_FIELDS})["data"]
        return person_from_user(me)

    def connect_context(
        self, config: Mapping[str, Any], counts: tuple[int, int, int] | None, options: Mapping
    ) -> dict[str, Any]:
        return {"x_budget": budget(config, counts, options)}

    def stored_options(self, config: Mapping[str, Any], chosen: Mapping[str, Any]) -> dict:
        """The graph-edges choice and the user's own read cap (the server's budget is read
        from settings at every sync, so raising ``X_MAX_READS`` reaches every connection)."""
        cap = chosen.get(READ_CAP)
        return {
            GRAPH_EDGES: bool(chosen.get(GRAPH_EDGES)),
            READ_CAP: cap if isinstance(cap, int) and cap > 0 else None,
        }

    def first_sync_params(
        self, config: Mapping[str, Any], options: Mapping[str, Any]
    ) -> dict[str, Any]:
        # /2/users/me was read (and billed) to connect: the first sync has one read less.
        return {"max_reads": max_reads(config, options) - 1}

    def fetch(self, client: ApiClient, login: Login, config: Mapping[str, Any]) -> AccountData:
        """Read the account inside its read budget: ``X_MAX_READS``, lowered by the stored
        ``max_reads`` option and by the run's own ``max_reads`` (the first sync)."""
        reads = max_reads(config, login.options)
        lower = login.params.get("max_reads")
        if isinstance(lower, int) and not isinstance(lower, bool):
            reads = min(reads, max(lower, 0))
        return fetch_x(
            client,
            max_reads=reads,
            include_graph_edges=bool(login.options.get(GRAPH_EDGES)),
            max_people=int(config["GRAPH_MAX_PEOPLE"]),
        )

    def import_archive(self, path: str, progress: Progress) -> AccountData:
        return import_x(path, progress)


__all__ = ["TIMELINE_NOTE", "X", "XBudget", "budget", "max_reads"]
