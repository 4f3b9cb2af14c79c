"""Deterministic synthetic accounts for ``manage.py demo``, tests and benchmarks.

The data has the shape of a real account: communities of people who follow each other more
than they follow outsiders, heavy-tailed follower counts, about a third of followers followed
back, and two years of posts with mixed sentiment and responses. It only contains what the
chosen network can really provide (:data:`app.networks.CONNECTORS`): no counts and no edges
among people for LinkedIn, Facebook and Instagram, and LinkedIn connections are both
followers and friends.
"""

from __future__ import annotations

import math
import random
import zlib
from collections.abc import MutableMapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from app.networks import CONNECTORS
from app.networks.base import (
    AccountData,
    Connector,
    Edges,
    Follow,
    PeopleSpool,
    Person,
    Post,
)
from app.networks.ids import IdSet

DEMO_BIO = "Demo account"
#: Share of followers the owner follows back.
RECIPROCITY = 0.35
#: Share of people whose own following list is "fetched" on networks with edges.
FETCHED_SHARE = 0.9
#: Random handles tried before a numbered one is taken (the pools hold 1.3M handles).
HANDLE_TRIES = 20
#: Accounts of more people than this keep them in a :class:`~app.networks.base.PeopleSpool`
#: (a temporary file) rather than in memory.
SPOOL_FROM = 50_000
#: Chance that a follow edge stays inside the person's community.
IN_COMMUNITY = 0.8

FIRST = [
    "ana",
    "lee",
    "sam",
    "kim",
    "alex",
    "jo",
    "maria",
    "omar",
    "li",
    "wei",
    "noah",
    "emma",
    "liam",
    "olivia",
    "ava",
    "mia",
    "zoe",
    "ivan",
    "sofia",
    "lucas",
    "nina",
    "raj",
    "priya",
    "yuki",
    "hana",
    "leo",
    "max",
    "ella",
    "finn",
    "ruby",
    "kai",
    "aria",
    "ben",
    "chloe",
    "dan",
    "eva",
    "felix",
    "gina",
    "hugo",
    "iris",
    "jack",
    "kate",
    "luke",
    "mona",
    "ned",
    "opal",
    "paul",
    "quinn",
    "rosa",
    "tom",
    "una",
    "vic",
]
LAST = [
    "lee",
    "smith",
    "chen",
    "garcia",
    "khan",
    "novak",
    "silva",
    "kowalski",
    "muller",
    "rossi",
    "dubois",
    "tanaka",
    "park",
    "nguyen",
    "patel",
    "santos",
    "ivanova",
    "berg",
    "fischer",
    "costa",
    "moreau",
    "okafor",
    "haddad",
    "larsen",
    "reyes",
]
#: Word banks for demo posts: verbs, adjectives and feelings, so sentences read right.
POSITIVE_VERB = ["love", "enjoy", "adore", "like"]
POSITIVE = [
    "great",
    "awesome",
    "wonderful",
    "excellent",
    "brilliant",
    "fantastic",
    "amazing",
    "lovely",
    "nice",
]
POSITIVE_FEEL = ["happy", "excited", "proud", "delighted", "grateful", "thrilled"]
NEGATIVE_VERB = ["hate", "dislike", "regret", "dread"]
NEGATIVE = [
    "terrible",
    "awful",
    "horrible",
    "disappointing",
    "broken",
    "frustrating",
    "ugly",
    "painful",
    "bad",
]
NEGATIVE_FEEL = ["sad", "angry", "annoyed", "upset", "miserable"]
TOPICS = [
    "the release",
    "the new build",
    "this library",
    "our meetup",
    "the conference",
    "the weather",
    "my commute",
    "the migration",
    "the docs",
    "this week",
    "the update",
    "the talk",
    "the train",
    "the coffee",
    "the test suite",
]
NEUTRAL = (
    "Reading about {t} today.",
    "Notes on {t} are in the repo.",
    "Working on {t} this afternoon.",
    "Thread about {t} below.",
    "Moved {t} to Tuesday.",
)
POSITIVE_T = (
    "I {verb} {t}, it is {adj}!",
    "So {feel} about {t}. Really {adj} work by everyone.",
    "{t} was {adj} :)",
)
NEGATIVE_T = (
    "{t} is {adj} again.",
    "Really {adj} experience with {t}. So {feel}.",
    "I {verb} how {t} turned out :(",
)
KINDS = {
    "github": ("issue", "pull_request", "comment", "push"),
    "mastodon": ("post", "reply"),
    "bluesky": ("post", "reply"),
    "x": ("post", "reply"),
}


