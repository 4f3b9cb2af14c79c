"""What the dashboard pages read: every query is scoped to the signed-in user's connections.

Views call these functions and hand the plain values they return to templates; nothing here
calls a network, and nothing is computed in templates.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any, NamedTuple

from flask import abort
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Integer, Select, String, bindparam, func, or_, select
from sqlalchemy.orm import joinedload

from app.analysis import export as builders
from app.analysis.matching import combinations_of_listed
from app.dashboard import keyset
from app.extensions import db
from app.filters import number
from app.models import (
    LIST_SORTS,
    Connection,
    CrossCheck,
    Follow,
    Person,
    Post,
    Snapshot,
    SyncRun,
    SyncStatus,
    User,
)
from app.networks import CONNECTORS
from app.networks.base import Connector, PartState
from app.networks.text import named_instead
from app.sync import schedule
from app.sync.runner import INTERRUPTED, is_stale

ROLES = ("followers", "friends")
PER_PAGE = 50
#: Sortable list columns: URL name -> sort column or expression (indexed per list, see
#: :data:`app.models.LIST_SORTS`).
SORTS: dict[str, dict[str, Any]] = {role: sorts for role, (_, sorts) in LIST_SORTS.items()}
#: Sorts whose values are text (the others are whole numbers), and the one that is never
#: unknown.
TEXT_SORTS, NEVER_NULL_SORTS = frozenset({"handle", "name"}), frozenset({"handle"})
DATASETS = {
    "followers": ("csv", "json"),
    "friends": ("csv", "json"),
    "posts": ("csv", "json"),
    "followers-graph": ("csv", "json", "gexf", "graphml"),
    "friends-graph": ("csv", "json", "gexf", "graphml"),
}
MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "gexf": "application/gexf+xml",
    "graphml": "application/graphml+xml",
}


def user_connections(user: User) -> dict[str, Connection]:
    """The user's connections by network key."""
    rows = db.session.scalars(select(Connection).where(Connection.user_id == user.id))
    return {row.network: row for row in rows}


def network_or_404(key: str) -> Connector:
    """The network named ``key``, or a 404."""
    info = CONNECTORS.get(key)
    if info is None:
        abort(404)
    return info


def connection_or_404(user: User, network: str, *, with_snapshot: bool = False) -> Connection:
    """The user's own connection to ``network``; a 404 for anyone else's or none.

    :param with_snapshot: read its current snapshot in the same query.
    """
    network_or_404(network)
    query = select(Connection).where(Connection.user_id == user.id, Connection.network == network)
    if with_snapshot:
        query = query.options(joinedload(Connection.current_snapshot))
    connection = db.session.scalar(query)
    if connection is None:
        abort(404)
    return connection


def snapshot_or_404(user: User, network: str) -> tuple[Connection, Snapshot]:
    """The user's connection and its current snapshot; a 404 while there is none."""
    connection = connection_or_404(user, network)
    snapshot = connection.current_snapshot
    if snapshot is None:
        abort(404)
    return connection, snapshot


def run_state(run: SyncRun | None) -> dict[str, Any] | None:
    """A run as the progress bar and its JSON endpoint show it."""
    if run is None:
        return None
    percent = None
    if run.total:
        percent = min(100, round(100 * run.done / run.total))
    stale = is_stale(run)  # shown as failed; the runner or the next sync records it
    return {
        "id": run.id,
        "kind": run.kind,
        "status": SyncStatus.FAILED if stale else run.status,
        "active": run.active and not stale,
        "stage": run.stage,
        "done": run.done,
        "total": run.total,
        "percent": percent,
        "requests": run.requests,
        "paused_until": run.paused_until.isoformat() if run.paused_until else None,
        "error": INTERRUPTED if stale else run.error,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
    }


def latest_run(connection: Connection) -> SyncRun | None:
    """The connection's newest run, whatever its state (reads only: a stale run is shown as
    interrupted by :func:`run_state`)."""
    return db.session.scalar(
        select(SyncRun).where(SyncRun.connection_id == connection.id).order_by(SyncRun.id.desc())
    )


def growth_series(connection: Connection) -> list[dict[str, Any]]:
    """Followers and friends of every finished sync, in the order of the dates they are as of.

    A point counts a list only where that sync read it completely; a partial, refused or
    missing read is a gap (``None``), never a drop. ``archive`` marks points that came from an
    imported archive (dated by the archive, not by the upload).
    """
    return growth_series_of([connection.id]).get(connection.id, [])


