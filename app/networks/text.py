"""Text helpers shared by network modules."""

from __future__ import annotations

import re
from html.parser import HTMLParser


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
    """Whether ``handle`` is a real handle, not an id stored in its place."""
    return bool(handle) and ID_MARK not in handle
