"""The guard for requests to hosts a person chose (their Mastodon server).

A server a person names is not trusted to be where it says: its name may point at this
machine, at the private network around it or at a cloud metadata service, and a request
made for it must not become a way to reach them (server-side request forgery). Every
request to such a host goes through one :class:`OutboundPolicy`:

* the host is written one way only: a lower-case ASCII name, or an IP address in its
  standard spelling; numeric spellings that the C library also reads as addresses
  (``2130706433``, ``0x7f.1``, ``0177.0.0.1``, ``127.1``) are refused outright;
* only the standard port is used: 443 for ``https``, 80 for ``http``, and ``http`` only
  when ``ALLOW_INSECURE_INSTANCES`` is on (development);
* the name is resolved once and every address it resolves to must be globally routable
  (:func:`address_problem`): loopback, private, link-local, shared (CGNAT), multicast,
  reserved, unspecified, documentation ranges, IPv4-mapped and -compatible IPv6, Teredo,
  and 6to4 or NAT64 addresses that embed such an IPv4 address are refused;
* the connection goes to the address that was checked (:class:`PinnedAdapter`), while TLS
  still sends the name (SNI) and verifies the certificate against it, and ``Host`` names it:
  a name that resolves differently a moment later (DNS rebinding) changes nothing;
* redirects are never followed: the transport raises :class:`RedirectRefused` on any
  redirect answer, before ``requests`` could follow it (whatever ``allow_redirects`` says);
  :class:`~app.networks.http.ApiClient` turns that into an error of its own. Following a
  redirect by hand would need every hop checked; a Mastodon server has no reason to send
  its API or its token endpoint elsewhere, so none is followed;
* proxies and ``.netrc`` from the environment are ignored.

``OUTBOUND_ALLOWED_HOSTS`` names the exceptions: hosts (``mastodon.lan``) or host and port
pairs (``10.0.0.5:3000``) a self-hoster lets the app reach although they are private. An
allowed host may resolve to any address; it is still pinned, and its scheme still follows
``ALLOW_INSECURE_INSTANCES``.

Nothing here knows about Flask: the policy is made from the app's config as a plain mapping
(:func:`policy_from_config`).
"""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: ``resolver(host, port) -> addresses``: the addresses a name resolves to, as strings.
Resolver = Callable[[str, int], Sequence[str]]

#: The standard port of each scheme.
STANDARD_PORTS = {"https": 443, "http": 80}

#: Seconds (connect and read) a page waits for a server a person named, by default.
DEFAULT_TIMEOUT = 5.0

# Why a refusal happened; :attr:`OutboundRefused.kind`.
MALFORMED = "malformed"  #: not a host name or address at all
NUMERIC = "numeric"  #: a numeric host in a spelling other than the standard one
SCHEME = "scheme"  #: not https (or http while insecure servers are allowed)
PORT = "port"  #: not the scheme's standard port, and not allowed by name
NOT_PUBLIC = "not-public"  #: an address (or a local name) that is not globally routable
UNREACHABLE = "unreachable"  #: the name does not resolve, or resolves to a refused address

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_NAME_RE = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*$")
#: A last label that reads as a number (decimal, octal or hex): the host is an address.
_NUMERIC_LABEL_RE = re.compile(r"^(?:[0-9]+|0x[0-9a-f]*)$")

