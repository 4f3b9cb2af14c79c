"""Opaque cursors for the API's paged lists.

A cursor is signed with the app's secret key (so it cannot be forged or edited) and names
the snapshot it pages through, the list, its sort, search and page size, and where the page
starts: for the followers and friends lists a keyset position (the row after or before
which the page is read, see :mod:`app.dashboard.keyset`), for posts a page number. A
snapshot never changes once stored (a sync makes a new one), so paging through it is
stable; a cursor of an older snapshot is refused as expired rather than silently mixing two
syncs.
"""

from __future__ import annotations

from typing import Any

from app.dashboard import keyset

SALT = "api-v1-cursor"


class CursorError(ValueError):
    """A cursor that was not made here, or was made for something else."""


def encode(state: dict[str, Any]) -> str:
    """The cursor for ``state`` (plain JSON values)."""
    return keyset.sign(state, SALT)


def decode(cursor: str, **expected: Any) -> dict[str, Any]:
    """The state in ``cursor``; :class:`CursorError` when it is forged, broken, or its
    values differ from ``expected`` (another list, snapshot or network)."""
    try:
        state = keyset.unsign(cursor, SALT)
    except keyset.TokenError as error:
        raise CursorError(str(error)) from error
    if not isinstance(state, dict):
        raise CursorError("The cursor is not valid.")
    for key, value in expected.items():
        if state.get(key) != value:
            raise CursorError(
                "The cursor belongs to another list or an older sync; start again without it."
            )
    return state
