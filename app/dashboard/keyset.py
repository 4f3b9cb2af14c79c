"""Keyset pagination: a page of a sorted list read as an index range from a position.

A list is ordered by one sort key and a unique tie-breaker (the row id), both in the list's
direction, with unknown (``NULL``) sort values last whichever the direction. The ordered
list is two phases: phase 0, the rows with a known value, ordered by ``(key, id)``; phase 1,
the rows without one, ordered by ``id``. A :class:`Position` names a row by its phase, sort
value and id, so the next page is "the first rows after this position": with an index on
``(scope, key, id)`` that is one range read of ``per_page`` rows, whatever the page's depth,
and never a scan and sort of the whole list. Pages before a position read the same index
backwards.

A position also carries its row's index in the list (how many rows come before it), so a
page can say "51-100 of 1,234" without counting; positions travel in signed tokens
(:func:`sign`), so the index cannot be edited.

An :class:`Order` is made once per shape of list, its values (the snapshot, a position, a
search) left as bind parameters given to :func:`page`; the statements of its pages are built
on first use and kept with it. SQLAlchemy then finds their compiled SQL straight away,
instead of building each statement and its cache key again on every request.

The pages (``app.dashboard``) and the JSON API (``app.api``) both page through here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Integer, Select, String, bindparam, func, select, tuple_
from sqlalchemy.orm import Session, scoped_session

#: The longest token taken (a handle is at most 255 characters; a search at most 200).
TOKEN_MAX = 2000
#: The longest sort value a position may carry, and the highest row index.
VALUE_MAX, INDEX_MAX = 1000, 10**9


class TokenError(ValueError):
    """A token that was not made here, or was made for something else."""


@dataclass(frozen=True, eq=False)
class Order:
    """A list and how it is ordered, made once per shape of list and kept (see the module's
    docstring): every value it holds is a column, an expression or a bind parameter.

    :param base: a ``select`` of the list's columns, filtered to the list; its values are
        bind parameters, given to :func:`page` as ``params``.
    :param row: makes a page's row of the values of those columns.
    :param key: the sort column or expression.
    :param tiebreak: a unique column (the id), ordered in the same direction as ``key``.
    :param scope: the columns the list is scoped to by equality (the snapshot id) and their
        bind parameters; they lead the index, so they lead each keyset comparison too.
    :param descending: the direction.
    :param nullable: whether ``key`` may be ``NULL`` (those rows come last).
    :param kind: the Python type of a known ``key`` value (``int`` or ``str``).
    """

    base: Select[Any]
    row: Callable[[Sequence[Any]], Any]
    key: Any
    tiebreak: Any
    scope: tuple[tuple[Any, Any], ...]
    descending: bool
    nullable: bool
    kind: type
    #: The statements of its pages, built on first use (:func:`_phase_query`).
    statements: dict[tuple[int, bool, bool, bool], Select[Any]] = field(
        default_factory=dict, init=False, repr=False
    )


@dataclass(frozen=True)
class Position:
    """A row's place in an ordered list: phase (0 known value, 1 unknown), sort value, id,
    and the row's index in the whole list."""

    phase: int
    value: int | str | None
    id: int
    index: int

    def dump(self) -> list[Any]:
        """The position as plain JSON values."""
        return [self.phase, self.value, self.id, self.index]

    @classmethod
    def load(cls, raw: Any, kind: type) -> Position:
        """A position from :meth:`dump`'s list, every value checked.

        :raises TokenError: when ``raw`` is not a position of a list sorted by a ``kind`` key.
        """
        if not isinstance(raw, list) or len(raw) != 4:
            raise TokenError("The position is not valid.")
        phase, value, row_id, index = raw
        whole = all(_whole(number) for number in (phase, row_id, index))
        if not whole or phase not in (0, 1) or not 0 <= index <= INDEX_MAX:
            raise TokenError("The position is not valid.")
        if phase == 1 and value is not None:
            raise TokenError("The position is not valid.")
        if phase == 0 and not (
            (kind is int and _whole(value))
            or (kind is str and isinstance(value, str) and len(value) <= VALUE_MAX)
        ):
            raise TokenError("The position is not valid.")
        return cls(phase, value, row_id, index)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass
