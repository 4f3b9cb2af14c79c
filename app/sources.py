"""Producers: what turns a queued run into records, per kind of run.

Each producer takes the connection, the run (with its ``params``) and a progress reporter,
and returns an :class:`~app.networks.base.AccountData`. Live producers are added per network
as their connectors land; until then a live sync says it is not available.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from app.models import Connection, SyncRun
from app.networks import NETWORKS
from app.networks.base import AccountData, NetworkError, Progress
from app.networks.importers import import_archive
from app.synthetic import evolve, make_account

Producer = Callable[[Connection, SyncRun, Progress], AccountData]

#: Followers of each demo account: sized like a real personal account on that network.
DEMO_FOLLOWERS = {
    "github": 180,
    "mastodon": 640,
    "bluesky": 1200,
    "x": 1500,
    "facebook": 320,
    "linkedin": 540,
    "instagram": 860,
}
#: The demo's fixed "today", so the demo is the same on every machine and every day.
DEMO_NOW = datetime(2026, 11, 1, tzinfo=UTC)
#: How far before the current snapshot the demo's earlier snapshot is dated.
DEMO_PREVIOUS_AGE = timedelta(days=30)


def demo_data(
    network: str, *, followers: int | None = None, previous: bool = False, seed: int = 7
) -> AccountData:
    """The demo account of ``network``: now, or (``previous``) as it was a month before."""
    size = followers or DEMO_FOLLOWERS[network]
    data = make_account(
        network,
        followers=size,
        posts=min(2000, 300 + size // 2),
        seed=seed,
        now=DEMO_NOW,
    )
    data.owner.bio = "Demo account: synthetic data made by manage.py demo."
    data.notes.append("This is a demo account: every person and post here is made up.")
    if previous:
        data = evolve(data, seed=seed + 1, gained=max(1, size // 25), lost=max(1, size // 12))
    return data


def produce_demo(connection: Connection, run: SyncRun, progress: Progress) -> AccountData:
    """Synthetic data for ``manage.py demo`` (``params``: ``followers``, ``previous``)."""
    progress.stage("generating demo data")
    return demo_data(
        connection.network,
        followers=run.params.get("followers"),
        previous=bool(run.params.get("previous")),
    )


def produce_import(connection: Connection, run: SyncRun, progress: Progress) -> AccountData:
    """Read the uploaded archive at ``params["path"]`` with the network's importer."""
    return import_archive(connection.network, run.params["path"], progress)


def produce_live(connection: Connection, run: SyncRun, progress: Progress) -> AccountData:
    """Read the network's API; each network's connector registers itself in :data:`LIVE`."""
    fetch = LIVE.get(connection.network)
    if fetch is None:
        label = NETWORKS[connection.network].label
        raise NetworkError(f"Live sync of {label} is not available in this version yet.")
    return fetch(connection, run, progress)


#: Live fetch per network.
LIVE: dict[str, Producer] = {}

PRODUCERS: dict[str, Producer] = {
    "demo": produce_demo,
    "import": produce_import,
    "live": produce_live,
    "public": produce_live,
}
