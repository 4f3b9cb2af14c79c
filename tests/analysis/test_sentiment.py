import json
from datetime import UTC, datetime

import pytest

from app.analysis import sentiment
from app.analysis.sentiment import (
    DEFAULT_ENGINE,
    ENGINES,
    analyse_sentiment,
    clean_text,
    get_engine,
    label,
    lexicon_confidence,
)
from app.networks.base import Post
from app.settings import Config


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("RT @bob: great news", "great news"),
        ("rt @bob great news", "great news"),
        ("<p>Hello &amp; <b>welcome</b></p><p>again</p>", "Hello & welcome again"),
        ("thanks @ana@mastodon.social and @bob_1!", "thanks and !"),
        ("see https://example.org/a?b=1 and www.example.com/x now", "see and now"),
        ("mail a@b.com &lt;3", "mail a@b.com <3"),
        ("  lots \n of\t space  ", "lots of space"),
        ("https://example.org/only", ""),
        ("", ""),
        (None, ""),
        ("ARTIST at work", "ARTIST at work"),
        ("bad\ud800 byte\x00 here\x07", "bad byte here"),
    ],
)
def test_clean_text(raw: str | None, expected: str) -> None:
    assert clean_text(raw) == expected


LABELLED = [
    ("I love this, it is wonderful!", "positive"),
    ("This is terrible and I hate it.", "negative"),
    ("The meeting is on Tuesday.", "neutral"),
    ("Not good at all", "negative"),
    ("great :)", "positive"),
    ("worst day ever :(", "negative"),
]


@pytest.mark.parametrize("engine", ["vader", "textblob"])
@pytest.mark.parametrize(("text", "expected"), LABELLED)
def test_engines_on_labelled_examples(engine: str, text: str, expected: str) -> None:
    score = get_engine(engine).score(text)
    assert -1.0 <= score <= 1.0
    assert label(score, engine) == expected


@pytest.mark.parametrize("engine", ENGINES)
def test_predict_gives_label_score_and_confidence(engine: str) -> None:
    texts = [text for text, _ in LABELLED]
    found = get_engine(engine).predict(texts)
    assert [tag for tag, _, _ in found] == [expected for _, expected in LABELLED]
    for _, score, confidence in found:
        assert -1.0 <= score <= 1.0 and 0.0 <= confidence <= 1.0
        assert round(score, 4) == score and round(confidence, 4) == confidence
    assert get_engine(engine).predict([]) == []


@pytest.mark.parametrize(
    ("score", "expected"),
    [(0.9, 0.9), (-0.05, 0.05), (0.0, 1.0), (0.025, 0.5), (-0.04, 0.2), (1.0, 1.0)],
)
def test_lexicon_confidence_proxy(score: float, expected: float) -> None:
    assert lexicon_confidence(score, 0.05) == pytest.approx(expected)


def test_engine_scores_and_reuse() -> None:
    assert get_engine("vader").score("I love this, it is wonderful!") == pytest.approx(0.8478)
    assert get_engine("textblob").score("This is terrible and I hate it.") == pytest.approx(-0.9)
    assert get_engine("vader") is get_engine("vader")
    assert get_engine("textblob").name == "textblob"
    assert get_engine("trained") is get_engine("trained")
    # The best engine on validation (docs/sentiment_report.txt), and the setting's default.
    assert DEFAULT_ENGINE == "trained" == Config.SENTIMENT_ENGINE


def test_unknown_engine() -> None:
    with pytest.raises(ValueError, match="unknown sentiment engine 'nope'"):
        get_engine("nope")


@pytest.mark.parametrize(
    ("score", "engine", "expected"),
    [
        (0.05, "vader", "positive"),
        (0.0499, "vader", "neutral"),
        (-0.05, "vader", "negative"),
        (0.05, "textblob", "positive"),
        (-0.04, "textblob", "neutral"),
        (-0.5, "textblob", "negative"),
    ],
)
def test_label_thresholds(score: float, engine: str, expected: str) -> None:
    assert label(score, engine) == expected


