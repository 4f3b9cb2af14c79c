"""Sentiment of the connected account's posts, with two interchangeable engines.

``textblob`` scores with TextBlob's pattern lexicon (``polarity``), ``vader`` with
vaderSentiment's ``compound`` score; both give a float in ``[-1, 1]``. Engine objects are
made on first use and then reused (VADER loads its lexicon from disk when created).
"""

from __future__ import annotations

import html
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from app.analysis.results import SentimentMonth, SentimentResult
from app.networks.base import Post

#: Engine used when the caller does not choose one. Measured by
#: ``benchmarks/sentiment_bench.py`` on the 4,200 human-rated tweets of Hutto & Gilbert
#: (ICWSM 2014), gold labels at +-0.5 on their -4..4 scale (2026-11-26):
#: VADER macro-recall 0.708 (macro-F1 0.703, accuracy 0.824, ~27k posts/s);
#: TextBlob macro-recall 0.617 (macro-F1 0.622, accuracy 0.689, ~9.5k posts/s).
#: VADER was developed with these tweets, so its lead is flattered, but it is also the
#: engine built for social media text (emoticons, slang, capitals, "!!").
DEFAULT_ENGINE = "vader"

#: VADER's published thresholds for its compound score.
VADER_THRESHOLD = 0.05
#: TextBlob polarity is exactly 0.0 for text with no lexicon words. In the benchmark the
#: macro-recall was 0.620 for "any non-zero", 0.617 at +-0.05, 0.616 at +-0.1, 0.608 at +-0.2:
#: +-0.05 costs nothing measurable, matches VADER's band, and keeps sentences whose positive
#: and negative words cancel out (averaged polarity near 0) neutral.
TEXTBLOB_THRESHOLD = 0.05

LABELS = ("positive", "neutral", "negative")

_TAG = re.compile(r"<[^>]*>")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_RT = re.compile(r"^\s*RT\b\s*(?:@[\w.]+(?:@[\w.-]+)?)?\s*:?", re.IGNORECASE)
_MENTION = re.compile(r"(?<![\w@])@[\w.]+(?:@[\w-]+(?:\.[\w-]+)+)?")
_SPACE = re.compile(r"\s+")


def clean_text(text: str | None) -> str:
    """Reduce a post to the words a sentiment engine should read.

    Strips HTML tags (Mastodon content is HTML) and then decodes entities, removes URLs,
    ``@mentions`` (also ``@user@instance``) and a leading ``RT @user:``, and collapses
    whitespace.

    :param text: raw post text; ``None`` is treated as empty.
    :returns: the cleaned text, possibly ``""``.
    """
    if not text:
        return ""
    out = _TAG.sub(" ", text)
    out = html.unescape(out)
    out = _URL.sub(" ", out)
    out = _RT.sub(" ", out)
    out = _MENTION.sub(" ", out)
    return _SPACE.sub(" ", out).strip()


class SentimentEngine(Protocol):
    """A sentiment scorer: ``score`` gives a float in ``[-1, 1]``."""

    name: str
    threshold: float

    def score(self, text: str) -> float:
        """Score already-cleaned text."""
        ...


class TextBlobEngine:
    """TextBlob's pattern analyzer (``polarity``)."""

    name = "textblob"
    threshold = TEXTBLOB_THRESHOLD

    def __init__(self) -> None:
        from textblob.en.sentiments import PatternAnalyzer

        self._analyzer = PatternAnalyzer()

    def score(self, text: str) -> float:
        """:returns: TextBlob polarity of ``text``, clamped to ``[-1, 1]``."""
        polarity = float(self._analyzer.analyze(text)[0])
        return max(-1.0, min(1.0, polarity))


class VaderEngine:
    """vaderSentiment's ``compound`` score."""

    name = "vader"
    threshold = VADER_THRESHOLD

    def __init__(self) -> None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self._analyzer = SentimentIntensityAnalyzer()

    def score(self, text: str) -> float:
        """:returns: VADER compound score of ``text``."""
        return float(self._analyzer.polarity_scores(text)["compound"])


_ENGINE_CLASSES: dict[str, type[TextBlobEngine] | type[VaderEngine]] = {
    "textblob": TextBlobEngine,
    "vader": VaderEngine,
}
ENGINES = tuple(_ENGINE_CLASSES)
_engines: dict[str, SentimentEngine] = {}


