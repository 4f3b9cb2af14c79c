"""Sync service: run a fetch or import, analyse it, and store it as a new snapshot.

Data flows one way: a *producer* (live fetcher, archive importer or the demo generator)
returns an :class:`~app.networks.base.AccountData`; :func:`store_snapshot` analyses it once
and writes people, follows and posts under a new, incomplete snapshot; the last short
transaction marks it complete and points the connection at it. Pages read only a
connection's current snapshot, so they never see half a sync, and a sync that fails or is
killed leaves the previous snapshot in place.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from operator import itemgetter
from typing import Any, cast

from flask import current_app
from sqlalchemy import delete, select, update

from app.analysis.graph import PreviousPicture, analyse_graphs
from app.analysis.growth import growth_between
from app.analysis.results import GraphMeta, SnapshotResults
from app.analysis.sentiment import analyse_sentiment, get_engine
from app.analysis.timeline import analyse_timeline
from app.extensions import db
from app.logs import log_context
from app.mail.notices import alert_after_run
from app.memory import give_back
from app.models import (
    Connection,
    ConnectionStatus,
    Follow,
    Person,
    Post,
    Snapshot,
    SyncRun,
    SyncStatus,
    User,
    utcnow,
)
from app.networks import CONNECTORS
from app.networks.archive import ArchiveLimits, use_limits
from app.networks.base import (
    AccountData,
    ArchiveError,
    AuthExpired,
    NetworkError,
    PostSpool,
    as_edges,
    count_posts,
)
from app.networks.base import Person as PersonRecord
from app.networks.base import Post as PostRecord
from app.sync.bulk import analyze, copy_rows
from app.sync.circle import Circle
from app.sync.clean import make_safe
from app.sync.matches import refresh_matches
from app.sync.parts import KEEPABLE, Combined, combine, growth_lists, kept_people, source_of
from app.sync.producers import PRODUCERS
from app.sync.schedule import WARN_AFTER, after_run

log = logging.getLogger(__name__)

#: A run that has not reported progress for this long is taken as dead (server restarted).
STALE_AFTER = timedelta(minutes=15)
#: The longest stage name a run row holds (``SyncRun.stage``).
STAGE_MAX = 40
#: How many gained / lost people a snapshot lists by name.
GROWTH_LIST_MAX = 500
#: Accounts naming at least this many people give the memory each stage freed back to the
#: system (:func:`app.memory.give_back`, a few milliseconds; smaller ones free little).
GIVE_BACK_FROM = 50_000


class SyncRefused(Exception):
    """A sync cannot start now (one is already running, or the connection needs reconnecting)."""


class RunProgress:
    """:class:`~app.networks.base.Progress` that writes to a :class:`SyncRun` row.

    Writes are throttled to one commit per ``interval`` seconds, except stage changes and
    pauses, which the page should show at once.
    """

    def __init__(self, run: SyncRun, interval: float = 0.5) -> None:
        self.run = run
        self.interval = interval
        self._last = 0.0
        #: Requests made, kept here too: a failed run's rollback must not lose the count.
        self.requests = run.requests

    def _flush(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last >= self.interval:
            self.run.updated_at = utcnow()
            db.session.commit()
            self._last = now

    def _resume(self) -> None:
        if self.run.status == SyncStatus.PAUSED:
            self.run.status = SyncStatus.RUNNING
            self.run.paused_until = None

    def stage(self, name: str, total: int | None = None) -> None:
        self._resume()
        # The column holds 40 characters; a stage naming a long archive member is cut.
        self.run.stage = name if len(name) <= STAGE_MAX else name[: STAGE_MAX - 1] + "…"
        self.run.total = total
        self.run.done = 0
        self._flush(force=True)

    def advance(self, done: int = 1) -> None:
        self._resume()
        self.run.done += done
        self._flush()

    def paused(self, until: datetime) -> None:
        self.run.status = SyncStatus.PAUSED
        self.run.paused_until = until
        self._flush(force=True)

    def request(self) -> None:
        self.requests += 1
        self.run.requests = self.requests
        self._flush()


def run_sync(run_id: int) -> None:
    """Run one queued sync to the end (called by the job runner, inside an app context).

    Failures are recorded on the run with a message for the page; nothing already stored is
    touched unless the new snapshot was completed. Archives are read within the limits of
    the app's settings (``ARCHIVE_MAX_*``).
    """
    run = db.session.get(SyncRun, run_id)
    if run is None or run.status not in {SyncStatus.QUEUED, SyncStatus.PAUSED}:
        return
    # Archives are read with the app's limits (ARCHIVE_MAX_*), whoever runs the import: the
    # web process, an RQ worker or ``manage.py import``.
    limits = ArchiveLimits.from_config(current_app.config)
    with log_context(run=run_id, network=run.connection.network), use_limits(limits):
        _run(run)


def _run(run: SyncRun) -> None:
    connection = run.connection
    run.status = SyncStatus.RUNNING
    run.started_at = run.updated_at = utcnow()
    db.session.commit()
    log.info("sync started (%s)", run.kind)
    progress = RunProgress(run)
    started = time.monotonic()
    try:
        data = PRODUCERS[run.kind](connection, run, progress)
        backdate = run.params.get("snapshot_at")
        store_snapshot(
            connection,
            run,
            data,
            progress,
            seconds=time.monotonic() - started,
            created_at=datetime.fromisoformat(backdate) if backdate else None,
        )
    except AuthExpired as error:
        db.session.rollback()
        log.warning("the network refused the stored sign-in: %s", error)
        connection.status = ConnectionStatus.RECONNECT
        fail(
            run,
            str(error) or "The network refused the stored token: reconnect it.",
            progress.requests,
        )
    except ArchiveError as error:
        db.session.rollback()
        log.warning("archive refused: %s", error)
        fail(run, str(error), progress.requests)
    except (NetworkError, SyncRefused) as error:
        db.session.rollback()
        log.warning("sync failed: %s", error)
        fail(run, str(error), progress.requests)
    except Exception:
        log.exception("sync failed with an unexpected error")
        db.session.rollback()
        fail(
            run,
            "An unexpected error stopped this sync. Your earlier data is unchanged.",
            progress.requests,
        )
    finally:
        if run.params.get("path") and not run.params.get("keep_file"):
            remove_upload(run.params["path"])
    after_run(connection, run.status == SyncStatus.DONE)
    db.session.commit()
    try:
        alert_after_run(connection, run, WARN_AFTER)
    except Exception:  # a mail problem never fails a sync
        log.exception("the alert mail could not be made")
    log.info(
        "sync ended %s: %s requests, %.1f s; next scheduled %s",
        run.status,
        run.requests,
        time.monotonic() - started,
        connection.next_sync_at.isoformat(timespec="minutes") if connection.next_sync_at else "-",
    )


def fail(run: SyncRun, message: str, requests: int | None = None) -> None:
    """Record ``run`` as failed with ``message`` and drop any half-built snapshot.

    :param requests: the requests the run made (the rollback before this loses the count
        of the last, not yet committed, ones).
    """
    if requests is not None:
        run.requests = max(run.requests, requests)
    run.status = SyncStatus.FAILED
    run.error = message
    run.paused_until = None
    run.finished_at = utcnow()
    db.session.execute(
        delete(Snapshot).where(Snapshot.sync_run_id == run.id, Snapshot.complete.is_(False))
    )
    db.session.commit()


def remove_upload(path: str) -> None:
    """Delete an uploaded archive (and the folder made for it) once its import has ended."""
    if os.path.isdir(path):
        return  # a folder given on the command line is the user's own: never delete it
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)
    folder = os.path.dirname(path)
    uploads = os.path.abspath(current_app.config["UPLOAD_FOLDER"])
    if os.path.dirname(os.path.abspath(folder)) == uploads:
        with contextlib.suppress(OSError):
            os.rmdir(folder)


def analyse(
    data: AccountData,
    *,
    timezone: str,
    engine: str,
    max_people: int,
    previous: Mapping[str, PreviousPicture] | None = None,
) -> dict[str, Any]:
    """Run every analyzer once over ``data``; the results are stored on the snapshot.

    Followers, friends and edges are counted over integers (:class:`~app.sync.circle.Circle`,
    kept as ``"circle"`` for writing the rows); only the people the graphs draw reach the
    graph analysis, whose totals are then those of the whole lists. ``previous`` (the last
    snapshot's pictures, :func:`previous_pictures`) warm-starts the graphs' layouts.
    """
    labels = data.posts.labels if isinstance(data.posts, PostSpool) else None
    sentiment_per_post, sentiment = analyse_sentiment(
        data.posts, get_engine(engine), tz=timezone, per_post=labels
    )
    circle = Circle.of(data)
    graphs = analyse_graphs(circle.for_graphs(max_people), max_people=max_people, previous=previous)
    for section in ("followers", "friends"):
        graphs[section].update(circle.section_counts(section))
    graphs["mutuals"] = circle.mutuals
    return {
        "timeline": analyse_timeline(data.posts, tz=timezone),
        "sentiment": sentiment,
        "sentiment_per_post": sentiment_per_post,
        "graphs": graphs,
        "circle": circle,
    }


def previous_pictures(snapshot: Snapshot | None) -> dict[str, PreviousPicture]:
    """Where ``snapshot`` (the connection's current one) drew each person, per graph: the
    warm start of this sync's layouts.

    One query reads only the two graphs' ``nodes`` (not their links), and only id and place
    are kept; a graph not stored (pruned, or none drawn) gives no entry.
    """
    if snapshot is None:
        return {}
    row = db.session.execute(
        select(Snapshot.followers_graph["nodes"], Snapshot.friends_graph["nodes"]).where(
            Snapshot.id == snapshot.id
        )
    ).one()
    pictures = {}
    for section, nodes in zip(("followers", "friends"), row, strict=True):
        positions = {
            node["id"]: (node["x"], node["y"])
            for node in nodes or ()
            if not node.get("me") and "x" in node
        }
        if positions:
            pictures[section] = PreviousPicture(snapshot.id, positions)
    return pictures


def growth_result(combined: Combined, since: datetime | None) -> dict[str, Any] | None:
    """Who arrived and who left since the previous sync, with handles, capped for the page.

    Only lists read completely both times are compared (:func:`app.sync.parts.growth_lists`):
    a partial, refused or missing read never counts as people leaving.
    """
    kept = combined.kept
    if kept is None or since is None:
        return None
    diff = growth_between(*growth_lists(combined))
    people = combined.data.people
    lost = {
        pid
        for section in diff.values()
        for pid in (section.get("lost") or ())[:GROWTH_LIST_MAX]
        if pid not in people
    }
    known = kept_people(kept, lost)
    for section in diff.values():
        for key in ("gained", "lost"):
            ids = section.get(key)
            if ids is None:
                continue
            section[f"{key}_count"] = len(ids)
            section[key] = [_named(pid, people, known) for pid in ids[:GROWTH_LIST_MAX]]
    diff["since"] = since.isoformat()
    return diff


def _named(
    pid: str,
    people: Mapping[str, PersonRecord],
    known: Mapping[str, tuple[str, str | None]],
) -> dict[str, Any]:
    """``{"id", "handle", "name"}`` of someone who arrived or left: from this read's records,
    else the kept snapshot's (the pages show a person without a handle by name)."""
    person = people.get(pid)
    if person is not None and person.handle:
        return {"id": pid, "handle": person.handle, "name": person.name}
    handle, name = known.get(pid, (None, None))
    return {"id": pid, "handle": handle or pid, "name": name}


#: The columns of a person row (:meth:`app.sync.circle.Circle.person_rows`), in order.
PERSON_COLUMNS = (
    "snapshot_id",
    "external_id",
    "handle",
    "name",
    "url",
    "avatar_url",
    "followers_count",
    "following_count",
    "posts_count",
    "is_follower",
    "is_friend",
    "following_known",
    "my_followers_they_follow",
    "common_friends",
    "follower_community",
    "friend_community",
    "pagerank",
    "links",
)
#: The columns of a follow row (:meth:`app.sync.circle.Circle.follow_rows`), in order.
FOLLOW_COLUMNS = ("snapshot_id", "source", "target")
#: The columns of :func:`post_rows`' rows, in the order they are written.
POST_COLUMNS = (
    "snapshot_id",
    "external_id",
    "created_at",
    "kind",
    "text",
    "url",
    "reply_count",
    "like_count",
    "repost_count",
    "in_reply_to",
    "is_repost",
    "first_response_at",
    "sentiment_label",
    "sentiment_score",
)


def labelled_posts(
    posts: Iterable[PostRecord], sentiment: Mapping[str, tuple[str, float]]
) -> Iterator[tuple[PostRecord, tuple[str, float] | None]]:
    """Each distinct post with its label: read together from a spool that holds them."""
    if isinstance(posts, PostSpool) and sentiment is posts.labels:
        yield from posts.labelled()
        return
    seen: set[str] = set()
    for post in posts:
        if post.external_id not in seen:
            seen.add(post.external_id)
            yield post, sentiment.get(post.external_id)


def post_rows(
    snapshot_id: int, data: AccountData, sentiment: Mapping[str, tuple[str, float]]
) -> Iterator[dict[str, Any]]:
    """One row per post, with its sentiment label and score."""
    for post, found in labelled_posts(data.posts, sentiment):
        label, score = found or (None, None)
        yield {
            "snapshot_id": snapshot_id,
            "external_id": post.external_id,
            "created_at": post.created_at,
            "kind": post.kind,
            "text": post.text,
            "url": post.url,
            "reply_count": post.reply_count,
            "like_count": post.like_count,
            "repost_count": post.repost_count,
            "in_reply_to": post.in_reply_to,
            "is_repost": post.is_repost,
            "first_response_at": post.first_response_at,
            "sentiment_label": label,
            "sentiment_score": score,
        }


def snapshot_results(
    run: SyncRun,
    data: AccountData,
    analysed: dict[str, Any],
    growth: dict[str, Any] | None,
    notes: Iterable[str],
    seconds: float,
) -> SnapshotResults:
    """What the snapshot stores for its pages: profile, analyses, graph coverage, growth and
    the notes on what this source could not provide."""
    graphs = analysed["graphs"]
    meta_keys = ("available", "total", "covered", "fetched", "communities")
    return {
        "source": run.kind,
        "profile": {
            "handle": data.owner.handle,
            "name": data.owner.name,
            "followers_count": data.owner.followers_count,
            "following_count": data.owner.following_count,
            "posts_count": data.owner.posts_count,
        },
        "timeline": analysed["timeline"],
        "sentiment": analysed["sentiment"],
        "graph_meta": {
            section: cast(GraphMeta, {key: graphs[section][key] for key in meta_keys})
            for section in ("followers", "friends")
        },
        "growth": growth,
        "notes": list(notes),
        "missing_parts": list(data.missing_parts),
        "requests": run.requests,
        "seconds": round(seconds, 2),
    }


def store_snapshot(
    connection: Connection,
    run: SyncRun,
    data: AccountData,
    progress: RunProgress,
    *,
    seconds: float = 0.0,
    created_at: datetime | None = None,
) -> Snapshot:
    """Analyse ``data`` and store it as the connection's new current snapshot.

    Three stages: analyse and write the (incomplete) snapshot row, write its people, follows
    and posts in batches, then make it current in one short transaction.

    :param created_at: the snapshot's date (the demo backdates its first snapshot).
    """
    config = current_app.config
    user = db.session.get(User, connection.user_id)
    assert user is not None
    progress.stage("analysing")
    make_safe(data)
    at = created_at or utcnow()
    previous = connection.current_snapshot
    combined = combine(
        previous,
        data,
        source_of(run, data, at),
    )
    data = combined.data
    if not isinstance(data.posts, PostSpool):
        # One path for every size: one post per id, in date order, spilled to a temporary
        # file past a few thousand (the analyses and the writes read it in batches).
        data.posts = PostSpool(data.posts)
    data.follows = as_edges(data.follows)
    data.settle()
    big = len(data.follows.ids) >= GIVE_BACK_FROM
    if big:
        give_back()  # what the producer freed, before the analysis needs more
    analysed = analyse(
        data,
        timezone=user.timezone,
        engine=config["SENTIMENT_ENGINE"],
        max_people=config["GRAPH_DRAW_MAX"],
        previous=previous_pictures(previous),
    )
    graphs = analysed["graphs"]
    if big:
        give_back()  # the analysis's working arrays, before the writes

    # Leftovers of runs that died half-way are dropped before building a new snapshot.
    db.session.execute(
        delete(Snapshot).where(
            Snapshot.connection_id == connection.id, Snapshot.complete.is_(False)
        )
    )
    notes = list(dict.fromkeys([*CONNECTORS[connection.network].notes, *data.notes]))
    growth = growth_result(combined, compared_since(combined, previous))
    snapshot = Snapshot(
        connection_id=connection.id,
        sync_run_id=run.id,
        complete=False,
        created_at=at,
        archive_date=data.archive_date,
        followers_count=None if data.followers is None else graphs["followers"]["total"],
        friends_count=None if data.friends is None else graphs["friends"]["total"],
        posts_count=_posts_count(combined),
        mutuals_count=graphs["mutuals"],
        results=dict(snapshot_results(run, data, analysed, growth, notes, seconds)),
        parts=combined.parts,
        followers_graph=graphs["followers"]["graph"],
        friends_graph=graphs["friends"]["graph"],
    )
    db.session.add(snapshot)
    db.session.commit()
    write_rows(snapshot, data, analysed, progress, give_back_after=big)
    make_current(connection, run, snapshot, data)
    prune_old_snapshots(connection.id, keep=snapshot.id)
    refresh_matches(connection.user_id)
    return snapshot


def _posts_count(combined: Combined) -> int | None:
    """The posts the page shows: ``None`` where nothing of them is known (absent, refused)."""
    if combined.parts["posts"]["shown"]["state"] not in KEEPABLE:
        return None
    return count_posts(combined.data.posts)


def compared_since(combined: Combined, previous: Snapshot | None) -> datetime | None:
    """The date growth is counted from: the kept followers list's own date (the last
    complete read), not the previous sync's, which may have been a cut one."""
    if combined.kept is None or previous is None:
        return None
    if "followers" in combined.comparable:
        sources = combined.kept.parts["followers"].get("sources") or []
        if sources:
            return datetime.fromisoformat(sources[-1]["as_of"])
    return previous.created_at


def write_rows(
    snapshot: Snapshot,
    data: AccountData,
    analysed: dict[str, Any],
    progress: RunProgress,
    *,
    give_back_after: bool = False,
) -> None:
    """Write the snapshot's people, follows and posts in batches, one commit per table,
    then refresh the planner's statistics of the three tables.

    :param give_back_after: give the memory freed back after each table (a big account).
    """
    post_values = itemgetter(*POST_COLUMNS)
    circle: Circle = analysed["circle"]
    steps = (
        (Person, PERSON_COLUMNS, circle.person_rows(snapshot.id, analysed["graphs"])),
        (Follow, FOLLOW_COLUMNS, circle.follow_rows(snapshot.id)),
        (
            Post,
            POST_COLUMNS,
            map(post_values, post_rows(snapshot.id, data, analysed["sentiment_per_post"])),
        ),
    )
    progress.stage("saving", total=None)
    for model, columns, rows in steps:
        copy_rows(db.session, model.__table__, columns, rows, progress=progress.advance)
        db.session.commit()
        if give_back_after:
            give_back()
    analyze(db.session, [model.__tablename__ for model, _, _ in steps])
    db.session.commit()


def make_current(
    connection: Connection, run: SyncRun, snapshot: Snapshot, data: AccountData
) -> None:
    """The switch: one short transaction makes the new snapshot the visible one."""
    snapshot.complete = True
    connection.current_snapshot_id = snapshot.id
    connection.last_synced_at = snapshot.created_at
    connection.external_id = connection.external_id or data.owner.external_id
    connection.handle = data.owner.handle or connection.handle
    connection.display_name = data.owner.name or connection.display_name
    connection.profile_url = data.owner.url or connection.profile_url
    connection.avatar_url = data.owner.avatar_url or connection.avatar_url
    run.status = SyncStatus.DONE
    run.stage = "done"
    run.finished_at = utcnow()
    run.paused_until = None
    db.session.commit()


def prune_old_snapshots(connection_id: int, keep: int) -> None:
    """Drop the rows and graphs of older snapshots; their counts stay for the growth chart.

    The statements run as plain SQL (``synchronize_session=False``): keeping the session in
    step would make PostgreSQL return the id of every deleted row (a second at 50,000
    followers), and the commit right after expires what the session holds anyway.
    """
    old = select(Snapshot.id).where(Snapshot.connection_id == connection_id, Snapshot.id != keep)
    plain = {"synchronize_session": False}
    for model in (Person, Follow, Post):
        db.session.execute(delete(model).where(model.snapshot_id.in_(old)), execution_options=plain)
    db.session.execute(
        update(Snapshot)
        .where(Snapshot.id.in_(old))
        .values(followers_graph=None, friends_graph=None),
        execution_options=plain,
    )
    db.session.commit()


def disconnect(connection: Connection) -> None:
    """Delete a connection and everything stored for it."""
    user_id = connection.user_id
    connection.current_snapshot_id = None
    db.session.flush()
    db.session.delete(connection)
    db.session.commit()
    refresh_matches(user_id)