def _rng(network: str, seed: int, salt: str = "") -> random.Random:
    key = zlib.crc32(f"{network}:{seed}:{salt}".encode())
    return random.Random(key)  # noqa: S311 - demo data, not security


def _handles(rng: random.Random, count: int, taken: set[str]) -> list[str]:
    """``count`` new handles, none in ``taken``. Random ones from the name pools first; when
    the pools run short (over a million people), a handle numbered past the pools' range."""
    out = []
    for _ in range(count):
        for _attempt in range(HANDLE_TRIES):
            handle = f"{rng.choice(FIRST)}_{rng.choice(LAST)}{rng.randint(1, 999)}"
            if handle not in taken:
                break
        else:  # numbers from 1000 on never come from the pools, and len(taken) only grows
            handle = f"{rng.choice(FIRST)}_{rng.choice(LAST)}{1000 + len(taken)}"
        taken.add(handle)
        out.append(handle)
    return out


def _person(rng: random.Random, pid: str, handle: str, info: Connector) -> Person:
    name = " ".join(part.capitalize() for part in handle.rstrip("0123456789").split("_"))
    followers_count = following_count = None
    if info.people_counts:
        followers_count = int(rng.lognormvariate(4.5, 1.6))
        following_count = int(rng.lognormvariate(5.0, 1.0))
    return Person(
        external_id=pid,
        handle=handle,
        name=name,
        url=info.profile_url.format(handle=handle, url=f"https://example.invalid/{handle}"),
        followers_count=followers_count,
        following_count=following_count,
        bio=DEMO_BIO,
    )


def _text(rng: random.Random, network: str) -> str:
    roll = rng.random()
    topic = rng.choice(TOPICS)
    if roll < 0.4:
        body = rng.choice(POSITIVE_T).format(
            verb=rng.choice(POSITIVE_VERB),
            adj=rng.choice(POSITIVE),
            feel=rng.choice(POSITIVE_FEEL),
            t=topic,
        )
    elif roll < 0.65:
        body = rng.choice(NEGATIVE_T).format(
            verb=rng.choice(NEGATIVE_VERB),
            adj=rng.choice(NEGATIVE),
            feel=rng.choice(NEGATIVE_FEEL),
            t=topic,
        )
    else:
        body = rng.choice(NEUTRAL).format(t=topic)
    body = body[0].upper() + body[1:]
    if rng.random() < 0.15:
        body += f" https://example.org/{rng.randint(1, 9999)}"
    if network == "mastodon":
        body = f"<p>{body.replace('&', '&amp;')}</p>"
    return body


