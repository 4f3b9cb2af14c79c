"""A small JSON-over-HTTP client shared by the live fetchers.

Every call has a timeout, transient failures are retried with exponential backoff, rate
limits are waited out (the job reports "paused until 14:05" through
:meth:`~app.networks.base.Progress.paused` and carries on by itself), and failures are
raised as the typed errors of :mod:`app.networks.base`, never returned.

Rate-limit headers understood:

* ``X-RateLimit-Remaining`` / ``X-RateLimit-Reset`` as epoch seconds (GitHub);
* ``X-RateLimit-Remaining`` / ``X-RateLimit-Reset`` as an ISO 8601 time (Mastodon);
* ``RateLimit-Remaining`` / ``RateLimit-Reset`` as epoch seconds (Bluesky; a small number
  is read as seconds from now, as the IETF draft defines it);
* ``Retry-After`` in seconds or as an HTTP date (anyone, GitHub's secondary limits).

A wait longer than ``max_wait`` seconds (one hour by default) is not slept: the client raises
:class:`RateLimited`, a :class:`~app.networks.base.NetworkError` whose message says when to
try again ("GitHub's rate limit is used up until 14:05 UTC..."), so a background job never
sits on a worker for hours.

A client for a host a person chose (their Mastodon server) is *guarded*: it is built with an
:class:`~app.networks.outbound.OutboundPolicy` (:func:`client_for` does so for a connector
whose :attr:`~app.networks.base.Connector.door` is :attr:`~app.networks.base.Door.INSTANCE`),
connects only where the policy allows and to the address it checked, never follows a
redirect (:class:`Redirected`), and never puts what the server sent into a message: every
failure has a fixed sentence ("could not be reached", "did not answer in time", "refused
the request (HTTP 403)").
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from app.networks.base import (
    AccountData,
    AuthExpired,
    Connector,
    Door,
    HttpSettings,
    Login,
    NetworkError,
    NotAvailable,
    NullProgress,
    PartState,
    Progress,
)
from app.networks.outbound import (
    OutboundPolicy,
    OutboundRefused,
    RedirectRefused,
    guarded_session,
    policy_from_config,
)

#: Seconds to wait on a 429 (or a secondary-limit 403) that names no reset time.
DEFAULT_RATE_WAIT = 60.0
#: How many rate-limit waits a single request may go through before giving up.
MAX_RATE_WAITS = 5
#: Epoch values below this are read as "seconds from now" (RateLimit-Reset draft semantics).
_EPOCH_THRESHOLD = 1_000_000_000

Params = Mapping[str, Any] | list[tuple[str, Any]] | None


log = logging.getLogger(__name__)


class HttpError(NetworkError):
    """The server refused a request with a 4xx status other than 401, 404 and 429.

    :param status: the HTTP status code.
    :param payload: the decoded JSON error body, or ``None``.
    """

    def __init__(self, message: str, status: int, payload: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.payload = payload


class RateLimited(NetworkError):
    """The rate limit resets later than the client is willing to wait.

    :param until: when the limit resets (UTC).
    """

    def __init__(self, message: str, until: datetime) -> None:
        super().__init__(message)
        self.until = until


class Unreachable(NetworkError):
    """The server could not be reached: no connection (after the retries), or the outbound
    guard refused its address."""


class TimedOut(NetworkError):
    """The server did not answer in time (after the retries)."""


class Redirected(NetworkError):
    """A guarded client was answered with a redirect, which it does not follow."""


#: Kinds of a retried failure (:attr:`_Retry.kind`).
_TIMEOUT, _CONNECTION, _ANSWER = "timeout", "connection", "answer"


class _Retry(Exception):
    """Internal: the attempt failed in a way worth retrying.

    :param reason: what went wrong, in our own words (never the server's, never an
        exception class name).
    :param kind: ``timeout``, ``connection`` or ``answer`` (a 5xx or a broken body).
    """

    def __init__(self, reason: str, kind: str = _ANSWER) -> None:
        super().__init__(reason)
        self.kind = kind


def parse_reset(headers: Mapping[str, str], now: float) -> float | None:
    """Return the epoch time a rate limit resets, from whichever header the server sent.

    :param headers: response headers (case-insensitive mapping).
    :param now: the current epoch time, for relative values.
    :returns: epoch seconds, or ``None`` when no header names a reset time.
    """
    retry_after = headers.get("Retry-After")
    if retry_after:
        value = retry_after.strip()
        if value.isdigit():
            return now + int(value)
        try:
            return parsedate_to_datetime(value).timestamp()
        except (TypeError, ValueError):
            pass
    for name in ("X-RateLimit-Reset", "x-rate-limit-reset", "RateLimit-Reset"):
        raw = headers.get(name)
        if not raw:
            continue
        value = raw.strip()
        try:
            number = float(value)
        except ValueError:
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                continue
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            return moment.timestamp()
        return number if number >= _EPOCH_THRESHOLD else now + number
    return None


def remaining_requests(headers: Mapping[str, str]) -> int | None:
    """Return the ``X-RateLimit-Remaining`` / ``RateLimit-Remaining`` value, if sent."""
    for name in ("X-RateLimit-Remaining", "x-rate-limit-remaining", "RateLimit-Remaining"):
        raw = headers.get(name)
        if raw is not None:
            try:
                return int(raw.strip())
            except ValueError:
                return None
    return None


def _error_text(payload: Any) -> str:
    """Pull the human part out of a JSON error body (GitHub, Mastodon, XRPC shapes)."""
    if isinstance(payload, dict):
        for key in ("message", "error_description", "error"):
            value = payload.get(key)
            if isinstance(value, str) and value:
                return value
    return ""


class ApiClient:
    """JSON client for one API base URL.

    :param base_url: the API root (``https://api.github.com``); relative paths are joined
        to it and absolute URLs (pagination links) must share its origin.
    :param token: bearer token sent as ``Authorization: Bearer ...``; ``None`` for public reads.
    :param timeout: ``(connect, read)`` seconds for every request.
    :param max_retries: retries after the first attempt for 5xx, connection errors,
        timeouts and truncated or invalid JSON bodies.
    :param backoff: first retry delay in seconds; doubled on each further retry.
    :param progress: told about every request and every rate-limit pause.
    :param sleep: ``time.sleep`` or a test double.
    :param clock: returns the current epoch time in seconds.
    :param max_wait: longest single rate-limit wait in seconds; beyond it
        :class:`RateLimited` is raised.
    :param service: name used in error messages ("GitHub").
    :param token_source: asked for the bearer token before every request, instead of
        ``token`` (a token that is refreshed while a long sync runs).
    :param reauthorize: called once when a request is answered 401, for a fresh token to
        retry it with (a token revoked early while its refresh token still works); a second
        401 raises :class:`AuthExpired`.
    :param guard: the outbound policy for a host a person chose: requests go through it
        (:func:`~app.networks.outbound.guarded_session`), redirects raise
        :class:`Redirected`, and error messages hold nothing the server sent.
    """

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        timeout: tuple[float, float] = (5, 30),
        max_retries: int = 3,
        backoff: float = 0.5,
        progress: Progress | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        user_agent: str = "MD-Analytics/0.1",
        max_wait: float = 3600.0,
        service: str = "The server",
        headers: Mapping[str, str] | None = None,
        token_source: Callable[[], str] | None = None,
        reauthorize: Callable[[], str] | None = None,
        guard: OutboundPolicy | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.progress: Progress = progress if progress is not None else NullProgress()
        self.sleep = sleep
        self.clock = clock
        self.max_wait = max_wait
        self.service = service
        #: Number of HTTP requests sent (every attempt counts).
        self.request_count = 0
        self._blocked_until: float | None = None
        origin = urlsplit(self.base_url)
        self._origin = (origin.scheme, origin.netloc)
        self.guard = guard
        self.session = requests.Session() if guard is None else guarded_session(guard)
        self.session.headers["User-Agent"] = user_agent
        self.session.headers["Accept"] = "application/json"
        if headers:
            self.session.headers.update(headers)
        self.token_source = token_source
        self.reauthorize = reauthorize
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    # -- public API -------------------------------------------------------------------

    def close(self) -> None:
        """Close the underlying connection pool."""
        self.session.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def authenticated(self) -> bool:
        """Whether requests carry an ``Authorization`` header (the client was given a token)."""
        return bool(self.session.headers.get("Authorization"))

    def url(self, path_or_url: str) -> str:
        """Return the absolute URL for ``path_or_url``, refusing other origins.

        :raises NetworkError: for an absolute URL on a different host than ``base_url``
            (a pagination link must never carry the token elsewhere).
        """
        url = urljoin(self.base_url, path_or_url.lstrip("/"))
        parts = urlsplit(url)
        if (parts.scheme, parts.netloc) != self._origin:
            raise NetworkError(f"{self.service} sent a link to another site ({parts.netloc}).")
        return url

    def get_json(self, path_or_url: str, params: Params = None) -> Any:
        """GET ``path_or_url`` and return the decoded JSON body."""
        return self.request("GET", path_or_url, params=params)[0]

    def get_page(self, path_or_url: str, params: Params = None) -> tuple[Any, str | None]:
        """GET one page and return ``(json, next_url)`` from the ``Link`` header."""
        data, response = self.request("GET", path_or_url, params=params)
        next_url = response.links.get("next", {}).get("url")
        return data, next_url

    def iter_link_pages(
        self, path_or_url: str, params: Params = None, *, max_pages: int | None = None
    ) -> Iterator[Any]:
        """Yield the JSON body of each page, following ``Link: <...>; rel="next"``.

        :param max_pages: stop after this many pages (``None``: all of them).
        """
        url: str | None = path_or_url
        pages = 0
        while url is not None and (max_pages is None or pages < max_pages):
            data, url = self.get_page(url, params)
            params = None  # the next link carries its own query
            pages += 1
            yield data

    def iter_cursor_pages(
        self,
        path: str,
        params: Mapping[str, Any],
        *,
        cursor_param: str = "cursor",
        cursor_field: str = "cursor",
        items_field: str | None = None,
        max_pages: int | None = None,
    ) -> Iterator[Any]:
        """Yield each page of a cursor-paginated endpoint (XRPC style).

        Stops when the response has no cursor, or when ``items_field`` is given and the page
        holds no items (some servers hand out a cursor that leads to an empty page).
        """
        cursor: str | None = None
        pages = 0
        while max_pages is None or pages < max_pages:
            query = dict(params)
            if cursor:
                query[cursor_param] = cursor
            data = self.get_json(path, query)
            pages += 1
            yield data
            cursor = data.get(cursor_field) if isinstance(data, dict) else None
            if not cursor or (items_field is not None and not data.get(items_field)):
                return

    def post_json(
        self, path_or_url: str, data: Mapping[str, Any] | None = None, *, retry: bool = False
    ) -> Any:
        """POST a form and return the decoded JSON body.

        :param retry: retry server errors too; off by default because a POST may have
            taken effect (a registered app) before the error came back.
        """
        return self.request("POST", path_or_url, data=data, retry=retry)[0]

    # -- the request loop -------------------------------------------------------------

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Params = None,
        data: Mapping[str, Any] | None = None,
        retry: bool = True,
    ) -> tuple[Any, requests.Response]:
        """Send a request and return ``(json, response)``.

        :raises AuthExpired: on 401.
        :raises NotAvailable: on 404 or 410.
        :raises RateLimited: when a rate limit resets later than ``max_wait`` allows.
        :raises HttpError: on any other 4xx.
        :raises NetworkError: when retries are exhausted.
        """
        url = self.url(path_or_url)
        retries_left = self.max_retries if retry else 0
        rate_waits = 0
        delay = self.backoff
        reauthorized = False
        while True:
            self._wait_if_blocked()
            if self.token_source is not None:
                self.session.headers["Authorization"] = f"Bearer {self.token_source()}"
            try:
                return self._attempt(method, url, params, data)
            except AuthExpired:
                if self.reauthorize is None or reauthorized:
                    raise
                reauthorized = True
                log.info("%s: token refused; refreshing it once", self.service)
                self.session.headers["Authorization"] = f"Bearer {self.reauthorize()}"
                continue
            except _Retry as exc:
                if retries_left <= 0:
                    log.warning(
                        "%s: giving up on %s %s (%s)", self.service, method, _path(url), exc
                    )
                    raise self._gave_up(exc, self.max_retries + 1 if retry else 1) from None
                retries_left -= 1
                log.info(
                    "%s: retrying %s %s in %.1f s (%s)",
                    self.service,
                    method,
                    _path(url),
                    delay,
                    exc,
                )
                self.sleep(delay)
                delay *= 2
            except _RateLimit as limit:
                rate_waits += 1
                if rate_waits > MAX_RATE_WAITS:
                    raise NetworkError(
                        f"{self.service} kept refusing requests for rate limits; try again later."
                    ) from None
                self._blocked_until = limit.until

    def _gave_up(self, last: _Retry, tries: int) -> NetworkError:
        """The error for a request whose last try failed with ``last``."""
        error = {_TIMEOUT: TimedOut, _CONNECTION: Unreachable}.get(last.kind, NetworkError)
        if self.guard is None:
            return error(f"{self.service} did not answer properly after {tries} tries ({last}).")
        if last.kind == _TIMEOUT:
            return error(f"{self.service} did not answer in time.")
        if last.kind == _CONNECTION:
            return error(f"{self.service} could not be reached.")
        return error(f"{self.service} did not answer properly ({last}).")

    def _attempt(
        self, method: str, url: str, params: Params, data: Mapping[str, Any] | None
    ) -> tuple[Any, requests.Response]:
        self.request_count += 1
        self.progress.request()
        try:
            response = self.session.request(
                method,
                url,
                params=params,
                data=data,
                timeout=self.timeout,
                allow_redirects=self.guard is None,
            )
        except OutboundRefused:  # the guard said no (and logged why): retrying cannot help
            raise Unreachable(f"{self.service} could not be reached.") from None
        except RedirectRefused as redirect:
            status = redirect.response.status_code if redirect.response is not None else 0
            raise Redirected(
                f"{self.service} answered with a redirect (HTTP {status}), which is not followed."
            ) from None
        except requests.Timeout:
            raise _Retry("timed out", _TIMEOUT) from None
        except requests.RequestException as exc:
            log.info("%s: %s %s failed: %s", self.service, method, _path(url), type(exc).__name__)
            raise _Retry("the connection failed", _CONNECTION) from None
        now = self.clock()
        headers = response.headers
        status = response.status_code
        payload = _json_or_none(response)
        if status == 429 or (status == 403 and self._is_rate_limit(response, payload)):
            until = parse_reset(headers, now)
            raise _RateLimit(until if until is not None else now + DEFAULT_RATE_WAIT)
        if status >= 500:
            raise _Retry(f"HTTP {status}")
        if status == 401:
            raise AuthExpired(
                f"{self.service} no longer accepts the saved login; please reconnect."
            )
        if status in (404, 410):
            raise NotAvailable(f"{self.service} has nothing at {urlsplit(url).path}.")
        if status >= 400:
            if self.guard is not None:
                message = f"{self.service} refused the request (HTTP {status})."
                raise HttpError(message, status, payload)
            detail = _error_text(payload)
            message = f"{self.service} refused the request ({status} {response.reason})"
            raise HttpError(f"{message}: {detail}" if detail else f"{message}.", status, payload)
        if payload is None:
            raise _Retry("the answer was not complete JSON")
        if remaining_requests(headers) == 0:
            self._blocked_until = parse_reset(headers, now)
        return payload, response

    @staticmethod
    def _is_rate_limit(response: requests.Response, payload: Any) -> bool:
        """Tell a rate-limit 403 (GitHub primary or secondary) from a real refusal."""
        if remaining_requests(response.headers) == 0 or "Retry-After" in response.headers:
            return True
        return "rate limit" in _error_text(payload).lower()

    def _wait_if_blocked(self) -> None:
        until = self._blocked_until
        if until is None:
            return
        self._blocked_until = None
        wait = until - self.clock()
        if wait <= 0:
            return
        moment = datetime.fromtimestamp(until, UTC)
        if wait > self.max_wait:
            raise RateLimited(
                f"{self.service}'s rate limit is used up until {moment:%H:%M} UTC; "
                "the sync will need to run again after that.",
                moment,
            )
        log.info("%s: rate limit reached, pausing %.0f s until %s", self.service, wait, moment)
        self.progress.paused(moment)
        self.sleep(wait)


class _RateLimit(Exception):
    """Internal: wait until ``until`` (epoch seconds), then try again."""

    def __init__(self, until: float) -> None:
        super().__init__(until)
        self.until = until


def _json_or_none(response: requests.Response) -> Any:
    """Decode a JSON body; ``None`` when it is empty, cut off or not JSON."""
    try:
        return response.json()
    except ValueError:
        return None


def graph_candidates(
    followers: Sequence[str] | None, friends: Sequence[str] | None, max_people: int
) -> list[str]:
    """Pick, deterministically, whose following lists to read for the follow graph.

    Mutuals come first (in follower order), then the other followers, then the other
    friends, cut at ``max_people``. Shared by the live fetchers.
    """
    followers = list(followers or ())
    friends = list(friends or ())
    friend_set = set(friends)
    mutuals = [p for p in followers if p in friend_set]
    mutual_set = set(mutuals)
    rest = [p for p in followers if p not in mutual_set]
    rest += [p for p in friends if p not in mutual_set]
    return list(dict.fromkeys(mutuals + rest))[: max(max_people, 0)]


@contextlib.contextmanager
def optional_part(
    data: AccountData, what: str, service: str, part: str = "posts"
) -> Iterator[None]:
    """Read an optional part of an account (its posts) without risking the rest.

    A refusal or failure while reading it (404, 403, a 5xx that outlived the retries, a rate
    limit too long to wait for) becomes a note on ``data`` and marks ``part`` refused, so the
    sync service keeps the last complete version of it; whatever was read before it is kept.
    A revoked token still raises :class:`AuthExpired`: the whole connection needs it.
    """
    try:
        yield
    except AuthExpired:
        raise
    except NetworkError as error:
        reason = f"{service} did not let us read {what} ({error}); everything else was read."
        data.notes.append(reason)
        data.mark(part, PartState.REFUSED, reason=reason)


def _path(url: str) -> str:
    """A URL's path only, for logs: query strings can carry tokens (Facebook's paging links)."""
    return urlsplit(url).path


def client_for(
    connector: Connector,
    config: Mapping[str, Any],
    login: Login | None = None,
    *,
    token: str | None = None,
    token_source: Callable[[], str] | None = None,
    reauthorize: Callable[[], str] | None = None,
    progress: Progress | None = None,
    base_url: str | None = None,
    interactive: bool = False,
) -> ApiClient:
    """An :class:`ApiClient` for ``connector``'s API with the configured timeout and retries.

    The API of a server the user names (a connector whose door is
    :attr:`~app.networks.base.Door.INSTANCE`, or an explicit ``base_url``) is not the
    operator's choice: its client is guarded by the outbound policy of ``config``
    (:func:`~app.networks.outbound.policy_from_config`). API URLs from config
    (``GITHUB_API_URL``...) are the operator's and are not guarded.

    :param config: the app's config (``HTTP_TIMEOUT``, ``HTTP_MAX_RETRIES``, ``HTTP_BACKOFF``
        and the connector's API URL setting; the outbound settings for a guarded client).
    :param base_url: the API root, when not the connector's own (a server the user names).
    :param interactive: a page waits for the answer: a guarded client then waits
        ``OUTBOUND_TIMEOUT`` at most per connect or read, retries once and never sleeps
        through a rate limit, so a slow server does not hold a web worker.
    """
    http = http_settings(config)
    root = base_url or connector.api_url(config, login or Login())
    guard = None
    timeout, max_retries, max_wait = http.timeout, http.max_retries, 3600.0
    if connector.door == Door.INSTANCE or base_url is not None:
        guard = policy_from_config(config)
        if interactive:
            timeout, max_retries, max_wait = guard.timeout, min(max_retries, 1), 0.0
    client = ApiClient(
        root,
        token=token,
        token_source=token_source,
        reauthorize=reauthorize,
        progress=progress,
        service=connector.service_name(root),
        headers=connector.api_headers,
        timeout=timeout,
        max_retries=max_retries,
        backoff=http.backoff,
        max_wait=max_wait,
        guard=guard,
    )
    connector.prepare_client(client)
    return client


def http_settings(config: Mapping[str, Any]) -> HttpSettings:
    """Timeout, retries and backoff for every network call, from the app's config.

    ``HTTP_TIMEOUT`` is the read timeout (the connect timeout is at most 5 s),
    ``HTTP_MAX_RETRIES`` (default 3) and ``HTTP_BACKOFF`` (seconds before the first retry,
    doubled on each further one; default 0.5).
    """
    read = float(config["HTTP_TIMEOUT"])
    return HttpSettings(
        timeout=(min(5.0, read), read),
        max_retries=int(config.get("HTTP_MAX_RETRIES", 3)),
        backoff=float(config.get("HTTP_BACKOFF", 0.5)),
    )
