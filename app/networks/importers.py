"""The archive importers by network, and what to tell people about each archive.

:data:`IMPORTERS` maps a network key (as in :data:`app.networks.NETWORKS`) to its
:data:`~app.networks.base.Importer`; :func:`import_archive` runs the right one.
:data:`ARCHIVE_HELP` says, per network, which file to request, where in the network's
settings, and what this app reads from it.
"""

from __future__ import annotations

from app.networks.base import AccountData, ArchiveError, Importer, Progress
from app.networks.bluesky.importer import import_bluesky
from app.networks.facebook.importer import import_facebook
from app.networks.instagram.importer import import_instagram
from app.networks.linkedin.importer import import_linkedin
from app.networks.mastodon.importer import import_mastodon
from app.networks.x.importer import import_x

IMPORTERS: dict[str, Importer] = {
    "x": import_x,
    "facebook": import_facebook,
    "linkedin": import_linkedin,
    "instagram": import_instagram,
    "mastodon": import_mastodon,
    "bluesky": import_bluesky,
}

ARCHIVE_HELP: dict[str, str] = {
    "x": (
        "Request it in Settings and privacy > Your account > Download an archive of your data; "
        "X e-mails a link a day or more later. Upload the .zip as it is (or the unpacked "
        "folder). We read your posts with their like and repost counts (data/tweets.js, with "
        "long posts from note-tweet.js), your followers and the accounts you follow "
        "(follower.js, following.js: ids only, names appear once X is connected live) and "
        "your account details (account.js, profile.js). Reply counts are not in the archive."
    ),
    "facebook": (
        "Request it in Settings & privacy > Settings > Accounts Center > Your information and "
        "permissions > Download your information; choose format JSON (not HTML). Upload the "
        ".zip. We read your friends, who you follow and who follows you (names only), your "
        "posts (your_posts_*.json) and your profile name. Reactions and comments on your "
        "posts are not in the archive."
    ),
    "linkedin": (
        "Request it in Settings & Privacy > Data privacy > Get a copy of your data; the "
        "'Connections' choice alone is enough for your network. Upload the .zip, or just "
        "Connections.csv or Shares.csv. We read your connections (name, profile link, "
        "company, position), your shares (Shares.csv) and your name (Profile.csv). LinkedIn "
        "does not export reactions, nor who your connections know."
    ),
    "instagram": (
        "Request it in Accounts Center > Your information and permissions > Download your "
        "information; choose format JSON. Upload the .zip. We read your followers and the "
        "accounts you follow (followers_and_following/), your posts' captions and dates "
        "(content/posts_1.json) and your username. Follower counts, likes and comments are "
        "not in the archive."
    ),
    "mastodon": (
        "Request it in Preferences > Import and export > Data export > Request your archive, "
        "and from the same page download 'Follows' as CSV (following_accounts.csv). Upload "
        "the archive (.zip or .tar.gz), the CSV alone, or the archive with the CSV put "
        "inside. We read your posts and boosts (outbox.json), your profile (actor.json) and "
        "the accounts you follow (the CSV). The archive has no follower list and no "
        "favourite or boost counts."
    ),
    "bluesky": (
        "Export it in Settings > Account > Export my data (a .car file, downloaded at once). "
        "Upload the .car file. We read your posts and reposts, the accounts you follow (as "
        "DIDs: handles appear once you connect by handle) and your profile. A repository has "
        "no follower list and no like or reply counts."
    ),
}


def import_archive(network: str, path: str, progress: Progress) -> AccountData:
    """Import the archive at ``path`` with ``network``'s importer.

    :raises ArchiveError: the network has no importer, or the archive cannot be imported.
    """
    importer = IMPORTERS.get(network)
    if importer is None:
        raise ArchiveError(f"There is no archive import for {network!r}.")
    return importer(path, progress)
