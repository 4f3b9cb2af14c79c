"""The read-only JSON API under ``/api/v1/``.

Requests are authenticated by a personal access token in ``Authorization: Bearer <token>``
and by nothing else: the session cookie of a signed-in browser opens nothing here, so there
is nothing for a cross-site request to ride on (the blueprint is CSRF-exempt for that reason).
Every read goes through :mod:`app.dashboard.service`, the same functions the pages use, so a
token sees exactly what its owner sees on the pages: another user's network is a 404.
Requests are rate-limited per token (``API_RATE_LIMIT``, by default
:data:`DEFAULT_RATE_LIMIT`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    request,
    stream_with_context,
    url_for,
)
from flask_sqlalchemy.pagination import Pagination
from werkzeug.exceptions import HTTPException

from app.analysis import export as builders
from app.api import cursors, tokens
from app.api.openapi import openapi_document
from app.dashboard import keyset, service
from app.extensions import client_address, csrf, limiter
from app.models import ApiToken, Connection, Snapshot, User
from app.networks import CONNECTORS

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

DEFAULT_RATE_LIMIT = "300 per minute"
DEFAULT_LIMIT, MAX_LIMIT = 50, 200
ORDERS = ("asc", "desc")
#: Where this request's token row is kept (per request, not per app context).
ENVIRON_KEY = "md_analytics.api_token"
#: Endpoints open without a token.
PUBLIC = {"api.openapi", "api.not_found"}
#: Keys of a snapshot's stored results that the summary passes on as they are.
SUMMARY_RESULTS = ("profile", "timeline", "sentiment", "graph_meta", "growth", "missing_parts")


def rate_limit() -> str:
    """The per-token limit, from ``API_RATE_LIMIT``."""
    return str(current_app.config.get("API_RATE_LIMIT") or DEFAULT_RATE_LIMIT)


def current_token() -> ApiToken | None:
    """The active token of this request (read once from ``Authorization: Bearer``)."""
    environ = request.environ
    if ENVIRON_KEY not in environ:
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        token = value.strip() if scheme.lower() == "bearer" else None
        environ[ENVIRON_KEY] = tokens.find_token(token)
    row: ApiToken | None = environ[ENVIRON_KEY]
    return row


def rate_key() -> str:
    """Rate limits count per token; requests without a valid token count per address."""
    row = current_token()
    return f"token:{row.id}" if row is not None else f"address:{client_address()}"


# One budget per token across every route of the API (a shared scope, not one per route).
limiter.shared_limit(rate_limit, scope="api-v1", key_func=rate_key)(bp)


def error(status: int, message: str, **headers: str) -> Response:
    """A JSON error: ``{"error": {"status": 404, "message": "..."}}``."""
    response = jsonify(error={"status": status, "message": message})
    response.status_code = status
    response.headers.update(headers)
    return response


@bp.before_request
def authenticate() -> Response | None:
    """Refuse requests without an active token (401); record the token's use."""
    if request.endpoint in PUBLIC:
        return None
    row = current_token()
    if row is None:
        return error(
            401,
            "A valid personal access token is needed: Authorization: Bearer <token>.",
            **{"WWW-Authenticate": 'Bearer realm="MD Analytics API"'},
        )
    tokens.touch(row)
    return None


@bp.after_request
def no_store(response: Response) -> Response:
    """API answers are personal: never cached by a shared cache."""
    response.headers["Cache-Control"] = "no-store"
    return response


def http_error(exc: HTTPException) -> Response:
    """Every HTTP error of the API as JSON (the pages render HTML)."""
    code = exc.code or 500
    messages = {404: "Not found.", 405: "Method not allowed.", 429: "Too many requests."}
    message = messages.get(code) or exc.description or "Error."
    response = error(code, message)
    if code == 429:
        response.headers.setdefault("Retry-After", "60")
    return response


# Code by code: the app's own handlers for these codes (HTML pages) would win over a
# blueprint's handler of HTTPException.
for _code in (400, 401, 403, 404, 405, 413, 429, 500):
    bp.register_error_handler(_code, http_error)
bp.register_error_handler(HTTPException, http_error)


