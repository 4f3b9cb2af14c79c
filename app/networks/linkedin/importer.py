"""Import a LinkedIn "Get a copy of your data" export: the zip, its folder, or one CSV.

* ``Connections.csv`` starts with a few ``Notes:`` lines; the header is the line whose first
  cell is ``First Name`` (columns First Name, Last Name, URL, Email Address, Company,
  Position, Connected On, dates like ``12 Mar 2021``; 2018 exports have no URL column).
  Rows blank but for the date (members who do not let their connections export them) are
  left out and counted in a note. A connection is mutual, so every connection is both a
  follower and a friend.
* ``Shares.csv``: Date (``2021-03-12 14:05:11``, UTC), ShareLink, ShareCommentary (multi-line,
  quotes doubled; each line of a post is also wrapped in its own quotes, which are undone),
  SharedUrl, MediaUrl, Visibility.
* ``Profile.csv``: First Name, Last Name, Headline, Summary, Websites... for the owner.

Files are UTF-8 or UTF-16 (2018 exports), with ``\r\n`` line ends normalised to ``\n``.
The export gives people's names and profile URLs but no handles: a connection's handle is
the vanity name of their ``/in/`` URL when there is one, otherwise their id (which has a
``:``, see :func:`~app.networks.text.is_handle`) and pages show their name.

``Connections.csv`` and ``Shares.csv`` can each be uploaded alone. A malformed
``Connections.csv`` (or a lone malformed ``Shares.csv``) raises :class:`ArchiveError`; inside
a full export, malformed ``Shares.csv`` and ``Profile.csv`` are reported in ``missing_parts``.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from pathlib import Path

from app.networks.archive import (
    Archive,
    ArchiveLimits,
    ImportLog,
    check_network,
    listed_account,
    slugify,
)
from app.networks.archive import stable_id as _stable_id
from app.networks.base import AccountData, ArchiveError, Person, Post, PostSpool, Progress
from app.networks.text import no_handle, normalise_newlines, safe_links, safe_url, unquote_lines

NO_PROFILE = "The upload has no Profile.csv, so it does not say whose connections these are."


def import_linkedin(
    path: str, progress: Progress, *, limits: ArchiveLimits | None = None
) -> AccountData:
    """Read a LinkedIn export at ``path``: the zip, the folder, or a lone CSV file.

    :returns: connections as both followers and friends (ids are profile URLs), shares as
        posts without response counts, owner from ``Profile.csv``.
    :raises ArchiveError: not a LinkedIn export, or a malformed ``Connections.csv``.
    """
    with Archive.open(path, limits) as archive:
        return _import(archive, progress)


def _import(archive: Archive, progress: Progress) -> AccountData:
    log = ImportLog.new()
    connections_file = archive.first("connections.csv")
    shares_file = archive.first("shares.csv")
    profile_file = archive.first("profile.csv")
    found = bool(connections_file or shares_file or profile_file)
    check_network(archive, "linkedin", found, "Connections.csv or Shares.csv")

    people: dict[str, Person] = {}
    connections: list[str] | None = None
    if connections_file:
        connections, blank = _connections(archive, connections_file, people, progress)
        if blank:
            log.notes.append(
                f"{blank} rows of Connections.csv are blank but for the date (LinkedIn leaves "
                "out members who do not allow their connections to export their details); "
                "they are not counted."
            )
    else:
        log.missing_part("Connections.csv")

    posts = PostSpool()
    if shares_file:
        try:
            posts = _shares(archive, shares_file, progress)
        except ArchiveError as exc:
            if archive.kind == "file":
                raise
            log.unreadable(shares_file, exc)
    else:
        log.missing_part("Shares.csv")

    owner = Person(external_id="linkedin:owner", handle="me")
    if profile_file:
        try:
            owner = _owner(archive, profile_file)
        except ArchiveError as exc:
            log.unreadable(profile_file, exc)
    else:
        log.missing_part("Profile.csv", NO_PROFILE)
    return listed_account(
        owner,
        people,
        list(connections) if connections is not None else None,
        list(connections) if connections is not None else None,
        posts,
        posts_read=bool(shares_file),
        log=log,
        archive_date=_export_date(archive.path),
    )


def _rows(archive: Archive, name: str, first_column: str) -> tuple[list[str], list[list[str]]]:
    """The header (the row starting with ``first_column``) and the non-blank rows after it."""
    reader = csv.reader(io.StringIO(archive.read_text(name), newline=""))
    header: list[str] | None = None
    rows: list[list[str]] = []
    try:
        for row in reader:
            if header is None:
                if row and row[0].strip().lstrip("\ufeff") == first_column:
                    header = [c.strip() for c in row]
                continue
            if any(cell.strip() for cell in row):
                rows.append([normalise_newlines(cell) for cell in row])
    except csv.Error as exc:
        raise ArchiveError(f"{Path(name).name}: line {reader.line_num}: {exc}.") from exc
    if header is None:
        raise ArchiveError(
            f"{Path(name).name}: no header line starting with '{first_column},' was found; "
            "is this the file LinkedIn exported?"
        )
    return header, rows


def _field(header: list[str], row: list[str], column: str) -> str:
    try:
        return row[header.index(column)].strip()
    except (ValueError, IndexError):
        return ""


def _connections(
    archive: Archive, name: str, people: dict[str, Person], progress: Progress
) -> tuple[list[str], int]:
    """The connections' ids (people added to ``people``) and the count of blank rows."""
    header, rows = _rows(archive, name, "First Name")
    if "Last Name" not in header:
        raise ArchiveError(f"{Path(name).name}: the header has no 'Last Name' column.")
    progress.stage("connections", total=len(rows))
    ids: dict[str, None] = {}
    seen: dict[tuple[str | None, str], int] = {}
    blank = 0
    for row in rows:
        first, last = _field(header, row, "First Name"), _field(header, row, "Last Name")
        full = " ".join(p for p in (first, last) if p) or None
        url = _field(header, row, "URL") or None
        if not full and not url:
            blank += 1
            continue
        match = re.search(r"/in/([^/?#]+)", url or "")
        if url:
            external_id = url.rstrip("/")
        else:  # two people of one name connected the same day stay two people
            when = _field(header, row, "Connected On")
            nth = seen[(full, when)] = seen.get((full, when), 0) + 1
            parts = (full, when) if nth == 1 else (full, when, nth)
            external_id = _stable_id("li:", *parts)
        handle = match.group(1) if match else no_handle(external_id)
        company, position = _field(header, row, "Company"), _field(header, row, "Position")
        bio = " at ".join(p for p in (position, company) if p) or None
        people.setdefault(
            external_id,
            Person(external_id=external_id, handle=handle, name=full, url=safe_url(url), bio=bio),
        )
        ids[external_id] = None
    progress.advance(len(rows))
    return list(ids), blank


