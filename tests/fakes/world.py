"""A deterministic social graph and post history that the fake API servers serve.

One :class:`World` is network-neutral: accounts, ordered follow lists and the owner's posts.
Each fake server renders it in its network's JSON shapes. :func:`small_world` is the
hand-made case the pages are specified with (Bob and Rick follow me, Andrew follows me and
both of them, so Andrew's "follows N of my followers" is 2); :func:`big_world` builds a
large random but reproducible graph for pagination tests and the benchmark.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

#: "Now" in every world, so post ages and GitHub's 90-day window are reproducible.
WORLD_NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@dataclass
class Account:
    """One account in the world.

    :param id: numeric id (GitHub user id, Mastodon account id; the DID is derived).
    :param handle: login / username (for Bluesky, the handle without ``.bsky.social``
        unless :attr:`domain_handle` is set).
    :param domain: Mastodon: the remote server this account lives on (``None`` = local).
    :param hidden: Mastodon: the account hides its follower/following collections.
    :param domain_handle: Bluesky: a domain handle (``andrew.dev``) instead of
        ``<handle>.bsky.social``.
    """

    id: int
    handle: str
    name: str = ""
    bio: str = ""
    domain: str | None = None
    hidden: bool = False
    twitter: str | None = None
    blog: str | None = None
    domain_handle: str | None = None
    created_at: datetime = datetime(2020, 1, 1, tzinfo=UTC)


@dataclass
class WorldPost:
    """Something the owner published; ``kind`` is ``post``, ``reply`` or ``repost``."""

    id: int
    created_at: datetime
    text: str
    kind: str = "post"
    replies: int = 0
    likes: int = 0
    reposts: int = 0
    reply_to: int | None = None


@dataclass
class World:
    """Accounts, who follows whom (in follow order) and the owner's posts (newest first)."""

    owner_id: int
    accounts: dict[int, Account] = field(default_factory=dict)
    posts: list[WorldPost] = field(default_factory=list)
    _following: dict[int, list[int]] = field(default_factory=dict)
    _followers: dict[int, list[int]] = field(default_factory=dict)
    _edges: set[tuple[int, int]] = field(default_factory=set)
    _handles: dict[str, int] = field(default_factory=dict)

    @property
    def owner(self) -> Account:
        return self.accounts[self.owner_id]

    def add(self, account: Account) -> Account:
        self.accounts[account.id] = account
        self._handles[account.handle] = account.id
        if account.domain_handle:
            self._handles[account.domain_handle] = account.id
        self._following.setdefault(account.id, [])
        self._followers.setdefault(account.id, [])
        return account

    def follow(self, source: int, target: int) -> None:
        """Record that ``source`` follows ``target`` (idempotent)."""
        if source == target or (source, target) in self._edges:
            return
        self._edges.add((source, target))
        self._following[source].append(target)
        self._followers[target].append(source)

    def following(self, uid: int) -> list[int]:
        """Ids ``uid`` follows, oldest follow first."""
        return self._following[uid]

    def followers(self, uid: int) -> list[int]:
        """Ids following ``uid``, oldest follow first."""
        return self._followers[uid]

    def follows(self, source: int, target: int) -> bool:
        return (source, target) in self._edges

    def by_handle(self, handle: str) -> Account | None:
        uid = self._handles.get(handle)
        return self.accounts[uid] if uid is not None else None

    # -- expectations used by the tests ----------------------------------------------

    def people(self) -> list[int]:
        """Followers then friends of the owner, each once."""
        seen = dict.fromkeys(self.followers(self.owner_id))
        seen.update(dict.fromkeys(self.following(self.owner_id)))
        return list(seen)

    def circle_edges(self) -> set[tuple[int, int]]:
        """Follow edges whose source is a person and whose target is a person or the owner,
        excluding the owner's own edges (those are the follower/friend lists)."""
        circle = set(self.people()) | {self.owner_id}
        people = set(self.people())
        return {(s, t) for (s, t) in self._edges if s in people and t in circle}


