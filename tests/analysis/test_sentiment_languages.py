"""Language gating: posts the engine cannot read are counted per language, never labelled."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from app.analysis.sentiment import ENGINES, analyse_sentiment, detect_language
from app.networks.base import Post

FRENCH = [
    "C'est vraiment génial, j'adore ce nouveau café près de la gare !",
    "Je suis très déçu par ce service, plus jamais.",
]
GERMAN = ["Das ist wirklich toll, ich freue mich sehr auf das Wochenende!"]
JAPANESE = [
    "今日は友達と公園でピクニックをしてとても楽しかったです。",
    "電車がまた遅れて、本当にがっかりしました。",
    "ありがとう",
]
THAI = ["วันนี้อากาศดีมาก ฉันไปเดินเล่นที่สวนสาธารณะกับเพื่อน"]
ENGLISH = [
    "I love this, it is wonderful!",
    "This is terrible and I hate it.",
    "The meeting is on Tuesday.",
    "Our new espresso machine makes the best coffee I have ever had",
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (FRENCH[0], ("fr", "French", True)),
        (GERMAN[0], ("de", "German", True)),
        (JAPANESE[0], ("ja", "Japanese", True)),
        (THAI[0], ("th", "Thai", True)),
        ("Это было ужасно, больше никогда туда не пойду.", ("ru", "Russian", True)),
        ("¡Qué bonito día para ir a la playa con mis amigos!", ("es", "Spanish", True)),
        (ENGLISH[3], ("en", "English", True)),
        # Too short for CLD2: Latin letters (or none) are read as English ...
        ("lol", ("en", "English", False)),
        ("love it", ("en", "English", False)),
        ("Merci beaucoup !", ("en", "English", False)),
        ("\U0001f389\U0001f389\U0001f389", ("en", "English", False)),
        # ... other scripts are undetermined.
        ("Привет всем", ("und", "Undetermined (not Latin script)", False)),
    ],
)
def test_detect_language(text: str, expected: tuple[str, str, bool]) -> None:
    assert detect_language(text) == expected


def posts(texts: list[str]) -> list[Post]:
    return [
        Post(str(i), datetime(2025, 1 + i % 2, 10, tzinfo=UTC), text, url=f"https://x.test/{i}")
        for i, text in enumerate(texts)
    ]


@pytest.mark.parametrize("engine", ENGINES)
def test_other_languages_are_not_scored_and_counted(engine: str) -> None:
    mixed = posts(ENGLISH + FRENCH + GERMAN + JAPANESE + THAI + ["https://example.org/only"])
    per_post, summary = analyse_sentiment(mixed, engine)
    english_ids = {str(i) for i in range(len(ENGLISH))}
    # Only English posts get a label; the others are not folded into neutral.
    assert set(per_post) == english_ids
    assert summary["total"] == 12
    assert summary["scored"] == 4
    assert summary["no_text"] == 1
    assert summary["not_scored"] == 7
    assert summary["languages"]["not_scored"] == [
        {"code": "ja", "name": "Japanese", "posts": 3},
        {"code": "fr", "name": "French", "posts": 2},
        {"code": "de", "name": "German", "posts": 1},
        {"code": "th", "name": "Thai", "posts": 1},
    ]
    assert summary["languages"]["reads"] == ["en"]
    counts = summary["counts"]
    assert sum(counts.values()) == 4
    # Shares are over the scored posts only.
    assert summary["shares"] == {tag: counts[tag] / 4 for tag in counts}
    assert counts["positive"] == 2 and counts["negative"] == 1
    assert sum(row["not_scored"] for row in summary["by_month"]) == 7
    assert sum(row["no_text"] for row in summary["by_month"]) == 1
    listed = [item["id"] for item in summary["most_positive"] + summary["most_negative"]]
    assert set(listed) <= english_ids
    json.dumps(summary)


def test_only_other_languages() -> None:
    per_post, summary = analyse_sentiment(posts(FRENCH + JAPANESE), "trained")
    assert per_post == {}
    assert summary["scored"] == 0 and summary["not_scored"] == 5
    assert summary["shares"] == {"positive": None, "neutral": None, "negative": None}
    assert summary["mean_score"] is None
    assert summary["most_positive"] == summary["most_negative"] == []


def test_trained_engine_summary_and_confidence() -> None:
    per_post, summary = analyse_sentiment(posts([*ENGLISH, "great :)"]), "trained")
    assert summary["engine"] == "trained" and summary["threshold"] is None
    assert summary["engine_title"] == "the trained model"
    assert summary["confident_at"] == 0.7
    assert summary["languages"]["too_short"] == 1
    assert per_post["0"] == ("positive", 0.992)
    assert per_post["1"] == ("negative", -0.996)
    assert per_post["2"][0] == "neutral"
    top = summary["most_positive"][0]
    assert top["id"] == "4" and top["label"] == "positive"  # "great :)", the highest score
    assert top["confidence"] == 0.9996 and top["score"] == 0.9993
    assert summary["most_negative"][0]["confidence"] == 0.9971