def _posts(
    rng: random.Random, network: str, info: Connector, count: int, years: float, now: datetime
) -> list[Post]:
    span = years * 365.25 * 86400
    counts_known = info.door is not None and info.people_counts
    kinds = KINDS.get(network, ("post",))
    posts = []
    for number in range(count):
        # More posts in recent months, more in the evening.
        age = span * (1 - math.sqrt(rng.random()))
        created = now - timedelta(seconds=age)
        hour = min(23, max(0, int(rng.gauss(17, 4))))
        created = created.replace(hour=hour)
        if created > now:
            created -= timedelta(days=1)
        is_repost = rng.random() < 0.08
        kind = rng.choice(kinds)
        text = _text(rng, network)
        if is_repost:
            text = "" if network != "x" else f"RT @{rng.choice(FIRST)}: {text}"
        elif rng.random() < 0.03:
            text = f"https://example.org/link/{number}"
        replies = likes = reposts = None
        first_response = None
        if counts_known and not is_repost:
            quiet = rng.random() < 0.25
            replies = 0 if quiet else int(rng.expovariate(0.6))
            likes = 0 if quiet else int(rng.lognormvariate(1.2, 1.2))
            reposts = None if network == "github" else (0 if quiet else int(rng.expovariate(1.0)))
            if replies and rng.random() < 0.7:
                first_response = created + timedelta(seconds=int(rng.lognormvariate(7.5, 1.5)))
        posts.append(
            Post(
                external_id=f"{network}-post-{number}",
                created_at=created,
                text=text,
                url=f"https://example.invalid/{network}/posts/{number}",
                kind="repost" if is_repost else kind,
                reply_count=replies,
                like_count=likes,
                repost_count=reposts,
                is_repost=is_repost,
                first_response_at=first_response,
            )
        )
    posts.sort(key=lambda p: (p.created_at, p.external_id))
    return posts


def _edges(
    rng: random.Random,
    ids: list[str],
    community: list[int],
    per_person: float,
    fetched: list[bool],
) -> Edges:
    """Follows among ``ids``, mostly within a community; only those of people whose list
    was read (``fetched``, by position) are kept, as compact :class:`~app.networks.base.Edges`."""
    groups: dict[int, list[str]] = {}
    for pid, group in zip(ids, community, strict=True):
        groups.setdefault(group, []).append(pid)
    follows = Edges()
    for pid, group, keep in zip(ids, community, fetched, strict=True):
        degree = min(len(ids) - 1, round(rng.expovariate(1 / per_person))) if per_person else 0
        own = groups[group]
        for _ in range(degree):
            pool = own if rng.random() < IN_COMMUNITY and len(own) > 1 else ids
            target = rng.choice(pool)
            if target != pid and keep:
                follows.add_pair(pid, target)
    return follows


def make_account(
    network: str,
    followers: int,
    friends: int | None = None,
    posts: int = 500,
    edges_per_person: float = 6.0,
    seed: int = 0,
    years: float = 2.0,
    now: datetime | None = None,
) -> AccountData:
    """Make one synthetic account; the same arguments always give the same data.

    :param network: a key of :data:`app.networks.CONNECTORS`.
    :param followers: number of followers.
    :param friends: number of people followed; default 80% of ``followers``. Ignored for
        LinkedIn, where connections are both.
    :param posts: number of posts, spread over ``years`` up to ``now``.
    :param edges_per_person: mean follows per person among the other people (networks
        with edges only).
    :param seed: random seed.
    :param years: how far back posts go.
    :param now: end of the post period; default: today at 00:00 UTC.
    :returns: the account data, ``Origin.DEMO``-style (owner bio "Demo account").
    :raises ValueError: for an unknown network or negative sizes.
    """
    info = CONNECTORS.get(network)
    if info is None:
        raise ValueError(f"unknown network {network!r}")
    if followers < 0 or (friends is not None and friends < 0) or posts < 0:
        raise ValueError("sizes must not be negative")
    now = now or datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    rng = _rng(network, seed)
    n_friends = round(followers * 0.8) if friends is None else friends
    if network == "linkedin":
        n_friends = followers
        mutual = followers
    else:
        mutual = min(n_friends, round(followers * RECIPROCITY))
    total = followers + n_friends - mutual
    ids = [f"{network[:2]}{1000 + i}" for i in range(total)]
    follower_ids = ids[:followers]
    friend_ids = ids[followers - mutual : followers - mutual + n_friends]

    taken: set[str] = set()
    owner_handle = _handles(rng, 1, taken)[0]
    handles = _handles(rng, total, taken)
    people: MutableMapping[str, Person] = PeopleSpool() if total > SPOOL_FROM else {}
    for pid, handle in zip(ids, handles, strict=True):
        people[pid] = _person(rng, pid, handle, info)
    del handles, taken

    n_groups = max(1, min(12, round(math.log2(total + 1) / 1.5)))
    weights = [rng.uniform(0.5, 3.0) for _ in range(n_groups)]
    community = rng.choices(range(n_groups), weights=weights, k=total)  # by position in ids

    follows = Edges()
    fetched: list[bool] = []
    if info.edges and total:
        fetched = [rng.random() < FETCHED_SHARE for _ in ids]
        follows = _edges(rng, ids, community, edges_per_person, fetched)
    del community
    read = IdSet(follows.ids, (pid for pid, known in zip(ids, fetched, strict=False) if known))
    del fetched

    owner = Person(
        external_id=f"{network}-owner",
        handle=owner_handle,
        name="Demo Owner",
        url=info.profile_url.format(
            handle=owner_handle, url=f"https://example.invalid/{owner_handle}"
        ),
        followers_count=followers,
        following_count=n_friends,
        posts_count=posts,
        bio=f"{DEMO_BIO}: synthetic data, not a real person.",
    )
    return AccountData(
        owner=owner,
        people=people,
        followers=follower_ids,
        friends=friend_ids,
        follows=follows,
        lists_fetched=read,
        posts=_posts(_rng(network, seed, "posts"), network, info, posts, years, now),
        notes=list(info.notes),
    )