#: Address blocks never reached, with the reason logged. Python's own ``is_global`` is
#: checked as well, but its lists change between versions and miss some of these.
_REFUSED_NETWORKS: tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str], ...] = tuple(
    (ipaddress.ip_network(network), reason)
    for network, reason in (
        ("0.0.0.0/8", "'this network'"),
        ("10.0.0.0/8", "private"),
        ("100.64.0.0/10", "shared address space (CGNAT)"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local"),
        ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "IETF protocol assignments"),
        ("192.0.2.0/24", "documentation"),
        ("192.31.196.0/24", "AS112"),
        ("192.52.193.0/24", "AMT"),
        ("192.88.99.0/24", "6to4 relay anycast"),
        ("192.168.0.0/16", "private"),
        ("192.175.48.0/24", "AS112"),
        ("198.18.0.0/15", "benchmarking"),
        ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"),
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved"),
        ("::1/128", "loopback"),
        ("::ffff:0:0/96", "IPv4-mapped"),
        ("::ffff:0:0:0/96", "IPv4-translated"),
        ("::/96", "IPv4-compatible"),
        ("64:ff9b:1::/48", "local-use NAT64"),
        ("100::/64", "discard-only"),
        ("2001::/23", "IETF protocol assignments (Teredo included)"),
        ("2001:db8::/32", "documentation"),
        ("3fff::/20", "documentation"),
        ("5f00::/16", "segment routing"),
        ("fc00::/7", "unique local (private)"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "site-local"),
        ("ff00::/8", "multicast"),
    )
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class OutboundRefused(requests.exceptions.ConnectionError):
    """The guard refused a host, port, scheme or address; nothing was sent.

    A ``requests`` connection error, so code that handles unreachable servers handles it.

    :param kind: why (:data:`MALFORMED`, :data:`NUMERIC`, :data:`SCHEME`, :data:`PORT`,
        :data:`NOT_PUBLIC`, :data:`UNREACHABLE`).
    :param message: a sentence fit for a form; it holds nothing the remote side sent.
    :param detail: what to log (the addresses a name resolved to, say); never shown.
    """

    def __init__(self, kind: str, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.detail = detail or message


class RedirectRefused(requests.exceptions.RequestException):
    """A guarded request was answered with a redirect, which is not followed."""


@dataclass(frozen=True, slots=True)
class Target:
    """Where a checked request goes.

    :param host: the host in its one spelling (name or address), for SNI and ``Host``.
    :param address: the address checked, connected to.
    :param allowed: the host is named in ``OUTBOUND_ALLOWED_HOSTS``.
    """

    scheme: str
    host: str
    port: int
    address: str
    allowed: bool = False


# -- addresses and host names ------------------------------------------------------------


def address_problem(address: IPAddress) -> str | None:
    """Why ``address`` must not be connected to, or ``None`` for a globally routable one."""
    if address.is_unspecified:
        return "unspecified"
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            return "scoped"
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            inner = address_problem(embedded)
            if inner is not None:
                return f"embeds a {inner} IPv4 address ({embedded})"
    for network, reason in _REFUSED_NETWORKS:
        if address.version == network.version and address in network:
            return reason
    # Python's own view as well: its lists grow as blocks are registered.
    return None if address.is_global else "not globally routable"


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address a 6to4 or well-known NAT64 address carries (Teredo and the
    IPv4-mapped and -compatible blocks are refused whole)."""
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public_address(address: str) -> bool:
    """Whether ``address`` (an IPv4 or IPv6 address in any standard spelling) may be
    connected to; ``False`` for anything that is not an address."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    return address_problem(parsed) is None


def canonical_host(host: str) -> str:
    """``host`` in the one spelling the guard compares and connects with.

    A name becomes lower-case ASCII (IDNA); an IPv6 address (without brackets) and an IPv4
    address in dotted-decimal are written the standard way (``ipaddress``). A host whose
    last label reads as a number but is not a dotted-decimal address (``2130706433``,
    ``0x7f.1``, ``0177.0.0.1``, ``127.1``, ``1.2.3.999``) is refused: the C library would
    read it as an address, and the guard compares spellings only once they are standard.

    :raises OutboundRefused: :data:`MALFORMED` or :data:`NUMERIC`.
    """
    value = host.strip().removeprefix("[").removesuffix("]")
    if ":" in value:
        try:
            v6 = ipaddress.IPv6Address(value)
        except ValueError:
            raise _malformed(host) from None
        if v6.scope_id:
            raise _malformed(host)
        return str(v6)
    try:
        name = value.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise _malformed(host) from None
    if not _NAME_RE.match(name):
        raise _malformed(host)
    if _NUMERIC_LABEL_RE.match(name.rsplit(".", 1)[-1]):
        try:
            return str(ipaddress.IPv4Address(name))
        except ValueError:
            raise OutboundRefused(
                NUMERIC,
                "Write the server's address as a name, like mastodon.social, or as a plain "
                "IP address.",
                f"{host!r} is a numeric host in a non-standard spelling",
            ) from None
    return name


def _malformed(host: str) -> OutboundRefused:
    return OutboundRefused(
        MALFORMED, "That does not look like a server address.", f"{host!r} is not a host"
    )


def host_address(host: str) -> IPAddress | None:
    """The address a canonical host is, or ``None`` for a name."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def is_local_name(host: str) -> bool:
    """Names that always mean this machine (RFC 6761): ``localhost`` and ``*.localhost``."""
    return host == "localhost" or host.endswith(".localhost")


def netloc(host: str, port: int, scheme: str) -> str:
    """``host[:port]`` for a URL or a ``Host`` header; the standard port is left out."""
    shown = f"[{host}]" if ":" in host else host
    return shown if STANDARD_PORTS.get(scheme) == port else f"{shown}:{port}"


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the system resolves ``host`` to (``getaddrinfo``), for TCP."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


# -- the allow-list ------------------------------------------------------------------------


def parse_allowed_hosts(value: str | Iterable[str] | None) -> frozenset[tuple[str, int | None]]:
    """Read ``OUTBOUND_ALLOWED_HOSTS``: comma-separated ``host`` or ``host:port`` entries
    (``[v6]:port`` for an IPv6 address), into ``(canonical host, port or None)`` pairs.

    :raises ValueError: for an entry that is not a host or ``host:port``, naming it.
    """
    if value is None:
        return frozenset()
    items = value.split(",") if isinstance(value, str) else list(value)
    allowed: set[tuple[str, int | None]] = set()
    for item in items:
        entry = item.strip()
        if not entry:
            continue
        problem = f"{entry!r} is not a host or host:port"
        if any(mark in entry for mark in ("/", "@", "?", "#")) or any(ch.isspace() for ch in entry):
            raise ValueError(problem)
        try:
            parts = urlsplit(f"//{entry}")
            port = parts.port
            host = canonical_host(parts.hostname or "")
        except (ValueError, OutboundRefused):
            raise ValueError(problem) from None
        allowed.add((host, port))
    return frozenset(allowed)


# -- the policy ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OutboundPolicy:
    """What may be connected to for a host a person chose.

    :param allow_insecure: accept ``http`` (port 80) as well as ``https`` (port 443).
    :param allowed: ``(host, port or None)`` pairs from ``OUTBOUND_ALLOWED_HOSTS``; a pair
        without a port allows the host on the standard port only.
    :param timeout: ``(connect, read)`` seconds for requests made while a page waits.
    :param resolver: turns a name into addresses (:func:`system_resolver`); tests pass
        their own to make a name resolve to 127.0.0.1 without touching DNS.
    :param ports: the standard port of each scheme (:data:`STANDARD_PORTS`); tests use
        another to reach a listener without the privileges port 443 needs.
    """

    allow_insecure: bool = False
    allowed: frozenset[tuple[str, int | None]] = frozenset()
    timeout: tuple[float, float] = (DEFAULT_TIMEOUT, DEFAULT_TIMEOUT)
    resolver: Resolver = system_resolver
    ports: Mapping[str, int] = field(default_factory=lambda: dict(STANDARD_PORTS))

    def is_allowed(self, host: str, port: int, scheme: str) -> bool:
        """Whether ``OUTBOUND_ALLOWED_HOSTS`` names ``host`` (canonical) on ``port``."""
        return (host, port) in self.allowed or (
            (host, None) in self.allowed and port == self.ports.get(scheme)
        )

    def screen(self, scheme: str, host: str, port: int | None) -> Target:
        """Check what can be checked without resolving: the scheme, the host's spelling,
        the port and, for an address or a local name, that it is public.

        :param host: the host as written (``urlsplit(...).hostname``).
        :param port: ``None`` for the scheme's standard port.
        :returns: a :class:`Target` whose ``address`` is the host itself for an address
            and empty for a name.
        :raises OutboundRefused: with a message fit for the form.
        """
        scheme = scheme.lower()
        if scheme not in STANDARD_PORTS:
            raise OutboundRefused(SCHEME, "Use the server's https:// address.")
        if scheme == "http" and not self.allow_insecure:
            raise OutboundRefused(
                SCHEME, "Use the server's https:// address; plain http is not allowed."
            )
        canonical = canonical_host(host)
        port = self.ports[scheme] if port is None else port
        allowed = self.is_allowed(canonical, port, scheme)
        if not allowed and port != self.ports[scheme]:
            standard = "the standard https port (443)"
            if self.allow_insecure:
                standard = "the standard ports (443 for https, 80 for http)"
            raise OutboundRefused(
                PORT,
                f"MD Analytics only connects to servers on {standard}.",
                f"port {port} of {canonical} is not allowed",
            )
        address = host_address(canonical)
        if not allowed:
            problem = "local name" if is_local_name(canonical) else None
            if address is not None:
                problem = address_problem(address)
            if problem is not None:
                raise OutboundRefused(
                    NOT_PUBLIC,
                    f"{canonical} is a private or local address; MD Analytics only "
                    "connects to public servers.",
                    f"{canonical} is {problem}",
                )
        return Target(scheme, canonical, port, str(address or ""), allowed)

    def check_url(self, url: str) -> Target:
        """Check ``url``'s host and port, resolve the host once and check every address.

        :returns: the :class:`Target` to connect to (the first address).
        :raises OutboundRefused: for anything refused; a name that does not resolve, or
            resolves to a refused address, is :data:`UNREACHABLE` with the same message
            either way (the page must not tell them apart).
        """
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise _malformed(url) from None
        if parts.username is not None or parts.password is not None:
            raise _malformed(url)
        target = self.screen(parts.scheme, parts.hostname or "", port)
        if target.address:
            return target
        unreachable = f"{target.host} could not be reached."
        try:
            found = list(self.resolver(target.host, target.port))
        except (OSError, UnicodeError) as error:
            raise OutboundRefused(
                UNREACHABLE, unreachable, f"{target.host} does not resolve ({error})"
            ) from None
        addresses: list[IPAddress] = []
        for text in found:
            try:
                addresses.append(ipaddress.ip_address(text))
            except ValueError:
                raise OutboundRefused(
                    UNREACHABLE, unreachable, f"{target.host} resolved to {text!r}"
                ) from None
        if not addresses:
            raise OutboundRefused(UNREACHABLE, unreachable, f"{target.host} has no address")
        if not target.allowed:
            for address in addresses:
                problem = address_problem(address)
                if problem is not None:
                    raise OutboundRefused(
                        UNREACHABLE,
                        unreachable,
                        f"{target.host} resolves to {address}, which is {problem}",
                    )
        return Target(target.scheme, target.host, target.port, str(addresses[0]), target.allowed)


def policy_from_config(config: Mapping[str, Any]) -> OutboundPolicy:
    """The policy the app's config describes: ``ALLOW_INSECURE_INSTANCES``,
    ``OUTBOUND_ALLOWED_HOSTS`` and ``OUTBOUND_TIMEOUT`` (seconds, default 5).

    ``OUTBOUND_RESOLVER``, a function rather than a setting, replaces the system resolver
    (tests make names resolve to 127.0.0.1 with it).

    :raises ValueError: for a malformed ``OUTBOUND_ALLOWED_HOSTS``.
    """
    seconds = float(config.get("OUTBOUND_TIMEOUT") or DEFAULT_TIMEOUT)
    resolver = config.get("OUTBOUND_RESOLVER") or system_resolver
    return OutboundPolicy(
        allow_insecure=bool(config.get("ALLOW_INSECURE_INSTANCES")),
        allowed=parse_allowed_hosts(config.get("OUTBOUND_ALLOWED_HOSTS")),
        timeout=(seconds, seconds),
        resolver=resolver,
    )


# -- requests ------------------------------------------------------------------------------


class PinnedAdapter(HTTPAdapter):
    """A ``requests`` transport that checks every request with a policy and connects to
    the address it checked.

    The pool is chosen by that address (so connections made for one address are never
    reused for another), TLS sends the host name (SNI) and verifies the certificate against
    it (``server_hostname``), and ``Host`` is set from the URL. Proxies are never used.
    urllib3 retries nothing: the caller retries, and every retry is checked again. A
    redirect answer raises :class:`RedirectRefused`.
    """

    def __init__(self, policy: OutboundPolicy) -> None:
        self.policy = policy
        super().__init__(max_retries=0)

    def get_connection_with_tls_context(
        self,
        request: requests.PreparedRequest,
        verify: Any,
        proxies: dict[str, str] | None = None,
        cert: Any = None,
    ) -> HTTPConnectionPool:
        try:
            target = self.policy.check_url(request.url or "")
        except OutboundRefused as refused:
            log.warning("outbound: refused %s (%s)", _origin(request.url), refused.detail)
            raise
        host_params, pool_kwargs = self.build_connection_pool_key_attributes(request, verify, cert)
        host_params.update(scheme=target.scheme, host=target.address, port=target.port)
        if target.scheme == "https":
            pool_kwargs["server_hostname"] = target.host
        log.debug("outbound: %s:%s pinned to %s", target.host, target.port, target.address)
        return self.poolmanager.connection_from_host(**host_params, pool_kwargs=pool_kwargs)

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: dict[str, str] | None = None,
    ) -> requests.Response:
        response = super().send(
            request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=proxies
        )
        if response.is_redirect:
            response.close()
            log.info("outbound: %s answered a redirect", _origin(request.url))
            raise RedirectRefused(
                f"{_origin(request.url)} answered with a redirect (HTTP {response.status_code})",
                request=request,
                response=response,
            )
        return response

    def request_url(self, request: requests.PreparedRequest, proxies: Any) -> str:
        return request.path_url

    def add_headers(self, request: requests.PreparedRequest, **kwargs: Any) -> None:
        parts = urlsplit(request.url or "")
        request.headers["Host"] = netloc(
            canonical_host(parts.hostname or ""),
            parts.port or STANDARD_PORTS[parts.scheme.lower()],
            parts.scheme.lower(),
        )


def _origin(url: str | None) -> str:
    """Scheme, host and port of ``url`` for a log line (never the path or query)."""
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def guard_session(session: requests.Session, policy: OutboundPolicy) -> requests.Session:
    """Make ``session`` go through ``policy``: a :class:`PinnedAdapter` for both schemes
    (no redirect followed), and no proxies or ``.netrc`` from the environment."""
    adapter = PinnedAdapter(policy)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.trust_env = False
    session.proxies = {}
    return session


def guarded_session(policy: OutboundPolicy) -> requests.Session:
    """A new ``requests`` session that goes through ``policy`` (:func:`guard_session`)."""
    return guard_session(requests.Session(), policy)
