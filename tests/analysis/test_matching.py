"""Cross-network matching: links, handles and (weak) names."""

from __future__ import annotations

import pytest

from app.analysis.matching import (
    Member,
    find_matches,
    handle_key,
    name_key,
    people,
    summarise,
    url_key,
)

LABELS = {"github": "GitHub", "mastodon": "Mastodon", "bluesky": "Bluesky", "x": "X"}


@pytest.mark.parametrize(
    ("handle", "key"),
    [
        ("@Ada", "ada"),
        ("ada@hachyderm.io", "ada"),
        ("ada.bsky.social", "ada"),
        ("ab", None),
        ("12345678", None),
    ],
)
def test_handle_key(handle, key):
    assert handle_key(handle) == key


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("https://x.com/Ada/", "x.com/ada"),
        ("twitter.com/ada", "x.com/ada"),
        ("https://www.Example.org", "example.org"),
        ("", None),
        ("https://", None),
    ],
)
def test_url_key(url, key):
    assert url_key(url) == key


def test_name_key_needs_two_words():
    assert name_key("  Ada   Lovelace ") == "ada lovelace"
    assert name_key("Ada") is None and name_key(None) is None


def test_link_handle_and_name_matches():
    data = {
        "github": [
            Member(
                "github",
                "1",
                "octoada",
                "Ada Lovelace",
                "https://github.com/octoada",
                ("https://hachyderm.io/@ada",),
                is_follower=True,
            ),
            Member("github", "2", "grace", "Grace Hopper", is_follower=True),
            Member("github", "3", "alan", "Alan Turing", is_friend=True),
        ],
        "mastodon": [
            Member(
                "mastodon",
                "10",
                "ada@hachyderm.io",
                "Countess",
                "https://hachyderm.io/@ada",
                is_follower=True,
            ),
            Member(
                "mastodon", "11", "grace@mastodon.social", None, is_follower=True, is_friend=True
            ),
        ],
        "bluesky": [
            Member("bluesky", "did:1", "alan-turing.dev", "Alan Turing", is_friend=True),
            Member("bluesky", "did:2", "someone.bsky.social", "Ada Lovelace"),
        ],
    }
    matches = find_matches(data)
    by_networks = {tuple(sorted(m.members)): m for m in matches}
    ada = next(
        m
        for m in matches
        if m.members.get("github", None) and m.members["github"].handle == "octoada"
    )
    assert ada.confidence == 0.95 and set(ada.members) == {"github", "mastodon"}
    assert "github @octoada links to mastodon @ada@hachyderm.io" in ada.evidence
    grace = next(
        m for m in matches if m.members.get("github") and m.members["github"].handle == "grace"
    )
    assert grace.confidence == 0.7 and grace.evidence == ["same handle @grace"]
    alan = by_networks[("bluesky", "github")]
    assert alan.members["bluesky"].handle == "alan-turing.dev"
    assert alan.confidence == 0.3  # the name only: weak
    # "Ada Lovelace" on Bluesky is not merged into the strong Ada match.
    assert all(
        "someone.bsky.social" not in [p.handle for p in m.members.values()]
        for m in matches
        if m.confidence > 0.3
    )

    summary = summarise(matches, LABELS)
    assert (summary["strong"], summary["weak"], summary["total"]) == (2, 1, 3)
    assert "2 people follow you on both GitHub and Mastodon." in summary["sentences"]
    pair = next(p for p in summary["pairs"] if p["networks"] == ["github", "mastodon"])
    assert pair == {
        "networks": ["github", "mastodon"],
        "people": 2,
        "follow_both": 2,
        "friends_both": 0,
    }


def test_one_person_sentence_and_domain_link():
    data = {
        "github": [
            Member("github", "1", "andrew", "A", links=("https://andrew.dev",), is_follower=True)
        ],
        "bluesky": [Member("bluesky", "did:a", "andrew.dev", is_follower=True)],
    }
    summary = summarise(find_matches(data), LABELS)
    assert summary["sentences"] == ["1 person follows you on both Bluesky and GitHub."]
    assert summary["matches"][0]["confidence"] == 0.95


def test_common_names_are_not_evidence():
    data = {
        net: [Member(net, f"{net}{i}", f"{net}user{i}", "Sam Smith") for i in range(5)]
        for net in ("github", "x")
    }
    assert find_matches(data) == []


def test_people_wording():
    assert people(1) == "1 person" and people(2500) == "2,500 people"
