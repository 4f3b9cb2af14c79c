"""Fixtures for the live fetchers: fake servers on 127.0.0.1 and a recording Progress."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

import pytest

from tests.fakes.bluesky import FakeBluesky
from tests.fakes.github import FakeGitHub
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.world import World, small_world


@dataclass
class RecordingProgress:
    """A Progress that remembers what it was told."""

    stages: list[tuple[str, int | None]] = field(default_factory=list)
    advanced: int = 0
    pauses: list[datetime] = field(default_factory=list)
    requests: int = 0

    def stage(self, name: str, total: int | None = None) -> None:
        self.stages.append((name, total))

    def advance(self, done: int = 1) -> None:
        self.advanced += done

    def paused(self, until: datetime) -> None:
        self.pauses.append(until)

    def request(self) -> None:
        self.requests += 1


@dataclass
class Sleeps:
    """An injected ``sleep`` that records and returns at once."""

    calls: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def progress() -> RecordingProgress:
    return RecordingProgress()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def world() -> World:
    return small_world()


@pytest.fixture
def github(world: World) -> Iterator[FakeGitHub]:
    with FakeGitHub(world) as server:
        yield server


@pytest.fixture
def mastodon(world: World) -> Iterator[FakeMastodon]:
    with FakeMastodon(world) as server:
        yield server


@pytest.fixture
def bluesky(world: World) -> Iterator[FakeBluesky]:
    with FakeBluesky(world) as server:
        yield server
