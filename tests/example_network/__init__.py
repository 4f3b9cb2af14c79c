"""Pebble: a tiny made-up network, used only by the tests, that shows what a network is.

This folder is the worked example of "Adding a network" in ``docs/development.rst``: one
:class:`~app.networks.base.Connector` subclass, registered, with a live read (public, by
handle, like Bluesky), an archive importer and the connect page's partial in ``templates/``.
A real network lives in ``app/networks/<key>/`` and is added to
:data:`app.networks.BUILT_IN`; this one is registered by the test that uses it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from app.networks.base import (
    AccountData,
    ArchiveError,
    Connector,
    Door,
    Login,
    Person,
    Post,
    Progress,
)
from app.networks.http import ApiClient


def person(user: Mapping[str, Any]) -> Person:
    """A Pebble user object as a :class:`Person`."""
    return Person(
        external_id=str(user["id"]),
        handle=str(user["handle"]),
        name=user.get("name"),
        url=f"https://pebble.example/{user['handle']}",
        followers_count=user.get("followers_count"),
        following_count=user.get("following_count"),
    )


def post(item: Mapping[str, Any]) -> Post:
    """A Pebble post object as a :class:`Post`."""
    return Post(
        external_id=str(item["id"]),
        created_at=datetime.fromisoformat(item["created_at"]),
        text=str(item["text"]),
        like_count=item.get("likes"),
    )


class Pebble(Connector):
    key = "pebble"
    label = "Pebble"
    door = Door.HANDLE
    people_counts = True
    edges = False
    profile_url = "https://pebble.example/{handle}"
    notes = ("Pebble does not publish who your followers follow.",)
    archive_help = (
        "Download it in Settings > Export (pebble.json). Upload the file. We read your "
        "followers, the accounts you follow and your posts."
    )
    api_setting = "PEBBLE_API_URL"
    service = "Pebble"
    handle_label = ("Pebble handle", "Like ada.")

    def normalise_handle(self, text: str) -> str:
        handle = text.strip().removeprefix("@").lower()
        if not handle.isalnum():
            raise ValueError("A Pebble handle is letters and digits only.")
        return handle

    def lookup(self, client: ApiClient, actor: str) -> Person:
        return person(client.get_json(f"/users/{actor}"))

    def fetch(self, client: ApiClient, login: Login, config: Mapping[str, Any]) -> AccountData:
        handle = login.handle or ""
        client.progress.stage("profile")
        data = AccountData(owner=person(client.get_json(f"/users/{handle}")))
        for role in ("followers", "following"):
            client.progress.stage(role)
            users = [person(u) for u in client.get_json(f"/users/{handle}/{role}")["items"]]
            data.people.update((p.external_id, p) for p in users)
            ids = [p.external_id for p in users]
            if role == "followers":
                data.followers = ids
            else:
                data.friends = ids
        client.progress.stage("posts")
        data.posts = [post(p) for p in client.get_json(f"/users/{handle}/posts")["items"]]
        return data

    def import_archive(self, path: str, progress: Progress) -> AccountData:
        try:
            with open(path, encoding="utf-8") as fh:
                archive = json.load(fh)
            data = AccountData(owner=person(archive["me"]))
            followers = [person(u) for u in archive["followers"]]
            friends = [person(u) for u in archive["following"]]
            posts = [post(p) for p in archive["posts"]]
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ArchiveError(f"This is not a Pebble export ({type(error).__name__}).") from None
        data.people = {p.external_id: p for p in [*followers, *friends]}
        data.followers = [p.external_id for p in followers]
        data.friends = [p.external_id for p in friends]
        data.posts = posts
        data.notes.append("A Pebble export has no follower counts of other people.")
        return data
