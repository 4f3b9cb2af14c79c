"""Links from outside data: only absolute http(s) URLs become an ``href``.

:func:`app.networks.text.safe_url` is the one rule; the fetchers and importers apply it to
every URL they map, and the ``safe_href`` template filter applies it again when a page
renders a stored URL (rows stored before the rule existed, or written by other code).
"""

from __future__ import annotations

import pytest

from app.filters import safe_href
from app.networks.text import safe_links, safe_url

#: Links a hostile archive or server may hand us; none may become an ``href``.
HOSTILE = (
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
)


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/bob",
        "http://127.0.0.1:5000/@bob",
        "HTTPS://Example.ORG/Path?q=1#frag",
        "https://bücher.example/",
        "http://[::1]:8080/x",
        "https://x.com/i/web/status/1",
    ],
)
def test_web_urls_are_kept(url):
    assert safe_url(url) == url


def test_surrounding_whitespace_is_stripped():
    assert safe_url("  https://a.example/x \n") == "https://a.example/x"


@pytest.mark.parametrize(
    "url",
    [
        *HOSTILE,
        "javascript://%0aalert(1)",
        "\x01javascript:alert(1)",
        "jav&#x09;ascript:alert(1)",
        "data:image/svg+xml;base64,PHN2Zz4=",
        "file:///etc/passwd",
        "ftp://a.example/",
        "mailto:a@a.example",
        "//evil.example/x",
        "///evil.example",
        "https:evil.example",
        "https:/evil.example",
        "https:\\\\evil.example",
        "https://a.example\\@evil.example",
        "http://a.example/\\evil",
        "https://user:secret@a.example/",
        "https://user@a.example/",
        "https://a.example:99999/",
        "https://a.example:port/",
        "https://",
        "http:///path",
        "http://./",
        "https://%65vil.example/",
        "https://ex ample.org/",
        "https://a.example/x\ny",
        "https://a.example/\u202etxt.exe",
        "https://a.example/\u200bx",
        "https://a.example/\u00a0x",
        "http://[evil]/",
        "httpſ://a.example/",
        "ｈｔｔｐｓ://a.example/",
        "",
        "   ",
    ],
)
def test_everything_else_is_refused(url):
    assert safe_url(url) is None


@pytest.mark.parametrize("value", [None, 0, 1.5, b"https://a.example", ["https://a.example"], {}])
def test_non_strings_are_refused(value):
    assert safe_url(value) is None


def test_profile_links_keep_bare_addresses_but_no_other_scheme():
    links = safe_links(
        [
            "https://a.example",
            "bob.example",
            *HOSTILE,
            "javascript:80",
            "//evil.example",
            "https://a.example",
            None,
            " x.com/ada ",
        ]
    )
    assert links == ("https://a.example", "bob.example", "x.com/ada")


def test_template_filter_is_the_same_rule(app):
    assert app.jinja_env.filters["safe_href"] is safe_href
    assert safe_href("https://a.example/") == "https://a.example/"
    assert all(safe_href(url) is None for url in HOSTILE)
    template = app.jinja_env.from_string(
        '{% set href = url|safe_href %}{% if href %}<a href="{{ href }}">x</a>{% else %}x{% endif %}'
    )
    assert template.render(url="javascript:alert(1)") == "x"
    assert template.render(url='https://a.example/"><b>') == (
        '<a href="https://a.example/&#34;&gt;&lt;b&gt;">x</a>'
    )
