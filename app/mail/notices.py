"""The mail MD Analytics sends by itself: the weekly digest and alerts, with one-click
unsubscribe.

* **Digest** (weekly, opt-in): per network, followers gained and lost with names, the best
  post, the sentiment shift, and syncs that failed; nothing is sent when nothing changed.
* **Alerts** (opt-in): scheduled syncs failed repeatedly, a connection needs reconnecting, or
  an unusual loss (more than ``ALERT_LOSS_SHARE`` of followers in one sync).

Every message carries a signed unsubscribe link and the ``List-Unsubscribe`` headers
(RFC 8058 one-click). Mail errors are logged and never stop a sync.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from app.extensions import db
from app.mail import MailError, build, send
from app.models import Connection, Snapshot, SyncRun, SyncStatus, User, utcnow
from app.networks import CONNECTORS
from app.networks.text import shown_handle

log = logging.getLogger(__name__)

WEEK = timedelta(days=7)
KINDS = ("digest", "alerts")
_GOLDEN = 0.6180339887498949


# -- unsubscribe ------------------------------------------------------------------------------


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="md-unsubscribe")


def unsubscribe_token(user: User, kind: str) -> str:
    """A signed token that turns ``kind`` (digest or alerts) off for ``user``."""
    return _serializer().dumps({"user": user.id, "kind": kind})


def unsubscribe(token: str) -> tuple[User, str] | None:
    """Turn off what ``token`` names; ``None`` for a token that is not ours."""
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("kind") not in KINDS:
        return None
    user = db.session.get(User, data.get("user"))
    if user is None:
        return None
    setattr(user, data["kind"], False)
    if data["kind"] == "digest":
        user.digest_next_at = None
    db.session.commit()
    return user, data["kind"]


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute link on ``SITE_URL``: these messages are made by the scheduler and the
    workers, outside any request, so the site's address comes from config."""
    with current_app.test_request_context(base_url=current_app.config["SITE_URL"]):
        return current_app.url_for(endpoint, _external=True, **values)


