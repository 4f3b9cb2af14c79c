"""A fake Facebook: Graph API (``/me``, ``/me/permissions``, ``/me/friends``, ``/me/posts``),
the login dialog and the token endpoint (code exchange and ``fb_exchange_token``).

Shapes follow developers.facebook.com: every path takes a version prefix (``/v21.0/...``);
the token is accepted as ``access_token`` in the query or as a Bearer header; lists page
with ``limit`` and ``after`` cursors and answer ``paging.cursors.before/after`` plus
``paging.next`` as an absolute URL (carrying the access token, as Graph's do); ``/me/friends``
answers ``summary.total_count`` = all the owner's friends while ``data`` holds only the
friends in :attr:`FakeFacebook.app_users`; times look like ``2026-02-28T12:00:00+0000``;
errors are ``{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}`` with
HTTP 400; every answer carries ``X-App-Usage``.

Facebook friendship is mutual: the owner's friends are the world's followers and friends
together.

Knobs beyond :class:`~tests.fakes.server.FakeServer`'s: :attr:`granted` (permissions the
person granted), :attr:`app_users` (world ids of friends who use the app), :meth:`expire`
(code 190 / subcode 463 for every token), :meth:`graph_limit_next` (code 4/17/32/613
errors), :attr:`app_usage` (the ``call_count`` percentage), :attr:`deny_consent`,
:attr:`posts_permission_error` (``/me/posts`` answers code 10 even when granted).
"""

from __future__ import annotations

import base64
import json
import re
import secrets
from typing import Any
from urllib.parse import urlencode

from tests.fakes.oauth import ConsentStep, page
from tests.fakes.server import FakeServer, Request, Response
from tests.fakes.world import Account, World, WorldPost

VERSION = "v21.0"
LONG_LIVED = 5_183_944


def _time(moment: Any) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S+0000")


def _cursor(n: int) -> str:
    return base64.b64encode(f"cursor:{n}".encode()).decode()


def _offset(cursor: str) -> int | None:
    try:
        text = base64.b64decode(cursor).decode()
    except ValueError:
        return None
    kind, _, number = text.partition(":")
    return int(number) if kind == "cursor" and number.isdigit() else None


def graph_error(
    message: str, code: int, kind: str = "OAuthException", subcode: int | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "message": message,
        "type": kind,
        "code": code,
        "fbtrace_id": "A" + secrets.token_hex(10),
    }
    if subcode is not None:
        body["error_subcode"] = subcode
    if code in (4, 17, 32, 613):
        body["is_transient"] = True
    return {"error": body}


RATE_MESSAGES = {
    4: "(#4) Application request limit reached",
    17: "(#17) User request limit reached",
    32: "(#32) Page request limit reached",
    613: "(#613) Calls to this api have exceeded the rate limit.",
}


