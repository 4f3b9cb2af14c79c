"""A fake X API v2 (users/me, timelines, followers, following) and its OAuth 2.0 PKCE flow.

Shapes follow docs.x.com: ids are strings, users carry ``public_metrics`` when asked with
``user.fields``, posts carry ``public_metrics`` / ``referenced_tweets`` /
``in_reply_to_user_id`` when asked with ``tweet.fields`` and HTML-escape ``& < >`` in
``text``; lists page with ``max_results`` and ``pagination_token`` / ``meta.next_token``
(posts 5..100 a page, users 1..1000; a bad value is a 400 ``invalid-request`` problem);
followers and following come newest first; the timeline serves the newest 3,200 posts only.
Rate-limit headers are ``x-rate-limit-limit/-remaining/-reset`` (epoch seconds). A protected
account's (world ``hidden``) following list is a 200 with an ``errors`` array and no data, as
X answers for a resource the caller may not see; an unknown user id likewise.

Billing refusals, as X sends them (bodies quoted from real answers reported in
xdevplatform/xdk#25, myConsciousness/twitter-api-v2#44 and X's error pages):

* ``"not-enrolled"``: 403 ``client-forbidden`` / ``reason: client-not-enrolled``;
* ``"credits"``: 402 ``CreditsDepleted`` (pay-per-use balance at 0);
* ``"usage-cap"``: 429 ``usage-capped`` ``UsageCapExceeded`` (rate-limit headers still fine);
* ``"unsupported-auth"``: 403 ``unsupported-authentication`` (an app-only token).

OAuth 2.0 with PKCE: ``GET /i/oauth2/authorize`` redirects at once with ``code`` and
``state`` (or ``error=access_denied`` when :attr:`FakeX.deny_consent`); ``POST
/2/oauth2/token`` checks the ``code_verifier`` against the stored S256 (or plain)
challenge, the redirect URI, and the client (HTTP Basic for confidential clients, form
``client_id`` for public ones), issues two-hour access tokens, refresh tokens only with
``offline.access``, and rotates refresh tokens. :meth:`FakeX.advance` moves the fake's clock
so tokens expire.

The request log counts what X bills: :attr:`FakeX.reads` lists ``(path, resources)`` for
every successful answer, :meth:`FakeX.total_reads` sums them.
"""

from __future__ import annotations

import base64
import hashlib
import html
import math
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from tests.fakes.oauth import back_to_app, page
from tests.fakes.server import FakeServer, Request, Response
from tests.fakes.world import Account, World, WorldPost

PROBLEMS = "https://api.twitter.com/2/problems"
TIMELINE_LIMIT = 3200
ACCESS_LIFETIME = 7200
USER_FIELDS = {
    "created_at",
    "description",
    "entities",
    "id",
    "location",
    "name",
    "pinned_tweet_id",
    "profile_image_url",
    "protected",
    "public_metrics",
    "url",
    "username",
    "verified",
}

REFUSALS: dict[str, tuple[int, dict[str, Any]]] = {
    "not-enrolled": (
        403,
        {
            "client_id": "29183742",
            "detail": (
                "When authenticating requests to the Twitter API v2 endpoints, you must use "
                "keys and tokens from a Twitter developer App that is attached to a Project. "
                "You can create a project via the developer portal."
            ),
            "registration_url": "https://developer.twitter.com/en/docs/projects/overview",
            "title": "Client Forbidden",
            "required_enrollment": "Appropriate Level of API Access",
            "reason": "client-not-enrolled",
            "type": f"{PROBLEMS}/client-forbidden",
        },
    ),
    "credits": (
        402,
        {
            "title": "CreditsDepleted",
            "detail": "Your enrolled account does not have any credits to fulfill this request.",
            "type": f"{PROBLEMS}/credits",
        },
    ),
    "usage-cap": (
        429,
        {
            "account_id": "1234567890",
            "product_name": "standard-basic",
            "title": "UsageCapExceeded",
            "period": "Monthly",
            "scope": "Product",
            "detail": "Usage cap exceeded: Monthly product cap",
            "type": f"{PROBLEMS}/usage-capped",
        },
    ),
    "unsupported-auth": (
        403,
        {
            "title": "Unsupported Authentication",
            "detail": (
                "Authenticating with OAuth 2.0 Application-Only is forbidden for this "
                "endpoint.  Supported authentication types are [OAuth 1.0a User Context, "
                "OAuth 2.0 User Context]."
            ),
            "type": f"{PROBLEMS}/unsupported-authentication",
            "status": 403,
        },
    ),
}


