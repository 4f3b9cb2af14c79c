"""LinkedIn: Sign In with LinkedIn (OpenID Connect), and data-export imports.

LinkedIn's API gives ordinary apps the member's name and picture only
(``/v2/userinfo``); connections and shares come from the data export (:mod:`.importer`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from app.networks.base import AccountData, Connector, Door, Login, OAuthSpec, Person, Progress
from app.networks.http import ApiClient
from app.networks.linkedin.fetcher import fetch_linkedin, person_from_userinfo
from app.networks.linkedin.importer import import_linkedin
from app.networks.registry import register


@register
class LinkedIn(Connector):
    key = "linkedin"
    label = "LinkedIn"
    door = Door.OAUTH
    people_counts = False
    edges = False
    profile_url = "{url}"
    notes = (
        "LinkedIn does not publish who your connections are connected to, nor their "
        "connection counts.",
    )
    archive_hint = "Settings > Data privacy > Get a copy of your data"
    archive_help = (
        "Request it in Settings & Privacy > Data privacy > Get a copy of your data; the "
        "'Connections' choice alone is enough for your network. Upload the .zip, or just "
        "Connections.csv or Shares.csv. We read your connections (name, profile link, "
        "company, position), your shares (Shares.csv) and your name (Profile.csv). LinkedIn "
        "does not export reactions, nor who your connections know."
    )
    # The ID token is not read (the profile comes from /v2/userinfo), so the nonce is not kept.
    oauth = OAuthSpec(prefix="LINKEDIN", scopes=("openid", "profile", "email"), keep_nonce=False)
    api_setting = "LINKEDIN_USERINFO_URL"
    service = "LinkedIn"
    profile_word = "a profile"

    def api_url(self, config: Mapping[str, Any], login: Login) -> str:
        parts = urlsplit(str(config["LINKEDIN_USERINFO_URL"]))
        return f"{parts.scheme}://{parts.netloc}"

    def whoami(self, client: ApiClient, config: Mapping[str, Any]) -> Person:
        return person_from_userinfo(client.get_json(config["LINKEDIN_USERINFO_URL"]))

    def fetch(self, client: ApiClient, login: Login, config: Mapping[str, Any]) -> AccountData:
        url = config["LINKEDIN_USERINFO_URL"]
        return fetch_linkedin(client, userinfo_url=url)

    def import_archive(self, path: str, progress: Progress) -> AccountData:
        return import_linkedin(path, progress)