def small_world() -> World:
    """The hand-made graph the pages are specified with.

    Followers of me: bob, rick, andrew, dave, erin. I follow: carol, dave, andrew, gus.
    Andrew follows me, bob and rick (so 2 of my followers) and zed (an outsider).
    Carol lives on another Mastodon server and follows bob, dave and zed; the owner's server
    knows only her follows of local accounts. Rick hides his collections on Mastodon.
    Erin follows nobody but me; Gus (whom I follow) follows nobody at all. Bob links his X
    account and blog; Andrew has a domain handle on Bluesky.
    """
    world = World(owner_id=1)
    add = world.add
    add(Account(1, "me", "Me Myself", "I analyse myself.", blog="https://me.example"))
    add(Account(2, "bob", "Bob", "Bob's bio", twitter="bobtweets", blog="bob.example"))
    add(Account(3, "rick", "Rick", hidden=True))
    add(Account(4, "andrew", "Andrew", domain_handle="andrew.example"))
    add(Account(5, "carol", "Carol", domain="other.example"))
    add(Account(6, "dave", "Dave"))
    add(Account(7, "erin", "Erin"))
    add(Account(8, "zed", "Zed", domain="far.example"))
    add(Account(9, "frank", "Frank"))
    add(Account(10, "gus", "Gus"))
    for source, target in [
        (2, 1),
        (3, 1),
        (4, 1),
        (6, 1),
        (1, 5),
        (1, 6),
        (1, 4),
        (7, 1),
        (4, 2),
        (4, 3),
        (4, 8),
        (5, 2),
        (5, 6),
        (5, 8),
        (6, 4),
        (2, 9),
        (3, 1),
        (9, 2),
        (8, 5),
        (1, 10),
    ]:
        world.follow(source, target)
    base = WORLD_NOW - timedelta(days=1)
    world.posts = [
        WorldPost(106, base, "Thanks Bob & <co>!", "reply", replies=0, likes=2, reply_to=9001),
        WorldPost(105, base - timedelta(hours=5), "Boosted thing", "repost"),
        WorldPost(
            104,
            base - timedelta(days=2),
            "First paragraph.\n\nSecond paragraph\nwith a break.",
            "post",
            replies=3,
            likes=10,
            reposts=4,
        ),
        WorldPost(103, base - timedelta(days=10), "Quiet post", "post"),
        WorldPost(102, base - timedelta(days=30), "Another one", "post", likes=1),
        WorldPost(101, base - timedelta(days=60), "Old post", "post", replies=1),
    ]
    return world


def big_world(
    n_followers: int = 5000,
    n_friends: int = 600,
    n_mutual: int = 300,
    n_outsiders: int = 200,
    n_posts: int = 400,
    max_out_degree: int = 40,
    seed: int = 7,
) -> World:
    """A large reproducible graph: the owner (id 1) with ``n_followers`` followers and
    ``n_friends`` friends (``n_mutual`` of them both), plus outsiders. Each person follows
    0..``max_out_degree`` random others; about one in ten follows nobody."""
    rng = random.Random(seed)
    world = World(owner_id=1)
    world.add(Account(1, "owner", "The Owner", "big account"))
    n_people = n_followers + n_friends - n_mutual
    total = 1 + n_people + n_outsiders
    for uid in range(2, total + 1):
        world.add(
            Account(
                uid,
                f"user{uid}",
                f"User {uid}",
                twitter=f"tw{uid}" if uid % 17 == 0 else None,
                blog=f"https://blog{uid}.example" if uid % 13 == 0 else None,
                domain="remote.example" if uid % 11 == 0 else None,
                domain_handle=f"user{uid}.example" if uid % 19 == 0 else None,
            )
        )
    people = list(range(2, 2 + n_people))
    followers = people[:n_followers]
    friends = people[n_followers - n_mutual :]
    for uid in followers:
        world.follow(uid, 1)
    for uid in friends:
        world.follow(1, uid)
    everyone = list(range(2, total + 1))
    for uid in everyone:
        if rng.random() < 0.1:
            continue
        for target in rng.sample(everyone, rng.randint(1, max_out_degree)):
            world.follow(uid, target)
    kinds = ["post", "post", "reply", "repost"]
    for i in range(n_posts):
        kind = kinds[i % len(kinds)]
        world.posts.append(
            WorldPost(
                10_000 + n_posts - i,
                WORLD_NOW - timedelta(hours=3 * i + 1),
                f"Post number {n_posts - i} with some words",
                kind,
                replies=i % 3,
                likes=i % 5,
                reposts=i % 2,
                reply_to=5000 + i if kind == "reply" else None,
            )
        )
    return world
