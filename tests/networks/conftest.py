"""Fixtures for the live fetchers: fake servers on 127.0.0.1, clients for them and a
recording Progress."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import pytest

from app.networks.http import ApiClient
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


#: ``api(base_url, service=None, *, token=None, **options) -> ApiClient``
MakeClient = Callable[..., ApiClient]


@pytest.fixture
def api() -> Iterator[MakeClient]:
    """Build an :class:`ApiClient` for a fake server, as the live producers do; every
    client built is closed when the test ends.

    ``service`` defaults to the URL's host and port (what a Mastodon client is named);
    ``options`` (``progress``, ``sleep``, ``timeout``, ``max_retries``...) go to the client.
    """
    made: list[ApiClient] = []

    def build(
        base_url: str, service: str | None = None, *, token: str | None = None, **options: Any
    ) -> ApiClient:
        client = ApiClient(
            base_url, token=token, service=service or urlsplit(base_url).netloc, **options
        )
        made.append(client)
        return client

    yield build
    for client in made:
        client.close()
