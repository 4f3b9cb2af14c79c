"""One-click unsubscribe from the digest or alerts (a signed link in every message)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from werkzeug.wrappers import Response as BaseResponse

from app.extensions import csrf
from app.mail import notices

bp = Blueprint("mail", __name__)

NAMES = {"digest": "the weekly digest", "alerts": "alerts"}


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # the signed token is the proof; mail clients POST it without a form (RFC 8058)
def unsubscribe(token: str) -> str | BaseResponse:
    """GET shows a button (link scanners must not unsubscribe anyone); POST unsubscribes."""
    if request.method == "GET":
        return render_template("mail/unsubscribe.html", token=token, done=None)
    result = notices.unsubscribe(token)
    if result is None:
        abort(404)
    user, kind = result
    return render_template("mail/unsubscribe.html", token=token, done=NAMES[kind], user=user)
