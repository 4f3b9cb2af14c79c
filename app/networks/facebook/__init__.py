"""Facebook: Facebook Login (a long-lived token of about 60 days), and archive imports.

Facebook lists only the friends who also use this app and gives posts only to reviewed
apps, so most of an account comes from the "Download your information" archive
(:mod:`.importer`). Live reads are in :mod:`.fetcher`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from app.networks.base import (
    AccountData,
    Connector,
    Door,
    HttpSettings,
    Login,
    OAuthSpec,
    Person,
    Progress,
)
from app.networks.facebook.fetcher import exchange_long_lived, fetch_facebook, person_from_user
from app.networks.facebook.importer import import_facebook
from app.networks.http import ApiClient
from app.networks.registry import register


@register
class Facebook(Connector):
    key = "facebook"
    label = "Facebook"
    door = Door.OAUTH
    people_counts = False
    edges = False
    profile_url = "https://www.facebook.com/{handle}"
    notes = (
        "Facebook lists only friends who also use this app; the archive gives names only.",
        "Facebook does not publish who your friends are friends with.",
    )
    archive_hint = "Settings > Your Facebook information > Download your information (JSON)"
    archive_help = (
        "Request it in Settings & privacy > Settings > Accounts Center > Your information and "
        "permissions > Download your information; choose format JSON (not HTML). Upload the "
        ".zip. We read your friends, who you follow and who follows you (names only), your "
        "posts (your_posts_*.json) and your profile name. Reactions and comments on your "
        "posts are not in the archive."
    )
    oauth = OAuthSpec(prefix="FACEBOOK", scopes=("public_profile", "user_friends", "user_posts"))
    api_setting = "FACEBOOK_GRAPH_URL"
    service = "Facebook"
    profile_word = "a profile"
    refusal_message = "Facebook refused to share the profile: {error} Nothing was connected."
    expired_message = (
        "The Facebook sign-in has run out (Facebook grants about 60 days); please "
        "reconnect. Your data stays on the page."
    )

    def finish_token(
        self, token: Mapping[str, Any], config: Mapping[str, Any], http: HttpSettings
    ) -> dict[str, Any]:
        """Swap the short-lived token for a long-lived one (``fb_exchange_token``); it
        cannot be refreshed, so no refresh token is kept."""
        access, expires_at = exchange_long_lived(
            str(token["access_token"]),
            token_url=config["FACEBOOK_TOKEN_URL"],
            client_id=config["FACEBOOK_CLIENT_ID"],
            client_secret=config["FACEBOOK_CLIENT_SECRET"],
            timeout=http.timeout,
        )
        return {"access_token": access, "expires_at": _epoch(expires_at)}

    def whoami(self, client: ApiClient, config: Mapping[str, Any]) -> Person:
        return person_from_user(client.get_json("me", {"fields": "id,name,link,picture"}))

    def fetch(self, client: ApiClient, login: Login, config: Mapping[str, Any]) -> AccountData:
        return fetch_facebook(client)

    def import_archive(self, path: str, progress: Progress) -> AccountData:
        return import_facebook(path, progress)


def _epoch(moment: datetime | None) -> float | None:
    return moment.timestamp() if moment is not None else None
