"""Formatting filters: numbers, shares, durations and times in the user's zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.filters import compact, duration, localtime, number, percent


@pytest.mark.parametrize(
    ("value", "shown"), [(None, "n/a"), (0, "0"), (12345, "12,345"), (2.5, "2.50"), (3.0, "3")]
)
def test_number(value, shown):
    assert number(value) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [(None, "n/a"), (999, "999"), (12345, "12.3k"), (2_000_000, "2M"), (3_400_000_000, "3.4B")],
)
def test_compact(value, shown):
    assert compact(value) == shown


def test_percent():
    assert percent(0.256) == "26%" and percent(0.256, 1) == "25.6%" and percent(None) == "n/a"


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (None, "n/a"),
        (20, "20 s"),
        (600, "10 min"),
        (5400, "1 h 30 min"),
        (7200, "2 h"),
        (3 * 86400, "3 days"),
    ],
)
def test_duration(seconds, shown):
    assert duration(seconds) == shown


def test_localtime_uses_the_users_zone(app, auth, client, user):
    moment = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    with app.test_request_context():
        assert localtime(moment) == "2026-07-01 12:00"  # visitors see UTC
        assert localtime(None) == "n/a"
    user.timezone = "Europe/Zurich"
    from app.extensions import db

    db.session.commit()
    with app.test_request_context():
        from flask_login import login_user

        login_user(user)
        assert localtime(moment) == "2026-07-01 14:00"
        assert localtime("2026-01-01T12:00:00+00:00", "%H:%M") == "13:00"
        user.timezone = "Not/AZone"
        assert localtime(moment) == "2026-07-01 12:00"


def test_dict_keys_read_as_jinja_reads_them(app):
    """The app's environment reads ``value.key`` of a plain dict as an item first (faster):
    the same output as Jinja's own environment for keys, dict methods, missing keys and
    dict subclasses."""
    from collections import OrderedDict

    from jinja2 import Environment as JinjaEnvironment

    from app.filters import Environment

    assert isinstance(app.jinja_env, Environment)
    source = (
        "{{ d.a }}|{{ d.items is defined }}|{{ d.get('a') }}|{{ d.values()|list|length }}|"
        "{{ d.missing is defined }}|{{ d.missing }}|{{ d['items'] }}|"
        "{{ d.keys is defined }}|{{ o.a }}|{{ o.items is defined }}|{{ d.__class__ is defined }}"
    )
    values = {
        "d": {"a": 1, "items": "an item", "keys": 2},
        "o": OrderedDict(a=3, items="x"),
    }
    ours = app.jinja_env.from_string(source).render(**values)
    assert ours == JinjaEnvironment().from_string(source).render(**values)
    assert ours == "1|True|1|3|False||an item|True|3|True|True"
