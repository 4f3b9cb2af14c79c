"""A fake GitHub: REST v3 (users, followers, following, public events) and the OAuth web flow.

Shapes follow docs.github.com: list endpoints give "simple users" without counts, ``/users/{u}``
gives the full user, pagination is ``?per_page=&page=`` with a ``Link`` header whose URLs use
``/user/{id}/...`` as the real API's do, rate-limit headers are ``X-RateLimit-*`` with an
epoch reset, and an exhausted limit is a 403 with ``X-RateLimit-Remaining: 0``.

The OAuth endpoints (``/login/oauth/authorize``, ``/login/oauth/access_token``) live on the
same server, so point both the API base URL and the OAuth base URL at :attr:`FakeGitHub.url`.
The authorize endpoint redirects at once (no consent page) so a browser test can drive it;
set :attr:`FakeGitHub.deny_consent` to get ``error=access_denied`` instead.
"""

from __future__ import annotations

import math
import re
import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from tests.fakes.oauth import ConsentStep, page
from tests.fakes.server import FakeServer, Request, Response, link_header
from tests.fakes.world import WORLD_NOW, Account, World, WorldPost

DOCS = "https://docs.github.com/rest"
#: GitHub's public-events window and cap.
EVENTS_DAYS = 90
EVENTS_MAX = 300


def _iso(moment: Any) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def github_event(post: WorldPost, owner: Account) -> dict[str, Any]:
    """Render one world post as the GitHub event a user like this would have produced.

    posts become IssuesEvent / PullRequestEvent / PullRequestReviewEvent (by id), replies
    become IssueCommentEvent / PullRequestReviewCommentEvent, reposts become PushEvent
    (which the fetcher ignores).
    """
    actor = {"id": owner.id, "login": owner.handle, "display_login": owner.handle}
    repo = {"id": 42, "name": f"{owner.handle}/project", "url": "https://api.github.com/repos/x"}
    html = f"https://github.com/{owner.handle}/project"
    number = post.id
    kind: str
    payload: dict[str, Any]
    issue: dict[str, Any] = {
        "id": 900_000 + post.id,
        "number": number,
        "title": post.text,
        "body": f"Body of {post.id}",
        "html_url": f"{html}/issues/{number}",
        "comments": post.replies,
        "reactions": {"total_count": post.likes},
        "created_at": _iso(post.created_at),
    }
    if post.kind == "post":
        variant = post.id % 3
        if variant == 0:
            kind, payload = "IssuesEvent", {"action": "opened", "issue": issue}
        elif variant == 1:
            pr = {**issue, "html_url": f"{html}/pull/{number}"}
            kind, payload = (
                "PullRequestEvent",
                {"action": "opened", "number": number, "pull_request": pr},
            )
        else:
            review = {
                "id": 700_000 + post.id,
                "body": post.text,
                "state": "approved",
                "html_url": f"{html}/pull/{number}#pullrequestreview-{post.id}",
                "submitted_at": _iso(post.created_at),
            }
            pr = {**issue, "title": f"PR {number}", "html_url": f"{html}/pull/{number}"}
            kind = "PullRequestReviewEvent"
            payload = {"action": "created", "review": review, "pull_request": pr}
    elif post.kind == "reply":
        comment = {
            "id": 800_000 + post.id,
            "body": post.text,
            "html_url": f"{html}/issues/{post.reply_to}#issuecomment-{post.id}",
            "created_at": _iso(post.created_at),
            "reactions": {"total_count": post.likes},
        }
        target = {
            **issue,
            "number": post.reply_to,
            "title": "Parent",
            "html_url": f"{html}/issues/{post.reply_to}",
        }
        if post.id % 2 == 0:
            kind, payload = (
                "IssueCommentEvent",
                {"action": "created", "issue": target, "comment": comment},
            )
        else:
            kind = "PullRequestReviewCommentEvent"
            payload = {
                "action": "created",
                "comment": comment,
                "pull_request": {**target, "html_url": f"{html}/pull/{post.reply_to}"},
            }
    else:
        kind, payload = "PushEvent", {"push_id": post.id, "ref": "refs/heads/main"}
    return {
        "id": str(post.id),
        "type": kind,
        "actor": actor,
        "repo": repo,
        "payload": payload,
        "public": True,
        "created_at": _iso(post.created_at),
    }


