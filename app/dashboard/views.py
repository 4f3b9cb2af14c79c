"""Dashboard views: network cards, each network's page, progress, exports and imports."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from functools import partial
from typing import Any
from urllib.parse import quote_plus

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    stream_with_context,
    url_for,
)
from flask_login import current_user, login_required
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response as BaseResponse

from app.dashboard import cache, service
from app.dashboard.forms import ConfirmForm, ImportForm, ScheduleForm
from app.extensions import db
from app.filters import user_zone
from app.mail.notices import digest_for
from app.models import Connection, User
from app.networks import CONNECTORS
from app.networks.base import Origin
from app.sync import schedule, uploads
from app.sync.runner import SyncRefused, can_sync, start_sync, upload_store, user_imports
from app.sync.service import disconnect

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")
bp.add_app_template_global(can_sync, "can_sync")


def me() -> User:
    """The signed-in user (a real :class:`User`, not the proxy)."""
    return current_user._get_current_object()  # type: ignore[no-any-return]


@bp.route("/user")
@login_required
def home() -> str:
    """One card per network, and the cross-network check once two are connected."""
    cards = service.dashboard_cards(me())
    cross = service.cross_check(me())
    # What changed since the last visit, remembered in the session (a page view writes no row).
    seen = session.get("seen_at")
    since = datetime.fromisoformat(seen) if isinstance(seen, str) else None
    connected = [card.connection for card in cards if card.connection is not None]
    changes = digest_for(me(), since, connected) if since else []
    session["seen_at"] = datetime.now(UTC).isoformat()
    return render_template(
        "dashboard/home.html",
        cards=cards,
        cross=cross,
        changes=changes,
        since=since,
        overlap=service.overlap_chart(cross),
        matches=service.top_matches(cross),
        confirm_form=ConfirmForm(),
        labels={key: info.label for key, info in CONNECTORS.items()},
    )


@bp.route("/user/matches")
@login_required
def matches() -> str:
    """Every listed cross-network match, a page at a time (the dashboard shows the top few):
    the strong ones, or one overlap bar's (``combo``), or the weak name-only ones."""
    cross = service.cross_check(me())
    if cross is None:
        abort(404)
    combo = request.args.get("combo", "")[:200]
    found = service.matches_page(
        cross,
        combo=combo,
        weak=request.args.get("kind") == "weak",
        page=request.args.get("page", 1, type=int),
    )
    names = {
        bar["id"]: bar["names"] for bar in (service.overlap_chart(cross) or {}).get("bars", [])
    }
    return render_template(
        "dashboard/matches.html",
        cross=cross,
        found=found,
        combo_name=names.get(found["combo"]),
        labels={key: info.label for key, info in CONNECTORS.items()},
    )


@bp.route("/user/<network>")
@login_required
def network(network: str) -> str:
    """The network page: summary, timeline, sentiment, lists, graphs, growth and exports."""
    connection = service.connection_or_404(me(), network, with_snapshot=True)
    info = service.network_or_404(network)
    snapshot = connection.current_snapshot
    run = service.run_state(service.latest_run(connection))
    if snapshot is None:
        return render_template(
            "dashboard/network_empty.html",
            network=info,
            connection=connection,
            run=run,
            confirm_form=ConfirmForm(),
        )
    role = request.args.get("list", "followers")
    if role not in service.ROLES:
        role = "followers"
    sort, order = service.clean_sort(
        role, request.args.get("sort", "overlap"), request.args.get("order", "desc")
    )
    search = service.clean_search(request.args.get("q", ""))
    args = {
        "after": request.args.get("after"),
        "before": request.args.get("before"),
        "page": service.clean_page(request.args.get("page", 1, type=int)),
    }
    tables = {}
    for name in service.ROLES:
        mine = name == role
        shown = (sort, order, search) if mine else ("overlap", "desc", "")
        asked = args if mine else {}
        tables[name] = cache.fragment(
            me().id,
            snapshot,
            "list",
            {"role": name, "shown": shown, "asked": asked, "active": role},
            partial(_render_list, snapshot, info, name, shown, asked, role),
        )
    results = snapshot.results
    growth = service.growth_series(connection)
    fresh = service.freshness(connection)
    zone = user_zone()
    charts = service.network_charts(results, growth, zone)
    confident = request.args.get("confident") == "1"
    overview = cache.fragment(
        me().id,
        snapshot,
        "overview",
        {"zone": str(zone), "confident": confident, "timezone": me().timezone},
        lambda: render_template(
            "dashboard/_overview.html",
            network=info,
            snapshot=snapshot,
            results=results,
            charts=charts,
            heatmap=service.heatmap_rows(results.get("timeline") or {}),
            months=service.month_rows(results.get("timeline") or {}),
            sentiment_months=service.sentiment_month_rows(results.get("sentiment") or {}),
            parts={row["part"]: row for row in service.part_rows(snapshot)},
        ),
    )
    return render_template(
        "dashboard/network.html",
        network=info,
        connection=connection,
        snapshot=snapshot,
        results=results,
        run=run,
        charts=charts,
        overview=overview,
        tables=tables,
        growth=growth,
        parts={row["part"]: row for row in service.part_rows(snapshot)},
        fresh=fresh,
        schedule_form=_schedule_form(fresh),
        datasets=service.DATASETS,
        confirm_form=ConfirmForm(),
    )