class FakeFacebook(ConsentStep, FakeServer):
    """Fake ``graph.facebook.com`` + ``www.facebook.com/dialog/oauth``.

    :param world: the owner is the logged-in person; ids are app-scoped user ids.
    :param oauth_clients: ``{app_id: app_secret}`` (default ``{"fb-app": "fb-secret"}``).
    """

    bad_client = page(400, b"Invalid App ID")
    denial = {
        "error": "access_denied",
        "error_code": "200",
        "error_description": "Permissions error",
        "error_reason": "user_denied",
    }
    fragment = "_=_"

    def __init__(
        self,
        world: World,
        *,
        tokens: set[str] | None = None,
        oauth_clients: dict[str, str] | None = None,
    ) -> None:
        super().__init__(world, tokens=tokens)
        self.oauth_clients = {"fb-app": "fb-secret"} if oauth_clients is None else oauth_clients
        self.granted = {"public_profile", "email", "user_friends"}
        self.app_users: set[int] = {2, 4}
        self.app_usage = 5
        self.deny_consent = False
        self.posts_permission_error = False
        self.expired = False
        self.codes: dict[str, tuple[str, str]] = {}
        self.exchanged: list[str] = []
        self._limits: list[tuple[int, str | None]] = []

    # -- knobs ----------------------------------------------------------------------

    def expire(self) -> None:
        """Make every token answer code 190 / subcode 463 (session expired)."""
        self.expired = True

    def graph_limit_next(self, n: int = 1, code: int = 4, path: str | None = None) -> None:
        """Answer the next ``n`` Graph reads with error ``code``: a rate limit (4, 17, 32,
        613) or any other code (answered as a ``GraphMethodException``, subcode 33); ``path``
        (after the version, like ``me/posts``) limits it to that path."""
        self._limits.extend([(code, path)] * n)

    @property
    def graph_url(self) -> str:
        return f"{self.url}/{VERSION}"

    # -- headers and bodies -----------------------------------------------------------

    def rate_headers(self, remaining: int, reset: float) -> dict[str, str]:
        usage = {"call_count": self.app_usage, "total_cputime": 1, "total_time": 1}
        return {"X-App-Usage": json.dumps(usage)}

    def rate_limited_body(self) -> Any:
        return graph_error(RATE_MESSAGES[4], 4)

    def friends(self) -> list[Account]:
        world = self.world
        ids = dict.fromkeys(world.followers(world.owner_id))
        ids.update(dict.fromkeys(world.following(world.owner_id)))
        return [world.accounts[i] for i in ids]

    def user(self, account: Account) -> dict[str, Any]:
        return {
            "id": str(10_000_000 + account.id),
            "name": account.name or account.handle,
            "picture": {
                "data": {
                    "height": 50,
                    "width": 50,
                    "is_silhouette": False,
                    "url": f"https://platform-lookaside.fbsbx.com/{account.id}.jpg",
                }
            },
        }

    def post(self, post: WorldPost) -> dict[str, Any]:
        owner_id = 10_000_000 + self.world.owner_id
        body: dict[str, Any] = {
            "id": f"{owner_id}_{post.id}",
            "created_time": _time(post.created_at),
            "permalink_url": f"https://www.facebook.com/{owner_id}/posts/{post.id}",
            "comments": {"data": [], "summary": {"order": "ranked", "total_count": post.replies}},
            "reactions": {"data": [], "summary": {"total_count": post.likes}},
        }
        if post.kind == "repost":
            body["story"] = f"Me Myself shared a post: {post.text}"
        else:
            body["message"] = post.text
        if post.reposts:
            body["shares"] = {"count": post.reposts}
        return body

    # -- routing --------------------------------------------------------------------

    def route(self, request: Request) -> Response:
        match = re.fullmatch(r"/v\d+\.\d+/(.*)", request.path)
        if not match:
            return Response(404, graph_error("Unknown path components", 2500))
        path = match.group(1)
        if path == "dialog/oauth":
            return self.consent(request)
        if path == "oauth/access_token":
            return self._access_token(request)
        token = request.arg("access_token") or request.bearer
        if token is None:
            return Response(
                400, graph_error("An active access token must be used to query information.", 2500)
            )
        if self.expired:
            return Response(
                400,
                graph_error(
                    "Error validating access token: Session has expired on Saturday, "
                    "28-Feb-26 12:00:00 PST.",
                    190,
                    subcode=463,
                ),
            )
        if token not in self.tokens:
            return Response(400, graph_error("Invalid OAuth access token data.", 190))
        limit = next((x for x in self._limits if x[1] in (None, path)), None)
        if limit is not None:
            self._limits.remove(limit)
            code = limit[0]
            if code in RATE_MESSAGES:
                return Response(400, graph_error(RATE_MESSAGES[code], code))
            message = "Unsupported get request. Object with ID 'me' does not exist."
            return Response(400, graph_error(message, code, "GraphMethodException", 33))
        if path == "me":
            fields = set((request.arg("fields") or "id,name").split(","))
            user = self.user(self.world.owner)
            user["link"] = "https://www.facebook.com/app_scoped_user_id/10000001/"
            return Response(200, {k: v for k, v in user.items() if k in fields})
        if path == "me/permissions":
            names = ["public_profile", "email", "user_friends", "user_posts", "user_link"]
            data = [
                {"permission": n, "status": "granted" if n in self.granted else "declined"}
                for n in names
            ]
            return Response(200, {"data": data})
        if path == "me/friends":
            if "user_friends" not in self.granted:
                return Response(200, {"data": [], "summary": {"total_count": 0}})
            friends = self.friends()
            listed = [self.user(a) for a in friends if a.id in self.app_users]
            return self._page(request, path, listed, {"total_count": len(friends)})
        if path == "me/posts":
            if "user_posts" not in self.granted or self.posts_permission_error:
                return Response(
                    400,
                    graph_error(
                        "(#10) Requires user_posts permission to access this endpoint.", 10
                    ),
                )
            return self._page(request, path, [self.post(p) for p in self.world.posts], None)
        return Response(
            400,
            graph_error(
                f"Unsupported get request. Object with ID '{path}' does not exist.",
                100,
                "GraphMethodException",
                33,
            ),
        )

    def _page(
        self,
        request: Request,
        path: str,
        items: list[dict[str, Any]],
        summary: dict[str, Any] | None,
    ) -> Response:
        limit = int(request.arg("limit", "25") or 25)
        after = request.arg("after")
        start = _offset(after) if after else 0
        if start is None:
            return Response(400, graph_error("Invalid cursor", 100))
        chunk = items[start : start + limit]
        body: dict[str, Any] = {"data": chunk}
        if chunk:
            paging: dict[str, Any] = {
                "cursors": {"before": _cursor(start), "after": _cursor(start + len(chunk))}
            }
            if start + limit < len(items):
                query = {
                    "access_token": request.arg("access_token") or request.bearer,
                    "limit": limit,
                    "after": _cursor(start + limit),
                }
                if request.arg("fields"):
                    query["fields"] = request.arg("fields")
                paging["next"] = f"{self.graph_url}/{path}?{urlencode(query)}"
            if start > 0:
                paging["previous"] = f"{self.graph_url}/{path}?before={_cursor(start)}"
            body["paging"] = paging
        if summary is not None:
            body["summary"] = summary
        return Response(200, body)

    # -- Facebook Login ---------------------------------------------------------------

    def _access_token(self, request: Request) -> Response:
        args = {k: v[0] for k, v in request.query.items()}
        if request.method == "POST":
            args.update(request.form())
        client_id = args.get("client_id", "")
        if self.oauth_clients.get(client_id) != args.get("client_secret"):
            return Response(
                400,
                graph_error("Error validating client secret.", 1, subcode=None),
            )
        if args.get("grant_type") == "fb_exchange_token":
            short = args.get("fb_exchange_token", "")
            if self.expired or short not in self.tokens:
                return Response(
                    400,
                    graph_error(
                        "Error validating access token: Session has expired.", 190, subcode=463
                    ),
                )
            long_lived = "EAAL" + secrets.token_hex(20)
            self.tokens.add(long_lived)
            self.exchanged.append(short)
            return Response(
                200,
                {"access_token": long_lived, "token_type": "bearer", "expires_in": LONG_LIVED},
            )
        code = args.get("code", "")
        if code not in self.codes or self.codes[code][1] != args.get("redirect_uri"):
            return Response(
                400,
                graph_error("Invalid verification code format.", 100, subcode=36007),
            )
        del self.codes[code]
        token = "EAAS" + secrets.token_hex(20)
        self.tokens.add(token)
        return Response(200, {"access_token": token, "token_type": "bearer", "expires_in": 5400})
