"""What a PDF report holds, and the PDF itself.

Every value comes from :mod:`app.dashboard.service`, scoped to the signed-in user like the
pages; the templates only lay it out.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Any

from flask import render_template

from app.dashboard import service
from app.models import Connection, Snapshot, User
from app.reports import charts

#: How many top posts, and how many arrivals or departures, the report lists.
TOP_POSTS, PEOPLE_LISTED = 10, 30


def network_section(connection: Connection, snapshot: Snapshot, zone: tzinfo) -> dict[str, Any]:
    """One network's part of a report."""
    results = snapshot.results or {}
    timeline = results.get("timeline") or {}
    months = timeline.get("by_month") or []
    growth = service.growth_series(connection)
    info = service.network_or_404(connection.network)
    return {
        "network": info,
        "connection": connection,
        "snapshot": snapshot,
        "results": results,
        "timeline": timeline,
        "sentiment": results.get("sentiment") or {},
        "top_posts": ((timeline.get("top_posts") or {}).get("posts") or [])[:TOP_POSTS],
        "posts_chart": charts.bars(
            [row["period"] for row in months],
            [row["posts"] for row in months],
            "Posts per month",
        ),
        "growth": growth,
        "growth_chart": charts.line(
            [point["at"].astimezone(zone).strftime("%Y-%m-%d") for point in growth],
            [point["followers"] for point in growth],
            "Followers at each sync",
        ),
        "changes": results.get("growth") or {},
        "people_listed": PEOPLE_LISTED,
        "communities": {role: service.community_summary(snapshot, role) for role in service.ROLES},
        "graph_meta": results.get("graph_meta") or {},
        "parts": service.part_rows(snapshot),
        "notes": results.get("notes") or [],
    }


def network_report(user: User, network: str, zone: tzinfo = UTC) -> dict[str, Any]:
    """The context of one network's report (a 404 for a network that is not the user's or
    has no data yet)."""
    connection, snapshot = service.snapshot_or_404(user, network)
    return {
        "user": user,
        "title": f"{service.network_or_404(network).label} report",
        "made_at": datetime.now(UTC),
        "sections": [network_section(connection, snapshot, zone)],
        "cross": None,
        "overlap": None,
    }


def account_report(user: User, zone: tzinfo = UTC) -> dict[str, Any]:
    """The context of the whole account's report: every network with data, and the
    cross-network check."""
    sections = [
        network_section(connection, connection.current_snapshot, zone)
        for connection in service.user_connections(user).values()
        if connection.current_snapshot is not None
    ]
    cross = service.cross_check(user)
    return {
        "user": user,
        "title": "Account report",
        "made_at": datetime.now(UTC),
        "sections": sorted(sections, key=lambda section: section["network"].label),
        "cross": cross,
        "overlap": service.overlap_chart(cross),
    }


class ReportUnavailable(RuntimeError):
    """WeasyPrint or the Pango library it needs is not installed (``make pdf-deps``)."""


def render_pdf(context: dict[str, Any]) -> bytes:
    """The report as PDF bytes.

    WeasyPrint is imported here, so the rest of the app runs where Pango is missing. It
    fetches nothing: the report is self-contained (no avatars, no outside stylesheets), so
    a stored address can never make the server call out.

    :raises ReportUnavailable: when WeasyPrint cannot be loaded.
    """
    try:
        from weasyprint import HTML
        from weasyprint.urls import URLFetcher
    except (ImportError, OSError) as error:  # OSError: Pango's library missing
        raise ReportUnavailable(str(error)) from error

    class NoFetching(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            raise ValueError(f"the report fetches nothing ({url[:60]})")

    html = render_template("reports/report.html", **context)
    pdf: bytes = HTML(string=html, url_fetcher=NoFetching()).write_pdf()
    return pdf
