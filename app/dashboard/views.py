"""Dashboard views: the network cards and each network's page."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import login_required

from app.networks import NETWORKS, get_network

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")


@bp.route("/user")
@login_required
def home() -> str:
    """One card per network with its Connect button."""
    return render_template("dashboard/home.html", networks=list(NETWORKS.values()))


@bp.route("/user/<network>/connect")
@login_required
def connect(network: str) -> str:
    """Start connecting ``network`` (says plainly when that connector is not ready yet)."""
    info = get_network(network)
    if info is None:
        abort(404)
    return render_template("dashboard/connect_pending.html", network=info)
