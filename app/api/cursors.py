"""Opaque cursors for the API's paged lists.

A cursor is signed with the app's secret key (so it cannot be forged or edited) and names
the snapshot it pages through, the list, its sort, search and page size, and the page. A
snapshot never changes once stored (a sync makes a new one), so paging by position through
it is stable; a cursor of an older snapshot is refused as expired rather than silently
mixing two syncs.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

SALT = "api-v1-cursor"


class CursorError(ValueError):
    """A cursor that was not made here, or was made for something else."""


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def encode(state: dict[str, Any]) -> str:
    """The cursor for ``state`` (plain JSON values)."""
    return str(_serializer().dumps(state))


def decode(cursor: str, **expected: Any) -> dict[str, Any]:
    """The state in ``cursor``; :class:`CursorError` when it is forged, broken, or its
    values differ from ``expected`` (another list, snapshot or network)."""
    if len(cursor) > 2000:
        raise CursorError("The cursor is not valid.")
    try:
        state = _serializer().loads(cursor)
    except BadSignature as error:
        raise CursorError("The cursor is not valid.") from error
    if not isinstance(state, dict):
        raise CursorError("The cursor is not valid.")
    for key, value in expected.items():
        if state.get(key) != value:
            raise CursorError(
                "The cursor belongs to another list or an older sync; start again without it."
            )
    return state
