"""GitHub: OAuth app sign-in (``read:user``), live reads of the REST API v3.

GitHub has no data archive of followers, so there is no importer. The fetcher is in
:mod:`.fetcher`; the connect page's partial is ``templates/connect.html``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.networks.base import AccountData, Connector, Door, Login, OAuthSpec, Person
from app.networks.github.fetcher import EVENTS_NOTE, fetch_github, person_from_user
from app.networks.http import ApiClient
from app.networks.registry import register


@register
class GitHub(Connector):
    key = "github"
    label = "GitHub"
    door = Door.OAUTH
    people_counts = True
    edges = True
    profile_url = "https://github.com/{handle}"
    notes = (EVENTS_NOTE,)
    no_live_reason = ""
    oauth = OAuthSpec(prefix="GITHUB", scopes=("read:user",))
    api_setting = "GITHUB_API_URL"
    service = "GitHub"
    #: The headers GitHub's REST v3 documentation asks every client to send.
    api_headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}

    def whoami(self, client: ApiClient, config: Mapping[str, Any]) -> Person:
        return person_from_user(client.get_json("/user"))

    def fetch(self, client: ApiClient, login: Login, config: Mapping[str, Any]) -> AccountData:
        return fetch_github(client, max_people=int(config["GRAPH_MAX_PEOPLE"]))
