import json
from datetime import UTC, datetime, timedelta

import pytest

from app.analysis.timeline import ENGAGEMENT_FORMULA, analyse_timeline, engagement, responded
from app.networks.base import Post


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


POSTS = [
    # Sunday 2025-03-30 23:30 UTC = Monday 01:30 in Europe/Paris (CEST, +2)
    Post(
        "a",
        at(2025, 3, 30, 23, 30),
        "first",
        reply_count=2,
        like_count=None,
        repost_count=0,
        first_response_at=at(2025, 3, 30, 23, 40),
    ),
    Post("b", at(2025, 4, 2, 10, 0), "second", reply_count=0, like_count=0, repost_count=0),
    Post("c", at(2025, 4, 3, 12, 0), "third"),  # all counts unknown
    Post("d", at(2025, 4, 3, 13, 0), "RT", is_repost=True, like_count=99),
    Post(
        "e",
        at(2025, 5, 31, 22, 15),
        "fifth",
        kind="reply",
        reply_count=1,
        like_count=5,
        repost_count=1,
        first_response_at=at(2025, 5, 31, 22, 45),
    ),
    Post(
        "f", at(2025, 6, 1, 8, 0), "bad clock", like_count=1, first_response_at=at(2025, 6, 1, 7, 0)
    ),
]


def test_counts_and_response_share() -> None:
    result = analyse_timeline(POSTS)
    assert (result["total"], result["authored"], result["reposts"]) == (6, 5, 1)
    assert result["kinds"] == {"post": 4, "reply": 1}
    # a, e, f responded; b known with zeros; c unknown; d is a repost.
    assert (result["response_known"], result["responded"], result["response_unknown"]) == (4, 3, 1)
    assert result["response_share"] == 0.75
    # delays: a 600 s, e 1800 s; f is negative (bad data) and ignored.
    assert result["first_response_known"] == 2
    assert result["median_first_response_seconds"] == 1200.0
    assert result["first_post_at"] == "2025-03-30T23:30:00+00:00"
    assert result["last_post_at"] == "2025-06-01T08:00:00+00:00"
    json.dumps(result)


def test_months_and_weeks_in_utc() -> None:
    result = analyse_timeline(POSTS)
    assert result["by_month"] == [
        {"period": "2025-03", "posts": 1, "reposts": 0, "known": 1, "responded": 1},
        {"period": "2025-04", "posts": 2, "reposts": 1, "known": 1, "responded": 0},
        {"period": "2025-05", "posts": 1, "reposts": 0, "known": 1, "responded": 1},
        {"period": "2025-06", "posts": 1, "reposts": 0, "known": 1, "responded": 1},
    ]
    weeks = result["by_week"]
    assert weeks[0] == {"period": "2025-W13", "posts": 1, "reposts": 0, "known": 1, "responded": 1}
    assert weeks[1]["period"] == "2025-W14" and weeks[1]["posts"] == 2
    assert weeks[-1]["period"] == "2025-W22"
    assert len(weeks) == 10  # W13..W22, empty weeks included
    assert weeks[3] == {"period": "2025-W16", "posts": 0, "reposts": 0, "known": 0, "responded": 0}


def test_timezone_moves_posts_across_days_and_months() -> None:
    result = analyse_timeline(POSTS, tz="Europe/Paris")
    # "a" moves to Monday 31 March 01:30, "e" (31 May 22:15 UTC) to 1 June 00:15.
    months = [(m["period"], m["posts"]) for m in result["by_month"]]
    assert months == [("2025-03", 1), ("2025-04", 2), ("2025-05", 0), ("2025-06", 2)]
    # "a" is in ISO week 14 in Paris (a Monday), week 13 in UTC.
    assert result["by_week"][0]["period"] == "2025-W14"
    counts = result["heatmap"]["counts"]
    assert counts[0][1] == 1  # Monday 01:00
    assert counts[6][0] == 1  # "e": Sunday 00:15
    assert sum(map(sum, counts)) == 5
    assert result["heatmap"]["days"][0] == "Mon"
    assert result["first_post_at"] == "2025-03-31T01:30:00+02:00"
    utc = analyse_timeline(POSTS)["heatmap"]["counts"]
    assert utc[6][23] == 1 and utc[5][22] == 1


def test_top_posts_ranked_by_engagement() -> None:
    top = analyse_timeline(POSTS)["top_posts"]
    assert top["formula"] == ENGAGEMENT_FORMULA
    assert [p["id"] for p in top["posts"]] == ["e", "a", "f", "c", "b"]
    assert top["posts"][0]["engagement"] == 7
    assert top["posts"][1]["likes"] is None


def test_top_posts_are_limited_to_ten() -> None:
    base = at(2025, 1, 1)
    posts = [Post(str(i), base + timedelta(hours=i), "x", like_count=i) for i in range(15)]
    top = analyse_timeline(posts)["top_posts"]["posts"]
    assert [p["id"] for p in top] == [str(i) for i in range(14, 4, -1)]


def test_no_known_counts_gives_none_not_zero() -> None:
    result = analyse_timeline([Post("x", at(2025, 12, 31, 12), "hi")])
    assert result["response_share"] is None
    assert result["median_first_response_seconds"] is None
    assert [m["period"] for m in result["by_month"]] == ["2025-12"]
    assert [w["period"] for w in result["by_week"]] == ["2026-W01"]


def test_empty() -> None:
    result = analyse_timeline([])
    assert result["total"] == 0
    assert result["by_month"] == [] and result["by_week"] == []
    assert result["first_post_at"] is None and result["last_post_at"] is None
    assert result["top_posts"]["posts"] == []


def test_year_rollover_months() -> None:
    posts = [Post("1", at(2024, 11, 5), "a"), Post("2", at(2025, 2, 5), "b")]
    months = [m["period"] for m in analyse_timeline(posts)["by_month"]]
    assert months == ["2024-11", "2024-12", "2025-01", "2025-02"]


@pytest.mark.parametrize(
    ("counts", "expected"),
    [((None, None, None), None), ((0, None, None), False), ((None, 0, 3), True)],
)
def test_responded(counts: tuple[int | None, ...], expected: bool | None) -> None:
    post = Post(
        "p", at(2025, 1, 1), "", reply_count=counts[0], like_count=counts[1], repost_count=counts[2]
    )
    assert responded(post) is expected
    assert engagement(post) == sum(c or 0 for c in counts)
