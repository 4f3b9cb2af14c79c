"""Connecting X, Facebook and LinkedIn: sign-in routes on the dashboard blueprint.

* X: the connect page shows the read budget and its price before anything is read, with the
  follower-of-follower opt-in; its form posts to ``/user/x/authorize``, which keeps the
  choice, state and PKCE verifier in the session and sends the browser to X;
  ``/user/x/callback`` trades the code, stores both tokens and the options, and starts the
  first sync inside the budget.
* Facebook and LinkedIn: ``/user/<network>/authorize`` sends the browser to the network
  (Authlib, ``state`` in the session); ``/user/<network>/callback`` finishes and syncs.

Every failure flashes a message and returns to the connect page with nothing stored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect, request, url_for
from flask_login import login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as BaseResponse
from wtforms import BooleanField, SubmitField

from app import live, live_closed
from app.dashboard.views import bp, me
from app.extensions import db
from app.jobs import start_sync
from app.models import Connection
from app.networks import NETWORKS
from app.sync import SyncRefused

#: The networks whose connect page this module fills in.
CLOSED = ("x", "facebook", "linkedin")


class XConnectForm(FlaskForm):
    """The X connect form: the graph-edges opt-in, then off to X."""

    graph_edges = BooleanField("Also read who my followers follow (graph edges)")
    submit = SubmitField("Connect X")


def connect_context(network: str, connection: Connection | None) -> dict[str, Any]:
    """What the connect page of ``network`` needs beyond the generic values ({} for others)."""
    if network not in CLOSED:
        return {}
    ready = live_closed.configured(network)
    context: dict[str, Any] = {
        "closed_ready": ready,
        "closed_callback": live_closed.callback_url(network),
        "closed_keys": live_closed.CREDENTIALS[network],
    }
    if network == "x":
        form = XConnectForm()
        if connection is not None and not form.is_submitted():
            form.graph_edges.data = bool((connection.options or {}).get("include_graph_edges"))
        form.submit.label.text = "Reconnect X" if _reconnect(connection) else "Connect X"
        context["x_form"] = form
        context["x_budget"] = live_closed.x_budget(connection)
    return context


def _reconnect(connection: Connection | None) -> bool:
    return connection is not None and connection.status == "reconnect"


def back_to_connect(network: str, message: str) -> BaseResponse:
    """Flash ``message`` and return to the network's connect page."""
    flash(message, "warning")
    return redirect(url_for("dashboard.connect", network=network))


def attach_and_sync(
    account: live.Account, configure: Callable[[Connection], None], **params: Any
) -> BaseResponse:
    """Store the account on the signed-in user, let ``configure(connection)`` store the
    rest of the grant (refresh token, expiry, options), start the sync with ``params``, and
    show the network page.

    :raises live.ConnectError: see :func:`app.live.attach`.
    """
    connection = live.attach(me(), account)
    configure(connection)
    label = NETWORKS[account.network].label
    try:
        start_sync(connection, account.source, **params)
    except SyncRefused as refused:  # pragma: no cover - attach() has just made it syncable
        flash(str(refused), "warning")
    else:
        flash(f"{label} connected as @{connection.handle}. Reading your data now.", "success")
    return redirect(url_for("dashboard.network", network=account.network))


# -- X ------------------------------------------------------------------------------------


@bp.route("/user/x/authorize", methods=["POST"])
@login_required
def x_authorize() -> BaseResponse:
    """Keep the graph-edges opt-in, state and PKCE verifier in the session; send the
    browser to X's consent page."""
    if not live_closed.configured("x"):
        return back_to_connect("x", live_closed.not_configured("x"))
    form = XConnectForm()  # CSRFProtect has checked the form's token
    return redirect(live_closed.x_authorize_url(bool(form.graph_edges.data)))


@bp.route("/user/x/callback")
@login_required
def x_callback() -> BaseResponse:
    """X sends the browser back here with ``code`` and ``state`` (or ``error``)."""
    if not live_closed.configured("x"):
        return back_to_connect("x", live_closed.not_configured("x"))
    try:
        grant = live_closed.x_finish(request.args)
        # /2/users/me was read (and billed) to connect: the first sync has one read less.
        budget = live_closed.x_max_reads() - 1
        return attach_and_sync(
            grant.account,
            lambda connection: live_closed.x_configure(connection, grant),
            max_reads=budget,
        )
    except live.ConnectError as error:
        return back_to_connect("x", str(error))


# -- Facebook and LinkedIn ----------------------------------------------------------------


def _authorize(network: str) -> BaseResponse:
    if not live_closed.configured(network):
        return back_to_connect(network, live_closed.not_configured(network))
    return redirect(live_closed.authorize_url(network))


def _callback(network: str) -> BaseResponse:
    if not live_closed.configured(network):
        return back_to_connect(network, live_closed.not_configured(network))
    finish = live_closed.facebook_finish if network == "facebook" else live_closed.linkedin_finish
    try:
        grant = finish()
        return attach_and_sync(grant.account, lambda c: _expires(c, grant))
    except live.ConnectError as error:
        return back_to_connect(network, str(error))


def _expires(connection: Connection, grant: live_closed.Grant) -> None:
    connection.token_expires_at = grant.expires_at
    connection.refresh_token = None
    db.session.commit()


@bp.route("/user/facebook/authorize")
@login_required
def facebook_authorize() -> BaseResponse:
    """Send the browser to Facebook Login (``public_profile user_friends user_posts``)."""
    return _authorize("facebook")


@bp.route("/user/facebook/callback")
@login_required
def facebook_callback() -> BaseResponse:
    """Facebook sends the browser back here with ``code`` and ``state`` (or ``error``)."""
    return _callback("facebook")


@bp.route("/user/linkedin/authorize")
@login_required
def linkedin_authorize() -> BaseResponse:
    """Send the browser to Sign In with LinkedIn (``openid profile email``)."""
    return _authorize("linkedin")


@bp.route("/user/linkedin/callback")
@login_required
def linkedin_callback() -> BaseResponse:
    """LinkedIn sends the browser back here with ``code`` and ``state`` (or ``error``)."""
    return _callback("linkedin")
