"""The shapes of the analysis results stored on each snapshot (``Snapshot.results``, JSON),
which the network page, the charts and the exports read.

They are :class:`~typing.TypedDict` s so the analyzers, the sync service and the dashboard
agree on every key; the values are plain JSON (ISO strings for dates).
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict


class SeriesRow(TypedDict):
    """One month or week of the timeline."""

    period: str
    posts: int
    reposts: int
    response_known: int
    responded: int


class TopPost(TypedDict):
    """A post in the timeline's top list, with its engagement."""

    id: str
    created_at: str
    kind: str
    text: str
    url: str | None
    replies: int | None
    likes: int | None
    reposts: int | None
    engagement: int


class TimelineResult(TypedDict):
    """:func:`app.analysis.timeline.analyse_timeline`."""

    tz: str
    total: int
    authored: int
    reposts: int
    kinds: dict[str, int]
    response_known: int
    response_unknown: int
    responded: int
    response_share: float | None
    first_response_known: int
    median_first_response_seconds: float | None
    by_month: list[dict[str, Any]]
    by_week: list[dict[str, Any]]
    heatmap: dict[str, Any]
    top_posts: dict[str, Any]
    first_post_at: str | None
    last_post_at: str | None


class SentimentMonth(TypedDict):
    """One month of the sentiment series."""

    period: str
    positive: int
    neutral: int
    negative: int
    no_text: int
    #: Posts in a language the engine does not read (absent from older snapshots).
    not_scored: NotRequired[int]
    mean_score: float | None


class SentimentLanguage(TypedDict):
    """Posts of one language left out of the sentiment numbers."""

    code: str  #: ISO 639-1 where one exists, ``und`` for undetermined non-Latin text
    name: str
    posts: int


class SentimentLanguages(TypedDict):
    """What the language detector found, next to the engine's own languages."""

    detector: str
    reads: list[str]  #: the languages the engine reads
    too_short: int  #: scored posts too short for the detector to tell, read as English
    not_scored: list[SentimentLanguage]  #: most posts first


class SentimentResult(TypedDict):
    """The summary of :func:`app.analysis.sentiment.analyse_sentiment`.

    Keys marked ``NotRequired`` were added with the trained engine and language detection;
    snapshots analysed before then lack them.
    """

    engine: str
    engine_title: NotRequired[str]
    threshold: float | None  #: ``None`` for the trained model (its label is the likeliest)
    total: int
    scored: int  #: posts with text in a language the engine reads
    no_text: int
    not_scored: NotRequired[int]  #: posts with text in a language the engine cannot read
    languages: NotRequired[SentimentLanguages]
    counts: dict[str, int]
    shares: dict[str, float | None]  #: over scored posts only
    mean_score: float | None
    by_month: list[SentimentMonth]
    confident_at: NotRequired[float]  #: confidence from which a label counts as confident
    most_positive: list[dict[str, Any]]
    most_negative: list[dict[str, Any]]


class GraphMeta(TypedDict):
    """What the followers or friends graph covers."""

    available: bool
    total: int
    covered: int
    fetched: int
    communities: int


class ProfileResult(TypedDict):
    """The connected account as the sync saw it."""

    handle: str
    name: str | None
    followers_count: int | None
    following_count: int | None
    posts_count: int | None


class SnapshotResults(TypedDict):
    """Everything stored in ``Snapshot.results``."""

    source: str
    profile: ProfileResult
    timeline: TimelineResult
    sentiment: SentimentResult
    graph_meta: dict[str, GraphMeta]
    growth: dict[str, Any] | None
    notes: list[str]
    missing_parts: list[str]
    requests: int
    seconds: float
