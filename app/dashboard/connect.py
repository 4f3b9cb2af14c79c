"""Connecting a network: the connect page, and each network's live door (OAuth or handle)."""

from __future__ import annotations

from flask import render_template
from flask_login import login_required

from app.dashboard import service
from app.dashboard.views import bp, me
from app.networks.importers import IMPORTERS
from app.sources import LIVE


@bp.route("/user/<network>/connect")
@login_required
def connect(network: str) -> str:
    """The ways to connect ``network``: live sign-in, public handle, or archive import."""
    info = service.network_or_404(network)
    connection = service.user_connections(me()).get(network)
    return render_template(
        "dashboard/connect.html",
        network=info,
        connection=connection,
        live_ready=network in LIVE,
        can_import=network in IMPORTERS,
    )