def growth_series_of(connection_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """:func:`growth_series` of several connections, read in one query."""
    if not connection_ids:
        return {}
    rows = db.session.execute(
        select(
            Snapshot.connection_id,
            Snapshot.created_at,
            Snapshot.followers_count,
            Snapshot.friends_count,
            Snapshot.parts,
            Snapshot.archive_date,
            Snapshot.results["source"].as_string().label("source"),
        )
        .where(Snapshot.connection_id.in_(connection_ids), Snapshot.complete.is_(True))
        .order_by(Snapshot.created_at, Snapshot.id)
    ).all()
    series: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        series.setdefault(row.connection_id, []).append(_growth_point(row))
    for points in series.values():
        points.sort(key=lambda point: point["at"])
    return series


def _growth_point(row: Any) -> dict[str, Any]:
    if row.parts:
        reads = {name: part["read"] for name, part in row.parts.items()}
        return {
            "at": datetime.fromisoformat(reads["followers"]["as_of"]),
            "synced_at": row.created_at,
            "followers": _complete_count(reads["followers"]),
            "friends": _complete_count(reads["friends"]),
            "archive": reads["followers"]["kind"] == "import",
        }
    return {  # stored before parts were recorded
        "at": row.archive_date or row.created_at,
        "synced_at": row.created_at,
        "followers": row.followers_count,
        "friends": row.friends_count,
        "archive": row.source == "import",
    }


def latest_runs(connection_ids: list[int]) -> dict[int, SyncRun]:
    """The newest run of each of several connections (see :func:`latest_run`), one query."""
    if not connection_ids:
        return {}
    newest = (
        select(func.max(SyncRun.id))
        .where(SyncRun.connection_id.in_(connection_ids))
        .group_by(SyncRun.connection_id)
    )
    runs = db.session.scalars(select(SyncRun).where(SyncRun.id.in_(newest)))
    return {run.connection_id: run for run in runs}


#: How late a scheduled sync may start before its card says the data is stale.
STALE_GRACE = timedelta(hours=1)


def freshness(connection: Connection, now: datetime | None = None) -> dict[str, Any]:
    """The connection's schedule, next sync, and whether its data is stale (and why)."""
    now = now or datetime.now(UTC)
    chosen = schedule.schedule_of(connection)
    reason = None
    if connection.sync_failures >= schedule.WARN_AFTER:
        last = db.session.scalar(
            select(SyncRun.error)
            .where(SyncRun.connection_id == connection.id, SyncRun.error.is_not(None))
            .order_by(SyncRun.id.desc())
        )
        reason = f"The last {connection.sync_failures} syncs failed" + (
            f": {last}" if last else "."
        )
    elif connection.next_sync_at is not None and connection.next_sync_at + STALE_GRACE < now:
        reason = "The scheduled sync is overdue: the scheduler has not run (see the manual)."
    elif connection.status == "reconnect" and chosen != "off":
        reason = "Scheduled syncs wait until you reconnect."
    return {
        "schedule": chosen,
        "label": schedule.LABELS[chosen],
        "choices": [
            (key, schedule.LABELS[key]) for key in schedule.choices(CONNECTORS[connection.network])
        ],
        "next": connection.next_sync_at,
        "failures": connection.sync_failures,
        "stale": reason is not None,
        "reason": reason,
        "budgeted": connection.network in schedule.BUDGETED,
    }


def _complete_count(read: Mapping[str, Any]) -> int | None:
    return read["count"] if read["state"] == PartState.COMPLETE else None


PART_LABELS = {
    "profile": "Profile counts",
    "followers": "Followers",
    "friends": "Friends (you follow)",
    "posts": "Posts",
    "edges": "Follow links among them",
}
SOURCE_LABELS = {
    "live": "live sync",
    "public": "public read",
    "import": "archive",
    "demo": "demo data",
}


def part_rows(snapshot: Snapshot) -> list[dict[str, Any]]:
    """Per part: what the page shows, from which sources, as of when, and (when the newest
    read gave less and the earlier version was kept) what that read gave and why."""
    if not snapshot.parts:
        return []
    rows = []
    for name, label in PART_LABELS.items():
        part = snapshot.parts.get(name)
        if part is None:
            continue
        shown, read = part["shown"], part["read"]
        read_source = {"kind": read["kind"], "file": read.get("file"), "as_of": read["as_of"]}
        kept = read_source not in (shown.get("sources") or [])
        rows.append(
            {
                "part": name,
                "label": label,
                "state": shown["state"],
                "shown": _amount(shown),
                "reason": shown.get("reason"),
                "sources": [
                    {
                        "kind": SOURCE_LABELS.get(src["kind"], src["kind"]),
                        "file": src.get("file"),
                        "as_of": datetime.fromisoformat(src["as_of"]),
                    }
                    for src in shown.get("sources") or []
                ],
                "newest": {
                    **read,
                    "text": _amount(read),
                    "at": datetime.fromisoformat(read["as_of"]),
                }
                if kept
                else None,
            }
        )
    return rows


def _amount(part: Mapping[str, Any]) -> str:
    """``1,234``, ``500 of 789``, ``not in this source``, ``refused``."""
    state, count, total = part["state"], part.get("count"), part.get("total")
    if state == PartState.ABSENT:
        return "not provided"
    if state == PartState.REFUSED:
        return "refused"
    if count is None:
        return "complete" if state == PartState.COMPLETE else "partial"
    if state == PartState.PARTIAL and total is not None and total > count:
        return f"{count:,} of {total:,}"
    return f"{count:,}"


@dataclass
class CardSnapshot:
    """What a dashboard card shows of the current snapshot (its big results are not read)."""

    id: int
    followers_count: int | None
    friends_count: int | None
    posts_count: int | None
    results: dict[str, Any]


@dataclass
class Card:
    """One network card on the dashboard."""

    network: Connector
    connection: Connection | None
    snapshot: CardSnapshot | None
    run: dict[str, Any] | None
    sparkline: dict[str, Any] | None
    fresh: dict[str, Any] | None = None


def card_snapshots(connections: list[Connection]) -> dict[int, CardSnapshot]:
    """The current snapshots of ``connections`` as their cards show them, by connection id,
    in one query."""
    ids = [c.current_snapshot_id for c in connections if c.current_snapshot_id is not None]
    if not ids:
        return {}
    rows = db.session.execute(
        select(
            Snapshot.connection_id,
            Snapshot.id,
            Snapshot.followers_count,
            Snapshot.friends_count,
            Snapshot.posts_count,
            Snapshot.results["source"].as_string().label("source"),
        ).where(Snapshot.id.in_(ids))
    ).all()
    return {
        row.connection_id: CardSnapshot(
            id=row.id,
            followers_count=row.followers_count,
            friends_count=row.friends_count,
            posts_count=row.posts_count,
            results={"source": row.source},
        )
        for row in rows
    }


def dashboard_cards(user: User) -> list[Card]:
    """A card per network, connected or not, in the registry's order (a fixed number of
    queries, whatever the number of connections)."""
    connections = user_connections(user)
    ids = [connection.id for connection in connections.values()]
    snapshots = card_snapshots(list(connections.values()))
    growth = growth_series_of(ids)
    runs = latest_runs(ids)
    cards = []
    for key, info in CONNECTORS.items():
        connection = connections.get(key)
        sparkline = None
        series = growth.get(connection.id, []) if connection is not None else []
        if len(series) > 1:
            sparkline = chart(
                "line",
                [point["at"].date().isoformat() for point in series],
                [{"label": "Followers", "data": [p["followers"] for p in series]}],
                sparkline=True,
            )
        cards.append(
            Card(
                network=info,
                connection=connection,
                snapshot=snapshots.get(connection.id) if connection else None,
                run=run_state(runs.get(connection.id)) if connection else None,
                sparkline=sparkline,
                fresh=freshness(connection) if connection else None,
            )
        )
    return cards


def chart(kind: str, labels: list[str], datasets: list[dict[str, Any]], **options: Any) -> dict:
    """The JSON a chart canvas reads (see ``frontend/README.md``)."""
    return {"type": kind, "labels": labels, "datasets": datasets, "options": options}


def share_percent(part: int | None, whole: int | None) -> float | None:
    """``part / whole`` in percent with one decimal, or ``None`` when it cannot be known."""
    if part is None or not whole:
        return None
    return round(100 * part / whole, 1)


def network_charts(
    results: Mapping[str, Any], growth: list[dict[str, Any]], zone: tzinfo = UTC
) -> dict[str, dict]:
    """Every chart of the network page, from the stored analysis results.

    :param zone: the user's time zone, for the growth chart's sync times.
    """
    timeline = results.get("timeline") or {}
    months = timeline.get("by_month") or []
    sentiment = results.get("sentiment") or {}
    sentiment_months = sentiment.get("by_month") or []
    labels = [row["period"] for row in months]
    return {
        "posts-by-month": chart(
            "bar",
            labels,
            [
                {"label": "Posts", "data": [row["posts"] for row in months], "color": "primary"},
                {
                    "label": "Reposts",
                    "data": [row.get("reposts", 0) for row in months],
                    "color": "secondary",
                },
            ],
            stacked=True,
            yLabel="posts",
        ),
        "responses-by-month": chart(
            "line",
            labels,
            [
                {
                    "label": "Posts with a response",
                    "data": [share_percent(row["responded"], row["known"]) for row in months],
                    "color": "primary",
                }
            ],
            percent=True,
        ),
        "sentiment-by-month": chart(
            "bar",
            [row["period"] for row in sentiment_months],
            [
                {
                    "label": label.title(),
                    "data": [row[label] for row in sentiment_months],
                    "color": label,
                }
                for label in ("positive", "neutral", "negative")
            ]
            + [
                {
                    "label": "Mean score",
                    "data": [row["mean_score"] for row in sentiment_months],
                    "kind": "line",
                    "axis": "right",
                    "color": "secondary",
                }
            ],
            stacked=True,
            yLabel="posts",
        ),
        "growth": chart(
            "line",
            [
                point["at"].astimezone(zone).strftime("%Y-%m-%d %H:%M")
                + (" (archive)" if point.get("archive") else "")
                for point in growth
            ],
            [
                {
                    "label": "Followers",
                    "data": [p["followers"] for p in growth],
                    "color": "primary",
                },
                {"label": "Friends", "data": [p["friends"] for p in growth], "color": "secondary"},
            ],
            yLabel="people",
        ),
    }


def month_rows(timeline: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """The numbers behind the posts charts, a ``(period, posts, reposts, responded, known)``
    tuple a month (the template unpacks them; a value the stored row lacks prints empty)."""
    return [
        (
            row.get("period", ""),
            row.get("posts", ""),
            row.get("reposts", ""),
            row.get("responded", ""),
            row.get("known", ""),
        )
        for row in timeline.get("by_month") or []
    ]


def sentiment_month_rows(sentiment: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """The numbers behind the sentiment chart, a ``(period, positive, neutral, negative,
    not scored, mean score)`` tuple a month, the mean signed with two decimals or ``n/a``."""
    rows = []
    for row in sentiment.get("by_month") or []:
        mean = row.get("mean_score")
        rows.append(
            (
                row.get("period", ""),
                row.get("positive", ""),
                row.get("neutral", ""),
                row.get("negative", ""),
                row.get("not_scored", 0),
                "n/a" if mean is None else f"{mean:+.2f}",
            )
        )
    return rows


class HeatmapRow(NamedTuple):
    """A weekday of the heatmap: its name, its cells as ``(shade, count)`` pairs (a 0-4 shade
    for the CSS classes, the posts in that hour) and its total (the template unpacks it)."""

    day: str
    cells: list[tuple[int, int]]
    total: int


def heatmap_rows(timeline: Mapping[str, Any]) -> list[HeatmapRow]:
    """The weekday x hour heatmap as rows of cells with a 0-4 shade for the CSS classes."""
    heat = timeline.get("heatmap") or {}
    counts = heat.get("counts") or []
    peak = max((max(row) for row in counts if row), default=0)
    return [
        HeatmapRow(
            day,
            [(1 + math.floor(3.999 * count / peak) if count else 0, count) for count in row],
            sum(row),
        )
        for day, row in zip(heat.get("days", []), counts, strict=False)
    ]


class PersonFields(NamedTuple):
    """What the lists and the API show of a person (:data:`PERSON_COLUMNS`)."""

    id: int
    external_id: str
    handle: str
    name: str | None
    url: str | None
    followers_count: int | None
    following_count: int | None
    my_followers_they_follow: int | None
    common_friends: int | None
    is_follower: bool
    is_friend: bool
    follower_community: int | None
    friend_community: int | None


#: The columns of a list, read as plain :class:`PersonFields` tuples: whole
#: :class:`~app.models.Person` entities cost a list page more than its rendering (the JSON of
#: every person's links decoded, an identity map filled), and SQLAlchemy's own rows read an
#: attribute ten times slower than a tuple does.
PERSON_COLUMNS = tuple(getattr(Person, field) for field in PersonFields._fields)


def people_params(snapshot: Snapshot, search: str = "") -> dict[str, Any]:
    """The values of a list's bind parameters (:func:`list_order`): its snapshot, and the
    ``LIKE`` pattern of a search (its ``\\``, ``%`` and ``_`` taken literally)."""
    params: dict[str, Any] = {"snapshot_id": snapshot.id}
    search = search.strip().lstrip("@").lower()
    if search:
        escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params["pattern"] = f"%{escaped}%"
    return params


#: The snapshot a list reads, bound (:func:`people_params`).
_SNAPSHOT_ID = bindparam("snapshot_id", type_=Integer)


@functools.cache
def _people_base(role: str, searching: bool) -> Select[Any]:
    """The select of a list, its values bind parameters (:func:`people_params`): the
    snapshot's followers or friends, those whose handle or name contains the search when
    ``searching``. Built once per process."""
    query = select(*PERSON_COLUMNS).where(Person.snapshot_id == _SNAPSHOT_ID, LIST_SORTS[role][0])
    if searching:
        pattern = bindparam("pattern", type_=String)
        query = query.where(
            or_(
                func.lower(Person.handle).like(pattern, escape="\\"),
                func.lower(Person.name).like(pattern, escape="\\"),
            )
        )
    return query


#: The longest search the lists take, and the highest page number asked for.
SEARCH_MAX, PAGE_MAX = 200, 100_000
#: Old ``?page=N`` links are served by offset up to this page (deeper ones show page 1):
#: lists page by position now (``?after=``), and an offset costs a read of what it skips.
LEGACY_PAGE_MAX = 100
#: The salt of the lists' position tokens (the API's cursors have their own).
LIST_SALT = "list-position"


def clean_search(text: str) -> str:
    """A search as the lists take it: control characters (a NUL) removed, at most
    :data:`SEARCH_MAX` characters."""
    return "".join(ch for ch in text if ch.isprintable())[:SEARCH_MAX]


def clean_page(page: int | None) -> int:
    """A page number between 1 and :data:`PAGE_MAX` (a page past the end shows as empty)."""
    if page is None or page < 1:
        return 1
    return min(page, PAGE_MAX)


def clean_sort(role: str, sort: str | None, order: str | None) -> tuple[str, str]:
    """A list's sort and order as asked, or the default (most overlap first)."""
    sort = sort if sort in SORTS[role] else "overlap"
    return sort, "asc" if order == "asc" else "desc"


@functools.cache
def list_order(role: str, sort: str, descending: bool, searching: bool) -> keyset.Order:
    """A list (searched or not) in its keyset order: ``sort`` (a key of :data:`SORTS`), then
    the row id, both descending or not; unknown values last. Made once per process for each
    list, sort, direction and search or not, so the statements of its pages are built once
    (see :mod:`app.dashboard.keyset`); :func:`people_params` gives its values."""
    return keyset.Order(
        base=_people_base(role, searching),
        row=PersonFields._make,
        key=SORTS[role][sort],
        tiebreak=Person.id,
        scope=((Person.snapshot_id, _SNAPSHOT_ID),),
        descending=descending,
        nullable=sort not in NEVER_NULL_SORTS,
        kind=str if sort in TEXT_SORTS else int,
    )


def people_page(
    snapshot: Snapshot,
    role: str,
    *,
    sort: str = "overlap",
    order: str = "desc",
    search: str = "",
    after: keyset.Position | None = None,
    before: keyset.Position | None = None,
    offset: int = 0,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> keyset.Window:
    """One page of a followers or friends list, sorted and searched in the database.

    Read by position (:mod:`app.dashboard.keyset`) from the list's index: the page after
    ``after``, the page before ``before``, else the first page (or the one ``offset`` rows
    in; ``page`` counts pages of ``per_page`` the same way). No count: the list's size is
    stored with the snapshot (:func:`list_total`).
    """
    sort, order = clean_sort(role, sort, order)
    per_page = min(max(per_page, 1), 200)
    offset = offset or (clean_page(page) - 1) * per_page
    params = people_params(snapshot, search)
    return keyset.page(
        db.session,
        list_order(role, sort, order == "desc", "pattern" in params),
        params,
        per_page=per_page,
        after=after,
        before=before,
        offset=offset,
    )


def list_total(snapshot: Snapshot, role: str, search: str = "") -> int | None:
    """How many people the list has: stored with the snapshot; ``None`` for a search (a
    search is paged without a count) or when the list was not read."""
    if search.strip().lstrip("@"):
        return None
    return snapshot.followers_count if role == "followers" else snapshot.friends_count


def _list_binding(snapshot: Snapshot, role: str, sort: str, order: str, search: str) -> list:
    digest = hashlib.sha256(search.strip().lstrip("@").lower().encode()).hexdigest()[:16]
    return [snapshot.id, role, sort, order, digest]


def list_token(
    snapshot: Snapshot, role: str, sort: str, order: str, search: str, position: keyset.Position
) -> str:
    """A signed token of ``position`` in one list of one snapshot, sorted and searched so
    (the ``after``/``before`` of the pages' links)."""
    binding = _list_binding(snapshot, role, sort, order, search)
    return keyset.sign([*binding, position.dump()], LIST_SALT)


def list_position(
    token: str | None, snapshot: Snapshot, role: str, sort: str, order: str, search: str
) -> keyset.Position | None:
    """The position in a :func:`list_token`; ``None`` for no token, a forged or broken one,
    or one of another list, sort, search or sync (the page then starts at the top)."""
    if not token:
        return None
    try:
        state = keyset.unsign(token, LIST_SALT)
        binding = _list_binding(snapshot, role, sort, order, search)
        if not isinstance(state, list) or len(state) != 6 or state[:5] != binding:
            return None
        return keyset.Position.load(state[5], str if sort in TEXT_SORTS else int)
    except keyset.TokenError:
        return None


class ListRow(NamedTuple):
    """A row of a list as its table shows it, in column order, every value ready to print
    (the template unpacks it: no per-cell lookups or formatting while rendering).

    ``url`` is the stored link, which the template still passes through ``safe_href``.
    """

    handle: str
    #: The name, or ``""``.
    name: str
    url: str | None
    #: An id is stored in place of a handle (an export that names people only) and there is
    #: a name: the person is shown by name.
    by_name: bool
    #: Their followers (followers list) or how many they follow (friends list), formatted.
    their_count: str
    #: My followers they follow, or common friends, formatted.
    overlap: str
    follows_back: bool
    #: The community number counted from 1, or an en dash (unknown).
    community: str


def list_row(person: Any, role: str) -> ListRow:
    """A list row as the page shows it (see :func:`person_row` for the exported one).

    :param person: a :class:`PersonFields` row, a :class:`~app.models.Person` or anything
        with the same attributes.
    """
    follower = role == "followers"
    community = person.follower_community if follower else person.friend_community
    return ListRow(
        handle=person.handle,
        name=person.name or "",
        url=person.url,
        by_name=named_instead(person.handle, person.name),
        their_count=number(person.followers_count if follower else person.following_count),
        overlap=number(person.my_followers_they_follow if follower else person.common_friends),
        follows_back=bool(person.is_friend if follower else person.is_follower),
        community=str(community + 1) if community is not None and community >= 0 else "\u2013",
    )


@dataclass
class ListPage:
    """A list as a page shows it: rows, where they sit in the list, and the links around."""

    role: str
    rows: list[ListRow]
    start: int
    end: int
    total: int | None
    prev_url: str | None
    next_url: str | None


def list_page(
    snapshot: Snapshot,
    role: str,
    *,
    sort: str,
    order: str,
    search: str,
    args: Mapping[str, Any],
    url: Any,
) -> ListPage:
    """The page of a list that ``args`` (``after``, ``before`` or a legacy ``page``) asks
    for, with links to the pages around it made by ``url(after=...)`` / ``url(before=...)``.
    """
    sort, order = clean_sort(role, sort, order)
    after = list_position(args.get("after"), snapshot, role, sort, order, search)
    before = (
        None if after else list_position(args.get("before"), snapshot, role, sort, order, search)
    )
    offset = 0
    number = args.get("page")
    if after is None and before is None and isinstance(number, int) and number > 1:
        offset = (number - 1) * PER_PAGE if number <= LEGACY_PAGE_MAX else 0
    window = people_page(
        snapshot,
        role,
        sort=sort,
        order=order,
        search=search,
        after=after,
        before=before,
        offset=offset,
    )

    def link(position: keyset.Position | None, key: str) -> str | None:
        if position is None:
            return None
        return str(url(**{key: list_token(snapshot, role, sort, order, search, position)}))

    return ListPage(
        role=role,
        rows=[list_row(person, role) for person in window.rows],
        start=window.start,
        end=window.end,
        total=list_total(snapshot, role, search),
        prev_url=(link(window.first, "before") or str(url())) if window.has_prev else None,
        next_url=link(window.last, "after") if window.has_next else None,
    )


def person_row(person: Any, role: str) -> dict[str, Any]:
    """A list row as shown and exported (the export builders' columns).

    :param person: a :class:`~app.models.Person` or a row with the same column names.
    """
    follower = role == "followers"
    return {
        "handle": person.handle,
        "name": person.name,
        "url": person.url,
        "followers_count": person.followers_count,
        "following_count": person.following_count,
        "my_followers_they_follow" if follower else "common_friends": (
            person.my_followers_they_follow if follower else person.common_friends
        ),
        "follows_back": person.is_friend if follower else person.is_follower,
        "community": person.follower_community if follower else person.friend_community,
    }


def stream_rows(query: Select[*tuple[Any, ...]], batch: int = 1000) -> Iterator[Any]:
    """Rows of ``query``, read in batches on a connection of their own.

    Exports stream after the view has returned, when the request's session is already
    closed; the generator therefore holds its own connection (taken from the engine now,
    while the app context is there) and reads plain rows, not ORM objects.
    """
    engine = db.engine

    def rows() -> Iterator[Any]:
        with engine.connect() as connection:
            yield from connection.execute(query.execution_options(yield_per=batch))

    return rows()


def stream_people(snapshot: Snapshot, role: str) -> Iterator[Any]:
    """Every follower or friend as a row of the export's columns (:data:`export columns
    <app.analysis.export.FOLLOWER_COLUMNS>`, in their order), in handle order, read in
    batches from a server-side cursor: only those columns, no ORM objects."""
    follower = role == "followers"
    flag = LIST_SORTS[role][0]
    query = (
        select(
            Person.handle,
            Person.name,
            Person.followers_count,
            Person.following_count,
            Person.my_followers_they_follow if follower else Person.common_friends,
            Person.is_friend if follower else Person.is_follower,
            Person.follower_community if follower else Person.friend_community,
        )
        .where(Person.snapshot_id == snapshot.id, flag)
        .order_by(func.lower(Person.handle), Person.id)
    )
    return stream_rows(query, 2000)


def _people_cells(rows: Iterator[Any]) -> Iterator[tuple[Any, ...]]:
    """:func:`stream_people` rows as safe CSV cells (the export's escaping, done only where
    a cell can hold text)."""
    cell = builders.text_cell
    for handle, name, followers, following, overlap, back, community in rows:
        yield (
            cell(handle),
            cell(name),
            followers,
            following,
            overlap,
            "true" if back else "false",
            community,
        )


def _post_cells(snapshot: Snapshot) -> Iterator[tuple[Any, ...]]:
    """Every post as safe CSV cells of :data:`~app.analysis.export.POST_COLUMNS`, newest
    first, read in batches of only those columns."""
    cell = builders.text_cell
    query = (
        select(
            Post.external_id,
            Post.created_at,
            Post.kind,
            Post.text,
            Post.url,
            Post.reply_count,
            Post.like_count,
            Post.repost_count,
            Post.sentiment_label,
            Post.sentiment_score,
        )
        .where(Post.snapshot_id == snapshot.id)
        .order_by(Post.created_at.desc(), Post.id)
    )
    for post_id, at, kind, body, url, replies, likes, reposts, label, score in stream_rows(
        query, 2000
    ):
        yield (
            cell(post_id),
            at.isoformat(),
            cell(kind),
            cell(body),
            cell(url),
            replies,
            likes,
            reposts,
            cell(label),
            score,
        )


def stream_posts(snapshot: Snapshot) -> Iterator[dict[str, Any]]:
    """Every post row, newest first."""
    query = (
        select(*Post.__table__.c)
        .where(Post.snapshot_id == snapshot.id)
        .order_by(Post.created_at.desc(), Post.id)
    )
    return builders.post_rows(stream_rows(query))


def graph_document(connection: Connection, snapshot: Snapshot, role: str) -> dict[str, Any]:
    """The full followers or friends graph of a snapshot, for export.

    Nodes are the owner and every follower (or friend); links are every known follow among
    them, so overlap counts can be recomputed from the export. Unlike the drawn graph, it is
    not capped.
    """
    flag = Person.is_follower if role == "followers" else Person.is_friend
    community = Person.follower_community if role == "followers" else Person.friend_community
    rows = db.session.execute(
        select(Person.external_id, Person.handle, community, Person.pagerank)
        .where(Person.snapshot_id == snapshot.id, flag.is_(True))
        .order_by(Person.id)
    ).all()
    owner_id = connection.external_id or "me"
    members = {row[0] for row in rows} | {owner_id}

    def nodes() -> Iterator[dict[str, Any]]:
        yield {
            "id": owner_id,
            "label": f"@{connection.handle}",
            "me": True,
            "community": -1,
            "pagerank": None,
            "size": None,
        }
        for external_id, handle, group, rank in rows:
            yield {
                "id": external_id,
                "label": f"@{handle}",
                "me": False,
                "community": group,
                "pagerank": rank,
                "size": None,
            }

    def links(edges: Iterator[Any]) -> Iterator[dict[str, str]]:
        for source, target in edges:
            if source in members and target in members:
                yield {"source": source, "target": target}

    edges = stream_rows(
        select(Follow.source, Follow.target).where(Follow.snapshot_id == snapshot.id), 5000
    )
    return {"nodes": nodes(), "links": links(edges)}


def export_stream(
    connection: Connection, snapshot: Snapshot, dataset: str, fmt: str
) -> Iterator[str]:
    """The chunks of one export; the route checks access and the dataset/format pair first."""
    if dataset in ROLES:
        columns = builders.FOLLOWER_COLUMNS if dataset == "followers" else builders.FRIEND_COLUMNS
        rows = stream_people(snapshot, dataset)
        if fmt == "csv":
            return builders.csv_rows_stream(_people_cells(rows), columns)
        return builders.json_stream(dict(zip(columns, row, strict=True)) for row in rows)
    if dataset == "posts":
        if fmt == "csv":
            return builders.csv_rows_stream(_post_cells(snapshot), builders.POST_COLUMNS)
        return builders.json_stream(stream_posts(snapshot))
    graph = graph_document(connection, snapshot, dataset.removesuffix("-graph"))
    return {
        "csv": builders.graph_csv,
        "json": builders.graph_json,
        "gexf": builders.gexf_stream,
        "graphml": builders.graphml_stream,
    }[fmt](graph)


def export_filename(network: str, dataset: str, fmt: str, today: date) -> str:
    """``<network>-<dataset>-<YYYY-MM-DD>.<format>``."""
    return f"{network}-{dataset}-{today.isoformat()}.{fmt}"


def cross_check(user: User) -> dict[str, Any] | None:
    """The stored cross-network check, once two or more networks have data."""
    check = db.session.get(CrossCheck, user.id)
    if check is None or len(check.results.get("networks", [])) < 2:
        return None
    return check.results


#: Matches shown on the dashboard itself; the rest are on the matches page, a page at a time.
TOP_MATCHES = 10


def top_matches(cross: Mapping[str, Any] | None, top: int = TOP_MATCHES) -> dict[str, Any]:
    """The dashboard's summary of the listed matches: the ``top`` strongest (link or handle)
    and how many strong and weak ones are listed in all."""
    listed = (cross or {}).get("matches") or []
    strong = [match for match in listed if not match["weak"]]
    return {
        "top": strong[:top],
        "strong": len(strong),
        "weak": len(listed) - len(strong),
    }


def matches_page(
    cross: Mapping[str, Any], *, combo: str = "", weak: bool = False, page: int = 1
) -> dict[str, Any]:
    """One page of the stored matches: the strong ones (only those on exactly the networks
    of the overlap bar ``combo``, an :func:`overlap_id`, when given), or the weak ones."""
    listed = cross.get("matches") or []
    chosen = [match for match in listed if bool(match["weak"]) == weak]
    if combo and not weak:
        chosen = [
            match
            for match in chosen
            if overlap_id(sorted(person["network"] for person in match["people"])) == combo
        ]
    pages = max(1, math.ceil(len(chosen) / PER_PAGE))
    page = min(clean_page(page), pages)
    return {
        "rows": chosen[(page - 1) * PER_PAGE : page * PER_PAGE],
        "total": len(chosen),
        "page": page,
        "pages": pages,
        "start": (page - 1) * PER_PAGE,
        "weak": weak,
        "combo": combo if not weak else "",
    }


def drawable(graph: Mapping[str, Any], *, covered: int | None, total: int | None) -> dict:
    """A stored graph as the viewer draws it: without the owner's own edges.

    Everyone in the followers graph follows you (and you follow everyone in the friends
    graph), so those edges form a star that hides the structure; the exports keep them.
    """
    nodes = list(graph.get("nodes", []))
    owners = {node["id"] for node in nodes if node.get("me")}
    links = [
        link
        for link in graph.get("links", [])
        if link["source"] not in owners and link["target"] not in owners
    ]
    return {
        "nodes": nodes,
        "links": links,
        "covered": covered,
        "total": total,
        "note": graph.get("note"),  # what a cut graph leaves out, in words
    }


def posts_page(snapshot: Snapshot, *, page: int = 1, per_page: int = PER_PAGE) -> Pagination:
    """One page of a snapshot's posts, newest first (the export's order)."""
    query = (
        select(Post)
        .where(Post.snapshot_id == snapshot.id)
        .order_by(Post.created_at.desc(), Post.id)
    )
    return db.paginate(query, page=page, per_page=per_page, max_per_page=200, error_out=False)


#: The overlap chart's geometry (SVG user units): column and row size, tallest bar, margins.
OVERLAP_COLUMN, OVERLAP_ROW, OVERLAP_BAR, OVERLAP_LEFT, OVERLAP_TOP = 32, 22, 120, 96, 18


def overlap_id(networks: list[str]) -> str:
    """The anchor of one combination's people: ``overlap-github-mastodon``."""
    return "overlap-" + "-".join(networks)


def overlap_combinations(cross: Mapping[str, Any]) -> tuple[list[dict[str, Any]], bool]:
    """The people per exact combination of networks, and whether the counts are complete.

    Checks stored since the combinations were recorded carry them; older ones are counted
    from the listed matches, which is exact unless the list was cut (very many matches).
    """
    stored = cross.get("combinations")
    if stored is not None:
        return list(stored), True
    listed = cross.get("matches") or []
    strong_listed = sum(1 for match in listed if not match["weak"])
    return combinations_of_listed(listed), strong_listed == cross.get("strong", 0)


def overlap_chart(cross: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The audience overlap picture (UpSet-style), laid out for the template's SVG.

    One bar per combination of networks (most people first), its height the number of
    people found on exactly those networks; under it a dot matrix marks the networks. Each
    bar links to the list of its people (``#overlap-...``), taken from the listed matches.
    Weak name-only matches are not counted, as in the pairs table.
    """
    if not cross:
        return None
    combos, complete = overlap_combinations(cross)
    if not combos:
        return None
    labels = {key: info.label for key, info in CONNECTORS.items()}
    order = [key for key in CONNECTORS if any(key in combo["networks"] for combo in combos)]
    order += sorted({n for combo in combos for n in combo["networks"]} - set(order))
    listed: dict[str, list[dict[str, Any]]] = {}
    for match in cross.get("matches") or []:
        if not match["weak"]:
            networks = sorted(person["network"] for person in match["people"])
            listed.setdefault(overlap_id(networks), []).append(match)
    peak = max(combo["people"] for combo in combos)
    matrix_top = OVERLAP_TOP + OVERLAP_BAR + 8
    bars = []
    for index, combo in enumerate(combos):
        center = OVERLAP_LEFT + index * OVERLAP_COLUMN + OVERLAP_COLUMN / 2
        height = max(1.0, round(OVERLAP_BAR * combo["people"] / peak, 1))
        ys = [
            matrix_top + row * OVERLAP_ROW + OVERLAP_ROW / 2
            for row, key in enumerate(order)
            if key in combo["networks"]
        ]
        anchor = overlap_id(combo["networks"])
        bars.append(
            {
                **combo,
                "id": anchor,
                "names": " + ".join(
                    labels.get(key, key) for key in order if key in combo["networks"]
                ),
                "x": center - 10,
                "y": OVERLAP_TOP + OVERLAP_BAR - height,
                "height": height,
                "center": center,
                "count_y": OVERLAP_TOP + OVERLAP_BAR - height - 4,
                "dots": [
                    {
                        "y": matrix_top + row * OVERLAP_ROW + OVERLAP_ROW / 2,
                        "on": key in combo["networks"],
                    }
                    for row, key in enumerate(order)
                ],
                "line": (min(ys), max(ys)),
                "listed": listed.get(anchor, []),
            }
        )
    rows = [
        {
            "network": key,
            "label": labels.get(key, key),
            "y": matrix_top + row * OVERLAP_ROW + OVERLAP_ROW / 2 + 4,
            "people": sum(combo["people"] for combo in combos if key in combo["networks"]),
        }
        for row, key in enumerate(order)
    ]
    return {
        "bars": bars,
        "rows": rows,
        "label_x": OVERLAP_LEFT - 8,
        "width": OVERLAP_LEFT + len(combos) * OVERLAP_COLUMN + 8,
        "height": matrix_top + len(order) * OVERLAP_ROW + 4,
        "people": sum(combo["people"] for combo in combos),
        "three_or_more": sum(combo["people"] for combo in combos if len(combo["networks"]) > 2),
        "complete": complete,
        "weak": cross.get("weak", 0),
    }


def community_summary(snapshot: Snapshot, role: str, top: int = 3) -> list[dict[str, Any]]:
    """The communities of a followers or friends graph: size and most central members
    (by PageRank), largest first; for the PDF report."""
    flag = Person.is_follower if role == "followers" else Person.is_friend
    column = Person.follower_community if role == "followers" else Person.friend_community
    rows = db.session.execute(
        select(column, Person.handle, Person.pagerank)
        .where(Person.snapshot_id == snapshot.id, flag.is_(True), column.is_not(None))
        .order_by(column, Person.pagerank.desc(), Person.handle)
    ).all()
    groups: dict[int, list[str]] = {}
    for group, handle, _ in rows:
        if group is not None:
            groups.setdefault(group, []).append(handle)
    ordered = sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))
    return [
        {"community": group, "size": len(handles), "central": handles[:top]}
        for group, handles in ordered
    ]
