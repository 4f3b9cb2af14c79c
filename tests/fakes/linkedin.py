"""A fake LinkedIn: Sign In with LinkedIn using OpenID Connect.

Endpoints as LinkedIn serves them (learn.microsoft.com, "Sign In with LinkedIn using OpenID
Connect"): ``GET /oauth/v2/authorization`` (redirects at once with ``code`` and ``state``,
or ``error=user_cancelled_authorize`` when :attr:`FakeLinkedIn.deny_consent`),
``POST /oauth/v2/accessToken`` (form ``grant_type=authorization_code``, ``code``,
``redirect_uri``, ``client_id``, ``client_secret``; answers ``access_token``,
``expires_in`` 5184000, ``scope`` ``openid,profile,email``, ``token_type`` and an
``id_token`` signed HS256 with the client secret), ``GET /v2/userinfo`` and
``/oauth/.well-known/openid-configuration``. Errors use LinkedIn's shapes:
``{"serviceErrorCode", "code", "message", "status"}`` for the API and
``{"error", "error_description"}`` for the token endpoint. LinkedIn sends no rate-limit
headers.

Knobs beyond :class:`~tests.fakes.server.FakeServer`'s: :attr:`deny_consent`,
:meth:`expire` (every token answers 401 ``EXPIRED_ACCESS_TOKEN``), :attr:`scopes`
(granted scopes; without ``profile`` userinfo answers 403).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

from tests.fakes.oauth import ConsentStep
from tests.fakes.server import FakeServer, Request, Response
from tests.fakes.world import World

EXPIRES_IN = 5_184_000


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256_jwt(claims: dict[str, Any], secret: str) -> str:
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = _b64(json.dumps(claims).encode())
    signature = hmac.new(secret.encode(), f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{_b64(signature)}"


class FakeLinkedIn(ConsentStep, FakeServer):
    """Fake ``www.linkedin.com/oauth/v2`` + ``api.linkedin.com/v2/userinfo``.

    :param oauth_clients: ``{client_id: client_secret}`` (default ``{"li-client": "li-secret"}``).
    """

    denial = {
        "error": "user_cancelled_authorize",
        "error_description": "The user cancelled the authorization",
    }
    new_code = staticmethod(lambda: secrets.token_urlsafe(32))

    def __init__(
        self,
        world: World,
        *,
        tokens: set[str] | None = None,
        oauth_clients: dict[str, str] | None = None,
    ) -> None:
        super().__init__(world, tokens=tokens)
        self.oauth_clients = {"li-client": "li-secret"} if oauth_clients is None else oauth_clients
        self.deny_consent = False
        self.expired = False
        self.scopes = {"openid", "profile", "email"}
        self.codes: dict[str, tuple[str, str]] = {}

    def expire(self) -> None:
        self.expired = True

    @property
    def userinfo_url(self) -> str:
        return f"{self.url}/v2/userinfo"

    def rate_headers(self, remaining: int, reset: float) -> dict[str, str]:
        return {}

    def rate_limited_body(self) -> Any:
        return {
            "status": 429,
            "serviceErrorCode": 101,
            "code": "TOO_MANY_REQUESTS",
            "message": "Resource level throttle limit for calls to this resource is reached.",
        }

    def userinfo(self) -> dict[str, Any]:
        owner = self.world.owner
        given, _, family = (owner.name or owner.handle).partition(" ")
        return {
            "sub": f"li-{owner.id:06d}",
            "email_verified": True,
            "name": owner.name or owner.handle,
            "locale": {"country": "US", "language": "en"},
            "given_name": given,
            "family_name": family,
            "email": f"{owner.handle}@example.com",
            "picture": f"https://media.licdn.com/dms/image/{owner.id}/profile.jpg",
        }

    def route(self, request: Request) -> Response:
        path = request.path
        if path == "/oauth/v2/authorization":
            return self.consent(request)
        if path == "/oauth/v2/accessToken" and request.method == "POST":
            return self._access_token(request)
        if path == "/oauth/.well-known/openid-configuration":
            return Response(
                200,
                {
                    "issuer": "https://www.linkedin.com/oauth",
                    "authorization_endpoint": f"{self.url}/oauth/v2/authorization",
                    "token_endpoint": f"{self.url}/oauth/v2/accessToken",
                    "userinfo_endpoint": self.userinfo_url,
                    "jwks_uri": f"{self.url}/oauth/openid/jwks",
                    "response_types_supported": ["code"],
                    "subject_types_supported": ["pairwise"],
                    "id_token_signing_alg_values_supported": ["RS256", "HS256"],
                    "scopes_supported": ["openid", "profile", "email"],
                    "claims_supported": [
                        "iss",
                        "aud",
                        "iat",
                        "exp",
                        "sub",
                        "name",
                        "given_name",
                        "family_name",
                        "picture",
                        "email",
                        "email_verified",
                        "locale",
                    ],
                },
            )
        if path == "/v2/userinfo":
            if self.expired and request.bearer in self.tokens:
                return Response(
                    401,
                    {
                        "serviceErrorCode": 65601,
                        "code": "EXPIRED_ACCESS_TOKEN",
                        "message": "The token used in the request has expired",
                        "status": 401,
                    },
                )
            if not self.owner_token(request):
                return Response(
                    401,
                    {
                        "serviceErrorCode": 65600,
                        "code": "INVALID_ACCESS_TOKEN",
                        "message": "Invalid access token",
                        "status": 401,
                    },
                )
            if "profile" not in self.scopes:
                return Response(
                    403,
                    {
                        "serviceErrorCode": 100,
                        "code": "ACCESS_DENIED",
                        "message": "Not enough permissions to access: userinfo.GET.NO_VERSION",
                        "status": 403,
                    },
                )
            return Response(200, self.userinfo())
        return Response(
            404,
            {
                "serviceErrorCode": 0,
                "code": "NOT_FOUND",
                "message": f"No virtual resource found for {path}",
                "status": 404,
            },
        )

    def _access_token(self, request: Request) -> Response:
        form = request.form()
        client_id = form.get("client_id", "")
        if self.oauth_clients.get(client_id) != form.get("client_secret"):
            return Response(
                401,
                {"error": "invalid_client", "error_description": "Client authentication failed"},
            )
        code = form.get("code", "")
        grant = self.codes.pop(code, None)
        if grant is None or grant != (client_id, form.get("redirect_uri")):
            return Response(
                400,
                {
                    "error": "invalid_request",
                    "error_description": "Unable to retrieve access token: appid/redirect uri/"
                    "code verifier does not match authorization code. Or authorization code "
                    "expired. Or external member binding exists",
                },
            )
        token = "AQV" + secrets.token_urlsafe(40)
        self.tokens.add(token)
        now = int(time.time())
        info = self.userinfo()
        claims = {
            "iss": "https://www.linkedin.com/oauth",
            "aud": client_id,
            "iat": now,
            "exp": now + 3600,
            **{k: info[k] for k in ("sub", "name", "given_name", "family_name", "email")},
        }
        return Response(
            200,
            {
                "access_token": token,
                "expires_in": EXPIRES_IN,
                "scope": ",".join(sorted(self.scopes)),
                "token_type": "Bearer",
                "id_token": hs256_jwt(claims, self.oauth_clients[client_id]),
            },
        )
