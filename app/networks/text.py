"""Text helpers shared by network modules."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from html.parser import HTMLParser
from urllib.parse import urlsplit


class _TextExtractor(HTMLParser):
    """Collects the text of post HTML: ``<p>`` become blank lines, ``<br>`` newlines."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag == "p" and self.parts:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Plain text of post HTML (Mastodon statuses, ActivityPub notes): paragraphs kept,
    entities decoded, tags dropped."""
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    return re.sub(r"\n{3,}", "\n\n", "".join(parser.parts)).strip()


# -- links from outside data -----------------------------------------------------------------

#: A link starts with exactly this (any case): no ``//host``, no ``https:host``.
_WEB_START = re.compile(r"https?://", re.IGNORECASE | re.ASCII)
#: A host name: letters (IDN too), digits, dots, hyphens and underscores.
_HOST_NAME = re.compile(r"[\w.-]+")


def _unsafe_char(char: str) -> bool:
    """Control, format (bidi overrides, zero-width), whitespace and the backslash."""
    return char == "\\" or char.isspace() or unicodedata.category(char) in ("Cc", "Cf")


def safe_url(value: object) -> str | None:
    """``value`` if it is an absolute ``http``/``https`` URL with a host, else ``None``.

    Every URL that comes from outside (an archive, an API, another person's server) goes
    through this before it is stored or rendered as a link, so ``javascript:``, ``data:``,
    ``vbscript:`` and other schemes never become an ``href``. Surrounding whitespace is
    stripped; refused are: anything but a string, control and format characters and
    whitespace inside (``java\\tscript:``), backslashes (browsers read them as slashes),
    protocol-relative ``//host`` and ``https:host``, a missing or odd host, a bad port, and
    credentials (``https://user:pass@host``).
    """
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not _WEB_START.match(text) or any(_unsafe_char(char) for char in text):
        return None
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or "@" in parts.netloc:
        return None
    host = parts.hostname or ""
    if host.startswith("[") or ":" in host:  # an IPv6 literal, which urlsplit has checked
        return text
    if not _HOST_NAME.fullmatch(host) or host.strip(".") == "":
        return None
    return text


def _safe_link(value: object) -> str | None:
    if not isinstance(value, str) or "://" in value:
        return safe_url(value)
    # a bare ``bob.example/path`` (profile fields, X's display links): kept as written when
    # it is a safe address with https:// in front and has no colon (``javascript:1`` would
    # pass as a host and port)
    text = value.strip()
    return text if ":" not in text and safe_url(f"https://{text}") else None


def safe_links(values: Iterable[object]) -> tuple[str, ...]:
    """Profile links fit to keep (:attr:`~app.networks.base.Person.links`), each once, in
    order: :func:`safe_url` values, and bare addresses such as ``bob.example`` that are safe
    with ``https://`` in front (matching reads them that way)."""
    return tuple(dict.fromkeys(url for url in map(_safe_link, values) if url is not None))