def _shares(archive: Archive, name: str, progress: Progress) -> PostSpool:
    header, rows = _rows(archive, name, "Date")
    if "ShareCommentary" not in header:
        raise ArchiveError(f"{Path(name).name}: the header has no 'ShareCommentary' column.")
    progress.stage("posts", total=len(rows))
    posts = PostSpool()
    for row in rows:
        created = _share_date(_field(header, row, "Date"))
        if created is None:
            continue
        link = _field(header, row, "ShareLink")
        text = (
            row[header.index("ShareCommentary")]
            if len(row) > header.index("ShareCommentary")
            else ""
        )
        external_id = link or _stable_id("li:share:", created.isoformat(), text)
        posts.append(
            Post(
                external_id=external_id,
                created_at=created,
                text=unquote_lines(text.strip()).strip(),
                url=safe_url(link),
            ),
        )
    progress.advance(len(rows))
    return posts


def _share_date(value: str) -> datetime | None:
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def _owner(archive: Archive, name: str) -> Person:
    header, rows = _rows(archive, name, "First Name")
    row = rows[0] if rows else []
    first, last = _field(header, row, "First Name"), _field(header, row, "Last Name")
    full = " ".join(p for p in (first, last) if p) or None
    websites = _field(header, row, "Websites") + " " + _field(header, row, "Twitter Handles")
    links = safe_links(re.findall(r"https?://[^\s,\]]+", websites))
    # The id stays what earlier imports made it; the handle is not invented from the name.
    slug = slugify(full, "-") if full else ""
    if not full:
        external_id = "linkedin:owner"
    elif slug != "unknown":
        external_id = f"linkedin:{slug}"
    else:  # a name in a script with no ASCII letters (Thai, Khmer, Arabic...)
        external_id = _stable_id("linkedin:", full)
    return Person(
        external_id=external_id,
        handle=no_handle(external_id) if full else "me",
        name=full,
        bio=_field(header, row, "Headline") or None,
        links=links,
    )


def _export_date(path: Path) -> datetime | None:
    """LinkedIn names the zip ``Basic_LinkedInDataExport_03-12-2024.zip`` (month first)."""
    match = re.search(r"LinkedInDataExport_(\d{2})-(\d{2})-(\d{4})", path.name)
    if not match:
        return None
    month, day, year = (int(g) for g in match.groups())
    try:
        return datetime(year, month, day, tzinfo=UTC)
    except ValueError:
        return None
