"""Connect routes, the same for every network.

* ``/dashboard/user/<network>/connect``: the ways to connect (live sign-in, a public handle,
  a server to name, an archive import); the server and handle forms post here.
* ``/dashboard/user/<network>/authorize``: off to the network's consent page (a link, or a
  form of choices posted first, as for X's graph-edges opt-in).
* ``/dashboard/user/<network>/callback``: back from it; the account is attached and its
  first sync starts.

Every way in ends on the network page, which shows the sync's progress; every failure
flashes a message and returns to the connect page with nothing stored.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as BaseResponse

from app.connect import oauth
from app.connect.accounts import Account, ConnectError, attach
from app.connect.forms import HandleForm, InstanceForm, chosen_options, options_form
from app.connect.partials import ConnectBlueprint
from app.dashboard import service
from app.dashboard.views import me
from app.models import Connection, ConnectionStatus
from app.networks import CONNECTORS
from app.networks.base import Connector, Door, NetworkError, NotAvailable, Origin
from app.networks.http import HttpError, client_for
from app.sync.runner import SyncRefused, start_sync

log = logging.getLogger(__name__)

bp = ConnectBlueprint("connect", __name__, url_prefix="/dashboard")


def connector_or_404(network: str) -> Connector:
    """The connector of ``network``, or a 404 for an unknown one."""
    connector = CONNECTORS.get(network)
    if connector is None:
        abort(404)
    return connector


@bp.route("/user/<network>/connect", methods=["GET", "POST"])
@login_required
def page(network: str) -> str | BaseResponse:
    """The ways to connect ``network``: live sign-in, public handle, or archive import.

    The server and handle forms post here; an error shows on the same page.
    """
    connector = connector_or_404(network)
    connection = service.user_connections(me()).get(network)
    form: FlaskForm | None = None
    if connector.door == Door.INSTANCE:
        form = InstanceForm(connector)
    elif connector.door == Door.HANDLE:
        form = HandleForm(connector)
    if request.method == "POST" and form is None:
        abort(405)
    if form is not None and form.validate_on_submit():
        answer = _submit(connector, form)
        if answer is not None:
            return answer
    if connection is not None and request.method == "GET":
        if isinstance(form, InstanceForm):
            form.instance.data = connection.instance_url
        elif isinstance(form, HandleForm):
            form.handle.data = connection.handle
    options = (connection.options or {}) if connection is not None else {}
    return render_template(
        "connect/page.html",
        network=connector,
        connection=connection,
        reconnect=_reconnect(connection),
        form=form,
        options_form=_options_form(connector, connection),
        ready=connector.configured(current_app.config),
        callback=oauth.callback_url(connector) if connector.oauth else None,
        credential_keys=connector.credential_keys(),
        **connector.connect_context(current_app.config, _counts(connection), options),
    )


def _submit(connector: Connector, form: FlaskForm) -> BaseResponse | None:
    """Act on a valid server or handle form; ``None`` (with the error on the form) if it
    did not work."""
    try:
        if isinstance(form, InstanceForm):
            return redirect(oauth.authorize_url(connector, instance_url=form.instance_url))
        assert isinstance(form, HandleForm)
        return attach_and_sync(_lookup(connector, form.actor))
    except ConnectError as error:
        log.info("connect: %s failed: %s", connector.key, error)
        field = form.instance if isinstance(form, InstanceForm) else form.handle
        field.errors = [*field.errors, str(error)]
        return None


def _lookup(connector: Connector, actor: str) -> Account:
    """Check that the handle exists (one request) and return its account.

    :raises ConnectError: no such account, or the network could not be read.
    """
    label = connector.label
    try:
        with client_for(connector, current_app.config) as client:
            person = connector.lookup(client, actor)
    except (NotAvailable, HttpError) as error:
        if isinstance(error, HttpError) and error.status != 400:
            raise ConnectError(f"{label} could not be read: {error}") from None
        raise ConnectError(f"{label} has no account called {actor}.") from None
    except NetworkError as error:
        raise ConnectError(f"{label} could not be reached: {error}") from None
    except (KeyError, TypeError):
        raise ConnectError(f"{label} answered with something that is not a profile.") from None
    return Account(connector.key, Origin.PUBLIC, person)


def _reconnect(connection: Connection | None) -> bool:
    return connection is not None and connection.status == ConnectionStatus.RECONNECT


def _counts(connection: Connection | None) -> tuple[int, int, int] | None:
    """Followers, friends and posts of the connection's last sync, if there was one."""
    snapshot = connection.current_snapshot if connection is not None else None
    if snapshot is None:
        return None
    return (snapshot.followers_count or 0, snapshot.friends_count or 0, snapshot.posts_count or 0)


