"""Per-network modules and the registry of what each network can provide.

Each network lives in its own subpackage (``github``, ``mastodon``...) with its OAuth
registration, live fetcher and archive importer, all producing :mod:`app.networks.base`
records. :data:`NETWORKS` says, per network, which numbers can exist at all, so pages can
say "not published" instead of showing a made-up zero.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class NetworkInfo:
    """What one network is and what it can give.

    :param key: URL slug and database value (``github``).
    :param label: the name shown to people (``GitHub``).
    :param connect: how the live door works: ``oauth``, ``instance`` (OAuth on a server the
        user names), ``handle`` (public reads by handle) or ``None`` (import only).
    :param people_counts: whether follower/friend counts of other people are known.
    :param edges: whether follow relations among other people can be read.
    :param notes: sentences shown on the page for numbers this network cannot provide.
    """

    key: str
    label: str
    connect: str | None
    people_counts: bool
    edges: bool
    profile_url: str
    notes: tuple[str, ...] = ()
    archive_hint: str = ""


NETWORKS: dict[str, NetworkInfo] = {
    info.key: info
    for info in (
        NetworkInfo(
            "github",
            "GitHub",
            "oauth",
            people_counts=True,
            edges=True,
            profile_url="https://github.com/{handle}",
            notes=(
                "GitHub keeps public events for 90 days and at most 300 of them, so older "
                "activity is not shown.",
            ),
        ),
        NetworkInfo(
            "mastodon",
            "Mastodon",
            "instance",
            people_counts=True,
            edges=True,
            profile_url="{url}",
            archive_hint="Preferences > Import and export > Request your archive",
        ),
        NetworkInfo(
            "bluesky",
            "Bluesky",
            "handle",
            people_counts=True,
            edges=True,
            profile_url="https://bsky.app/profile/{handle}",
            archive_hint="Settings > Account > Export my data (a .car file)",
        ),
        NetworkInfo(
            "x",
            "X / Twitter",
            "oauth",
            people_counts=True,
            edges=True,
            profile_url="https://x.com/{handle}",
            notes=(
                "X returns at most the 3,200 newest posts, and every read is billed: "
                "follower-of-follower links are read only when you switch them on.",
            ),
            archive_hint="Settings > Your account > Download an archive of your data",
        ),
        NetworkInfo(
            "facebook",
            "Facebook",
            "oauth",
            people_counts=False,
            edges=False,
            profile_url="https://www.facebook.com/{handle}",
            notes=(
                "Facebook lists only friends who also use this app; the archive gives names only.",
                "Facebook does not publish who your friends are friends with.",
            ),
            archive_hint="Settings > Your Facebook information > Download your information (JSON)",
        ),
        NetworkInfo(
            "linkedin",
            "LinkedIn",
            "oauth",
            people_counts=False,
            edges=False,
            profile_url="{url}",
            notes=(
                "LinkedIn does not publish who your connections are connected to, nor their "
                "connection counts.",
            ),
            archive_hint="Settings > Data privacy > Get a copy of your data",
        ),
        NetworkInfo(
            "instagram",
            "Instagram",
            None,
            people_counts=False,
            edges=False,
            profile_url="https://www.instagram.com/{handle}",
            notes=(
                "Instagram has no API for personal accounts: everything comes from your "
                "data download, which has no follower counts and no links among others.",
            ),
            archive_hint="Accounts Center > Your information and permissions > Download your "
            "information (JSON)",
        ),
    )
}


def get_network(key: str) -> NetworkInfo | None:
    """Return the :class:`NetworkInfo` for ``key``, or ``None`` for an unknown network."""
    return NETWORKS.get(key)
