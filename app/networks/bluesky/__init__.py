"""Bluesky: public reads by handle (no sign-in), and repository (.car) imports.

Bluesky publishes followers, follows and posts openly through its AppView, so connecting is
typing a handle: :meth:`Bluesky.normalise_handle` checks it, :meth:`Bluesky.lookup` finds
the account. Live reads are in :mod:`.fetcher`, the repository importer in :mod:`.importer`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from app.networks.base import AccountData, Connector, Door, Login, Person, Progress
from app.networks.bluesky.fetcher import fetch_bluesky, person_from_profile
from app.networks.bluesky.importer import import_bluesky
from app.networks.http import ApiClient
from app.networks.registry import register

_HANDLE_RE = re.compile(
    r"^(?=.{3,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$"
)
_DID_RE = re.compile(r"^did:(plc|web):[a-z0-9._:%-]{1,200}$")
PROFILE_PREFIX = "https://bsky.app/profile/"


def normalise_handle(text: str) -> str:
    """Turn what a person typed into a Bluesky handle (``alice.bsky.social``) or DID.

    :raises ValueError: with a message fit for the form.
    """
    value = text.strip()
    if value.startswith(PROFILE_PREFIX):
        value = value[len(PROFILE_PREFIX) :].strip("/")
    value = value.removeprefix("@").lower()
    if not value:
        raise ValueError("Enter a Bluesky handle, like alice.bsky.social.")
    if _DID_RE.match(value):
        return value
    if any(ch.isspace() for ch in value) or "@" in value:
        raise ValueError("A Bluesky handle has no spaces and at most one leading @.")
    if not _HANDLE_RE.match(value):
        raise ValueError(
            "That is not a Bluesky handle. Handles look like a web address: "
            "alice.bsky.social or alice.com."
        )
    return value


@register
class Bluesky(Connector):
    key = "bluesky"
    label = "Bluesky"
    door = Door.HANDLE
    people_counts = True
    edges = True
    profile_url = "https://bsky.app/profile/{handle}"
    archive_hint = "Settings > Account > Export my data (a .car file)"
    archive_help = (
        "Export it in Settings > Account > Export my data (a .car file, downloaded at once). "
        "Upload the .car file. We read your posts and reposts, the accounts you follow (as "
        "DIDs: handles appear once you connect by handle) and your profile. A repository has "
        "no follower list and no like or reply counts."
    )
    api_setting = "BLUESKY_APPVIEW_URL"
    service = "Bluesky"
    handle_label = ("Bluesky handle", "Like alice.bsky.social or alice.com.")

    def normalise_handle(self, text: str) -> str:
        return normalise_handle(text)

    def lookup(self, client: ApiClient, actor: str) -> Person:
        profile = client.get_json("/xrpc/app.bsky.actor.getProfile", {"actor": actor})
        return person_from_profile(profile)

    def fetch(self, client: ApiClient, login: Login, config: Mapping[str, Any]) -> AccountData:
        actor = login.external_id or login.handle or ""
        return fetch_bluesky(client, actor, max_people=int(config["GRAPH_MAX_PEOPLE"]))

    def import_archive(self, path: str, progress: Progress) -> AccountData:
        return import_bluesky(path, progress)
