"""A fake Mastodon instance: accounts API, statuses, app registration and OAuth with PKCE.

Shapes follow docs.joinmastodon.org: Account entities carry their own counts, lists page
with ``Link: <...?limit=80&max_id=N>; rel="next"`` only while a page comes back full (like
Mastodon's ``records_continue?``), ``X-RateLimit-Reset`` is an ISO 8601 time, and an
account with hidden collections gets an empty list (Mastodon's ``hide_results?``) unless
the owner's own token asks. Accounts with a ``domain`` are remote: the instance only knows
their follows of its local accounts, so their following lists come back partial.

Knobs beyond :class:`~tests.fakes.server.FakeServer`'s:
:attr:`FakeMastodon.deny_consent`, :attr:`FakeMastodon.supports_pkce` (``False``: the
``.well-known`` metadata is a 404, as before Mastodon 4.3), :attr:`FakeMastodon.hidden_mode`
(``"empty"``, ``"forbidden"`` for a 403, ``"unauthorized"`` for a 401),
:attr:`FakeMastodon.redirects` (paths answered with a ``307`` to another address, and a body
holding :data:`REMOTE_TEXT`, the server's own words a page must never show).
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from tests.fakes.oauth import back_to_app, page
from tests.fakes.server import FakeServer, Request, Response, link_header
from tests.fakes.world import Account, World, WorldPost

ACCOUNTS_LIMIT = 80
STATUSES_LIMIT = 40
#: Words a hostile server sends in its error bodies; no page may show them.
REMOTE_TEXT = "Words from the remote server: connection to 10.0.0.7:6379 accepted"


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def status_html(text: str) -> str:
    """Render plain text the way Mastodon stores it: ``<p>`` paragraphs, ``<br />`` lines."""
    paragraphs = text.split("\n\n")
    return "".join(
        "<p>" + "<br />".join(html.escape(line, quote=False) for line in p.split("\n")) + "</p>"
        for p in paragraphs
    )


def pkce_challenge(verifier: str) -> str:
    """S256 code challenge of ``verifier`` (RFC 7636)."""
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class FakeMastodon(FakeServer):
    """Fake Mastodon server at :attr:`url` (``http://127.0.0.1:<port>``).

    :param world: graph and posts; account ids are Mastodon account ids.
    :param tokens: accepted bearer tokens of the owner (default ``{"test-token"}``).
    """

    def __init__(
        self, world: World, *, tokens: set[str] | None = None, rate_limit: int = 5000
    ) -> None:
        super().__init__(world, tokens=tokens, rate_limit=rate_limit)
        self.deny_consent = False
        self.supports_pkce = True
        self.hidden_mode = "empty"
        #: client_id -> app record
        self.apps: dict[str, dict[str, Any]] = {}
        #: code -> (client_id, redirect_uri, code_challenge or None, scope)
        self.codes: dict[str, tuple[str, str, str | None, str]] = {}
        self.issued_tokens: list[str] = []
        #: path -> URL: answer ``307 Location: URL`` (with :data:`REMOTE_TEXT` in the body)
        self.redirects: dict[str, str] = {}

    # -- headers and entities ---------------------------------------------------------

    def rate_headers(self, remaining: int, reset: float) -> dict[str, str]:
        moment = datetime.fromtimestamp(reset, UTC)
        return {
            "X-RateLimit-Limit": str(self.rate_limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }

    def rate_limited_body(self) -> Any:
        return {"error": "Too many requests"}

    def acct(self, account: Account) -> str:
        return f"{account.handle}@{account.domain}" if account.domain else account.handle

    def profile_url(self, account: Account) -> str:
        host = f"https://{account.domain}" if account.domain else self.url
        return f"{host}/@{account.handle}"

    def account_entity(self, account: Account) -> dict[str, Any]:
        world = self.world
        fields: list[dict[str, Any]] = []
        if account.blog:
            href = account.blog if "://" in account.blog else f"https://{account.blog}"
            value = (
                f'<a href="{href}" target="_blank" rel="nofollow noopener me" translate="no">'
                f'<span class="invisible">https://</span><span class="">'
                f'{href.split("://", 1)[1]}</span><span class="invisible"></span></a>'
            )
            fields.append(
                {"name": "Website", "value": value, "verified_at": "2024-01-01T00:00:00.000+00:00"}
            )
        if account.twitter:
            fields.append({"name": "X", "value": f"@{account.twitter}", "verified_at": None})
        statuses = len(world.posts) if account.id == world.owner_id else 0
        return {
            "id": str(account.id),
            "username": account.handle,
            "acct": self.acct(account),
            "display_name": account.name,
            "locked": False,
            "bot": False,
            "discoverable": True,
            "group": False,
            "hide_collections": account.hidden,
            "created_at": _iso(account.created_at),
            "note": f"<p>{html.escape(account.bio)}</p>" if account.bio else "",
            "url": self.profile_url(account),
            "uri": f"{self.profile_url(account)}/users/{account.handle}",
            "avatar": f"{self.url}/avatars/{account.id}.png",
            "avatar_static": f"{self.url}/avatars/{account.id}.png",
            "header": "",
            "header_static": "",
            "followers_count": len(world.followers(account.id)),
            "following_count": len(world.following(account.id)),
            "statuses_count": statuses,
            "last_status_at": None,
            "emojis": [],
            "fields": fields,
        }

    def status_entity(self, post: WorldPost) -> dict[str, Any]:
        owner = self.world.owner
        base: dict[str, Any] = {
            "id": str(post.id),
            "created_at": _iso(post.created_at),
            "in_reply_to_id": str(post.reply_to) if post.reply_to else None,
            "in_reply_to_account_id": "2" if post.reply_to else None,
            "sensitive": False,
            "spoiler_text": "",
            "visibility": "public",
            "language": "en",
            "uri": f"{self.url}/users/{owner.handle}/statuses/{post.id}",
            "url": f"{self.profile_url(owner)}/{post.id}",
            "replies_count": post.replies,
            "reblogs_count": post.reposts,
            "favourites_count": post.likes,
            "content": status_html(post.text),
            "reblog": None,
            "account": self.account_entity(owner),
            "media_attachments": [],
            "mentions": [],
            "tags": [],
            "emojis": [],
        }
        if post.kind == "repost":
            original = {
                **base,
                "id": str(post.id + 500_000),
                "reblog": None,
                "url": f"https://other.example/@someone/{post.id}",
                "replies_count": 7,
                "favourites_count": 8,
                "reblogs_count": 9,
            }
            base.update(
                content="",
                url=None,
                reblog=original,
                replies_count=0,
                reblogs_count=0,
                favourites_count=0,
            )
        return base

    # -- routing --------------------------------------------------------------------

    def route(self, request: Request) -> Response:
        path = request.path
        if path in self.redirects:
            return Response(307, {"error": REMOTE_TEXT}, {"Location": self.redirects[path]})
        if path == "/.well-known/oauth-authorization-server":
            return self._metadata()
        if path == "/oauth/authorize":
            return self._authorize(request)
        if path == "/oauth/token" and request.method == "POST":
            return self._token(request)
        if path == "/api/v1/apps" and request.method == "POST":
            return self._register(request)
        if request.bearer is not None and not self.owner_token(request):
            return Response(401, {"error": "The access token is invalid"})
        if path == "/api/v1/accounts/verify_credentials":
            if request.bearer is None:
                return Response(401, {"error": "The access token is invalid"})
            entity = self.account_entity(self.world.owner)
            entity["source"] = {
                "privacy": "public",
                "sensitive": False,
                "language": "en",
                "note": self.world.owner.bio,
                "fields": [],
            }
            return Response(200, entity)
        if path == "/api/v1/accounts/lookup":
            acct = (request.arg("acct") or "").lstrip("@")
            local = acct.split("@")[0] if acct.endswith(f"@127.0.0.1:{self.port}") else acct
            for account in self.world.accounts.values():
                if self.acct(account) == local:
                    return Response(200, self.account_entity(account))
            return Response(404, {"error": "Record not found"})
        match = re.fullmatch(r"/api/v1/accounts/(\d+)(?:/(followers|following|statuses))?", path)
        found = self.world.accounts.get(int(match.group(1))) if match else None
        if match is None or found is None:
            return Response(404, {"error": "Record not found"})
        account = found
        sub = match.group(2)
        if sub is None:
            return Response(200, self.account_entity(account))
        if sub == "statuses":
            posts = self.world.posts if account.id == self.world.owner_id else []
            items = [(p.id, p) for p in posts]
            return self._page(request, items, STATUSES_LIMIT, self.status_entity)
        viewer_is_owner = self.owner_token(request) and account.id == self.world.owner_id
        if account.hidden and not viewer_is_owner:
            if self.hidden_mode == "forbidden":
                return Response(403, {"error": "This action is not allowed"})
            if self.hidden_mode == "unauthorized":
                return Response(401, {"error": "This method requires an authenticated user"})
            return self._page(request, [], ACCOUNTS_LIMIT, self.account_entity)
        ids = (
            self.world.followers(account.id)
            if sub == "followers"
            else (self.world.following(account.id))
        )
        if account.domain and sub == "following":
            ids = [i for i in ids if not self.world.accounts[i].domain]
        # newest follow first; the pagination id is the follow's position
        rows = [(n + 1, self.world.accounts[i]) for n, i in enumerate(ids)]
        rows.reverse()
        return self._page(request, rows, ACCOUNTS_LIMIT, self.account_entity)

    def _page(
        self,
        request: Request,
        rows: list[tuple[int, Any]],
        maximum: int,
        render: Callable[[Any], dict[str, Any]],
    ) -> Response:
        limit = min(max(int(request.arg("limit", str(maximum // 2)) or 1), 1), maximum)
        max_id = request.arg("max_id")
        if max_id:
            rows = [r for r in rows if r[0] < int(max_id)]
        chunk = rows[:limit]
        links = []
        base = f"{self.url}{request.path}"
        if len(chunk) == limit:
            links.append((f"{base}?{urlencode({'limit': limit, 'max_id': chunk[-1][0]})}", "next"))
        if chunk:
            links.append((f"{base}?{urlencode({'limit': limit, 'min_id': chunk[0][0]})}", "prev"))
        headers = {"Link": link_header(links)} if links else {}
        return Response(200, [render(row) for _, row in chunk], headers)

    # -- apps and OAuth ---------------------------------------------------------------

    def _metadata(self) -> Response:
        if not self.supports_pkce:
            return Response(404, {"error": "Not Found"})
        return Response(
            200,
            {
                "issuer": f"{self.url}/",
                "authorization_endpoint": f"{self.url}/oauth/authorize",
                "token_endpoint": f"{self.url}/oauth/token",
                "revocation_endpoint": f"{self.url}/oauth/revoke",
                "scopes_supported": ["read", "write", "follow", "push", "profile"],
                "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code", "client_credentials"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_basic",
                    "client_secret_post",
                ],
                "code_challenge_methods_supported": ["S256"],
                "app_registration_endpoint": f"{self.url}/api/v1/apps",
            },
        )

    def _register(self, request: Request) -> Response:
        form = request.form()
        name = form.get("client_name")
        redirect = form.get("redirect_uris")
        if not name or not redirect:
            missing = "Name" if not name else "Redirect URI"
            return Response(422, {"error": f"Validation failed: {missing} can't be blank"})
        client_id = secrets.token_urlsafe(16)
        app = {
            "id": str(len(self.apps) + 1),
            "name": name,
            "website": form.get("website"),
            "scopes": (form.get("scopes") or "read").split(),
            "redirect_uri": redirect,
            "redirect_uris": redirect.split(),
            "client_id": client_id,
            "client_secret": secrets.token_urlsafe(24),
            "client_secret_expires_at": 0,
            "vapid_key": "BFakeVapidKey=",
        }
        self.apps[client_id] = app
        return Response(200, app)

    def _authorize(self, request: Request) -> Response:
        client_id = request.arg("client_id") or ""
        redirect_uri = request.arg("redirect_uri") or ""
        app = self.apps.get(client_id)
        if app is None or redirect_uri not in app["redirect_uris"]:
            return page(400, b"The redirect uri included is not valid.", "text/plain")
        query: dict[str, str] = {}
        if self.deny_consent:
            query = {
                "error": "access_denied",
                "error_description": "The resource owner or authorization server denied "
                "the request.",
            }
        else:
            challenge = request.arg("code_challenge")
            if challenge and request.arg("code_challenge_method", "plain") != "S256":
                return page(400, b"Unsupported code challenge method", "text/plain")
            code = secrets.token_urlsafe(16)
            self.codes[code] = (client_id, redirect_uri, challenge, request.arg("scope") or "read")
            query = {"code": code}
        state = request.arg("state")
        if state is not None:
            query["state"] = state
        return back_to_app(redirect_uri, query)

    def _token(self, request: Request) -> Response:
        form = request.form()
        client_id, secret = form.get("client_id"), form.get("client_secret")
        basic = request.headers.get("authorization", "")
        if basic.lower().startswith("basic "):
            decoded = base64.b64decode(basic[6:]).decode()
            client_id, _, secret = decoded.partition(":")
        app = self.apps.get(client_id or "")
        if app is None or app["client_secret"] != secret:
            return Response(
                401,
                {
                    "error": "invalid_client",
                    "error_description": "Client authentication failed due to "
                    "unknown client, no client "
                    "authentication included, or "
                    "unsupported authentication method.",
                },
            )
        if form.get("grant_type") != "authorization_code":
            return Response(400, {"error": "unsupported_grant_type"})
        code = form.get("code", "")
        grant = self.codes.get(code)
        invalid = {
            "error": "invalid_grant",
            "error_description": "The provided authorization grant is invalid, expired, "
            "revoked, does not match the redirection URI used in "
            "the authorization request, or was issued to another "
            "client.",
        }
        if grant is None or grant[0] != client_id or grant[1] != form.get("redirect_uri"):
            return Response(400, invalid)
        challenge = grant[2]
        if challenge is not None:
            verifier = form.get("code_verifier")
            if not verifier or pkce_challenge(verifier) != challenge:
                return Response(400, invalid)
        del self.codes[code]
        token = secrets.token_urlsafe(32)
        self.tokens.add(token)
        self.issued_tokens.append(token)
        return Response(
            200,
            {
                "access_token": token,
                "token_type": "Bearer",
                "scope": grant[3],
                "created_at": int(time.time()),
            },
        )