def me() -> User:
    """The owner of this request's token."""
    row = current_token()
    if row is None:  # pragma: no cover - authenticate() has refused the request
        abort(401)
    return row.user


def jsonable(value: Any) -> Any:
    """``value`` with datetimes as ISO 8601 strings, ready for JSON."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    return value


def connection_json(connection: Connection) -> dict[str, Any]:
    """A connection as the API lists it."""
    snapshot = connection.current_snapshot
    key = connection.network
    return {
        "network": key,
        "label": CONNECTORS[key].label if key in CONNECTORS else key,
        "source": connection.source,
        "handle": connection.handle,
        "display_name": connection.display_name,
        "profile_url": connection.profile_url,
        "status": connection.status,
        "last_synced_at": jsonable(connection.last_synced_at),
        "has_data": snapshot is not None,
        "url": url_for("api.network", network=key, _external=True),
    }


@bp.route("/connections")
def connections() -> Response:
    """The user's connected networks."""
    rows = service.user_connections(me())
    return jsonify(connections=[connection_json(rows[key]) for key in sorted(rows)])


def snapshot_json(snapshot: Snapshot) -> dict[str, Any]:
    """The summary of a snapshot: counts, parts with provenance, notes and analyses."""
    results = snapshot.results or {}
    return jsonable(
        {
            "id": snapshot.id,
            "synced_at": snapshot.created_at,
            "archive_date": snapshot.archive_date,
            "source": results.get("source"),
            "counts": {
                "followers": snapshot.followers_count,
                "friends": snapshot.friends_count,
                "posts": snapshot.posts_count,
                "mutuals": snapshot.mutuals_count,
            },
            "parts": service.part_rows(snapshot),
            "notes": results.get("notes") or [],
            **{key: results.get(key) for key in SUMMARY_RESULTS},
        }
    )


@bp.route("/networks/<network>")
def network(network: str) -> Response:
    """One network's summary; ``snapshot`` is ``null`` until its first sync has finished."""
    connection = service.connection_or_404(me(), network)
    snapshot = connection.current_snapshot
    return jsonify(
        network=network,
        connection=connection_json(connection),
        sync=service.run_state(service.latest_run(connection)),
        snapshot=snapshot_json(snapshot) if snapshot is not None else None,
    )


def page_state(snapshot: Snapshot, kind: str, sorts: Mapping[str, Any] | None) -> dict[str, Any]:
    """The paging state of this request: from its cursor when it has one, else from the
    query string. A query value that contradicts the cursor is a 400."""
    args = request.args
    expected = {"snapshot": snapshot.id, "kind": kind}
    cursor = args.get("cursor")
    if cursor:
        try:
            decoded = cursors.decode(cursor, **expected)
        except cursors.CursorError as bad:
            abort(400, str(bad))
        for key in ("sort", "order", "q", "limit"):
            given = args.get(key)
            if given is not None and str(decoded.get(key)) != given:
                abort(400, f"'{key}' differs from the cursor's; drop it or drop the cursor.")
        return decoded
    raw = args.get("limit", str(DEFAULT_LIMIT))
    limit = int(raw) if raw.isdigit() and len(raw) < 5 else 0
    if not 1 <= limit <= MAX_LIMIT:
        abort(400, f"'limit' must be a whole number from 1 to {MAX_LIMIT}.")
    state: dict[str, Any] = {**expected, "limit": limit, "page": 1}
    if sorts is not None:
        sort, order = args.get("sort", "overlap"), args.get("order", "desc")
        if sort not in sorts:
            abort(400, f"'sort' must be one of: {', '.join(sorts)}.")
        if order not in ORDERS:
            abort(400, "'order' must be asc or desc.")
        state |= {"sort": sort, "order": order, "q": service.clean_search(args.get("q", ""))}
    return state


def paged(state: dict[str, Any], found: Pagination, items: list[Any]) -> dict[str, Any]:
    """A page of posts with its total and the cursors of the pages around it."""
    page = state["page"]
    return {
        "limit": state["limit"],
        "total": found.total,
        "items": items,
        "next_cursor": cursors.encode({**state, "page": page + 1}) if found.has_next else None,
        "previous_cursor": cursors.encode({**state, "page": page - 1}) if page > 1 else None,
    }


