"""The OAuth pieces every fake provider shares: the consent step of the authorization-code
flow, and the redirect back to the app.

Each fake says only what differs: how it refuses an unknown client, what its denial looks
like, how its codes look, and (Facebook) the fragment it appends.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from urllib.parse import urlencode

from tests.fakes.server import Request, Response


def back_to_app(redirect_uri: str, query: Mapping[str, str], fragment: str = "") -> Response:
    """The 302 that sends the browser back to the app's callback with ``query``."""
    separator = "&" if "?" in redirect_uri else "?"
    location = f"{redirect_uri}{separator}{urlencode(query)}"
    if fragment:
        location += f"#{fragment}"
    return Response(302, raw=b"", headers={"Location": location, "Content-Type": "text/html"})


def page(status: int, text: bytes, content_type: str = "text/html") -> Response:
    """An error page shown to the browser (not JSON)."""
    return Response(status, raw=text, headers={"Content-Type": content_type})


class ConsentStep:
    """The authorize endpoint of a provider with registered clients (GitHub, Facebook,
    LinkedIn): an unknown client or a missing redirect URI gets :attr:`bad_client`; with
    :attr:`deny_consent` set the browser comes back with :attr:`denial`, otherwise with a new
    code remembered in :attr:`codes` as ``(client_id, redirect_uri)``. ``state`` is echoed.
    """

    oauth_clients: dict[str, str]
    codes: dict[str, tuple[str, str]]
    deny_consent: bool
    #: What an unknown client sees.
    bad_client: Response = page(400, b"invalid client_id")
    #: The query the provider sends back when the person says no.
    denial: Mapping[str, str] = {"error": "access_denied"}
    #: Makes a new authorization code.
    new_code: Callable[[], str] = staticmethod(lambda: secrets.token_urlsafe(24))
    #: Appended to the redirect (Facebook adds ``_=_``).
    fragment: str = ""

    def consent(self, request: Request) -> Response:
        client_id = request.arg("client_id")
        redirect_uri = request.arg("redirect_uri")
        state = request.arg("state")
        if client_id not in self.oauth_clients or not redirect_uri:
            return self.bad_client
        if self.deny_consent:
            query = dict(self.denial)
        else:
            code = self.new_code()
            self.codes[code] = (client_id, redirect_uri)
            query = {"code": code}
        if state is not None:
            query["state"] = state
        return back_to_app(redirect_uri, query, self.fragment)