def _render_list(
    snapshot: Any,
    info: Any,
    role: str,
    shown: tuple[str, str, str],
    asked: dict[str, Any],
    active: str,
) -> str:
    """One list's table and pager, as the network page shows it."""
    sort, order, search = shown
    links = ListLinks(info.key, role, sort, order, search)
    listing = service.list_page(
        snapshot, role, sort=sort, order=order, search=search, args=asked, url=links
    )
    return render_template(
        "dashboard/_people.html",
        role=role,
        listing=listing,
        sort_urls={key: links.sort(key, active) for key in service.SORTS[role]},
        sort=sort,
        order=order,
        search=search,
        active_role=active,
        network=info,
    )


@bp.route("/user/<network>/status.json")
@login_required
def status(network: str) -> Response:
    """The newest run's progress, polled by the progress bar."""
    connection = service.connection_or_404(me(), network)
    return jsonify(
        run=service.run_state(service.latest_run(connection)),
        snapshot_id=connection.current_snapshot_id,
        connection_status=connection.status,
    )


@bp.route("/user/<network>/graph/<role>.json")
@login_required
def graph(network: str, role: str) -> Response:
    """The drawn (capped) followers or friends graph, with layout data for the viewer."""
    if role not in service.ROLES:
        abort(404)
    _, snapshot = service.snapshot_or_404(me(), network)
    drawn = (snapshot.followers_graph if role == "followers" else snapshot.friends_graph) or {}
    meta = snapshot.results.get("graph_meta", {}).get(role, {})
    return jsonify(service.drawable(drawn, covered=meta.get("covered"), total=meta.get("total")))


