"""The demo accounts: one per network, sized like a real personal account there, with some
people who recur across networks (what the cross-network check looks for)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from app.demo.synthetic import evolve, make_account
from app.networks import CONNECTORS
from app.networks.base import AccountData

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
            person.url = CONNECTORS[network].profile_url.format(
                handle=handle, url=f"https://example.invalid/{handle}"
            )
        if network == "github":
            person.links = (f"https://{DEMO_MASTODON_SERVER}/@{handle}",)