class Window:
    """One page: its rows (the selected entity), where it starts, and what is around it."""

    rows: list[Any]
    start: int
    has_prev: bool
    has_next: bool
    first: Position | None
    last: Position | None

    @property
    def items(self) -> list[Any]:
        """The rows (the name :class:`flask_sqlalchemy.pagination.Pagination` gives them)."""
        return self.rows

    @property
    def end(self) -> int:
        """The index after the page's last row (``start + len(rows)``)."""
        return self.start + len(self.rows)


def _phases(order: Order) -> tuple[int, ...]:
    return (0, 1) if order.nullable else (0,)


#: The bind parameters of a page's statements, beside the list's own (``params``): the
#: position the page starts past, and the rows to read and to skip.
BOUND_VALUE, BOUND_ID = "keyset_bound_value", "keyset_bound_id"
LIMIT, OFFSET = "keyset_limit", "keyset_offset"


def _phase_query(
    order: Order, phase: int, *, bounded: bool, down: bool, skip: bool = False
) -> Select[Any]:
    """The rows of one phase, scanned downwards (descending) or upwards: strictly past the
    position bound as :data:`BOUND_VALUE` and :data:`BOUND_ID` when ``bounded``, at most
    :data:`LIMIT` of them, after skipping :data:`OFFSET` when ``skip``. Built once per
    order and shape, then kept."""
    shape = (phase, bounded, down, skip)
    query = order.statements.get(shape)
    if query is None:
        query = order.statements[shape] = _build_phase_query(order, phase, bounded, down, skip)
    return query


def _build_phase_query(
    order: Order, phase: int, bounded: bool, down: bool, skip: bool
) -> Select[Any]:
    query = order.base.add_columns(
        order.key.label("keyset_value"), order.tiebreak.label("keyset_id")
    )
    if order.nullable:
        query = query.where(order.key.is_not(None) if phase == 0 else order.key.is_(None))
    keys = [order.key, order.tiebreak] if phase == 0 else [order.tiebreak]
    if bounded:
        scope_columns = [column for column, _ in order.scope]
        scope_values = [value for _, value in order.scope]
        values = [  # typed by kind: ``lower(handle)`` has no SQL type to lend its bound
            bindparam(BOUND_VALUE, type_=String if order.kind is str else Integer),
            bindparam(BOUND_ID, type_=order.tiebreak.type),
        ]
        values = values if phase == 0 else values[1:]
        left = tuple_(*scope_columns, *keys)
        right = tuple_(*scope_values, *values)
        query = query.where(left < right if down else left > right)
        # The same bound on the key alone: a range of the index for planners that do not
        # read one from a row value over an expression (SQLite with ``lower(handle)``).
        query = query.where(keys[0] <= values[0] if down else keys[0] >= values[0])
    query = query.order_by(*(key.desc() if down else key.asc() for key in keys))
    if skip:
        query = query.offset(bindparam(OFFSET, type_=Integer))
    return query.limit(bindparam(LIMIT, type_=Integer))


def _rows(
    session: Session | scoped_session[Any], query: Select[Any], params: Mapping[str, Any]
) -> list[Any]:
    """The rows of ``query`` as plain column values, read on the session's connection: the
    ORM's execution (and its autoflush) would cost a page more than the read itself."""
    return list(session.connection().execute(query, params).all())


