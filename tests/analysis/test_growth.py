from app.analysis.growth import growth_between


def test_growth_between_known() -> None:
    result = growth_between({"a", "b", "c"}, {"x"}, {"b", "c", "d", "e"}, {"x", "y"})
    assert result["followers"] == {"known": True, "gained": ["d", "e"], "lost": ["a"], "net": 1}
    assert result["friends"] == {"known": True, "gained": ["y"], "lost": [], "net": 1}


def test_growth_between_unknown_sides() -> None:
    unknown = {"known": False, "gained": None, "lost": None, "net": None}
    result = growth_between(None, {"x"}, {"a"}, None)
    assert result == {"followers": unknown, "friends": unknown}
