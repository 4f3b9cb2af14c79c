"""Logging a person running the server can use: every line of a sync names its run.

:func:`log_context` sets values (``run=12 network=x``) for everything logged inside it, in
this thread or task; :class:`ContextFilter` appends them to each record's message. Nothing
logged here ever carries a token or a password: HTTP logs show paths without query strings.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_context: ContextVar[tuple[tuple[str, str], ...]] = ContextVar("md_log_context", default=())


@contextmanager
def log_context(**values: object) -> Iterator[None]:
    """Add ``values`` to every log record made inside the ``with`` block."""
    merged = dict(_context.get())
    merged.update((key, str(value)) for key, value in values.items())
    token = _context.set(tuple(merged.items()))
    try:
        yield
    finally:
        _context.reset(token)


class ContextFilter(logging.Filter):
    """Sets ``record.context`` to `` [run=12 network=x]`` (empty outside a context)."""

    def filter(self, record: logging.LogRecord) -> bool:
        values = _context.get()
        record.context = " [" + " ".join(f"{k}={v}" for k, v in values) + "]" if values else ""
        return True


#: The log line: time, level, module, message and the context.
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s%(context)s"