def evolve(data: AccountData, seed: int, gained: int, lost: int) -> AccountData:
    """Make another snapshot of ``data`` with ``gained`` new and ``lost`` departed followers.

    ``data`` is not changed. New followers get counts (where the network has them) and a
    few follows to existing followers; departed followers who are not friends leave
    ``people`` and their edges go. On LinkedIn the change applies to connections (both
    lists).

    :param data: the snapshot to start from (made by :func:`make_account`).
    :param seed: random seed for this step.
    :param gained: followers to add.
    :param lost: followers to remove (at most all of them).
    :returns: a new :class:`AccountData`.
    """
    network = data.owner.external_id.removesuffix("-owner")
    info = CONNECTORS[network]
    rng = _rng(network, seed, "evolve")
    followers = list(data.followers or [])
    friends = list(data.friends or [])
    gone = set(rng.sample(sorted(followers), min(lost, len(followers))))
    linkedin = network == "linkedin"
    followers = [pid for pid in followers if pid not in gone]
    if linkedin:
        friends = [pid for pid in friends if pid not in gone]
    keep_people = set(followers) | set(friends)
    people = {pid: p for pid, p in data.people.items() if pid in keep_people}
    follows = {e for e in data.follows if e.source in keep_people and e.target in keep_people}
    fetched = {pid for pid in data.lists_fetched if pid in keep_people}

    taken = {p.handle for p in data.people.values()} | {data.owner.handle}
    start = max((int(pid[2:]) for pid in data.people), default=999) + 1
    new_ids = [f"{network[:2]}{start + i}" for i in range(gained)]
    for pid, handle in zip(new_ids, _handles(rng, gained, taken), strict=True):
        people[pid] = _person(rng, pid, handle, info)
        if info.edges:
            fetched.add(pid)
            for target in rng.sample(followers, min(len(followers), 3)):
                follows.add(Follow(pid, target))
    followers += new_ids
    if linkedin:
        friends += new_ids
    owner = replace(data.owner, followers_count=len(followers), following_count=len(friends))
    return replace(
        data,
        owner=owner,
        people=people,
        followers=followers,
        friends=friends,
        follows=follows,
        lists_fetched=fetched,
        posts=list(data.posts),
        notes=list(data.notes),
    )