def _options_form(connector: Connector, connection: Connection | None) -> FlaskForm | None:
    """The form of sign-in choices, ticked as the connection has them."""
    if connector.oauth is None or connector.oauth.authorize_method != "POST":
        return None
    form = options_form(connector)
    if connection is not None and not form.is_submitted():
        stored = connection.options or {}
        for option in connector.connect_options:
            value = stored.get(option.name)
            form[option.name].data = value if option.kind == "int" else bool(value)
    action = "Reconnect" if _reconnect(connection) else "Connect"
    form.submit.label.text = f"{action} {connector.name}"
    return form


def attach_and_sync(account: Account, **params: object) -> BaseResponse:
    """Store the account on the signed-in user, start its sync with ``params``, and show
    its page.

    :raises ConnectError: see :func:`app.connect.accounts.attach`.
    """
    connection = attach(me(), account)
    label = CONNECTORS[account.network].label
    try:
        start_sync(connection, account.source, **params)
    except SyncRefused as refused:  # pragma: no cover - attach() has just made it syncable
        flash(str(refused), "warning")
    else:
        flash(f"{label} connected as @{connection.handle}. Reading your data now.", "success")
    return redirect(url_for("dashboard.network", network=account.network))


def back_to_connect(network: str, message: str) -> BaseResponse:
    """Flash ``message`` and return to the network's connect page."""
    flash(message, "warning")
    return redirect(url_for("connect.page", network=network))


@bp.route("/user/<network>/authorize", methods=["GET", "POST"])
@login_required
def authorize(network: str) -> BaseResponse:
    """Send the browser to the network's consent page.

    A network with sign-in choices takes them by POST (CSRF-checked) from the connect page;
    the others by a plain link.
    """
    connector = connector_or_404(network)
    if connector.oauth is None or connector.door != Door.OAUTH:
        abort(404)
    if request.method != connector.oauth.authorize_method:
        abort(405)
    if not connector.configured(current_app.config):
        return back_to_connect(network, oauth.not_configured(connector))
    options: dict[str, Any] = {}
    if request.method == "POST":  # CSRFProtect has checked the token
        form = options_form(connector)
        if not form.validate():
            errors = [error for field in form for error in field.errors]
            return back_to_connect(network, " ".join(errors) or "Check the form and try again.")
        options = chosen_options(connector, form)
    return redirect(oauth.authorize_url(connector, options=options))


@bp.route("/user/<network>/callback")
@login_required
def callback(network: str) -> BaseResponse:
    """The network sends the browser back here with ``code`` and ``state`` (or ``error``)."""
    connector = connector_or_404(network)
    if connector.oauth is None:
        abort(404)
    if not connector.configured(current_app.config):
        return back_to_connect(network, oauth.not_configured(connector))
    try:
        account = oauth.finish(connector, request.args)
        params = connector.first_sync_params(current_app.config, account.options)
        return attach_and_sync(account, **params)
    except ConnectError as error:
        log.info("connect: %s sign-in failed: %s", network, error)
        return back_to_connect(network, str(error))
