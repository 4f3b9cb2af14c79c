"""Producers: what turns a queued run into records, per kind of run.

Each producer takes the connection, the run (with its ``params``) and a progress reporter,
and returns an :class:`~app.networks.base.AccountData`. Live producers are added per network
as their connectors land; until then a live sync says it is not available.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from app.live import LIVE as OPEN_LIVE
from app.live_closed import CLOSED_LIVE
from app.models import Connection, SyncRun
from app.networks import NETWORKS
from app.networks.base import AccountData, NetworkError, Progress
from app.networks.importers import import_archive
from app.synthetic import evolve, make_account

Producer = Callable[[Connection, SyncRun, Progress], AccountData]

#: Live producer per network: the open networks' (:mod:`app.live`) and X, Facebook and
#: LinkedIn's (:mod:`app.live_closed`, which builds on :mod:`app.live`).
LIVE: dict[str, Producer] = {**OPEN_LIVE, **CLOSED_LIVE}

SHARED_FIRST = (
    "ada",
    "grace",
    "alan",
    "edsger",
    "barbara",
    "ken",
    "margaret",
    "linus",
    "radia",
    "guido",
    "frances",
    "donald",
    "hedy",
    "tim",
    "katherine",
)
SHARED_LAST = (
    "lovelace",
    "hopper",
    "turing",
    "dijkstra",
    "liskov",
    "thompson",
    "hamilton",
    "torvalds",
    "perlman",
    "rossum",
    "allen",
    "knuth",
    "lamarr",
    "berners",
    "johnson",
)

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
    share_identities(network, data, seed)
    data.owner.bio = "Demo account: synthetic data made by manage.py demo."
    data.notes.append("This is a demo account: every person and post here is made up.")
    if previous:
        data = evolve(data, seed=seed + 1, gained=max(1, size // 25), lost=max(1, size // 12))
    return data


#: Share of a demo account's people who are "the same person" on other demo networks.
DEMO_SHARED_SHARE = 0.08
DEMO_SHARED_POOL = 400
DEMO_MASTODON_SERVER = "demo.social"


def shared_pool(seed: int) -> list[tuple[str, str]]:
    """The demo's cross-network people: ``(handle, display name)``, the same on every network."""
    rng = random.Random(f"shared-people-{seed}")  # noqa: S311 - demo data, not secrets
    pool: dict[str, str] = {}
    while len(pool) < DEMO_SHARED_POOL:
        first, last = rng.choice(SHARED_FIRST), rng.choice(SHARED_LAST)
        pool.setdefault(f"{first}{last}{rng.randint(1, 99)}", f"{first.title()} {last.title()}")
    return list(pool.items())


def share_identities(network: str, data: AccountData, seed: int) -> None:
    """Give some demo people identities that recur on the other demo networks.

    Each network picks its own subset of one shared pool, so the same handle (and, from
    GitHub, a link to the Mastodon profile) shows up on several networks: what the
    cross-network check looks for.
    """
    rng = random.Random(f"shared-{network}-{seed}")  # noqa: S311 - demo data, not secrets
    pool = [entry for entry in shared_pool(seed) if rng.random() < 0.5]
    people = sorted(pid for pid in data.people if pid != data.owner.external_id)
    chosen = rng.sample(people, k=min(len(pool), int(len(people) * DEMO_SHARED_SHARE)))
    for pid, (handle, name) in zip(chosen, pool, strict=False):
        person = data.people[pid]
        person.name = name
        if network == "mastodon":
            person.handle = f"{handle}@{DEMO_MASTODON_SERVER}"
            person.url = f"https://{DEMO_MASTODON_SERVER}/@{handle}"
        else:
            person.handle = handle
            person.url = NETWORKS[network].profile_url.format(
                handle=handle, url=f"https://example.invalid/{handle}"
            )
        if network == "github":
            person.links = (f"https://{DEMO_MASTODON_SERVER}/@{handle}",)


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
    """Read the network's API with its producer in :data:`LIVE`."""
    fetch = LIVE.get(connection.network)
    if fetch is None:
        label = NETWORKS[connection.network].label
        raise NetworkError(f"Live sync of {label} is not available in this version yet.")
    return fetch(connection, run, progress)


PRODUCERS: dict[str, Producer] = {
    "demo": produce_demo,
    "import": produce_import,
    "live": produce_live,
    "public": produce_live,
}