def _iso(moment: Any) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    scope: str
    challenge: str
    method: str


@dataclass
class _Token:
    expires: float
    scope: str


class FakeX(FakeServer):
    """Fake ``api.x.com`` + ``x.com/i/oauth2``.

    :param world: account ids are X user ids; handles are usernames; ``hidden`` accounts
        are protected.
    :param oauth_clients: ``{client_id: secret or None}``; ``None`` is a public client
        (default: confidential ``x-client``/``x-secret`` and public ``x-public``).

    Knobs beyond :class:`~tests.fakes.server.FakeServer`'s: :attr:`deny_consent`,
    :meth:`refuse` (billing refusals per path), :meth:`advance` (token expiry),
    :meth:`revoke_all`, :attr:`quotes` (quote counts per post id).
    """

    def __init__(
        self,
        world: World,
        *,
        tokens: set[str] | None = None,
        oauth_clients: dict[str, str | None] | None = None,
        rate_limit: int = 900,
    ) -> None:
        super().__init__(world, tokens=tokens, rate_limit=rate_limit)
        self.oauth_clients: dict[str, str | None] = (
            {"x-client": "x-secret", "x-public": None} if oauth_clients is None else oauth_clients
        )
        self.deny_consent = False
        self.offset = 0.0
        self.grants: dict[str, _Grant] = {}
        self.issued: dict[str, _Token] = {}
        self.refresh_tokens: dict[str, tuple[str, str]] = {}  # token -> (client_id, scope)
        self.reads: list[tuple[str, int]] = []
        self.quotes: dict[int, int] = {}
        self._refusals: list[tuple[str, str, int | None]] = []
        self._pages: dict[str, int] = {}

    # -- knobs ----------------------------------------------------------------------

    def refuse(self, path: str, kind: str = "not-enrolled", n: int | None = None) -> None:
        """Refuse requests whose path starts with ``path`` with a billing problem ``kind``
        (a key of :data:`REFUSALS`), ``n`` times or for good."""
        if kind not in REFUSALS:
            raise ValueError(kind)
        self._refusals.append((path, kind, n))

    def advance(self, seconds: float) -> None:
        """Move the fake's clock (token lifetimes) forward."""
        self.offset += seconds

    def revoke_all(self) -> None:
        self.tokens.clear()
        self.issued.clear()
        self.refresh_tokens.clear()

    def now(self) -> float:
        return time.time() + self.offset

    def total_reads(self, path_prefix: str = "") -> int:
        """Resources X would bill for, on paths starting with ``path_prefix``."""
        return sum(n for path, n in self.reads if path.startswith(path_prefix))

    # -- headers and bodies -----------------------------------------------------------

    def rate_headers(self, remaining: int, reset: float) -> dict[str, str]:
        return {
            "x-rate-limit-limit": str(self.rate_limit),
            "x-rate-limit-remaining": str(remaining),
            "x-rate-limit-reset": str(math.ceil(reset)),
        }

    def rate_limited_body(self) -> Any:
        return {
            "title": "Too Many Requests",
            "detail": "Too Many Requests",
            "type": "about:blank",
            "status": 429,
        }

    @staticmethod
    def _unauthorized() -> Response:
        return Response(
            401,
            {
                "title": "Unauthorized",
                "type": "about:blank",
                "status": 401,
                "detail": "Unauthorized",
            },
        )

    @staticmethod
    def _invalid(parameter: str, value: str, message: str) -> Response:
        return Response(
            400,
            {
                "errors": [{"parameters": {parameter: [value]}, "message": message}],
                "title": "Invalid Request",
                "detail": "One or more parameters to your request was invalid.",
                "type": f"{PROBLEMS}/invalid-request",
            },
        )

    def user(self, account: Account, fields: set[str]) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": str(account.id),
            "name": account.name or account.handle,
            "username": account.handle,
        }
        world = self.world
        extra: dict[str, Any] = {
            "public_metrics": {
                "followers_count": len(world.followers(account.id)),
                "following_count": len(world.following(account.id)),
                "tweet_count": len(world.posts) if account.id == world.owner_id else 3,
                "listed_count": 0,
                "like_count": 0,
            },
            "description": account.bio,
            "protected": account.hidden,
            "created_at": _iso(account.created_at),
            "profile_image_url": f"https://pbs.twimg.com/profile_images/{account.id}/p_normal.jpg",
        }
        if account.blog:
            short = f"https://t.co/{account.id:08d}"
            extra["url"] = short
            extra["entities"] = {
                "url": {
                    "urls": [
                        {
                            "start": 0,
                            "end": 23,
                            "url": short,
                            "expanded_url": account.blog,
                            "display_url": account.blog.split("://")[-1],
                        }
                    ]
                }
            }
        else:
            extra["url"] = ""
        for name in fields & set(extra):
            body[name] = extra[name]
        return body

    def tweet(self, post: WorldPost) -> dict[str, Any]:
        """Render one world post as X v2 renders it with our ``tweet.fields``."""
        quotes = self.quotes.get(post.id, post.reposts // 2)
        body: dict[str, Any] = {
            "id": str(post.id),
            "text": html.escape(post.text, quote=False),
            "created_at": _iso(post.created_at),
            "edit_history_tweet_ids": [str(post.id)],
            "public_metrics": {
                "retweet_count": post.reposts - quotes,
                "reply_count": post.replies,
                "like_count": post.likes,
                "quote_count": quotes,
                "bookmark_count": 0,
                "impression_count": 100,
            },
        }
        if post.kind == "repost":
            original = str(900_000 + post.id)
            body["text"] = html.escape(f"RT @bob: {post.text}", quote=False)
            body["referenced_tweets"] = [{"type": "retweeted", "id": original}]
            # X shows the original's numbers on a repost
            body["public_metrics"] = {
                "retweet_count": 40,
                "reply_count": 0,
                "like_count": 0,
                "quote_count": 0,
                "bookmark_count": 0,
                "impression_count": 0,
            }
        elif post.kind == "reply":
            body["referenced_tweets"] = [{"type": "replied_to", "id": str(post.reply_to)}]
            body["in_reply_to_user_id"] = "2"
        if len(post.text) > 280:
            body["text"] = html.escape(post.text[:277], quote=False) + "…"
            body["note_tweet"] = {"text": post.text}
        return body

    # -- routing ----------------------------------------------------------------------

    def route(self, request: Request) -> Response:
        path = request.path
        if path == "/i/oauth2/authorize":
            return self._authorize(request)
        if path == "/2/oauth2/token" and request.method == "POST":
            return self._token(request)
        if not self._authorised(request):
            return self._unauthorized()
        for i, (prefix, kind, n) in enumerate(self._refusals):
            if path.startswith(prefix) and (n is None or n > 0):
                if n is not None:
                    self._refusals[i] = (prefix, kind, n - 1)
                status, body = REFUSALS[kind]
                return Response(status, body)
        fields = set((request.arg("user.fields") or "").split(",")) & USER_FIELDS
        if path == "/2/users/me":
            self.reads.append((path, 1))
            return Response(200, {"data": self.user(self.world.owner, fields)})
        match = re.fullmatch(r"/2/users/([^/]+)/(tweets|followers|following)", path)
        if not match:
            return Response(
                404,
                {
                    "errors": [{"parameters": {}, "message": "Sorry, that page does not exist"}],
                    "title": "Not Found Error",
                    "detail": "Sorry, that page does not exist",
                    "type": f"{PROBLEMS}/resource-not-found",
                },
            )
        key, kind = match.groups()
        account = self.world.accounts.get(int(key)) if key.isdigit() else None
        if account is None:
            return Response(
                200,
                {
                    "errors": [
                        {
                            "value": key,
                            "detail": f"Could not find user with id: [{key}].",
                            "title": "Not Found Error",
                            "resource_type": "user",
                            "parameter": "id",
                            "resource_id": key,
                            "type": f"{PROBLEMS}/resource-not-found",
                        }
                    ]
                },
            )
        if kind == "tweets":
            return self._timeline(request, account)
        if account.hidden and account.id != self.world.owner_id:
            return Response(
                200,
                {
                    "errors": [
                        {
                            "resource_type": "user",
                            "field": f"{kind}",
                            "parameter": "id",
                            "resource_id": str(account.id),
                            "title": "Authorization Error",
                            "section": "data",
                            "detail": f"Sorry, you are not authorized to see the user with id: "
                            f"[{account.id}].",
                            "value": str(account.id),
                            "type": f"{PROBLEMS}/not-authorized-for-resource",
                        }
                    ]
                },
            )
        ids = (
            self.world.followers(account.id)
            if kind == "followers"
            else self.world.following(account.id)
        )
        users = [self.user(self.world.accounts[i], fields) for i in reversed(ids)]
        return self._page(request, path, users, (1, 1000), 100)

    def _authorised(self, request: Request) -> bool:
        token = request.bearer
        if token is None:
            return False
        if token in self.issued:
            return self.issued[token].expires > self.now()
        return token in self.tokens

    def _timeline(self, request: Request, account: Account) -> Response:
        if account.id != self.world.owner_id:
            posts: list[WorldPost] = []
        else:
            posts = self.world.posts[:TIMELINE_LIMIT]
        items = [self.tweet(p) for p in posts]
        response = self._page(request, request.path, items, (5, 100), 10)
        if response.status == 200 and items and "data" in response.body:
            data = response.body["data"]
            response.body["meta"]["newest_id"] = data[0]["id"]
            response.body["meta"]["oldest_id"] = data[-1]["id"]
        return response

    def _page(
        self,
        request: Request,
        path: str,
        items: list[dict[str, Any]],
        bounds: tuple[int, int],
        default: int,
    ) -> Response:
        raw = request.arg("max_results", str(default)) or str(default)
        low, high = bounds
        if not raw.isdigit() or not low <= int(raw) <= high:
            return self._invalid(
                "max_results",
                raw,
                f"The `max_results` query parameter value [{raw}] is not between {low} and {high}",
            )
        size = int(raw)
        start = 0
        token = request.arg("pagination_token")
        if token is not None:
            if token not in self._pages:
                return self._invalid(
                    "pagination_token",
                    token,
                    f"The `pagination_token` query parameter value [{token}] is not valid",
                )
            start = self._pages[token]
        chunk = items[start : start + size]
        meta: dict[str, Any] = {"result_count": len(chunk)}
        if start + size < len(items):
            next_token = secrets.token_hex(8).upper()
            self._pages[next_token] = start + size
            meta["next_token"] = next_token
        if start > 0:
            meta["previous_token"] = "P" + secrets.token_hex(8).upper()
        self.reads.append((path, len(chunk)))
        body: dict[str, Any] = {"meta": meta}
        if chunk:
            body = {"data": chunk, "meta": meta}
        return Response(200, body)

    # -- OAuth 2.0 with PKCE ----------------------------------------------------------

    def _authorize(self, request: Request) -> Response:
        client_id = request.arg("client_id")
        redirect_uri = request.arg("redirect_uri")
        state = request.arg("state")
        challenge = request.arg("code_challenge")
        method = request.arg("code_challenge_method", "plain") or "plain"
        if (
            client_id not in self.oauth_clients
            or not redirect_uri
            or request.arg("response_type") != "code"
            or not challenge
            or method not in ("S256", "plain")
            or not state
        ):
            return page(400, b"Something went wrong. You weren't able to give access to the App.")
        if self.deny_consent:
            query = {"error": "access_denied", "state": state}
        else:
            code = secrets.token_urlsafe(24)
            scope = request.arg("scope", "") or ""
            self.grants[code] = _Grant(client_id, redirect_uri, scope, challenge, method)
            query = {"state": state, "code": code}
        return back_to_app(redirect_uri, query)

    def _client(self, request: Request, form: dict[str, str]) -> str | Response:
        """Authenticate the client: Basic for confidential clients, form id for public."""
        auth = request.headers.get("authorization", "")
        client_id = form.get("client_id", "")
        if auth.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(auth[6:]).decode()
            except ValueError:
                decoded = ":"
            basic_id, _, secret = decoded.partition(":")
            if self.oauth_clients.get(basic_id, "\0") != secret:
                return self._oauth_error(
                    401, "unauthorized_client", "Missing valid authorization header"
                )
            return basic_id
        if client_id not in self.oauth_clients:
            return self._oauth_error(
                400, "invalid_request", "Missing required parameter [client_id]."
            )
        if self.oauth_clients[client_id] is not None:
            return self._oauth_error(
                401, "unauthorized_client", "Missing valid authorization header"
            )
        return client_id

    @staticmethod
    def _oauth_error(status: int, error: str, description: str) -> Response:
        return Response(status, {"error": error, "error_description": description})

    def _token(self, request: Request) -> Response:
        form = request.form()
        client = self._client(request, form)
        if isinstance(client, Response):
            return client
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            grant = self.grants.get(form.get("code", ""))
            if grant is None or grant.client_id != client:
                return self._oauth_error(
                    400, "invalid_request", "Value passed for the authorization code was invalid."
                )
            if form.get("redirect_uri") != grant.redirect_uri:
                return self._oauth_error(
                    400, "invalid_request", "Value passed for the redirect uri did not match."
                )
            verifier = form.get("code_verifier", "")
            expected = s256(verifier) if grant.method == "S256" else verifier
            if not verifier or expected != grant.challenge:
                # RFC 7636 section 4.6: a verifier that does not match is invalid_grant
                del self.grants[form["code"]]
                return self._oauth_error(
                    400, "invalid_grant", "Value passed for the code verifier did not match."
                )
            del self.grants[form["code"]]
            return self._issue(client, grant.scope)
        if grant_type == "refresh_token":
            entry = self.refresh_tokens.pop(form.get("refresh_token", ""), None)
            if entry is None or entry[0] != client:
                return self._oauth_error(
                    400, "invalid_request", "Value passed for the token was invalid."
                )
            return self._issue(client, entry[1])
        return self._oauth_error(400, "unsupported_grant_type", "Unsupported grant type.")

    def _issue(self, client_id: str, scope: str) -> Response:
        access = secrets.token_urlsafe(32)
        self.issued[access] = _Token(self.now() + ACCESS_LIFETIME, scope)
        body: dict[str, Any] = {
            "token_type": "bearer",
            "expires_in": ACCESS_LIFETIME,
            "access_token": access,
            "scope": scope,
        }
        if "offline.access" in scope.split():
            refresh = secrets.token_urlsafe(32)
            self.refresh_tokens[refresh] = (client_id, scope)
            body["refresh_token"] = refresh
        return Response(200, body)
