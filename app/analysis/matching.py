"""Cross-network check: the same person among your followers and friends on several networks.

Matches are found three ways, strongest first:

* **link**: a profile links to the other profile (GitHub's ``twitter_username`` and blog,
  Mastodon's verified links, a Bluesky handle that is a domain);
* **handle**: the same handle on both networks (``@ada`` and ``@ada@hachyderm.io``);
* **name**: the same display name, a weak signal shown as such.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any
from urllib.parse import urlsplit

CONFIDENCE = {"link": 0.95, "handle": 0.7, "name": 0.3}
#: Handles this short or this common match too many strangers to count as evidence.
MIN_HANDLE = 3
MAX_MATCHES_LISTED = 300
#: A handle or name shared by more people than this says nothing about any one of them.
MAX_SHARED = 8

_SPACE = re.compile(r"\s+")


@dataclass(slots=True)
class Member:
    """A follower or friend on one network, as the cross-check needs it."""

    network: str
    external_id: str
    handle: str
    name: str | None = None
    url: str | None = None
    links: tuple[str, ...] = ()
    is_follower: bool = False
    is_friend: bool = False


@dataclass
class Match:
    """One person seen on several networks, with the evidence."""

    members: dict[str, Member]
    evidence: list[str] = field(default_factory=list)
    confidence: float = 0.0


def handle_key(handle: str) -> str | None:
    """The comparable part of a handle: lower case, no ``@``, no Mastodon server."""
    local = handle.strip().lstrip("@").split("@", 1)[0].lower()
    if local.endswith(".bsky.social"):
        local = local.removesuffix(".bsky.social")
    if len(local) < MIN_HANDLE or local.isdigit():
        return None  # X archive ids and tiny handles are not evidence
    return local


def url_key(url: str) -> str | None:
    """A link reduced to host and path, so ``https://x.com/Ada/`` equals ``x.com/ada``."""
    if not url:
        return None
    parts = urlsplit(url if "://" in url else f"https://{url}")
    host = (parts.hostname or "").lower().removeprefix("www.")
    if not host:
        return None
    host = {"twitter.com": "x.com", "mobile.twitter.com": "x.com"}.get(host, host)
    return host + parts.path.rstrip("/").lower()


def name_key(name: str | None) -> str | None:
    """A display name folded for comparison; one-word names are too weak to use."""
    if not name:
        return None
    folded = _SPACE.sub(" ", name).strip().casefold()
    return folded if " " in folded else None


def _profile_keys(member: Member) -> set[str]:
    keys = set()
    if member.url and (key := url_key(member.url)):
        keys.add(key)
    if "." in member.handle and member.network == "bluesky":
        keys.add(member.handle.lower())  # a domain handle is its own address
    return keys


#: Kinds of match key (:func:`member_keys`): a profile's own address, an address it links
#: to, a handle, a name. Links are compared with profile addresses, the others with their own.
PROFILE, LINK, HANDLE, NAME = range(4)


def member_keys(member: Member) -> Iterator[tuple[int, str]]:
    """Every ``(kind, key)`` :func:`find_matches` may match ``member`` by: two people can
    only be matched if one's key equals the other's (a link's equals a profile's)."""
    for key in _profile_keys(member):
        yield PROFILE, key
    for link in member.links:
        if address := url_key(link):
            yield LINK, address
            yield LINK, address.split("/", 1)[0]
    if handle := handle_key(member.handle):
        yield HANDLE, handle
    if name := name_key(member.name):
        yield NAME, name