def position(state: Mapping[str, Any], key: str) -> keyset.Position | None:
    """The keyset position a people cursor starts ``after`` (or ends ``before``)."""
    if key not in state:
        return None
    kind = str if state["sort"] in service.TEXT_SORTS else int
    try:
        return keyset.Position.load(state[key], kind)
    except keyset.TokenError:  # pragma: no cover - signed by us, so only a changed format
        abort(400, "The cursor is not valid.")


@bp.route("/networks/<network>/followers", defaults={"role": "followers"})
@bp.route("/networks/<network>/friends", defaults={"role": "friends"})
def people(network: str, role: str) -> Response:
    """Followers or friends, sorted and searched like the lists, a page at a time.

    Paged by position (a keyset cursor), so a deep page costs what the first one does;
    ``total`` is the list's size stored with the sync, ``null`` with a search.
    """
    _, snapshot = service.snapshot_or_404(me(), network)
    state = page_state(snapshot, role, service.SORTS[role])
    state.pop("page", None)
    found = service.people_page(
        snapshot,
        role,
        sort=state["sort"],
        order=state["order"],
        search=state["q"],
        after=position(state, "after"),
        before=position(state, "before"),
        per_page=state["limit"],
    )
    base = {key: state[key] for key in ("snapshot", "kind", "sort", "order", "q", "limit")}
    items = [
        {"id": person.external_id, **service.person_row(person, role)} for person in found.rows
    ]
    next_cursor = previous_cursor = None
    if found.has_next and found.last is not None:
        next_cursor = cursors.encode({**base, "after": found.last.dump()})
    if found.has_prev:
        previous_cursor = cursors.encode(
            {**base, "before": found.first.dump()} if found.first is not None else base
        )
    return jsonify(
        network=network,
        list=role,
        snapshot_id=snapshot.id,
        **{key: state[key] for key in ("sort", "order", "q", "limit")},
        total=service.list_total(snapshot, role, state["q"]),
        items=items,
        next_cursor=next_cursor,
        previous_cursor=previous_cursor,
    )


@bp.route("/networks/<network>/posts")
def posts(network: str) -> Response:
    """Posts with their sentiment, newest first, a page at a time."""
    _, snapshot = service.snapshot_or_404(me(), network)
    state = page_state(snapshot, "posts", None)
    found = service.posts_page(
        snapshot, page=service.clean_page(state["page"]), per_page=state["limit"]
    )
    items = list(builders.post_rows(found.items))
    return jsonify(network=network, snapshot_id=snapshot.id, **paged(state, found, items))


@bp.route("/networks/<network>/growth")
def growth(network: str) -> Response:
    """Followers and friends at every finished sync (``null`` where a read was partial)."""
    connection = service.connection_or_404(me(), network)
    return jsonify(network=network, points=jsonable(service.growth_series(connection)))


@bp.route("/networks/<network>/graphs/<role>")
def graph(network: str, role: str) -> Response:
    """The full followers or friends graph as node-link JSON (the export's document)."""
    if role not in service.ROLES:
        abort(404)
    connection, snapshot = service.snapshot_or_404(me(), network)
    document = service.graph_document(connection, snapshot, role)
    return Response(stream_with_context(builders.graph_json(document)), mimetype="application/json")


@bp.route("/matches")
def matches() -> Response:
    """The cross-network check: counts per pair and the listed matches (weak ones marked)."""
    cross = service.cross_check(me())
    if cross is None:
        return jsonify(available=False, networks=[], pairs=[], matches=[], total=0)
    combos, complete = service.overlap_combinations(cross)
    body = jsonable(cross) | {"combinations": combos, "combinations_complete": complete}
    return jsonify(available=True, **body)


@bp.route("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3.1 document of this API (no token needed)."""
    return jsonify(openapi_document())


@bp.route("/", defaults={"anything": ""}, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
@bp.route("/<path:anything>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def not_found(anything: str) -> Response:
    """Unknown API paths are a JSON 404; anything but GET is a 405 (the API only reads)."""
    if request.method != "GET":
        return error(405, "Method not allowed: the API is read-only.", Allow="GET, HEAD")
    return error(404, "Not found.")
