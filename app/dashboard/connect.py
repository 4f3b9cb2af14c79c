"""Connecting a network: the connect page, and each network's live door (OAuth or handle).

* GitHub: ``/user/github/authorize`` sends the browser to GitHub (Authlib, ``state`` in the
  session); ``/user/github/callback`` trades the code for a token and starts a live sync.
* Mastodon: the connect page's form names a server; the app registers itself there once and
  sends the browser to it (PKCE where supported); ``/user/mastodon/callback`` finishes.
* Bluesky: the connect page's form names a handle; it is checked, then read publicly.

Every way in ends on the network page, which shows the sync's progress.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as BaseResponse
from wtforms import Field, StringField, SubmitField
from wtforms.validators import ValidationError

from app import live
from app.dashboard import connect_closed, service
from app.dashboard.views import bp, me
from app.jobs import start_sync
from app.models import Connection
from app.networks.importers import IMPORTERS
from app.networks.mastodon.fetcher import normalise_instance
from app.sync import SyncRefused


class InstanceForm(FlaskForm):
    """The Mastodon server to sign in on; :attr:`instance_url` holds it normalised."""

    instance = StringField(
        "Your Mastodon server",
        description="The address in your handle after the second @, like mastodon.social.",
    )
    submit = SubmitField("Sign in with Mastodon")
    instance_url = ""

    def validate_instance(self, field: Field) -> None:
        allow_insecure = bool(current_app.config.get("ALLOW_INSECURE_INSTANCES"))
        try:
            self.instance_url = normalise_instance(field.data or "", allow_insecure)
        except ValueError as error:
            raise ValidationError(str(error)) from None


class HandleForm(FlaskForm):
    """The Bluesky handle to read; :attr:`actor` holds it normalised."""

    handle = StringField("Bluesky handle", description="Like alice.bsky.social or alice.com.")
    submit = SubmitField("Read this account")
    actor = ""

    def validate_handle(self, field: Field) -> None:
        try:
            self.actor = live.normalise_bluesky_handle(field.data or "")
        except ValueError as error:
            raise ValidationError(str(error)) from None


FORMS: dict[str, type[FlaskForm]] = {"mastodon": InstanceForm, "bluesky": HandleForm}


@bp.route("/user/<network>/connect", methods=["GET", "POST"])
@login_required
def connect(network: str) -> str | BaseResponse:
    """The ways to connect ``network``: live sign-in, public handle, or archive import.

    The Mastodon and Bluesky forms post here; an error shows on the same page.
    """
    info = service.network_or_404(network)
    form_class = FORMS.get(network)
    if request.method == "POST" and form_class is None:
        abort(405)
    form = form_class() if form_class else None
    if form is not None and form.validate_on_submit():
        try:
            if isinstance(form, InstanceForm):
                return redirect(live.mastodon_authorize_url(form.instance_url))
            assert isinstance(form, HandleForm)
            account = live.bluesky_account(form.actor)
            return attach_and_sync(account)
        except live.ConnectError as error:
            field = form.instance if isinstance(form, InstanceForm) else form.handle
            field.errors = [*field.errors, str(error)]
    connection = service.user_connections(me()).get(network)
    if connection is not None and request.method == "GET":
        if isinstance(form, InstanceForm):
            form.instance.data = connection.instance_url
        elif isinstance(form, HandleForm):
            form.handle.data = connection.handle
    return render_template(
        "dashboard/connect.html",
        network=info,
        connection=connection,
        reconnect=connection is not None and connection.status == "reconnect",
        live_ready=network in live.LIVE or network in connect_closed.CLOSED,
        can_import=network in IMPORTERS,
        form=form,
        github_ready=live.github_configured(),
        github_callback=url_for("dashboard.github_callback", _external=True),
        **connect_closed.connect_context(network, connection),
    )


def attach_and_sync(account: live.Account) -> BaseResponse:
    """Store the account on the signed-in user, start its sync, show its page.

    :raises live.ConnectError: see :func:`app.live.attach`.
    """
    connection: Connection = live.attach(me(), account)
    label = service.network_or_404(account.network).label
    try:
        start_sync(connection, account.source)
    except SyncRefused as refused:  # pragma: no cover - attach() has just made it syncable
        flash(str(refused), "warning")
    else:
        flash(f"{label} connected as @{connection.handle}. Reading your data now.", "success")
    return redirect(url_for("dashboard.network", network=account.network))


def back_to_connect(network: str, message: str) -> BaseResponse:
    """Flash ``message`` and return to the network's connect page."""
    flash(message, "warning")
    return redirect(url_for("dashboard.connect", network=network))


@bp.route("/user/github/authorize")
@login_required
def github_authorize() -> BaseResponse:
    """Send the browser to GitHub's consent page (scope ``read:user``)."""
    if not live.github_configured():
        return back_to_connect("github", "GitHub sign-in is not configured on this server yet.")
    redirect_uri = url_for("dashboard.github_callback", _external=True)
    return live.github_client().authorize_redirect(redirect_uri)


@bp.route("/user/github/callback")
@login_required
def github_callback() -> BaseResponse:
    """GitHub sends the browser back here with ``code`` and ``state`` (or ``error``)."""
    if not live.github_configured():
        return back_to_connect("github", "GitHub sign-in is not configured on this server yet.")
    try:
        token = live.exchange_code(live.github_client(), "GitHub")
        return attach_and_sync(live.github_account(token))
    except live.ConnectError as error:
        return back_to_connect("github", str(error))


@bp.route("/user/mastodon/callback")
@login_required
def mastodon_callback() -> BaseResponse:
    """The Mastodon server sends the browser back here with ``code`` and ``state``."""
    try:
        return attach_and_sync(live.mastodon_finish(request.args.get("state")))
    except live.ConnectError as error:
        return back_to_connect("mastodon", str(error))