class _Grouping:
    """Union-find over every member, with the evidence that joined each group."""

    def __init__(self, members: list[Member]) -> None:
        self.members = members
        self.parent = list(range(len(members)))
        self.evidence: dict[int, set[tuple[str, str]]] = defaultdict(set)

    def find(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def join(self, i: int, j: int, kind: str, detail: str) -> None:
        if self.members[i].network == self.members[j].network:
            return
        root_i, root_j = self.find(i), self.find(j)
        if root_i != root_j:
            self.parent[root_j] = root_i
            self.evidence[root_i] |= self.evidence.pop(root_j, set())
        self.evidence[self.find(i)].add((kind, detail))

    def join_links(self, by_profile: Mapping[str, list[int]]) -> None:
        """People whose profile links to another network's profile of theirs."""
        members = self.members
        for index, member in enumerate(members):
            for link in member.links:
                key = url_key(link)
                host_only = key.split("/", 1)[0] if key else None
                for target in by_profile.get(key or "", []) + by_profile.get(host_only or "", []):
                    other = members[target]
                    detail = (
                        f"{member.network} @{member.handle} links to "
                        f"{other.network} @{other.handle}"
                    )
                    self.join(index, target, "link", detail)

    def join_handles(self, by_handle: Mapping[str, list[int]]) -> None:
        """People with the same distinctive handle (not one shared by too many)."""
        for key, indexes in by_handle.items():
            if len(indexes) > MAX_SHARED:
                continue
            for i, j in combinations(indexes, 2):
                self.join(i, j, "handle", f"same handle @{key}")

    def join_names(self, by_name: Mapping[str, list[int]]) -> None:
        """Names are weak evidence: they only pair people no link or handle has matched, so
        a common name never merges two people who were told apart by stronger evidence."""
        members = self.members
        strong_roots: dict[int, set[str]] = defaultdict(set)
        for index, member in enumerate(members):
            strong_roots[self.find(index)].add(member.network)
        matched = {root for root, networks in strong_roots.items() if len(networks) > 1}
        for indexes in by_name.values():
            free = [i for i in indexes if self.find(i) not in matched]
            if len(free) > MAX_SHARED:
                continue
            for i, j in combinations(free, 2):
                if members[i].network != members[j].network and self.find(i) != self.find(j):
                    self.join(i, j, "name", f"same name {members[i].name}")

    def matches(self) -> list[Match]:
        """The groups spanning at least two networks, strongest first."""
        groups: dict[int, list[Member]] = defaultdict(list)
        for index, member in enumerate(self.members):
            groups[self.find(index)].append(member)
        matches = []
        for root, group in groups.items():
            if len({member.network for member in group}) < 2:
                continue
            evidence = self.evidence.get(root, set())
            kinds = {kind for kind, _ in evidence}
            matches.append(
                Match(
                    members={member.network: member for member in group},
                    evidence=sorted(detail for _, detail in evidence),
                    confidence=max((CONFIDENCE[kind] for kind in kinds), default=0.0),
                )
            )
        matches.sort(key=lambda m: (-m.confidence, -len(m.members), sorted(m.members)[0]))
        return matches


def find_matches(people: Mapping[str, Iterable[Member]]) -> list[Match]:
    """Group people across networks by links, identical handles and identical names.

    :param people: followers and friends per network key.
    :returns: matches spanning at least two networks, strongest first.
    """
    members = [member for group in people.values() for member in group]
    by_profile: dict[str, list[int]] = defaultdict(list)
    by_handle: dict[str, list[int]] = defaultdict(list)
    by_name: dict[str, list[int]] = defaultdict(list)
    for index, member in enumerate(members):
        for profile in _profile_keys(member):
            by_profile[profile].append(index)
        if handle := handle_key(member.handle):
            by_handle[handle].append(index)
        if name := name_key(member.name):
            by_name[name].append(index)
    grouping = _Grouping(members)
    grouping.join_links(by_profile)
    grouping.join_handles(by_handle)
    grouping.join_names(by_name)
    return grouping.matches()


def people(count: int) -> str:
    """``1 person``, ``12 people``, ``1,204 people``."""
    return "1 person" if count == 1 else f"{count:,} people"


def summarise(matches: list[Match], labels: Mapping[str, str]) -> dict[str, Any]:
    """Counts per pair of networks and the listed matches, ready to store as JSON.

    :param labels: display names of the networks (``{"github": "GitHub"}``).
    """
    pairs: dict[tuple[str, str], dict[str, int]] = {}
    for match in matches:
        if match.confidence < CONFIDENCE["handle"]:
            continue  # weak matches are listed but not counted
        for first, second in combinations(sorted(match.members), 2):
            counts = pairs.setdefault(
                (first, second), {"people": 0, "follow_both": 0, "friends_both": 0}
            )
            counts["people"] += 1
            a, b = match.members[first], match.members[second]
            counts["follow_both"] += a.is_follower and b.is_follower
            counts["friends_both"] += a.is_friend and b.is_friend
    sentences = []
    for (first, second), counts in sorted(pairs.items(), key=lambda item: -item[1]["people"]):
        both = f"on both {labels[first]} and {labels[second]}."
        if counts["follow_both"]:
            sentences.append(
                f"{people(counts['follow_both'])} follow you {both}".replace(
                    "1 person follow ", "1 person follows "
                )
            )
        if counts["friends_both"]:
            sentences.append(f"You follow {people(counts['friends_both'])} {both}")
    return {
        "total": len(matches),
        "strong": sum(1 for m in matches if m.confidence >= CONFIDENCE["handle"]),
        "weak": sum(1 for m in matches if m.confidence < CONFIDENCE["handle"]),
        "sentences": sentences,
        "pairs": [
            {"networks": [first, second], **counts} for (first, second), counts in pairs.items()
        ],
        "matches": [
            {
                "confidence": match.confidence,
                "weak": match.confidence < CONFIDENCE["handle"],
                "evidence": match.evidence,
                "people": [
                    {
                        "network": member.network,
                        "handle": member.handle,
                        "name": member.name,
                        "url": member.url,
                        "follower": member.is_follower,
                        "friend": member.is_friend,
                    }
                    for _, member in sorted(match.members.items())
                ],
            }
            for match in matches[:MAX_MATCHES_LISTED]
        ],
    }


def _combination_counts(
    groups: Iterable[Mapping[str, tuple[bool, bool]]],
) -> list[dict[str, Any]]:
    """People per exact set of networks; ``groups`` maps network -> (follower, friend)."""
    counts: dict[tuple[str, ...], dict[str, int]] = {}
    for group in groups:
        key = tuple(sorted(group))
        row = counts.setdefault(key, {"people": 0, "follow_all": 0, "friends_all": 0})
        row["people"] += 1
        row["follow_all"] += all(follower for follower, _ in group.values())
        row["friends_all"] += all(friend for _, friend in group.values())
    ordered = sorted(counts.items(), key=lambda item: (-item[1]["people"], -len(item[0]), item[0]))
    return [{"networks": list(key), **row} for key, row in ordered]


def combinations_of(matches: Iterable[Match]) -> list[dict[str, Any]]:
    """The people found on each exact combination of networks (two, three or more), for the
    overlap chart: a person matched on GitHub, Mastodon and Bluesky counts once, under
    those three. Only link and handle matches count; weak name-only matches stay apart, as
    in :func:`summarise`'s pairs.

    :returns: ``{"networks": [...], "people": n, "follow_all": n, "friends_all": n}`` rows,
        most people first (``follow_all``: they follow you on every one of those networks).
    """
    return _combination_counts(
        {key: (member.is_follower, member.is_friend) for key, member in match.members.items()}
        for match in matches
        if match.confidence >= CONFIDENCE["handle"]
    )


def combinations_of_listed(listed: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """:func:`combinations_of` over stored matches (``summarise``'s ``matches`` rows), for
    checks stored before the combinations were (exact while no strong match was cut from
    the list)."""
    return _combination_counts(
        {person["network"]: (person["follower"], person["friend"]) for person in match["people"]}
        for match in listed
        if not match["weak"]
    )