class FakeGitHub(ConsentStep, FakeServer):
    """Fake ``api.github.com`` + ``github.com/login/oauth``.

    :param world: graph and posts; account ids are GitHub user ids, handles are logins.
    :param tokens: accepted bearer tokens (default ``{"test-token"}``); OAuth adds more.
    :param oauth_clients: ``{client_id: client_secret}`` (default ``{"gh-client": "gh-secret"}``).

    Knobs beyond :class:`~tests.fakes.server.FakeServer`'s: :attr:`deny_consent`,
    :attr:`tokens` (clear it to revoke every token).
    """

    bad_client = page(404, b"Not Found", "text/plain")
    denial = {
        "error": "access_denied",
        "error_description": "The user has denied your application access.",
        "error_uri": f"{DOCS}/apps/troubleshooting",
    }
    new_code = staticmethod(lambda: secrets.token_hex(10))

    rate_limit_status = 403

    def __init__(
        self,
        world: World,
        *,
        tokens: set[str] | None = None,
        oauth_clients: dict[str, str] | None = None,
        rate_limit: int = 5000,
    ) -> None:
        super().__init__(world, tokens=tokens, rate_limit=rate_limit)
        self.oauth_clients = {"gh-client": "gh-secret"} if oauth_clients is None else oauth_clients
        self.deny_consent = False
        self.codes: dict[str, tuple[str, str | None]] = {}
        self.issued_tokens: list[str] = []

    # -- headers and bodies ---------------------------------------------------------

    def rate_headers(self, remaining: int, reset: float) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.rate_limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": str(math.ceil(reset)),
            "X-RateLimit-Used": str(self.rate_limit - remaining),
            "X-RateLimit-Resource": "core",
        }

    def rate_limited_body(self) -> Any:
        return {
            "message": "API rate limit exceeded for user ID 1.",
            "documentation_url": f"{DOCS}/overview/rate-limits-for-the-rest-api",
        }

    @staticmethod
    def _error(status: int, message: str) -> Response:
        return Response(
            status, {"message": message, "documentation_url": DOCS, "status": str(status)}
        )

    def simple_user(self, account: Account) -> dict[str, Any]:
        api = f"{self.url}/users/{account.handle}"
        return {
            "login": account.handle,
            "id": account.id,
            "node_id": f"U_{account.id}",
            "avatar_url": f"https://avatars.githubusercontent.com/u/{account.id}?v=4",
            "gravatar_id": "",
            "url": api,
            "html_url": f"https://github.com/{account.handle}",
            "followers_url": f"{api}/followers",
            "following_url": f"{api}/following{{/other_user}}",
            "type": "User",
            "site_admin": False,
        }

    def full_user(self, account: Account) -> dict[str, Any]:
        world = self.world
        return {
            **self.simple_user(account),
            "name": account.name or None,
            "company": None,
            "blog": account.blog or "",
            "location": None,
            "email": None,
            "hireable": None,
            "bio": account.bio or None,
            "twitter_username": account.twitter,
            "public_repos": 3,
            "public_gists": 0,
            "followers": len(world.followers(account.id)),
            "following": len(world.following(account.id)),
            "created_at": _iso(account.created_at),
            "updated_at": _iso(account.created_at),
        }

    def events(self, account: Account) -> list[dict[str, Any]]:
        """The public events the fake serves for ``account`` (newest first, capped)."""
        if account.id != self.world.owner_id:
            return []
        cutoff = WORLD_NOW - timedelta(days=EVENTS_DAYS)
        posts = [p for p in self.world.posts if p.created_at >= cutoff]
        return [github_event(p, account) for p in posts][:EVENTS_MAX]

    # -- routing --------------------------------------------------------------------

    def route(self, request: Request) -> Response:
        path = request.path
        if path == "/login/oauth/authorize":
            return self.consent(request)
        if path == "/login/oauth/access_token" and request.method == "POST":
            return self._access_token(request)
        if request.bearer is not None and not self.owner_token(request):
            return self._error(401, "Bad credentials")
        if path == "/user":
            if request.bearer is None:
                return self._error(401, "Requires authentication")
            return Response(200, self.full_user(self.world.owner))
        match = re.fullmatch(
            r"/(users|user)/([^/]+)(?:/(followers|following|events/public))?", path
        )
        if not match:
            return self._error(404, "Not Found")
        kind, key, sub = match.groups()
        account = (
            self.world.accounts.get(int(key))
            if kind == "user" and key.isdigit()
            else self.world.by_handle(key)
            if kind == "users"
            else None
        )
        if account is None:
            return self._error(404, "Not Found")
        if sub is None:
            return Response(200, self.full_user(account))
        if sub == "events/public":
            items: list[Any] = self.events(account)
        else:
            ids = (
                self.world.followers(account.id)
                if sub == "followers"
                else self.world.following(account.id)
            )
            items = [self.simple_user(self.world.accounts[i]) for i in ids]
        return self._page(request, f"/user/{account.id}/{sub}", items)

    def _page(self, request: Request, link_path: str, items: list[Any]) -> Response:
        try:
            per_page = min(max(int(request.arg("per_page", "30") or 30), 1), 100)
            page = max(int(request.arg("page", "1") or 1), 1)
        except ValueError:
            return self._error(422, "Invalid pagination parameters")
        last = max(1, math.ceil(len(items) / per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        links = []

        def href(n: int) -> str:
            return f"{self.url}{link_path}?{urlencode({'per_page': per_page, 'page': n})}"

        if page > 1:
            links += [(href(page - 1), "prev"), (href(1), "first")]
        if page < last:
            links += [(href(page + 1), "next"), (href(last), "last")]
        headers = {"Link": link_header(links)} if links else {}
        return Response(200, chunk, headers)

    # -- OAuth web flow -------------------------------------------------------------

    def _access_token(self, request: Request) -> Response:
        form = request.form()
        client_id = form.get("client_id")
        secret = form.get("client_secret")
        code = form.get("code", "")
        wants_json = "application/json" in request.headers.get("accept", "")
        if client_id not in self.oauth_clients or self.oauth_clients[client_id] != secret:
            result = {
                "error": "incorrect_client_credentials",
                "error_description": "The client_id and/or client_secret passed are incorrect.",
            }
        elif code not in self.codes or self.codes[code][0] != client_id:
            result = {
                "error": "bad_verification_code",
                "error_description": "The code passed is incorrect or expired.",
            }
        elif form.get("redirect_uri") and form["redirect_uri"] != self.codes[code][1]:
            result = {
                "error": "redirect_uri_mismatch",
                "error_description": "The redirect_uri MUST match the registered callback URL.",
            }
        else:
            del self.codes[code]
            token = "gho_" + secrets.token_hex(18)
            self.tokens.add(token)
            self.issued_tokens.append(token)
            result = {"access_token": token, "token_type": "bearer", "scope": "read:user"}
        # GitHub answers 200 even for errors; the body says what went wrong.
        if wants_json:
            return Response(200, result)
        return Response(
            200,
            raw=urlencode(result).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        )