def _walk(
    session: Session | scoped_session[Any],
    order: Order,
    params: Mapping[str, Any],
    bound: Position | None,
    *,
    backward: bool,
    limit: int,
) -> list[Any]:
    """Up to ``limit`` rows past ``bound`` (from the start when ``None``), forwards or
    backwards, in the order read."""
    down = order.descending != backward
    phases: Iterable[int] = _phases(order)
    if backward:
        phases = reversed(tuple(phases))
    rows: list[Any] = []
    for phase in phases:
        if bound is not None and (phase < bound.phase if not backward else phase > bound.phase):
            continue
        here = bound if bound is not None and bound.phase == phase else None
        query = _phase_query(order, phase, bounded=here is not None, down=down)
        values = {**params, LIMIT: limit - len(rows)}
        if here is not None:
            values.update({BOUND_VALUE: here.value, BOUND_ID: here.id})
        rows += _rows(session, query, values)
        if len(rows) >= limit:
            break
    return rows


def _skip(
    session: Session | scoped_session[Any],
    order: Order,
    params: Mapping[str, Any],
    offset: int,
    limit: int,
) -> list[Any]:
    """Up to ``limit`` rows from the ``offset``-th on (the old page-number links)."""
    rows: list[Any] = []
    skip = offset
    for phase in _phases(order):
        query = _phase_query(order, phase, bounded=False, down=order.descending, skip=True)
        got = _rows(session, query, {**params, OFFSET: skip, LIMIT: limit - len(rows)})
        rows += got
        if len(rows) >= limit:
            break
        if got or not skip:
            skip = 0
        else:  # this phase ends before the offset: skip what it has
            upto = _phase_query(order, phase, bounded=False, down=order.descending)
            counted = select(func.count()).select_from(upto.subquery())
            skip -= session.scalar(counted, {**params, LIMIT: skip}) or 0
    return rows


def page(
    session: Session | scoped_session[Any],
    order: Order,
    params: Mapping[str, Any],
    *,
    per_page: int,
    after: Position | None = None,
    before: Position | None = None,
    offset: int = 0,
) -> Window:
    """One page of ``order.base`` (a ``select`` of the list's columns) in its order,
    ``params`` giving the values of its bind parameters; its rows made by ``order.row``.

    :param after: the page starts after this position (the next page).
    :param before: the page ends before this position (the previous page); when fewer than
        a page's rows come before it, the first page.
    :param offset: without a position, how many rows to skip (legacy page numbers; costs a
        read of the skipped rows, so keep it small).
    """
    if before is not None:
        rows = _walk(session, order, params, before, backward=True, limit=per_page + 1)
        if len(rows) <= per_page:
            return page(session, order, params, per_page=per_page)
        rows = rows[:per_page][::-1]
        start = max(0, before.index - per_page)
        return _window(order, rows, start, has_prev=True, has_next=True)
    if after is not None:
        rows = _walk(session, order, params, after, backward=False, limit=per_page + 1)
        start = after.index + 1
    elif offset:
        rows = _skip(session, order, params, offset, per_page + 1)
        start = offset
    else:
        rows = _walk(session, order, params, None, backward=False, limit=per_page + 1)
        start = 0
    more = len(rows) > per_page
    return _window(order, rows[:per_page], start, has_prev=start > 0, has_next=more)


def _window(
    order: Order, rows: Sequence[Any], start: int, *, has_prev: bool, has_next: bool
) -> Window:
    positions = [
        Position(0 if row[-2] is not None or not order.nullable else 1, row[-2], row[-1], start + i)
        for i, row in enumerate(rows)
    ]
    return Window(
        rows=[order.row(row[:-2]) for row in rows],
        start=start,
        has_prev=has_prev,
        has_next=has_next,
        first=positions[0] if positions else None,
        last=positions[-1] if positions else None,
    )


def sign(state: Any, salt: str) -> str:
    """``state`` (plain JSON values) as a URL-safe token signed with the app's secret key."""
    return str(URLSafeSerializer(current_app.config["SECRET_KEY"], salt=salt).dumps(state))


def unsign(token: str, salt: str) -> Any:
    """The state in a token made by :func:`sign` with the same ``salt``.

    :raises TokenError: when the token is too long, forged or broken.
    """
    if len(token) > TOKEN_MAX:
        raise TokenError("The cursor is not valid.")
    try:
        return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=salt).loads(token)
    except BadSignature as error:
        raise TokenError("The cursor is not valid.") from error
