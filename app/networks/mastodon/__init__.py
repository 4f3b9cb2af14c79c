"""Mastodon: any server the user names, OAuth there (PKCE where announced), and archives.

The app registers itself on each server the first time someone signs in there
(:meth:`Mastodon.register_client`); the registration is kept per server by the connect
service. Live reads are in :mod:`.fetcher`, the archive and follows CSV in :mod:`.importer`.
The server is the user's choice: every request to it goes through the outbound policy of
the app's config (:mod:`app.networks.outbound`), and :func:`~app.networks.http.client_for`
guards this connector's API client because its door is :attr:`Door.INSTANCE`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from app.networks.base import (
    AccountData,
    Connector,
    Door,
    Login,
    NetworkError,
    OAuthSpec,
    Person,
    Progress,
)
from app.networks.http import ApiClient
from app.networks.mastodon import fetcher
from app.networks.mastodon.importer import import_mastodon
from app.networks.outbound import policy_from_config
from app.networks.registry import register


@register
class Mastodon(Connector):
    key = "mastodon"
    label = "Mastodon"
    door = Door.INSTANCE
    people_counts = True
    edges = True
    profile_url = "{url}"
    archive_hint = "Preferences > Import and export > Request your archive"
    archive_help = (
        "Request it in Preferences > Import and export > Data export > Request your archive, "
        "and from the same page download 'Follows' as CSV (following_accounts.csv). Upload "
        "the archive (.zip or .tar.gz), the CSV alone, or the archive with the CSV put "
        "inside. We read your posts and boosts (outbox.json), your profile (actor.json) and "
        "the accounts you follow (the CSV). The archive has no follower list and no "
        "favourite or boost counts."
    )
    profile_word = "an account"
    oauth = OAuthSpec(prefix="MASTODON", scopes=("read",), pkce="if-announced")

    def normalise_instance(self, text: str, config: Mapping[str, Any]) -> str:
        return fetcher.normalise_instance(text, policy_from_config(config))

    def register_client(
        self, instance_url: str, redirect_uri: str, website: str, config: Mapping[str, Any]
    ) -> tuple[str, str, bool]:
        assert self.oauth is not None
        policy = policy_from_config(config)
        client_id, secret = fetcher.register_app(
            instance_url, redirect_uri, self.oauth.scope, website=website, policy=policy
        )
        try:
            pkce = fetcher.instance_supports_pkce(instance_url, policy=policy)
        except NetworkError:  # no readable metadata: no PKCE, the sign-in still works
            pkce = False
        return client_id, secret, pkce

    def instance_endpoints(self, instance_url: str) -> tuple[str, str]:
        return f"{instance_url}/oauth/authorize", f"{instance_url}/oauth/token"

    def api_url(self, config: Mapping[str, Any], login: Login) -> str:
        return login.instance_url or ""

    def service_name(self, base_url: str) -> str:
        return urlsplit(base_url).netloc

    def whoami(self, client: ApiClient, config: Mapping[str, Any]) -> Person:
        me = client.get_json("/api/v1/accounts/verify_credentials")
        return fetcher.person_from_account(me, urlsplit(client.base_url).netloc)

    def fetch(self, client: ApiClient, login: Login, config: Mapping[str, Any]) -> AccountData:
        return fetcher.fetch_mastodon(client, max_people=int(config["GRAPH_MAX_PEOPLE"]))

    def import_archive(self, path: str, progress: Progress) -> AccountData:
        return import_mastodon(path, progress)
