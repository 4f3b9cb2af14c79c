"""LinkedIn export importer."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.networks.base import ArchiveError, NullProgress
from app.networks.linkedin.importer import import_linkedin
from tests.networks import archive_builders as b

ROWS = [
    (
        "Anna",
        "Schmidt",
        "https://www.linkedin.com/in/anna-schmidt",
        "",
        "Example GmbH",
        "Engineer",
        "12 Mar 2021",
    ),
    (
        "José",
        "Álvarez",
        "https://www.linkedin.com/in/jose-alvarez-123/",
        "jose@example.org",
        "",
        "",
        "01 Jan 2020",
    ),
    ("Zoë", "", "", "", "Café Zürich", "", "05 May 2022"),
    ("", "", "", "", "", "", ""),
]
SHARES = [
    (
        "2021-03-12 14:05:11",
        "https://www.linkedin.com/feed/update/urn%3Ali%3Ashare%3A1",
        'Line one\nLine "two" with café',
    ),
    ("2020-01-01 09:00:00", "", "Old post 🎉"),
    ("not a date", "x", "skipped"),
]


def test_full_export_zip(tmp_path: Path) -> None:
    files = {
        "Connections.csv": b.connections_csv(ROWS),
        "Shares.csv": b.shares_csv(SHARES),
        "Profile.csv": b.PROFILE_CSV,
        "Invitations.csv": "From,To\n",
    }
    path = b.write_zip(tmp_path / "Basic_LinkedInDataExport_03-12-2024.zip", files)
    data = import_linkedin(str(path), NullProgress())
    assert data.followers == data.friends
    assert data.friends is not None and len(data.friends) == 3
    anna = data.people["https://www.linkedin.com/in/anna-schmidt"]
    assert (anna.handle, anna.name, anna.bio) == (
        "anna-schmidt",
        "Anna Schmidt",
        "Engineer at Example GmbH",
    )
    jose = data.people["https://www.linkedin.com/in/jose-alvarez-123"]
    assert (jose.handle, jose.name, jose.bio) == ("jose-alvarez-123", "José Álvarez", None)
    zoe = next(p for p in data.people.values() if p.name == "Zoë")
    # No profile URL: no handle is made up from the name; the id stands in (with a ":").
    assert (zoe.handle, zoe.url, zoe.bio) == (zoe.external_id, None, "Café Zürich")
    assert zoe.handle.startswith("li:")
    assert [p.text for p in data.posts] == ["Old post 🎉", 'Line one\nLine "two" with café']
    assert data.posts[1].created_at == datetime(2021, 3, 12, 14, 5, 11, tzinfo=UTC)
    assert data.posts[1].url == "https://www.linkedin.com/feed/update/urn%3Ali%3Ashare%3A1"
    assert data.posts[0].url is None and data.posts[0].like_count is None
    owner = data.owner
    assert (owner.external_id, owner.handle, owner.name) == (
        "linkedin:ana-example",
        "linkedin:ana-example",
        "Ana Exämple",
    )
    assert owner.bio == "Engineer at Example, Inc."
    assert owner.links == ("https://ana.example.org", "https://example.com")
    assert (owner.followers_count, owner.following_count, owner.posts_count) == (3, 3, 2)
    assert data.archive_date == datetime(2024, 3, 12, tzinfo=UTC)
    assert data.missing_parts == []


def test_lone_connections_csv(tmp_path: Path) -> None:
    path = tmp_path / "Connections.csv"
    path.write_text(b.connections_csv(ROWS[:1]), encoding="utf-8-sig")
    data = import_linkedin(str(path), NullProgress())
    assert data.friends == ["https://www.linkedin.com/in/anna-schmidt"]
    assert data.owner.external_id == "linkedin:owner"
    assert set(data.missing_parts) == {"Shares.csv", "Profile.csv"}
    assert data.owner.posts_count is None
    assert data.archive_date is None


def test_lone_shares_csv(tmp_path: Path) -> None:
    path = tmp_path / "Shares.csv"
    path.write_text(b.shares_csv(SHARES[:1]))
    data = import_linkedin(str(path), NullProgress())
    assert len(data.posts) == 1
    assert data.followers is None and data.friends is None
    assert "Connections.csv" in data.missing_parts


def test_connections_without_notes_in_folder(tmp_path: Path) -> None:
    root = b.write_folder(
        tmp_path / "li", {"Connections.csv": b.connections_csv(ROWS[:2], notes=False)}
    )
    data = import_linkedin(str(root), NullProgress())
    assert len(data.friends or []) == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "Name,URL\nAnna,https://x\n",
            "Connections.csv: no header line starting with 'First Name,'",
        ),
        ("First Name,Company\nAnna,X\n", "Connections.csv: the header has no 'Last Name' column"),
        (
            'First Name,Last Name,URL\n"' + "a" * 200_000 + '",x,y\n',
            "Connections.csv: line 2: field larger",
        ),
    ],
)
def test_bad_connections(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "Connections.csv"
    path.write_text(content)
    with pytest.raises(ArchiveError, match=message):
        import_linkedin(str(path), NullProgress())


def test_bad_shares_alone_raises_but_in_zip_is_reported(tmp_path: Path) -> None:
    bad = "Date,ShareLink,Visibility\n2021-01-01 00:00:00,x,y\n"
    alone = tmp_path / "Shares.csv"
    alone.write_text(bad)
    with pytest.raises(
        ArchiveError, match=r"Shares.csv: the header has no 'ShareCommentary' column"
    ):
        import_linkedin(str(alone), NullProgress())
    files = {
        "Connections.csv": b.connections_csv(ROWS[:1]),
        "Shares.csv": bad,
        "Profile.csv": "junk\n",
    }
    data = import_linkedin(str(b.write_zip(tmp_path / "li.zip", files)), NullProgress())
    assert len(data.friends or []) == 1
    assert set(data.missing_parts) == {"Shares.csv (unreadable)", "Profile.csv (unreadable)"}
    assert data.owner.external_id == "linkedin:owner"


def test_export_date_invalid_and_wrong_network(tmp_path: Path) -> None:
    files = {
        "Connections.csv": b.connections_csv(ROWS[:1]),
        "Profile.csv": "First Name,Last Name\n",
    }
    data = import_linkedin(
        str(b.write_zip(tmp_path / "LinkedInDataExport_13-45-2024.zip", files)), NullProgress()
    )
    assert data.archive_date is None
    assert data.owner.external_id == "linkedin:owner"
    other = tmp_path / "notes.csv"
    other.write_text("a,b\n")
    with pytest.raises(ArchiveError, match=r"does not look like a LinkedIn archive"):
        import_linkedin(str(other), NullProgress())


def _csv(rows: list[list[str]], newline: str = "\n") -> str:
    import csv
    import io

    out = io.StringIO()
    csv.writer(out, lineterminator=newline).writerows(rows)
    return out.getvalue()


def test_2018_export_utf16_no_url_column_blank_rows_crlf(tmp_path: Path) -> None:
    """A 2018 export: Connections.csv without URL, Shares.csv in UTF-16, CRLF lines."""
    connections = _csv(
        [
            ["First Name", "Last Name", "Email Address", "Company", "Position", "Connected On"],
            ["Đinh", "Ngọc Thiện", "", "Công ty Ví dụ", "Kỹ sư", "12 Mar 2018"],
            ["สมชาย", "ใจดี", "", "", "", "01 Jan 2018"],
            ["Mai", "Lan", "", "", "", "02 Feb 2018"],
            ["Mai", "Lan", "", "", "", "02 Feb 2018"],
            ["", "", "", "", "", "03 Mar 2018"],
            ["", "", "", "", "", "04 Mar 2018"],
        ],
        "\r\n",
    )
    shares = _csv(
        [
            ["Date", "ShareLink", "ShareCommentary", "SharedUrl", "MediaUrl", "Visibility"],
            ["2018-02-01 10:00:00", "", "Dòng một\r\nDòng hai", "", "", "MEMBER_NETWORK"],
        ],
        "\r\n",
    )
    files = {
        "Connections.csv": connections.encode("utf-8-sig"),
        "Shares.csv": shares.encode("utf-16"),
    }
    path = b.write_zip(tmp_path / "LinkedInDataExport.zip", files)
    data = import_linkedin(str(path), NullProgress())
    assert data.friends is not None and len(data.friends) == 4  # the two Mai Lan stay two
    names = sorted(p.name or "" for p in data.people.values())
    assert names == ["Mai Lan", "Mai Lan", "Đinh Ngọc Thiện", "สมชาย ใจดี"]
    for person in data.people.values():
        assert ":" in person.handle and person.handle == person.external_id
    assert any(n.startswith("2 rows of Connections.csv are blank") for n in data.notes)
    assert [p.text for p in data.posts] == ["Dòng một\nDòng hai"]


def test_shares_per_line_quotes_are_undone(tmp_path: Path) -> None:
    text = 'We launched the program."\n""\n"Join us, it is ""free"".'
    path = tmp_path / "Shares.csv"
    path.write_text(
        b.shares_csv([("2024-01-01 00:00:00", "", text), ("2024-01-02 00:00:00", "", '"a"\n"b"')])
    )
    data = import_linkedin(str(path), NullProgress())
    assert [p.text for p in data.posts] == [
        'We launched the program.\n\nJoin us, it is ""free"".',
        "a\nb",
    ]


def test_utf16_without_bom(tmp_path: Path) -> None:
    path = tmp_path / "Shares.csv"
    path.write_bytes(b.shares_csv([("2024-01-01 00:00:00", "", "héllo")]).encode("utf-16-le"))
    data = import_linkedin(str(path), NullProgress())
    assert [p.text for p in data.posts] == ["héllo"]
