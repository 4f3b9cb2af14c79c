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


#: The ASCII characters :func:`_unsafe_char` refuses: controls, whitespace, the backslash.
_ASCII_UNSAFE = re.compile(r"[\x00-\x20\x7f\\]")


def _unsafe_char(char: str) -> bool:
    """Control, format (bidi overrides, zero-width), whitespace and the backslash."""
    return char == "\\" or char.isspace() or unicodedata.category(char) in ("Cc", "Cf")


def _has_unsafe_char(text: str) -> bool:
    """Whether any character of ``text`` is :func:`_unsafe_char`: one regex search for the
    ASCII ones, the character check only for the others (most URLs have none)."""
    if _ASCII_UNSAFE.search(text):
        return True
    return not text.isascii() and any(_unsafe_char(char) for char in text if not char.isascii())


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
    if _PLAIN_URL.fullmatch(text):
        return text  # the common case, which the checks below would all pass
    return _checked_url(text)


#: A URL every check of :func:`_checked_url` passes: ``http(s)://``, a host of letters,
#: digits, ``_.-`` (not only dots), no port or credentials, then printable ASCII other than
#: the backslash. Anything else goes through the checks.
_PLAIN_URL = re.compile(
    r"https?://[A-Za-z0-9_.-]*[A-Za-z0-9_-][A-Za-z0-9_.-]*(?:[/?#][!-\[\]-~]*)?",
    re.IGNORECASE | re.ASCII,
)


def _checked_url(text: str) -> str | None:
    """:func:`safe_url` of stripped ``text``, check by check."""
    if not _WEB_START.match(text) or _has_unsafe_char(text):
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


# -- archive text helpers (importers) ----------------------------------------------------------


def normalise_newlines(text: str) -> str:
    """``\\r\\n`` and lone ``\\r`` (files written on Windows or old Macs) become ``\\n``."""
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def unquote_lines(text: str) -> str:
    """Undo LinkedIn's per-line quoting of multi-line post text.

    ``Shares.csv`` wraps each line of a post in its own quotes, so once the CSV quoting is
    undone a post reads ``First line."\\n""\\n"Second line``. When every line boundary shows
    that pattern the quotes are dropped; any other text is returned as it is.
    """
    if '"\n"' not in text:
        return text
    lines = text.split("\n")
    inner_ok = all(line.endswith('"') for line in lines[:-1]) and all(
        line.startswith('"') for line in lines[1:]
    )
    if not inner_ok:
        return text
    out = []
    for index, line in enumerate(lines):
        if index > 0 or (line.startswith('"') and lines[-1].endswith('"')):
            line = line[1:]
        if index < len(lines) - 1 or (line.endswith('"') and text.startswith('"')):
            line = line[:-1]
        out.append(line)
    return "\n".join(out)


#: A handle on any network is letters, digits and ``_ . - @``; a ``:`` marks an id (a DID,
#: ``fb:…``, ``li:…``) kept in the handle column for people the network names but gives no
#: handle (Facebook, LinkedIn exports). Pages show such a person by name.
ID_MARK = ":"


def no_handle(external_id: str) -> str:
    """The value stored as the handle of a person without one: their id (with a ``:``)."""
    return external_id if ID_MARK in external_id else f"id:{external_id}"


def is_handle(handle: str) -> bool:
    """Whether ``handle`` is a real handle, not an id stored in its place (an id has a ``:``
    and no ``@``; a Mastodon handle on a server with a port, ``bob@host:8080``, is real)."""
    return bool(handle) and (ID_MARK not in handle or "@" in handle)


def named_instead(handle: str | None, name: str | None) -> bool:
    """Whether a page names someone instead of showing their handle: an id is kept in place
    of a handle (:func:`no_handle`) and there is a name. With no name the id is all there is
    to show (the list pages and :func:`shown_handle` follow this one rule)."""
    return bool(name) and not (handle and is_handle(handle))


def shown_handle(handle: str | None, name: str | None = None) -> str:
    """How a page names someone in a list of handles: ``@handle``, or their name for an id
    kept in place of a handle (:func:`named_instead`)."""
    if named_instead(handle, name):
        return str(name)
    return f"@{handle}" if handle else "someone without a handle"
