"""fetch_linkedin against the fake LinkedIn OpenID Connect endpoints."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import pytest
import requests

from app.networks.base import AuthExpired, NetworkError
from app.networks.http import ApiClient
from app.networks.linkedin.fetcher import (
    CONNECTIONS_NOTE,
    NO_EDGES_NOTE,
    POSTS_NOTE,
    fetch_linkedin,
    person_from_userinfo,
)
from tests.fakes.linkedin import FakeLinkedIn
from tests.fakes.world import World


@pytest.fixture
def li(world: World) -> Iterator[FakeLinkedIn]:
    with FakeLinkedIn(world) as server:
        yield server


def test_profile_only(li: FakeLinkedIn, progress, api) -> None:
    data = fetch_linkedin(
        api(li.url, "LinkedIn", token="test-token", progress=progress), userinfo_url=li.userinfo_url
    )
    owner = data.owner
    assert (owner.external_id, owner.handle, owner.name) == ("li-000001", "me-myself", "Me Myself")
    assert owner.avatar_url == "https://media.licdn.com/dms/image/1/profile.jpg"
    assert (owner.followers_count, owner.following_count, owner.url) == (None, None, None)
    assert data.followers is None and data.friends is None
    assert data.people == {} and data.posts == [] and data.follows == set()
    assert data.notes == [CONNECTIONS_NOTE, POSTS_NOTE, NO_EDGES_NOTE]
    assert "Connections.csv" in CONNECTIONS_NOTE and "Shares.csv" in POSTS_NOTE
    assert li.count("/v2/userinfo") == 1
    assert progress.stages == [("profile", 1)] and progress.advanced == 1


def test_name_from_parts() -> None:
    person = person_from_userinfo({"sub": "abc", "given_name": "Ada", "family_name": "Lovelace"})
    assert (person.name, person.handle, person.avatar_url) == ("Ada Lovelace", "ada-lovelace", None)
    bare = person_from_userinfo({"sub": "xyz"})
    assert (bare.name, bare.handle) == (None, "xyz")


def test_expired_and_invalid_tokens(li: FakeLinkedIn, api) -> None:
    with pytest.raises(AuthExpired):
        fetch_linkedin(api(li.url, "LinkedIn", token="nope"), userinfo_url=li.userinfo_url)
    li.expire()
    with pytest.raises(AuthExpired):
        fetch_linkedin(api(li.url, "LinkedIn", token="test-token"), userinfo_url=li.userinfo_url)


def test_missing_profile_scope(li: FakeLinkedIn, api) -> None:
    li.scopes = {"openid"}
    with pytest.raises(NetworkError, match="Not enough permissions"):
        fetch_linkedin(api(li.url, "LinkedIn", token="test-token"), userinfo_url=li.userinfo_url)


def test_refusal_without_body(li: FakeLinkedIn) -> None:
    li.fail_next(1, status=400, path="/v2/userinfo")
    client = ApiClient(li.url, token="test-token", service="LinkedIn")
    with pytest.raises(NetworkError, match="refused to share the profile"):
        fetch_linkedin(client, userinfo_url=li.userinfo_url)
    assert fetch_linkedin(client, userinfo_url=li.userinfo_url).owner
    client.close()


def test_server_errors_are_retried(li: FakeLinkedIn, sleeps, api) -> None:
    li.fail_next(2, status=503)
    data = fetch_linkedin(
        api(li.url, "LinkedIn", token="test-token", sleep=sleeps), userinfo_url=li.userinfo_url
    )
    assert data.owner.name == "Me Myself"
    assert len(sleeps.calls) == 2


def _authorize(li: FakeLinkedIn) -> requests.Response:
    return requests.get(
        f"{li.url}/oauth/v2/authorization",
        params={
            "response_type": "code",
            "client_id": "li-client",
            "redirect_uri": "http://app/cb",
            "state": "st",
            "scope": "openid profile email",
        },
        allow_redirects=False,
        timeout=5,
    )


def test_oidc_sign_in(li: FakeLinkedIn, api) -> None:
    config = requests.get(f"{li.url}/oauth/.well-known/openid-configuration", timeout=5).json()
    assert config["userinfo_endpoint"] == li.userinfo_url
    location = _authorize(li).headers["Location"]
    code = location.split("code=")[1].split("&")[0]
    assert "state=st" in location
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": "http://app/cb",
        "client_id": "li-client",
        "client_secret": "li-secret",
    }
    tokens = requests.post(config["token_endpoint"], data=form, timeout=5).json()
    assert tokens["expires_in"] == 5_184_000 and tokens["scope"] == "email,openid,profile"
    claims = tokens["id_token"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    assert (claims["sub"], claims["aud"]) == ("li-000001", "li-client")
    data = fetch_linkedin(
        api(li.url, "LinkedIn", token=tokens["access_token"]), userinfo_url=li.userinfo_url
    )
    assert data.owner.external_id == claims["sub"]
    # a code works once
    again = requests.post(config["token_endpoint"], data=form, timeout=5)
    assert again.status_code == 400 and again.json()["error"] == "invalid_request"


def test_oidc_refusals(li: FakeLinkedIn) -> None:
    bad = requests.post(
        f"{li.url}/oauth/v2/accessToken",
        data={"client_id": "li-client", "client_secret": "wrong", "code": "x"},
        timeout=5,
    )
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"
    li.deny_consent = True
    assert "error=user_cancelled_authorize" in _authorize(li).headers["Location"]
