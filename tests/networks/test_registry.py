"""The network registry: one connector per network, each saying what it can do."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.networks import BUILT_IN, CONNECTORS
from app.networks.base import ArchiveError, Connector, Door, NullProgress
from app.networks.registry import register
from app.sync.producers import produce_import
from tests.networks import archive_builders as b


def test_every_built_in_network_is_registered_in_order() -> None:
    assert tuple(CONNECTORS)[: len(BUILT_IN)] == BUILT_IN
    for key, connector in CONNECTORS.items():
        assert connector.key == key and connector.label and connector.name


def test_every_importable_network_explains_its_archive() -> None:
    importable = {key for key, c in CONNECTORS.items() if c.can_import}
    assert importable == set(BUILT_IN) - {"github"}
    for key in importable:
        text = CONNECTORS[key].archive_help
        assert "Upload" in text and "We read" in text


def test_doors_and_oauth_descriptors_agree() -> None:
    for connector in CONNECTORS.values():
        if connector.door in (Door.OAUTH, Door.INSTANCE):
            assert connector.oauth is not None and connector.oauth.scopes
            assert connector.can_fetch
        if connector.door is None:
            assert not connector.can_fetch and connector.no_live_reason
    assert CONNECTORS["instagram"].no_live_reason.startswith("Instagram has no API")


def test_connect_partials_exist_for_every_live_network() -> None:
    for connector in CONNECTORS.values():
        if connector.can_fetch:
            assert (Path(connector.template_folder) / "connect.html").is_file(), connector.key


def test_a_key_registers_once() -> None:
    class Twice(Connector):
        key = "github"
        label = "GitHub again"

    with pytest.raises(ValueError, match="already registered"):
        register(Twice)


def test_import_dispatches_by_connection_network(tmp_path: Path) -> None:
    path = tmp_path / "following_accounts.csv"
    path.write_text(b.following_csv(["bob@other.example"]))
    data = CONNECTORS["mastodon"].import_archive(str(path), NullProgress())
    assert data.friends == ["bob@other.example"]

    class Run:
        params = {"path": str(path)}

    class GitHubConnection:
        network = "github"

    with pytest.raises(ArchiveError, match=r"no archive import for 'github'"):
        produce_import(GitHubConnection(), Run(), NullProgress())  # type: ignore[arg-type]