def _deliver(
    user: User,
    kind: str,
    subject: str,
    template: str,
    attachment: tuple[bytes, str] | None = None,
    **context: Any,
) -> bool:
    link = external_url("mail.unsubscribe", token=unsubscribe_token(user, kind))
    message = build(
        user.email,
        subject,
        template,
        headers={
            "List-Unsubscribe": f"<{link}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
        user=user,
        unsubscribe_url=link,
        site_url=external_url("dashboard.home"),
        **context,
    )
    if attachment is not None:
        data, filename = attachment
        message.add_attachment(data, maintype="application", subtype="pdf", filename=filename)
    try:
        send(message)
    except MailError:
        return False
    return True


def account_pdf(user: User) -> tuple[bytes, str] | None:
    """The whole-account PDF report to attach to the digest; ``None`` where PDF reports
    cannot be made here (no Pango: ``make pdf-deps``) or making it failed."""
    from app.reports.build import ReportUnavailable, account_report, render_pdf

    try:
        zone = ZoneInfo(user.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    try:
        with current_app.test_request_context(base_url=current_app.config["SITE_URL"]):
            data = render_pdf(account_report(user, zone))
    except ReportUnavailable:
        return None
    except Exception:  # a report problem never stops the digest itself
        log.exception("the digest's PDF report of user %s could not be made", user.id)
        return None
    return data, f"md-analytics-{user.username}.pdf"


# -- digest -----------------------------------------------------------------------------------


def digest_slot(user: User, now: datetime) -> datetime:
    """The user's next weekly slot after ``now`` (users spread over the week)."""
    offset = ((user.id * _GOLDEN) % 1.0) * WEEK
    start = datetime(2026, 1, 5, tzinfo=now.tzinfo) + offset  # a Monday
    return start + ((now - start) // WEEK + 1) * WEEK


def digest_for(
    user: User, since: datetime, connections: Iterable[Connection] | None = None
) -> list[dict[str, Any]]:
    """What changed per network since ``since``; empty when nothing did.

    Three queries whatever the number of networks (the dashboard asks on every visit): the
    connections, their snapshots stored since, their syncs failed since; a network with new
    snapshots reads its previous one too.

    :param connections: the user's connections when the caller has read them already.
    """
    if connections is None:
        connections = db.session.scalars(select(Connection).where(Connection.user_id == user.id))
    connections = sorted(connections, key=lambda connection: connection.network)
    ids = [connection.id for connection in connections]
    snapshots: dict[int, list[Snapshot]] = {}
    for snapshot in db.session.scalars(
        select(Snapshot)
        .where(
            Snapshot.connection_id.in_(ids),
            Snapshot.complete.is_(True),
            Snapshot.created_at > since,
        )
        .order_by(Snapshot.created_at)
    ):
        snapshots.setdefault(snapshot.connection_id, []).append(snapshot)
    failed: dict[int, list[str | None]] = {}
    for connection_id, error in db.session.execute(
        select(SyncRun.connection_id, SyncRun.error)
        .where(
            SyncRun.connection_id.in_(ids),
            SyncRun.status == SyncStatus.FAILED,
            SyncRun.finished_at > since,
        )
        .order_by(SyncRun.id)
    ):
        failed.setdefault(connection_id, []).append(error)
    sections = []
    for connection in connections:
        section = _section(
            connection, since, snapshots.get(connection.id, []), failed.get(connection.id, [])
        )
        if section is not None:
            sections.append(section)
    return sections


def _section(
    connection: Connection, since: datetime, snapshots: list[Snapshot], failed: list[str | None]
) -> dict[str, Any] | None:
    gained: dict[str, str] = {}
    lost: dict[str, str] = {}
    for snapshot in snapshots:
        growth = ((snapshot.results or {}).get("growth") or {}).get("followers") or {}
        if not growth.get("known"):
            continue
        _add(gained, lost, growth.get("gained") or [])
        _add(lost, gained, growth.get("lost") or [])
    # the current snapshot (its results) is read only when something was stored since
    current = connection.current_snapshot if snapshots else None
    best = None
    shift = None
    if snapshots and current is not None:
        posts = (((current.results or {}).get("timeline") or {}).get("top_posts") or {}).get(
            "posts"
        ) or []
        recent = [post for post in posts if post["created_at"] >= since.isoformat()]
        best = recent[0] if recent else None
        now_mean = ((current.results or {}).get("sentiment") or {}).get("mean_score")
        before = db.session.scalar(
            select(Snapshot)
            .where(
                Snapshot.connection_id == connection.id,
                Snapshot.complete.is_(True),
                Snapshot.created_at <= since,
            )
            .order_by(Snapshot.created_at.desc())
        )
        then_mean = (
            ((before.results or {}).get("sentiment") or {}).get("mean_score") if before else None
        )
        if now_mean is not None and then_mean is not None and abs(now_mean - then_mean) >= 0.05:
            shift = round(now_mean - then_mean, 2)
    if not (gained or lost or failed or best or shift):
        return None
    return {
        "network": CONNECTORS[connection.network].label,
        "key": connection.network,
        "gained": sorted(gained.values(), key=str.lower),
        "lost": sorted(lost.values(), key=str.lower),
        "failed": [error or "The sync failed." for error in failed],
        "best": best,
        "shift": shift,
    }


def _add(into: dict[str, str], undo: dict[str, str], people: list[dict[str, Any]]) -> None:
    """Record arrivals (or departures) as the pages name them (:func:`shown_handle`); one
    that reverses an earlier change cancels it."""
    for person in people:
        if person["id"] in undo:
            del undo[person["id"]]
        else:
            into.setdefault(person["id"], shown_handle(person["handle"], person.get("name")))


def send_due_digests(now: datetime | None = None) -> int:
    """Send the weekly digests that are due; return how many were sent."""
    now = now or utcnow()
    sent = 0
    for user in db.session.scalars(
        select(User).where(User.digest.is_(True), User.digest_next_at <= now)
    ).all():
        since = now - WEEK
        sections = digest_for(user, since)
        if sections and _deliver(
            user,
            "digest",
            "Your week on MD Analytics",
            "digest",
            attachment=account_pdf(user),
            sections=sections,
            since=since,
        ):
            sent += 1
        user.digest_next_at = digest_slot(user, now)
        db.session.commit()
    return sent


def plan_digest(user: User, now: datetime | None = None) -> None:
    """Put the user's digest on their weekly slot (or off)."""
    user.digest_next_at = digest_slot(user, now or utcnow()) if user.digest else None


# -- alerts -----------------------------------------------------------------------------------


def alert_after_run(connection: Connection, run: SyncRun, warn_after: int) -> bool:
    """Mail the user when a sync just failed ``warn_after`` times in a row, needs
    reconnecting, or lost an unusual share of followers. ``True`` when a mail went out."""
    user = db.session.get(User, connection.user_id)
    if user is None or not user.alerts:
        return False
    label = CONNECTORS[connection.network].label
    reason = None
    if connection.status == "reconnect" and run.status == SyncStatus.FAILED:
        reason = f"{label} refused the stored sign-in: reconnect it to sync again."
    elif run.status == SyncStatus.FAILED and connection.sync_failures == warn_after:
        reason = f"The last {warn_after} syncs of {label} failed: {run.error}"
    elif run.status == SyncStatus.DONE:
        reason = _unusual_loss(connection, label)
    if reason is None:
        return False
    return _deliver(
        user,
        "alerts",
        f"MD Analytics: {label} needs a look",
        "alert",
        reason=reason,
        network=label,
        page_url=external_url("dashboard.network", network=connection.network),
    )


def _unusual_loss(connection: Connection, label: str) -> str | None:
    current = connection.current_snapshot
    if current is None:
        return None
    growth = ((current.results or {}).get("growth") or {}).get("followers")
    if not growth or not growth.get("known"):
        return None
    lost = growth.get("lost_count") or 0
    before = (current.followers_count or 0) + lost - (growth.get("gained_count") or 0)
    share = float(current_app.config["ALERT_LOSS_SHARE"])
    if before and lost / before > share:
        return f"{lost:,} of your {before:,} {label} followers left in one sync."
    return None
