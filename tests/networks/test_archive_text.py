"""Text helpers for archive importers (app/networks/text.py) and text decoding."""

from __future__ import annotations

import pytest

from app.networks.archive import decode_text
from app.networks.base import ArchiveError
from app.networks.text import normalise_newlines, unquote_lines


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('We launched the program."\n""\n"Join us!', "We launched the program.\n\nJoin us!"),
        ('"a"\n"b"', "a\nb"),
        ('one"\n"two"\n"three', "one\ntwo\nthree"),
        ('plain "quoted"\nnext', 'plain "quoted"\nnext'),
        ('"Hi" she said."\n"next', '"Hi" she said.\nnext'),
        ("no quotes at all", "no quotes at all"),
        ('half"\nbroken', 'half"\nbroken'),
    ],
)
def test_unquote_lines(raw: str, expected: str) -> None:
    assert unquote_lines(raw) == expected


def test_normalise_newlines() -> None:
    assert normalise_newlines("a\r\nb\rc\nd") == "a\nb\nc\nd"
    assert normalise_newlines("plain") == "plain"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be"])
def test_decode_text(encoding: str) -> None:
    text = "First Name,Last Name\nĐinh,Ngọc Thiện\nสมชาย,ใจดี\n"
    assert decode_text(text.encode(encoding), "Connections.csv") == text


def test_decode_text_refuses_other_encodings() -> None:
    with pytest.raises(ArchiveError, match=r"x.csv: line 2: not UTF-8"):
        decode_text("a\nZürich".encode("latin-1"), "x.csv")
