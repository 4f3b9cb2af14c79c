"""The importer registry."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.networks import NETWORKS
from app.networks.base import ArchiveError, NullProgress
from app.networks.importers import ARCHIVE_HELP, IMPORTERS, import_archive
from tests.importers import builders as b


def test_every_importable_network_is_registered_and_explained() -> None:
    assert set(IMPORTERS) == set(ARCHIVE_HELP) == set(NETWORKS) - {"github"}
    for text in ARCHIVE_HELP.values():
        assert "Upload" in text and "We read" in text


def test_import_archive_dispatches(tmp_path: Path) -> None:
    path = tmp_path / "following_accounts.csv"
    path.write_text(b.following_csv(["bob@other.example"]))
    data = import_archive("mastodon", str(path), NullProgress())
    assert data.friends == ["bob@other.example"]
    with pytest.raises(ArchiveError, match=r"no archive import for 'github'"):
        import_archive("github", str(path), NullProgress())
