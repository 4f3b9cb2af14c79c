"""Jinja filters: formatting only (numbers, percentages, times in the user's time zone) and
``safe_href``, which lets only http(s) links from stored data become an ``href``."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask
from flask.templating import Environment as FlaskEnvironment
from flask_login import current_user

from app.networks.text import is_handle, safe_url, shown_handle

#: What the pages show for a number that a network does not publish.
UNKNOWN = "n/a"


def number(value: int | float | None) -> str:
    """``12345`` -> ``12,345``; ``None`` -> ``n/a`` (never a made-up zero)."""
    if value is None:
        return UNKNOWN
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}"
    return f"{int(value):,}"


def compact(value: int | None) -> str:
    """``12345`` -> ``12.3k``, ``2500000`` -> ``2.5M``; for tight spaces like cards."""
    if value is None:
        return UNKNOWN
    for size, suffix in ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "k")):
        if abs(value) >= size:
            return f"{value / size:.1f}".rstrip("0").rstrip(".") + suffix
    return str(value)


def percent(value: float | None, digits: int = 0) -> str:
    """A 0..1 share as a percentage (``0.256`` -> ``26%``); ``None`` -> ``n/a``."""
    if value is None:
        return UNKNOWN
    return f"{100 * value:.{digits}f}%"


def user_zone() -> ZoneInfo:
    """The signed-in user's time zone (UTC for visitors or an unknown zone)."""
    name = getattr(current_user, "timezone", None) or "UTC"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def localtime(value: datetime | str | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A UTC time in the user's time zone; ISO strings are accepted too."""
    if value is None:
        return UNKNOWN
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(user_zone()).strftime(fmt)


def duration(seconds: float | None) -> str:
    """``5400`` -> ``1 h 30 min``; ``None`` -> ``n/a``."""
    if seconds is None:
        return UNKNOWN
    minutes = round(seconds / 60)
    if minutes < 1:
        return f"{round(seconds)} s"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{round(hours / 24)} days"


def safe_href(value: object) -> str | None:
    """A stored URL fit for an ``href`` (absolute http/https, see
    :func:`app.networks.text.safe_url`), or ``None``: the template then shows plain text.

    Use it as ``{% set href = row.url|safe_href %}{% if href %}<a href="{{ href }}">``.
    """
    return safe_url(value)


FILTERS = {
    "number": number,
    "compact": compact,
    "percent": percent,
    "localtime": localtime,
    "duration": duration,
    "safe_href": safe_href,
    "shown_handle": shown_handle,
}

#: Jinja tests: ``{% if row.handle is real_handle %}``.
TESTS = {"real_handle": is_handle}

#: Names a plain ``dict`` has as attributes (``items``, ``get``, ``__class__``...).
_DICT_NAMES = frozenset(dir(dict))


class Environment(FlaskEnvironment):
    """Flask's Jinja environment, reading ``value.key`` of a plain ``dict`` faster.

    Jinja reads ``value.key`` as the attribute ``key`` first and the item ``value["key"]``
    only when that raises ``AttributeError``; the pages read thousands of keys of stored
    results and rows a request, each raising and catching an exception. A plain dict has no
    attributes but those of its class, so for a name that is not one of them the item is
    read straight away: the same value (or undefined) as Jinja's own lookup gives.
    """

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_NAMES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        # Jinja's own lookup (jinja2.Environment.getattr), inlined: it runs for every
        # ``value.name`` of a page.
        try:
            return getattr(obj, attribute)
        except AttributeError:
            pass
        try:
            return obj[attribute]
        except (TypeError, LookupError, AttributeError):
            return self.undefined(obj=obj, name=attribute)


def register_filters(app: Flask) -> None:
    """Add the filters to the app's Jinja environment."""
    app.jinja_env.filters.update(FILTERS)
    app.jinja_env.tests.update(TESTS)