def test_textblob_score_is_clamped(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = sentiment.TextBlobEngine()
    monkeypatch.setattr(engine, "_analyzer", type("A", (), {"analyze": lambda s, t: (1.7, 0)})())
    assert engine.score("x") == 1.0


def post(pid: str, month: int, text: str) -> Post:
    return Post(pid, datetime(2025, month, 15, 12, tzinfo=UTC), text)


def test_analyse_sentiment_summary() -> None:
    posts = [
        post("1", 1, "I love this, it is wonderful!"),
        post("2", 1, "This is terrible and I hate it."),
        post("3", 1, "The meeting is on Tuesday."),
        post("4", 2, "great :)"),
        post("5", 2, "https://example.org/link"),
        post("6", 2, "great :)"),
    ]
    per_post, summary = analyse_sentiment(posts, "vader")
    assert per_post["1"] == ("positive", 0.8478)
    assert per_post["2"] == ("negative", -0.7783)
    assert per_post["3"] == ("neutral", 0.0)
    assert "5" not in per_post  # no text: no label at all, not "neutral"
    assert per_post["6"] == per_post["4"] == ("positive", 0.7964)
    assert summary["engine"] == "vader"
    assert summary["engine_title"] == "VADER"
    assert summary["threshold"] == 0.05
    assert (summary["total"], summary["scored"], summary["no_text"]) == (6, 5, 1)
    assert summary["not_scored"] == 0
    assert summary["languages"] == {
        "detector": "CLD2",
        "reads": ["en"],
        "too_short": 2,  # posts 4 and 6, "great :)": too short for CLD2, read as English
        "not_scored": [],
    }
    assert summary["confident_at"] == 0.5
    assert summary["counts"] == {"positive": 3, "neutral": 1, "negative": 1}
    assert summary["shares"] == {"positive": 0.6, "neutral": 0.2, "negative": 0.2}
    assert summary["mean_score"] == pytest.approx((0.8478 - 0.7783 + 0 + 0.7964 * 2) / 5, abs=1e-4)
    assert summary["by_month"] == [
        {
            "period": "2025-01",
            "positive": 1,
            "neutral": 1,
            "negative": 1,
            "no_text": 0,
            "not_scored": 0,
            "mean_score": round((0.8478 - 0.7783) / 3, 4),
        },
        {
            "period": "2025-02",
            "positive": 2,
            "neutral": 0,
            "negative": 0,
            "no_text": 1,
            "not_scored": 0,
            "mean_score": 0.7964,
        },
    ]
    assert [p["id"] for p in summary["most_positive"]] == ["1", "4", "6"]
    assert [p["id"] for p in summary["most_negative"]] == ["2"]
    assert summary["most_negative"][0] == {
        "id": "2",
        "text": "This is terrible and I hate it.",
        "score": -0.7783,
        "label": "negative",
        "confidence": 0.7783,
        "url": None,
        "created_at": "2025-01-15T12:00:00+00:00",
    }
    json.dumps([per_post, summary])


def test_analyse_sentiment_with_engine_object_and_no_text() -> None:
    per_post, summary = analyse_sentiment(
        [post("1", 3, "")], get_engine("textblob"), tz="Asia/Tokyo"
    )
    assert per_post == {}
    assert summary["engine"] == "textblob"
    assert summary["shares"] == {"positive": None, "neutral": None, "negative": None}
    assert summary["mean_score"] is None
    assert summary["by_month"] == [
        {
            "period": "2025-03",
            "positive": 0,
            "neutral": 0,
            "negative": 0,
            "no_text": 1,
            "not_scored": 0,
            "mean_score": None,
        }
    ]


def test_excerpt_is_shortened() -> None:
    text = "I love it " * 30
    _, summary = analyse_sentiment([post("1", 1, text)], "vader")
    excerpt = summary["most_positive"][0]["text"]
    assert len(excerpt) == 140 and excerpt.endswith("\u2026")