def get_engine(name: str) -> SentimentEngine:
    """Return the shared engine called ``name``, creating it on first use.

    :param name: ``"textblob"`` or ``"vader"``.
    :returns: the engine.
    :raises ValueError: for an unknown engine name.
    """
    engine = _engines.get(name)
    if engine is None:
        try:
            cls = _ENGINE_CLASSES[name]
        except KeyError:
            raise ValueError(f"unknown sentiment engine {name!r}; use one of {ENGINES}") from None
        engine = _engines[name] = cls()
    return engine


def label(score: float, engine: str = DEFAULT_ENGINE) -> str:
    """Turn a score into ``positive``, ``neutral`` or ``negative``.

    :param score: a score from ``engine``.
    :param engine: the engine name, which sets the threshold (+-0.05 for both engines).
    :returns: the label; scores exactly at the threshold are positive/negative.
    """
    threshold = VADER_THRESHOLD if engine == "vader" else TEXTBLOB_THRESHOLD
    if score >= threshold:
        return "positive"
    if score <= -threshold:
        return "negative"
    return "neutral"


def _excerpt(text: str, limit: int = 140) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def analyse_sentiment(
    posts: Sequence[Post],
    engine: SentimentEngine | str = DEFAULT_ENGINE,
    tz: str = "UTC",
) -> tuple[dict[str, tuple[str, float]], SentimentResult]:
    """Label every post and summarise the labels.

    Posts whose cleaned text is empty (pure reposts, bare links) are labelled neutral with
    score 0.0 but counted as ``no_text`` and left out of counts, shares and means.

    :param posts: the posts to score.
    :param engine: an engine or its name.
    :param tz: time zone for the monthly trend.
    :returns: ``(per_post, summary)``: ``per_post`` maps post id to ``(label, score)``;
        ``summary`` is ``{"engine", "threshold", "total", "scored", "no_text",
        "counts": {label: n}, "shares": {label: float | None}, "mean_score": float | None,
        "by_month": [{"period", "positive", "neutral", "negative", "no_text",
        "mean_score"}], "most_positive": [...], "most_negative": [...]}`` where the last two
        hold up to 5 ``{"id", "text", "score", "created_at"}``.
    """
    eng = get_engine(engine) if isinstance(engine, str) else engine
    zone = ZoneInfo(tz)
    per_post: dict[str, tuple[str, float]] = {}
    cache: dict[str, float] = {}
    counts: Counter[str] = Counter()
    months: dict[str, Counter[str]] = defaultdict(Counter)
    month_sums: dict[str, float] = defaultdict(float)
    scored: list[tuple[float, Post, str]] = []
    no_text = 0
    for post in posts:
        period = post.created_at.astimezone(zone).strftime("%Y-%m")
        text = clean_text(post.text)
        if not text:
            per_post[post.external_id] = ("neutral", 0.0)
            no_text += 1
            months[period]["no_text"] += 1
            continue
        value = cache.get(text)
        if value is None:
            value = cache[text] = round(eng.score(text), 4)
        tag = label(value, eng.name)
        per_post[post.external_id] = (tag, value)
        counts[tag] += 1
        months[period][tag] += 1
        month_sums[period] += value
        scored.append((value, post, text))

    n_scored = len(scored)
    by_month: list[SentimentMonth] = []
    for period in sorted(months):
        row = months[period]
        n = row["positive"] + row["neutral"] + row["negative"]
        by_month.append(
            {
                "period": period,
                "positive": row["positive"],
                "neutral": row["neutral"],
                "negative": row["negative"],
                "no_text": row["no_text"],
                "mean_score": round(month_sums[period] / n, 4) if n else None,
            }
        )

    def top(tag: str, reverse: bool) -> list[dict[str, Any]]:
        chosen = [item for item in scored if per_post[item[1].external_id][0] == tag]
        chosen.sort(key=lambda item: (-item[0] if reverse else item[0], item[1].external_id))
        return [
            {
                "id": post.external_id,
                "text": _excerpt(text),
                "score": value,
                "url": post.url,
                "created_at": post.created_at.isoformat(),
            }
            for value, post, text in chosen[:5]
        ]

    summary: SentimentResult = {
        "engine": eng.name,
        "threshold": eng.threshold,
        "total": len(posts),
        "scored": n_scored,
        "no_text": no_text,
        "counts": {tag: counts[tag] for tag in LABELS},
        "shares": {tag: (round(counts[tag] / n_scored, 4) if n_scored else None) for tag in LABELS},
        "mean_score": round(sum(v for v, _, _ in scored) / n_scored, 4) if n_scored else None,
        "by_month": by_month,
        "most_positive": top("positive", reverse=True),
        "most_negative": top("negative", reverse=False),
    }
    return per_post, summary
