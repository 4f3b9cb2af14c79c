"""Instagram: archive imports only.

Instagram has no API for personal accounts (the Basic Display API was shut down in
December 2024; the Graph API serves business and creator accounts only), so everything comes
from the "Download your information" archive (:mod:`.importer`).
"""

from __future__ import annotations

from app.networks.base import AccountData, Connector, Progress
from app.networks.instagram.importer import import_instagram
from app.networks.registry import register


@register
class Instagram(Connector):
    key = "instagram"
    label = "Instagram"
    door = None
    people_counts = False
    edges = False
    profile_url = "https://www.instagram.com/{handle}"
    notes = (
        "Instagram has no API for personal accounts: everything comes from your "
        "data download, which has no follower counts and no links among others.",
    )
    archive_hint = (
        "Accounts Center > Your information and permissions > Download your information (JSON)"
    )
    archive_help = (
        "Request it in Accounts Center > Your information and permissions > Download your "
        "information; choose format JSON. Upload the .zip. We read your followers and the "
        "accounts you follow (followers_and_following/), your posts' captions and dates "
        "(content/posts_1.json) and your username. Follower counts, likes and comments are "
        "not in the archive."
    )
    no_live_reason = (
        "Instagram has no API for personal accounts, so there is nothing to sign in to: "
        "your data download has your followers, the accounts you follow and your posts."
    )

    def import_archive(self, path: str, progress: Progress) -> AccountData:
        return import_instagram(path, progress)
