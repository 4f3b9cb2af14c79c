from datetime import UTC, datetime

import pytest

from app.analysis.growth import growth_between, growth_series


def test_growth_between_known() -> None:
    result = growth_between({"a", "b", "c"}, {"x"}, {"b", "c", "d", "e"}, {"x", "y"})
    assert result["followers"] == {"known": True, "gained": ["d", "e"], "lost": ["a"], "net": 1}
    assert result["friends"] == {"known": True, "gained": ["y"], "lost": [], "net": 1}


def test_growth_between_unknown_sides() -> None:
    unknown = {"known": False, "gained": None, "lost": None, "net": None}
    result = growth_between(None, {"x"}, {"a"}, None)
    assert result == {"followers": unknown, "friends": unknown}


def test_growth_series_sorts_and_counts() -> None:
    snaps = [
        {"at": "2025-02-01T00:00:00+00:00", "followers": ["a", "b"], "friends": None},
        {"at": datetime(2025, 1, 1, tzinfo=UTC), "followers": 5, "friends": {"x"}},
        {"at": datetime(2025, 3, 1, tzinfo=UTC)},
    ]
    assert growth_series(snaps) == [
        {"at": "2025-01-01T00:00:00+00:00", "followers": 5, "friends": 1},
        {"at": "2025-02-01T00:00:00+00:00", "followers": 2, "friends": None},
        {"at": "2025-03-01T00:00:00+00:00", "followers": None, "friends": None},
    ]


def test_growth_series_rejects_bool() -> None:
    with pytest.raises(TypeError):
        growth_series([{"at": "2025-01-01T00:00:00+00:00", "followers": True}])
