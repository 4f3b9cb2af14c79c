"""Live LinkedIn fetcher: the profile from Sign In with LinkedIn using OpenID Connect.

The ``openid profile email`` scopes give one endpoint, ``GET /v2/userinfo``
(learn.microsoft.com, "Sign In with LinkedIn using OpenID Connect"), answering ``sub``,
``name``, ``given_name``, ``family_name``, ``picture``, ``email``, ``email_verified`` and
``locale``. LinkedIn publishes no connections, posts or counts to ordinary apps: those come
only from the member's data export (``Connections.csv``, ``Shares.csv``), which the page
offers to import right there. So the result holds the owner alone, with followers and
friends ``None`` ("not published", never "nobody").
"""

from __future__ import annotations

from typing import Any

from app.networks.archive import slugify
from app.networks.base import AccountData, NetworkError, PartState, Person
from app.networks.http import ApiClient, HttpError
from app.networks.text import safe_url

LINKEDIN_USERINFO_URL = "https://api.linkedin.com/v2/userinfo"
CONNECTIONS_NOTE = (
    "LinkedIn does not give apps your connections: import your LinkedIn data export "
    "(Connections.csv) to list them."
)
POSTS_NOTE = (
    "LinkedIn does not give apps your posts: import your LinkedIn data export (Shares.csv) "
    "to analyse them."
)
NO_EDGES_NOTE = (
    "LinkedIn does not publish who your connections are connected to, nor their connection counts."
)


def person_from_userinfo(info: dict[str, Any]) -> Person:
    """Map an OpenID Connect userinfo answer to the owner :class:`Person`.

    LinkedIn's userinfo has no vanity name or profile URL, so the handle is made from the
    name (as the export importer does) and ``url`` stays ``None``.
    """
    name = info.get("name") or " ".join(
        part for part in (info.get("given_name"), info.get("family_name")) if part
    )
    return Person(
        external_id=str(info["sub"]),
        handle=slugify(name, "-") if name else str(info["sub"]),
        name=name or None,
        avatar_url=safe_url(info.get("picture")),
    )


def fetch_linkedin(
    client: ApiClient,
    *,
    userinfo_url: str = LINKEDIN_USERINFO_URL,
) -> AccountData:
    """Read the member's profile (the only thing LinkedIn's API gives).

    :param client: an :class:`ApiClient` for the origin of ``userinfo_url``
        (``https://api.linkedin.com``) carrying the member's access token, service name
        "LinkedIn"; it is left open for its owner.
    :param userinfo_url: ``LINKEDIN_USERINFO_URL`` (a fake in tests).
    :returns: the owner only; ``followers`` / ``friends`` ``None``; ``notes`` pointing to
        the export import for connections and posts.
    :raises AuthExpired: the token expired (60 days) or was revoked (401).
    :raises NetworkError: LinkedIn refused (a token without the ``openid profile`` scopes
        gets 403) or could not be reached.
    """
    client.progress.stage("profile", 1)
    try:
        info = client.get_json(userinfo_url)
    except HttpError as exc:
        payload = exc.payload if isinstance(exc.payload, dict) else {}
        detail = payload.get("message") or f"HTTP {exc.status}"
        raise NetworkError(
            f"LinkedIn refused to share the profile ({detail}); connect again and allow "
            "the profile permission."
        ) from None
    client.progress.advance()
    data = AccountData(
        owner=person_from_userinfo(info),
        followers=None,
        friends=None,
        notes=[CONNECTIONS_NOTE, POSTS_NOTE, NO_EDGES_NOTE],
    )
    for part, reason in (
        ("followers", CONNECTIONS_NOTE),
        ("friends", CONNECTIONS_NOTE),
        ("posts", POSTS_NOTE),
        ("edges", NO_EDGES_NOTE),
    ):
        data.mark(part, PartState.ABSENT, reason=reason)
    return data
