"""Timeline statistics: how much the account posts, when, and how the posts land."""

from __future__ import annotations

import heapq
import statistics
from array import array
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from app.analysis.results import TimelineResult
from app.networks.base import Post

ENGAGEMENT_FORMULA = "engagement = replies + likes + reposts"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
TOP_POSTS = 10


def responded(post: Post) -> bool | None:
    """Whether ``post`` got any reply, like or repost.

    :returns: ``None`` when all three counts are unknown; otherwise whether any known count
        is above zero.
    """
    counts = (post.reply_count, post.like_count, post.repost_count)
    if all(count is None for count in counts):
        return None
    return any(count for count in counts if count is not None)


def engagement(post: Post) -> int:
    """:returns: replies + likes + reposts, unknown counts taken as 0 (for ranking only)."""
    return (post.reply_count or 0) + (post.like_count or 0) + (post.repost_count or 0)


@dataclass(slots=True)
class _Ranked:
    """A post in the heap of the best ones; the heap's top is the worst of them."""

    key: tuple[int, float, str]  #: smaller is better: (-engagement, -timestamp, id)
    post: Post

    def __lt__(self, other: _Ranked) -> bool:
        return self.key > other.key


def _month_periods(first: date, last: date) -> list[str]:
    periods = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        periods.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return periods


def _week_key(day: date) -> str:
    iso = day.isocalendar()
    return f"{iso.year:04d}-W{iso.week:02d}"


def _week_periods(first: date, last: date) -> list[str]:
    monday = first - timedelta(days=first.weekday())
    periods = []
    while monday <= last:
        periods.append(_week_key(monday))
        monday += timedelta(days=7)
    return periods


def _series(
    periods: list[str],
    posts: Counter[str],
    reposts: Counter[str],
    known: Counter[str],
    got: Counter[str],
) -> list[dict[str, Any]]:
    return [
        {
            "period": period,
            "posts": posts[period],
            "reposts": reposts[period],
            "known": known[period],
            "responded": got[period],
        }
        for period in periods
    ]


def analyse_timeline(posts: Iterable[Post], tz: str = "UTC") -> TimelineResult:
    """Count, date and rank the account's posts.

    Reposts (``is_repost``) are counted separately and left out of everything "authored":
    period ``posts`` counts, response share, first response time, heatmap and top posts.

    :param posts: the account's posts; ``created_at`` must be timezone-aware.
    :param tz: IANA time zone name used for periods and the heatmap.
    :returns: a JSON-ready dict; see the module docs of :mod:`app.analysis` for its keys.
    :raises zoneinfo.ZoneInfoNotFoundError: for an unknown ``tz``.
    """
    zone = ZoneInfo(tz)
    months_posts: Counter[str] = Counter()
    months_reposts: Counter[str] = Counter()
    months_known: Counter[str] = Counter()
    months_got: Counter[str] = Counter()
    weeks_posts: Counter[str] = Counter()
    weeks_reposts: Counter[str] = Counter()
    weeks_known: Counter[str] = Counter()
    weeks_got: Counter[str] = Counter()
    heatmap = [[0] * 24 for _ in range(7)]
    kinds: Counter[str] = Counter()
    total = authored = known = got = 0
    delays = array("d")
    first: datetime | None = None
    last: datetime | None = None
    days: dict[date, tuple[str, str]] = {}  # each day's month and week, worked out once
    ranked: list[_Ranked] = []  # the best TOP_POSTS so far, worst on top

    # One pass, whatever the number of posts (a spooled million included): counters, the
    # delays as one array of floats, and only the TOP_POSTS best posts kept.
    for post in posts:
        total += 1
        local = post.created_at.astimezone(zone)
        first = local if first is None or local < first else first
        last = local if last is None or local > last else last
        day = local.date()
        periods = days.get(day)
        if periods is None:
            periods = days[day] = (f"{day.year:04d}-{day.month:02d}", _week_key(day))
        month, week = periods
        if post.is_repost:
            months_reposts[month] += 1
            weeks_reposts[week] += 1
            continue
        authored += 1
        kinds[post.kind] += 1
        months_posts[month] += 1
        weeks_posts[week] += 1
        heatmap[local.weekday()][local.hour] += 1
        answer = responded(post)
        if answer is not None:
            known += 1
            months_known[month] += 1
            weeks_known[week] += 1
            if answer:
                got += 1
                months_got[month] += 1
                weeks_got[week] += 1
        if post.first_response_at is not None:
            delay = (post.first_response_at - post.created_at).total_seconds()
            if delay >= 0:
                delays.append(delay)
        key = (-engagement(post), -post.created_at.timestamp(), post.external_id)
        if len(ranked) < TOP_POSTS:
            heapq.heappush(ranked, _Ranked(key, post))
        elif key < ranked[0].key:
            heapq.heapreplace(ranked, _Ranked(key, post))

    by_month: list[dict[str, Any]] = []
    by_week: list[dict[str, Any]] = []
    first_at = last_at = None
    if first is not None and last is not None:
        first_day, last_day = first.date(), last.date()
        by_month = _series(
            _month_periods(first_day, last_day),
            months_posts,
            months_reposts,
            months_known,
            months_got,
        )
        by_week = _series(
            _week_periods(first_day, last_day), weeks_posts, weeks_reposts, weeks_known, weeks_got
        )
        first_at = first.isoformat()
        last_at = last.isoformat()

    top = [
        {
            "id": p.external_id,
            "created_at": p.created_at.astimezone(zone).isoformat(),
            "kind": p.kind,
            "text": p.text[:280],
            "url": p.url,
            "replies": p.reply_count,
            "likes": p.like_count,
            "reposts": p.repost_count,
            "engagement": engagement(p),
        }
        for p in (item.post for item in sorted(ranked, key=lambda item: item.key))
    ]

    return {
        "tz": tz,
        "total": total,
        "authored": authored,
        "reposts": total - authored,
        "kinds": dict(sorted(kinds.items())),
        "response_known": known,
        "response_unknown": authored - known,
        "responded": got,
        "response_share": round(got / known, 4) if known else None,
        "first_response_known": len(delays),
        "median_first_response_seconds": float(statistics.median(delays)) if delays else None,
        "by_month": by_month,
        "by_week": by_week,
        "heatmap": {"days": list(WEEKDAYS), "hours": list(range(24)), "counts": heatmap},
        "top_posts": {"formula": ENGAGEMENT_FORMULA, "posts": top},
        "first_post_at": first_at,
        "last_post_at": last_at,
    }
