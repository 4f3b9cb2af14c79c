"""The network page's sentiment section: left-out posts, languages and the confident filter."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.analysis.sentiment import analyse_sentiment
from app.demo.user import create_demo_user
from app.extensions import db
from app.models import Connection
from app.networks.base import AccountData
from app.networks.base import Person as PersonRecord
from app.networks.base import Post as PostRecord
from app.sync.service import analyse, post_rows
from tests.conftest import csrf_token

PASSWORD = "demo password 1"
TEXTS = [
    "I love this, it is wonderful!",  # positive, very confident
    "Thanks so much for the lovely flowers",  # positive, confident
    "This is terrible and I hate it.",  # negative, very confident
    "My laptop died in the middle of the presentation. Brilliant.",  # negative, 0.62 sure
    "The meeting is on Tuesday.",
    "C'est vraiment génial, j'adore ce nouveau café près de la gare !",
    "Je suis très déçu par ce service, plus jamais.",
    "今日は友達と公園でピクニックをしてとても楽しかったです。",
    "วันนี้อากาศดีมาก ฉันไปเดินเล่นที่สวนสาธารณะกับเพื่อน",
    "https://example.org/only-a-link",
]


@pytest.fixture
def page_of(app, client):
    """Sign in as the demo user, give Mastodon's snapshot the analysis of ``TEXTS``, and
    return a function that fetches the Mastodon page."""
    user, _ = create_demo_user("demo", PASSWORD, followers=20)
    token = csrf_token(client, "/signin")
    client.post("/signin", data={"login": "demo", "password": PASSWORD, "csrf_token": token})
    connection = db.session.scalar(
        select(Connection).where(Connection.user_id == user.id, Connection.network == "mastodon")
    )
    snapshot = connection.current_snapshot
    records = [
        PostRecord(f"m{i}", datetime(2026, 3, 1 + i, tzinfo=UTC), text, url=f"https://m.test/{i}")
        for i, text in enumerate(TEXTS)
    ]
    _, summary = analyse_sentiment(records, "trained")
    snapshot.results = {**snapshot.results, "sentiment": summary}
    db.session.commit()

    def fetch(query: str = "") -> str:
        response = client.get(f"/dashboard/user/mastodon{query}")
        assert response.status_code == 200
        return response.get_data(as_text=True)

    return fetch


def section(page: str) -> str:
    start = page.index('id="sentiment"')
    return page[start : page.index('id="followers"', start)]


def test_page_says_what_was_left_out_and_why(page_of) -> None:
    html = section(page_of())
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert "Scored by the trained model" in text
    assert "Shares are of the 5 scored posts; left out: 1 without text and 4 not scored" in text
    assert "Languages are told by CLD2; the trained model reads English only." in text
    for name, code, n in (("French", "fr", 2), ("Japanese", "ja", 1), ("Thai", "th", 1)):
        assert f"{name} ({code}): {n}" in text
    assert "Not scored (language)" in text  # the monthly table's column too
    assert "40%" in text  # 2 positive of 5 scored posts, not of 10 posts


def test_confident_only_filter(page_of) -> None:
    everything = section(page_of())
    assert "Show only confident labels" in everything
    assert 'href="/dashboard/user/mastodon?confident=1#sentiment"' in everything
    assert "Brilliant." in everything  # a negative label at 0.62
    assert "confidence 0.62" in everything
    confident = section(page_of("?confident=1"))
    assert "Showing only confident labels (confidence 0.7 or more" in confident
    assert 'href="/dashboard/user/mastodon#sentiment"' in confident  # back to all
    assert "Brilliant." not in confident
    assert "This is terrible and I hate it." in confident
    assert "I love this, it is wonderful!" in confident


def test_snapshot_from_before_languages_still_renders(app, page_of) -> None:
    """Results stored before the trained engine lack the new keys; the page copes."""
    connection = db.session.scalar(select(Connection).where(Connection.network == "mastodon"))
    snapshot = connection.current_snapshot
    old = {
        key: value
        for key, value in snapshot.results["sentiment"].items()
        if key not in {"not_scored", "languages", "confident_at", "engine_title"}
    }
    old.update(engine="vader", threshold=0.05)
    snapshot.results = {**snapshot.results, "sentiment": old}
    db.session.commit()
    html = section(page_of("?confident=1"))
    assert "Scored by VADER" in html and "a score above +0.05 is positive" in html
    assert "confident labels" not in html  # no confidence stored: no filter offered
    assert "I love this, it is wonderful!" in html


def test_stored_posts_of_other_languages_have_no_label() -> None:
    """What a sync stores per post (and the posts export shows): a label for scored posts,
    an empty label, not "neutral", for posts left out."""
    records = [
        PostRecord(f"m{i}", datetime(2026, 3, 1 + i, tzinfo=UTC), text)
        for i, text in enumerate(TEXTS)
    ]
    data = AccountData(owner=PersonRecord("me", "me"), posts=records)
    analysed = analyse(data, timezone="UTC", engine="trained", max_people=10)
    rows = {row["text"]: row for row in post_rows(1, data, analysed["sentiment_per_post"])}
    assert rows[TEXTS[0]]["sentiment_label"] == "positive"
    assert rows[TEXTS[0]]["sentiment_score"] == 0.992
    assert rows[TEXTS[2]]["sentiment_label"] == "negative"
    for text in TEXTS[5:]:
        assert rows[text]["sentiment_label"] is None and rows[text]["sentiment_score"] is None
