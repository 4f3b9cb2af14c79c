"""The shared machinery of the fake API servers: a threaded HTTP server on 127.0.0.1,
a request log and failure-injection knobs.

A subclass implements :meth:`FakeServer.route` and :meth:`FakeServer.rate_headers`; the base
class applies the knobs before routing, so every fake fails the same way::

    with FakeGitHub(small_world()) as gh:
        gh.fail_next(2)                 # two 500s, then normal answers
        gh.rate_limit_next(reset_in=1)  # one 429/403 whose reset is a second away
        gh.slow_next(delay=0.5)         # one answer that takes half a second
        gh.truncate_next(mode="length") # Content-Length larger than the body
        gh.url, gh.requests, gh.count("/users/")
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes.world import World


@dataclass
class Request:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes = b""
    raw_query: str = ""

    @property
    def target(self) -> str:
        """Path and query as sent (what knob ``path`` prefixes are matched against)."""
        return f"{self.path}?{self.raw_query}" if self.raw_query else self.path

    def arg(self, name: str, default: str | None = None) -> str | None:
        """First value of query parameter ``name``."""
        values = self.query.get(name)
        return values[0] if values else default

    def form(self) -> dict[str, str]:
        """The body decoded as a form (or JSON object), first values only."""
        if self.headers.get("content-type", "").startswith("application/json"):
            data = json.loads(self.body or b"{}")
            return {k: str(v) for k, v in data.items()}
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}

    @property
    def bearer(self) -> str | None:
        auth = self.headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        return token if scheme.lower() in ("bearer", "token") and token else None


@dataclass
class Response:
    """What a route answers."""

    status: int = 200
    body: Any = None  #: JSON-serialised unless ``raw`` is set
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None

    def payload(self) -> bytes:
        if self.raw is not None:
            return self.raw
        return json.dumps(self.body).encode()


@dataclass
class _Knob:
    remaining: int
    path: str | None
    options: dict[str, Any]


class FakeServer:
    """Base of the fake APIs: serves :meth:`route` on ``127.0.0.1:<free port>``.

    :param world: the graph and posts to serve.
    :param tokens: bearer tokens accepted as the owner's (``None``: ``{"test-token"}``).
    :param rate_limit: the per-window request budget announced in rate-limit headers.
    """

    #: Status used for an exhausted rate limit (GitHub answers 403, the others 429).
    rate_limit_status = 429

    def __init__(
        self,
        world: World,
        *,
        tokens: set[str] | None = None,
        rate_limit: int = 5000,
    ) -> None:
        self.world = world
        self.tokens: set[str] = {"test-token"} if tokens is None else set(tokens)
        self.rate_limit = rate_limit
        self.rate_remaining = rate_limit
        self.rate_reset = time.time() + 3600
        self.requests: list[Request] = []
        self._knobs: dict[str, list[_Knob]] = {
            "fail": [],
            "rate": [],
            "slow": [],
            "truncate": [],
        }
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- life cycle ---------------------------------------------------------------------

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """Base URL, without a trailing slash."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeServer:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- knobs --------------------------------------------------------------------------

    def _add(self, kind: str, n: int, path: str | None, **options: Any) -> None:
        with self._lock:
            self._knobs[kind].append(_Knob(n, path, options))

    def fail_next(self, n: int = 1, *, status: int = 500, path: str | None = None) -> None:
        """Answer the next ``n`` requests with ``status``.

        ``path``, in this and the other knobs, limits the knob to requests whose path (plus
        ``?query`` as sent) starts with it.
        """
        self._add("fail", n, path, status=status)

    def rate_limit_next(
        self,
        n: int = 1,
        *,
        reset_in: float = 1.0,
        status: int | None = None,
        retry_after: int | None = None,
        path: str | None = None,
    ) -> None:
        """Refuse the next ``n`` requests for rate limits, the reset ``reset_in`` seconds
        away (``status`` defaults to the network's own; ``retry_after`` adds that header
        instead of a zero remaining count, like GitHub's secondary limits)."""
        self._add("rate", n, path, reset_in=reset_in, status=status, retry_after=retry_after)

    def slow_next(self, n: int = 1, *, delay: float = 1.0, path: str | None = None) -> None:
        """Wait ``delay`` seconds before answering the next ``n`` requests."""
        self._add("slow", n, path, delay=delay)

    def truncate_next(self, n: int = 1, *, mode: str = "length", path: str | None = None) -> None:
        """Cut the next ``n`` bodies: ``length`` announces more bytes than sent (the client
        sees a broken connection); ``json`` sends half the JSON with a matching length."""
        self._add("truncate", n, path, mode=mode)

    def set_quota(self, remaining: int, reset_in: float = 1.0) -> None:
        """Let only ``remaining`` more requests through before the window resets in
        ``reset_in`` seconds; the headers count down to 0 as a real server's do."""
        with self._lock:
            self.rate_remaining = remaining
            self.rate_reset = time.time() + reset_in

    def _take(self, kind: str, path: str) -> dict[str, Any] | None:
        with self._lock:
            for knob in self._knobs[kind]:
                if knob.remaining > 0 and (knob.path is None or path.startswith(knob.path)):
                    knob.remaining -= 1
                    return knob.options
        return None

    # -- request log --------------------------------------------------------------------

    def count(self, path_prefix: str = "", method: str | None = None) -> int:
        """How many logged requests have a path starting with ``path_prefix``."""
        return sum(
            1
            for r in self.requests
            if r.path.startswith(path_prefix) and (method is None or r.method == method)
        )

    def reset_log(self) -> None:
        self.requests.clear()

    # -- what subclasses provide ----------------------------------------------------------

    def route(self, request: Request) -> Response:
        raise NotImplementedError

    def rate_headers(self, remaining: int, reset: float) -> dict[str, str]:
        raise NotImplementedError

    def rate_limited_body(self) -> Any:
        return {"error": "Too many requests"}

    def owner_token(self, request: Request) -> bool:
        return request.bearer is not None and request.bearer in self.tokens

    # -- dispatch -----------------------------------------------------------------------

    def _dispatch(self, request: Request) -> tuple[Response, float, str | None]:
        self.requests.append(request)
        slow = self._take("slow", request.target)
        delay = slow["delay"] if slow else 0.0
        truncate = self._take("truncate", request.target)
        mode = truncate["mode"] if truncate else None
        failure = self._take("fail", request.target)
        if failure:
            return Response(failure["status"], {"message": "Server Error"}), delay, None
        rate = self._take("rate", request.target)
        now = time.time()
        if rate:
            reset = now + rate["reset_in"]
            headers = self.rate_headers(0, reset)
            if rate["retry_after"] is not None:
                headers = self.rate_headers(max(self.rate_remaining, 1), reset)
                headers["Retry-After"] = str(rate["retry_after"])
            status = rate["status"] or self.rate_limit_status
            return Response(status, self.rate_limited_body(), headers), delay, None
        with self._lock:
            if now >= self.rate_reset:
                self.rate_remaining = self.rate_limit
                self.rate_reset = now + 3600
            if self.rate_remaining <= 0:
                headers = self.rate_headers(0, self.rate_reset)
                limited = Response(self.rate_limit_status, self.rate_limited_body(), headers)
                return limited, delay, None
            self.rate_remaining -= 1
            remaining, reset = self.rate_remaining, self.rate_reset
        response = self.route(request)
        response.headers = {**self.rate_headers(remaining, reset), **response.headers}
        return response, delay, mode

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # one response is two writes: avoid 40 ms stalls

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = Request(
                    self.command,
                    parts.path,
                    parse_qs(parts.query, keep_blank_values=True),
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                    parts.query,
                )
                try:
                    response, delay, mode = server._dispatch(request)
                except Exception as exc:  # a bug in a fake must show, not hang the client
                    response, delay, mode = Response(500, {"message": repr(exc)}), 0.0, None
                if delay:
                    time.sleep(delay)
                payload = response.payload()
                length_header = len(payload)
                if mode == "length":
                    length_header = len(payload) + 100
                elif mode == "json":
                    payload = payload[: max(1, len(payload) // 2)]
                    length_header = len(payload)
                try:
                    self.send_response(response.status)
                    content_type = "application/json; charset=utf-8"
                    for name, value in response.headers.items():
                        if name.lower() == "content-type":
                            content_type = value
                        else:
                            self.send_header(name, value)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(length_header))
                    if mode == "length":
                        self.send_header("Connection", "close")
                        self.close_connection = True
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            do_GET = _handle
            do_POST = _handle

            def log_message(self, format: str, *args: Any) -> None:
                return None

        return Handler


def link_header(links: list[tuple[str, str]]) -> str:
    """Render ``[(url, rel), ...]`` as an RFC 8288 ``Link`` header."""
    return ", ".join(f'<{url}>; rel="{rel}"' for url, rel in links)


Router = Callable[[Request], Response]
