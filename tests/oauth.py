"""The browser's part of an OAuth sign-in, for tests that drive it through the test client."""

from __future__ import annotations

from urllib.parse import urlsplit

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
