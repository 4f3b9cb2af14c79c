"""Bulk writes at the speed of the driver: the raw DBAPI connection, in batches.

SQLAlchemy's ``insert()`` executemany builds a parameter dict per row and runs every value
through the column types: on SQLite that costs several times a bare ``executemany`` of the
same rows. Here each table's rows are tuples in a fixed column order, converted once per
column with the dialect's own bind processors (the very conversion SQLAlchemy would apply,
so what is read back is identical), and handed to the driver:

* **SQLite**: ``cursor.executemany`` of one prepared ``INSERT`` per batch;
* **PostgreSQL** (psycopg 3): ``COPY ... FROM STDIN``, rows written with ``write_row``.

Both run on the session's connection, so they share its transaction: nothing is visible
before the commit, and a failure rolls back with everything else.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from itertools import islice
from typing import Any

from sqlalchemy import JSON, Table, text
from sqlalchemy.orm import Session, scoped_session

AnySession = Session | scoped_session[Any]

#: Rows handed to the driver in one call.
BATCH = 10_000


def _json_text(value: Any) -> str:
    """A JSON value as stored text (an empty list, the usual links, without a call)."""
    return "[]" if isinstance(value, list | tuple) and not value else json.dumps(value)


def _converters(
    table: Table, columns: Sequence[str], dialect: Any, copy: bool
) -> list[Callable[[Any], Any] | None]:
    """Per column, the function turning a Python value into what the driver takes."""
    out: list[Callable[[Any], Any] | None] = []
    for name in columns:
        column_type = table.c[name].type
        if isinstance(column_type, JSON):
            out.append(_json_text)  # what SQLAlchemy's JSON type stores, without its wrapping
        elif copy:
            out.append(None)  # psycopg adapts dates, numbers and booleans itself
        else:
            out.append(column_type._cached_bind_processor(dialect))
    return out


def _prepared(
    rows: Iterable[Sequence[Any]], converters: list[Callable[[Any], Any] | None]
) -> Iterable[Sequence[Any]]:
    """``rows`` with every value converted where its column needs it."""
    if not any(converters):
        return rows
    pairs = [(index, fn) for index, fn in enumerate(converters) if fn is not None]

    def convert(row: Sequence[Any]) -> list[Any]:
        values = list(row)
        for index, fn in pairs:
            value = values[index]
            if value is not None:
                values[index] = fn(value)
        return values

    return map(convert, rows)


def copy_rows(
    session: AnySession,
    table: Table,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    batch: int = BATCH,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write ``rows`` (tuples in the order of ``columns``) into ``table``; return how many.

    :param progress: called with the number of rows after each batch.
    """
    dialect = session.connection().dialect
    postgres = dialect.name == "postgresql"
    converters = _converters(table, columns, dialect, copy=postgres)
    names = ", ".join(f'"{name}"' for name in columns)
    if postgres:
        statement = f'COPY "{table.name}" ({names}) FROM STDIN'
    else:
        marks = ", ".join("?" for _ in columns)
        # Table and column names come from the models, never from input.
        statement = f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})'  # noqa: S608
    iterator = iter(_prepared(rows, converters))
    written = 0
    while chunk := list(islice(iterator, batch)):
        # The driver connection is taken again for every batch: ``progress`` may commit,
        # which hands the session's connection back to the pool.
        raw = session.connection().connection.driver_connection
        assert raw is not None
        if postgres:
            with raw.cursor() as cursor, cursor.copy(statement) as copy:
                for row in chunk:
                    copy.write_row(row)
        else:
            cursor = raw.cursor()
            try:
                cursor.executemany(statement, chunk)
            finally:
                cursor.close()
        written += len(chunk)
        if progress:
            progress(len(chunk))
    return written


def analyze(session: AnySession, tables: Sequence[str]) -> None:
    """Refresh the planner's statistics of ``tables`` after a bulk load (``ANALYZE``).

    PostgreSQL's autovacuum would get there eventually; until then a page reading a
    million fresh rows may be planned as if the table were empty. SQLite gets
    ``PRAGMA optimize``, which analyses only what changed enough to matter.
    """
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        for name in tables:
            connection.execute(text(f'ANALYZE "{name}"'))
    elif connection.dialect.name == "sqlite":
        connection.execute(text("PRAGMA optimize"))
