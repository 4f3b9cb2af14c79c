"""The landing page: what the product does, and the doors in."""

from __future__ import annotations

from flask import Blueprint, render_template

from app.networks import CONNECTORS

bp = Blueprint("landing", __name__)


@bp.route("/")
def index() -> str:
    """Show what MD Analytics does, the networks it reads, and Sign in / Register."""
    return render_template("landing/index.html", networks=list(CONNECTORS.values()))
