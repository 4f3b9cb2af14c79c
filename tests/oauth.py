"""The browser's part of an OAuth sign-in, for tests that drive it through the test client."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests


def provider_answer(authorize_url: str, callback: str, fragment: str = "") -> str:
    """Visit the fake provider's authorize URL as a browser would; return where it sends the
    browser back to (the app's callback path and query).

    :param callback: the path the provider must redirect to.
    :param fragment: the URL fragment the provider adds (Facebook adds ``_=_``); browsers
        do not send it to the server, so it is checked and dropped.
    """
    answer = requests.get(authorize_url, allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["Location"])
    assert back.path == callback and back.fragment == fragment
    return f"{back.path}?{back.query}"


#: A callback whose ``state`` was forged, and one with no ``state`` at all.
bad_state = pytest.mark.parametrize(
    "tamper",
    [
        lambda q: {**q, "state": ["forged-state"]},
        lambda q: {k: v for k, v in q.items() if k != "state"},
    ],
    ids=["tampered", "missing"],
)


def tampered(callback: str, tamper: Callable[[dict[str, list[str]]], dict]) -> str:
    """``callback`` (path and query) with its query changed by ``tamper``."""
    back = urlsplit(callback)
    return f"{back.path}?{urlencode(tamper(parse_qs(back.query)), doseq=True)}"
