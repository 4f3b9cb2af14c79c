"""Sync a 5,000-follower account from each local fake API and print what it cost.

For each network: requests made against the minimum the API allows (formula below, computed
from the fake's world), wall time and peak Python memory (tracemalloc; the fake server runs
in the same process, so its allocations are included).

Minimum formulas (F followers, G friends, P people, S chosen people with f(s) follows each,
E events / N posts)::

    GitHub    1 + ceil(F/100) + ceil(G/100) + P + sum ceil(f(s)/100) + min(3, ceil(E/100))
    Mastodon  1 + floor(F/80)+1 + floor(G/80)+1 + sum (floor(f(s)/80)+1) + floor(N/40)+1
    Bluesky   1 + ceil(F/100) + ceil(G/100) + ceil(P/25) + sum ceil(f(s)/100) + ceil(N/100)

(sums over chosen people with f(s) > 0; Mastodon pages end only on a short page.)

Raw reference, same run: the very requests the fetcher made (the fake's log), replayed in
order with a bare ``requests.Session`` and ``.json()`` against the same fake server, so the
ratio is what the connector adds (paging, retries, parsing into records) over the HTTP
round trips themselves. Printed as "figure | project | raw | ratio" (``report.py``).

Run: ``.venv/bin/python -m benchmarks.fetch_bench [--followers 5000] [--max-people 2000]``
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import requests
from report import Report

from app.networks.base import AccountData
from app.networks.bluesky.fetcher import fetch_bluesky
from app.networks.github.fetcher import fetch_github
from app.networks.http import ApiClient, graph_candidates
from app.networks.mastodon.fetcher import fetch_mastodon
from tests.fakes.bluesky import FakeBluesky
from tests.fakes.github import EVENTS_MAX, FakeGitHub
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.server import FakeServer
from tests.fakes.world import World, big_world


def chosen(world: World, max_people: int) -> list[int]:
    owner = world.owner_id
    ids = graph_candidates(
        [str(i) for i in world.followers(owner)],
        [str(i) for i in world.following(owner)],
        max_people,
    )
    return [int(i) for i in ids]


def minimum_github(world: World, max_people: int) -> int:
    owner = world.owner_id
    return (
        1
        + max(1, math.ceil(len(world.followers(owner)) / 100))
        + max(1, math.ceil(len(world.following(owner)) / 100))
        + len(world.people())
        + sum(math.ceil(len(world.following(p)) / 100) for p in chosen(world, max_people))
        + min(3, max(1, math.ceil(min(len(world.posts), EVENTS_MAX) / 100)))
    )


def minimum_mastodon(world: World, max_people: int) -> int:
    owner = world.owner_id

    def visible(p: int) -> int:
        follows = world.following(p)
        if world.accounts[p].domain:
            follows = [t for t in follows if not world.accounts[t].domain]
        return len(follows)

    # Mastodon orders the owner's lists newest first, so the chosen set is built the same way
    ids = graph_candidates(
        [str(i) for i in reversed(world.followers(owner))],
        [str(i) for i in reversed(world.following(owner))],
        max_people,
    )
    return (
        1
        + len(world.followers(owner)) // 80
        + 1
        + len(world.following(owner)) // 80
        + 1
        + sum(visible(int(p)) // 80 + 1 for p in ids if world.following(int(p)))
        + len(world.posts) // 40
        + 1
    )


def minimum_bluesky(world: World, max_people: int) -> int:
    owner = world.owner_id
    ids = graph_candidates(
        [str(i) for i in reversed(world.followers(owner))],
        [str(i) for i in reversed(world.following(owner))],
        max_people,
    )
    return (
        1
        + max(1, math.ceil(len(world.followers(owner)) / 100))
        + max(1, math.ceil(len(world.following(owner)) / 100))
        + math.ceil(len(world.people()) / 25)
        + sum(math.ceil(len(world.following(int(p))) / 100) for p in ids)
        + max(1, math.ceil(len(world.posts) / 100))
    )


def replay(server: FakeServer, token: str | None) -> float:
    """Seconds to send the requests ``server`` logged again, bare: ``requests`` + ``json``."""
    sent = [r for r in server.requests if r.method == "GET"]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    started = time.perf_counter()
    with requests.Session() as session:
        for request in sent:
            response = session.get(server.url + request.target, headers=headers, timeout=30)
            if response.headers.get("Content-Type", "").startswith("application/json"):
                response.json()
    return time.perf_counter() - started


def run(
    name: str,
    server: FakeServer,
    token: str | None,
    fetch: Callable[[ApiClient], AccountData],
    minimum: int,
    report: Report,
    memory: bool = True,
) -> None:
    """Fetch through a client for ``server`` (named ``name`` in errors) and print the cost."""
    with server, ApiClient(server.url, token=token, service=name) as client:
        started = time.perf_counter()
        data = fetch(client)
        elapsed = time.perf_counter() - started
        made = len(server.requests)
        server.reset_log()
        fetch(client)
        raw = replay(server, token)
        peak = 0
        if memory:  # tracemalloc slows the fetch several times: a run of its own
            tracemalloc.start()
            fetch(client)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        report.add(f"{name} fetch, {made:,} requests", elapsed, raw, "s", "raw: bare replay")
    print(
        f"{name:<9} requests {made:>6} / minimum {minimum:>6}  "
        f"wall {elapsed:6.1f} s  ({made / elapsed:5.0f} req/s)  "
        + (f"peak {peak / 2**20:6.1f} MiB  " if memory else "")
        + f"people {len(data.people)}  edges {len(data.follows)}  "
        f"lists {len(data.lists_fetched)}  posts {len(data.posts)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--followers", type=int, default=5000)
    parser.add_argument("--friends", type=int, default=600)
    parser.add_argument("--max-people", type=int, default=2000)
    parser.add_argument("--only", choices=["github", "mastodon", "bluesky"])
    parser.add_argument(
        "--memory",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="one more fetch under tracemalloc for the peak memory (slow)",
    )
    args = parser.parse_args()
    world = big_world(
        n_followers=args.followers, n_friends=args.friends, n_mutual=min(300, args.friends)
    )
    n = args.max_people
    print(
        f"world: {len(world.followers(1))} followers, {len(world.following(1))} friends, "
        f"{len(world.people())} people, {len(world.posts)} posts; GRAPH_MAX_PEOPLE={n}"
    )
    report = Report("Live sync requests against the local fakes, wall seconds")
    jobs = {
        "github": lambda: run(
            "GitHub",
            FakeGitHub(world, rate_limit=10**9),
            "test-token",
            lambda client: fetch_github(client, max_people=n),
            minimum_github(world, n),
            report,
            args.memory,
        ),
        "mastodon": lambda: run(
            "Mastodon",
            FakeMastodon(world, rate_limit=10**9),
            "test-token",
            lambda client: fetch_mastodon(client, max_people=n, max_posts=10**6),
            minimum_mastodon(world, n),
            report,
            args.memory,
        ),
        "bluesky": lambda: run(
            "Bluesky",
            FakeBluesky(world, rate_limit=10**9),
            None,
            lambda client: fetch_bluesky(
                client, "owner.bsky.social", max_people=n, max_posts=10**6
            ),
            minimum_bluesky(world, n),
            report,
            args.memory,
        ),
    }
    for key, job in jobs.items():
        if args.only in (None, key):
            job()
    report.print()


if __name__ == "__main__":
    main()
