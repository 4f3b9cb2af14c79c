"""The PDF reports' stable URLs, next to the exports:

* ``/dashboard/user/report.pdf``: the whole account;
* ``/dashboard/user/<network>/report.pdf``: one network (a 404 for anyone else's).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, abort, current_app
from flask_login import current_user, login_required

from app.filters import user_zone
from app.models import User
from app.reports import build

bp = Blueprint("reports", __name__, url_prefix="/dashboard/user")


def me() -> User:
    """The signed-in user (a real :class:`User`, not the proxy)."""
    return current_user._get_current_object()  # type: ignore[no-any-return]


def pdf_response(context: dict[str, Any], filename: str) -> Response:
    """The rendered report as a download; a 503 where WeasyPrint cannot run."""
    try:
        pdf = build.render_pdf(context)
    except build.ReportUnavailable as error:
        current_app.logger.error("PDF reports are unavailable: %s", error)
        abort(503)
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


@bp.route("/report.pdf")
@login_required
def account() -> Response:
    """The whole account's report."""
    return pdf_response(
        build.account_report(me(), user_zone()),
        f"md-analytics-report-{date.today().isoformat()}.pdf",
    )


@bp.route("/<network>/report.pdf")
@login_required
def network(network: str) -> Response:
    """One network's report."""
    return pdf_response(
        build.network_report(me(), network, user_zone()),
        f"{network}-report-{date.today().isoformat()}.pdf",
    )