@bp.route("/user/<network>/export/<dataset>.<fmt>")
@login_required
def export(network: str, dataset: str, fmt: str) -> Response:
    """Download a list or graph as CSV / JSON (graphs also GEXF / GraphML), streamed."""
    if fmt not in service.DATASETS.get(dataset, ()):
        abort(404)
    connection, snapshot = service.snapshot_or_404(me(), network)
    chunks = service.export_stream(connection, snapshot, dataset, fmt)
    filename = service.export_filename(network, dataset, fmt, date.today())
    return Response(
        stream_with_context(chunks),
        mimetype=service.MIMETYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.route("/user/<network>/sync", methods=["POST"])
@login_required
def sync_now(network: str) -> BaseResponse:
    """Start a new sync of the connection's own source."""
    connection = service.connection_or_404(me(), network)
    form = ConfirmForm()
    if form.validate_on_submit():
        if connection.source == Origin.IMPORT:
            flash("Imported data is refreshed by importing a newer archive.", "info")
            return redirect(url_for("dashboard.import_archive", network=network))
        try:
            if connection.source == Origin.DEMO:
                start_sync(connection, "demo")
            else:
                start_sync(connection, connection.source)
        except SyncRefused as refused:
            flash(str(refused), "warning")
        else:
            flash("Sync started. The page updates when it is done.", "info")
    return redirect(url_for("dashboard.network", network=network))


@bp.route("/user/<network>/schedule", methods=["POST"])
@login_required
def set_schedule(network: str) -> BaseResponse:
    """Change how often the connection syncs by itself."""
    connection = service.connection_or_404(me(), network)
    form = ScheduleForm()
    form.schedule.choices = service.freshness(connection)["choices"]
    if form.validate_on_submit():
        schedule.set_schedule(connection, form.schedule.data)
        db.session.commit()
        label = schedule.LABELS[form.schedule.data]
        flash(f"Scheduled syncs: {label.lower()}.", "info")
    else:
        flash("Choose one of the schedules offered.", "warning")
    return redirect(url_for("dashboard.network", network=network))


@bp.route("/user/<network>/disconnect", methods=["POST"])
@login_required
def disconnect_network(network: str) -> BaseResponse:
    """Remove the connection and every stored record of it (after confirmation)."""
    connection = service.connection_or_404(me(), network)
    form = ConfirmForm()
    if not form.validate_on_submit() or not form.confirm.data:
        flash("Tick the box to confirm that the data should be deleted.", "warning")
        return redirect(url_for("dashboard.network", network=network))
    label = service.network_or_404(network).label
    disconnect(connection)
    flash(f"{label} disconnected; its data has been deleted.", "info")
    return redirect(url_for("dashboard.home"))


#: Characters ``quote_plus`` never changes: sort names, orders and position tokens are made
#: of them, so only a search needs quoting.
_UNQUOTED = re.compile(r"[A-Za-z0-9_.~-]*")


def _quoted(value: str) -> str:
    """``value`` quoted for a query string as werkzeug's URL building quotes it."""
    if _UNQUOTED.fullmatch(value):
        return value
    return quote_plus(value, safe="!$'()*,/:;?@")


class ListLinks:
    """Links to one list of the network page, at its tab: its pages (``links(after=...)``)
    and its columns sorted (:meth:`sort`).

    The same URLs ``url_for("dashboard.network", ...)`` gives (a test compares them), made
    from the page's path and a query string: a list has a dozen links, and building each
    through the URL map cost more than rendering its rows.
    """

    def __init__(self, network: str, role: str, sort: str, order: str, search: str) -> None:
        self.path = url_for("dashboard.network", network=network)
        self.role, self.sort_key, self.order, self.search = role, sort, order, search

    def _url(self, values: dict[str, Any]) -> str:
        query = "&".join(
            f"{key}={_quoted(str(value))}" for key, value in values.items() if value is not None
        )
        return f"{self.path}?{query}#{self.role}"

    def __call__(self, **position: str) -> str:
        """A page of the list as shown (its sort and search), at ``position``."""
        return self._url(
            {
                "list": self.role,
                "sort": self.sort_key,
                "order": self.order,
                "q": self.search or None,
                **position,
            }
        )

    def sort(self, key: str, active_role: str) -> str:
        """The list sorted by ``key`` (a column's header link): descending first, the other
        way round when it is the active list's sort already and descending."""
        active = self.role == active_role and self.sort_key == key
        order = "asc" if active and self.order == "desc" else "desc"
        return self._url({"list": self.role, "sort": key, "order": order, "q": self.search or None})


def _schedule_form(fresh: dict[str, Any]) -> ScheduleForm:
    form = ScheduleForm(schedule=fresh["schedule"])
    form.schedule.choices = fresh["choices"]
    return form


def save_upload(storage: FileStorage) -> str:
    """Store an uploaded file until its import (:func:`app.sync.uploads.put`, streamed a
    chunk at a time); return the upload's id.

    Where it is kept follows the job runner (:func:`app.sync.runner.upload_store`): a file of
    this machine for the in-process runner, the database for RQ workers elsewhere.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    upload = uploads.put(
        storage.stream, storage.filename or "", owner_id=me().id, store=upload_store(app)
    )
    return upload.id


@bp.route("/user/<network>/import", methods=["GET", "POST"])
@login_required
def import_archive(network: str) -> str | BaseResponse:
    """Upload the archive a network lets you download, and import it in the background.

    A user's imports run one at a time; a second waits its turn, its place shown.
    """
    info = service.network_or_404(network)
    if not info.can_import:
        abort(404)
    form = ImportForm()
    if form.validate_on_submit():
        connection = service.user_connections(me()).get(network)
        if connection is None:
            connection = Connection(user_id=me().id, network=network, source=Origin.IMPORT)
            db.session.add(connection)
            db.session.commit()
        upload_id = save_upload(form.archive.data)
        try:
            run = start_sync(connection, "import", upload=upload_id)
        except SyncRefused as refused:
            flash(str(refused), "warning")
        else:
            if run.params.get("waiting"):
                flash(f"Archive received. It waits for your other import: {run.stage}.", "info")
            else:
                flash("Archive received. The import runs in the background.", "info")
        return redirect(url_for("dashboard.network", network=network))
    going = [
        {"label": CONNECTORS[run.connection.network].label, "stage": run.stage or run.status}
        for run in user_imports(me().id)
    ]
    return render_template(
        "dashboard/import.html",
        network=info,
        form=form,
        help_text=info.archive_help,
        max_mb=current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024),
        imports=going,
    )
