"""The outbound guard (:mod:`app.networks.outbound`): the address classifier on many
spellings, the allow-list, the policy, and real connections on 127.0.0.1 (pinning, SNI and
certificate checks against the name, redirects, proxies from the environment)."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.app import create_app
from app.networks.base import NetworkError
from app.networks.http import ApiClient, Unreachable
from app.networks.outbound import (
    DEFAULT_TIMEOUT,
    MALFORMED,
    NOT_PUBLIC,
    NUMERIC,
    PORT,
    SCHEME,
    UNREACHABLE,
    OutboundPolicy,
    OutboundRefused,
    RedirectRefused,
    address_problem,
    canonical_host,
    guarded_session,
    is_public_address,
    parse_allowed_hosts,
    policy_from_config,
    system_resolver,
)
from app.settings import ConfigError
from tests.conftest import make_config
from tests.fakes.listener import Listener
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.server import Response
from tests.fakes.world import small_world

# -- the classifier ------------------------------------------------------------------------

REFUSED_ADDRESSES = [
    # IPv4
    "0.0.0.0",
    "0.1.2.3",
    "10.0.0.1",
    "10.255.255.255",
    "100.64.0.1",
    "100.127.255.254",
    "127.0.0.1",
    "127.255.255.254",
    "169.254.169.254",
    "172.16.0.1",
    "172.31.255.255",
    "192.0.0.8",
    "192.0.2.10",
    "192.88.99.1",
    "192.168.1.1",
    "198.18.0.1",
    "198.51.100.7",
    "203.0.113.9",
    "224.0.0.1",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    # IPv6
    "::",
    "::1",
    "0:0:0:0:0:0:0:1",
    "::ffff:127.0.0.1",
    "::ffff:7f00:1",
    "::FFFF:8.8.8.8",  # IPv4-mapped is refused whatever it maps
    "0:0:0:0:0:ffff:a00:1",
    "::ffff:0:7f00:1",  # IPv4-translated
    "::127.0.0.1",  # IPv4-compatible
    "::8.8.8.8",
    "64:ff9b::127.0.0.1",  # NAT64 of loopback
    "64:ff9b::a9fe:a9fe",  # NAT64 of the metadata address
    "64:ff9b:1::1",
    "100::1",
    "2001::1",  # Teredo
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",
    "2001:db8::1",
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
    "2002:a00:1::1",  # 6to4 of 10.0.0.1
    "2002:a9fe:a9fe::",  # 6to4 of 169.254.169.254
    "3fff::1",
    "5f00::1",
    "fc00::1",
    "fd00:ec2::254",  # AWS metadata over IPv6
    "fe80::1",
    "fec0::1",
    "ff02::1",
    "ff0e::1",
]

PUBLIC_ADDRESSES = [
    "1.1.1.1",
    "8.8.8.8",
    "93.184.215.14",
    "100.63.255.255",
    "100.128.0.0",
    "172.15.255.255",
    "172.32.0.1",
    "192.169.0.1",
    "2606:4700:4700::1111",
    "2a00:1450:4001:81b::200e",
    "2002:808:808::1",  # 6to4 of a public address
    "64:ff9b::808:808",  # NAT64 of a public address
]


@pytest.mark.parametrize("address", REFUSED_ADDRESSES)
def test_refused_addresses(address: str) -> None:
    assert address_problem(ipaddress.ip_address(address)) is not None
    assert is_public_address(address) is False


@pytest.mark.parametrize("address", PUBLIC_ADDRESSES)
def test_public_addresses(address: str) -> None:
    assert address_problem(ipaddress.ip_address(address)) is None
    assert is_public_address(address) is True


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("127.0.0.2", "loopback"),
        ("::1", "loopback"),
        ("100.64.0.1", "shared address space (CGNAT)"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("::ffff:8.8.8.8", "IPv4-mapped"),
        ("2002:7f00:1::", "embeds a loopback IPv4 address (127.0.0.1)"),
        ("64:ff9b::a9fe:a9fe", "embeds a link-local IPv4 address (169.254.169.254)"),
        ("fe80::1%eth0", "scoped"),
    ],
)
def test_reasons_are_logged_words(address: str, reason: str) -> None:
    assert address_problem(ipaddress.ip_address(address)) == reason


def test_is_public_address_of_something_else() -> None:
    assert is_public_address("not an address") is False
    assert is_public_address("localhost") is False


# -- host spellings ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "canonical"),
    [
        ("Mastodon.Social", "mastodon.social"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("127.0.0.1", "127.0.0.1"),
        ("8.8.8.8", "8.8.8.8"),
        ("[::1]", "::1"),
        ("0:0:0:0:0:0:0:1", "::1"),
        ("::FFFF:127.0.0.1", "::ffff:7f00:1"),
        ("2A00:1450:4001:081B:0000:0000:0000:200E", "2a00:1450:4001:81b::200e"),
        ("0x7f.example", "0x7f.example"),  # a name: only the last label makes an address
        ("localhost", "localhost"),
    ],
)
def test_canonical_host(host: str, canonical: str) -> None:
    assert canonical_host(host) == canonical


@pytest.mark.parametrize(
    "host",
    [
        "127.1",
        "127.0.1",
        "0x7f.0.0.1",
        "0x7f.1",
        "0x7f000001",
        "0X7F000001",
        "2130706433",
        "0177.0.0.1",
        "017700000001",
        "0177.1",
        "127.000.000.001",
        "0127.0.0.1",
        "1.2.3.999",
        "1.2.3.4.5",
        "0x",
        "169.254.43518",
        "0xa9.0xfe.0xa9.0xfe",
        "3232235777",  # 192.168.1.1
        "example.123",
    ],
)
def test_numeric_spellings_are_refused(host: str) -> None:
    with pytest.raises(OutboundRefused) as refused:
        canonical_host(host)
    assert refused.value.kind == NUMERIC


@pytest.mark.parametrize(
    "host",
    [
        "",
        "exa_mple.com",
        "-bad-.example",
        "bad..example",
        "mastodon.social.",
        "a" * 64 + ".example",
        "::1::2",
        "fe80::1%eth0",
        "[fe80::1%25eth0]",
        "\udcff.example",
        "host name",
    ],
)
def test_malformed_hosts_are_refused(host: str) -> None:
    with pytest.raises(OutboundRefused) as refused:
        canonical_host(host)
    assert refused.value.kind == MALFORMED
    assert refused.value.message == "That does not look like a server address."


# -- the allow-list ------------------------------------------------------------------------


def test_parse_allowed_hosts() -> None:
    assert parse_allowed_hosts(
        " Mastodon.LAN , 10.0.0.5:3000,[::1]:4000,, [fd00::5], bücher.example "
    ) == {
        ("mastodon.lan", None),
        ("10.0.0.5", 3000),
        ("::1", 4000),
        ("fd00::5", None),
        ("xn--bcher-kva.example", None),
    }
    assert parse_allowed_hosts(["a.example", "b.example:8443"]) == {
        ("a.example", None),
        ("b.example", 8443),
    }
    assert parse_allowed_hosts("") == frozenset()
    assert parse_allowed_hosts(None) == frozenset()


@pytest.mark.parametrize(
    "entry",
    [
        "https://mastodon.lan",
        "mastodon.lan/path",
        "me@mastodon.lan",
        "mastodon.lan:http",
        "mastodon.lan:99999",
        "127.1",
        "mastodon lan",
        "[::1",
        "exa_mple.com",
    ],
)
def test_malformed_allowed_hosts(entry: str) -> None:
    with pytest.raises(ValueError, match="is not a host or host:port"):
        parse_allowed_hosts(f"ok.example,{entry}")


def test_policy_from_config() -> None:
    policy = policy_from_config({})
    assert policy == OutboundPolicy()
    assert policy.timeout == (DEFAULT_TIMEOUT, DEFAULT_TIMEOUT) == (5.0, 5.0)
    assert policy.resolver is system_resolver

    def resolver(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    policy = policy_from_config(
        {
            "ALLOW_INSECURE_INSTANCES": True,
            "OUTBOUND_ALLOWED_HOSTS": "mastodon.lan, 10.0.0.5:3000",
            "OUTBOUND_TIMEOUT": 2,
            "OUTBOUND_RESOLVER": resolver,
        }
    )
    assert policy.allow_insecure is True
    assert policy.allowed == {("mastodon.lan", None), ("10.0.0.5", 3000)}
    assert policy.timeout == (2.0, 2.0)
    assert policy.resolver is resolver
    with pytest.raises(ValueError):
        policy_from_config({"OUTBOUND_ALLOWED_HOSTS": "http://x"})


# -- the policy without connecting -------------------------------------------------------


def resolving(table: dict[str, list[str]]):
    """A resolver that knows only ``table`` (and fails for anything else, as DNS would)."""
    asked: list[tuple[str, int]] = []

    def resolve(host: str, port: int) -> list[str]:
        asked.append((host, port))
        if host not in table:
            raise OSError(f"{host} is unknown")
        return table[host]

    resolve.asked = asked  # type: ignore[attr-defined]
    return resolve


def test_screen_scheme_port_and_addresses() -> None:
    policy = OutboundPolicy()
    target = policy.screen("HTTPS", "Mastodon.Social", None)
    assert (target.scheme, target.host, target.port, target.address, target.allowed) == (
        "https",
        "mastodon.social",
        443,
        "",
        False,
    )
    assert policy.screen("https", "8.8.8.8", 443).address == "8.8.8.8"
    for scheme, host, port, kind in [
        ("ftp", "mastodon.social", None, SCHEME),
        ("http", "mastodon.social", None, SCHEME),
        ("https", "mastodon.social", 80, PORT),
        ("https", "mastodon.social", 8443, PORT),
        ("https", "127.0.0.1", None, NOT_PUBLIC),
        ("https", "localhost", None, NOT_PUBLIC),
        ("https", "a.b.localhost", None, NOT_PUBLIC),
        ("https", "2130706433", None, NUMERIC),
    ]:
        with pytest.raises(OutboundRefused) as refused:
            policy.screen(scheme, host, port)
        assert refused.value.kind == kind, (scheme, host, port)


def test_screen_with_the_development_switch_and_the_allow_list() -> None:
    policy = OutboundPolicy(
        allow_insecure=True,
        allowed=parse_allowed_hosts("mastodon.lan, 10.0.0.5:3000, localhost:3001"),
    )
    assert policy.screen("http", "mastodon.social", 80).port == 80
    assert policy.screen("https", "mastodon.lan", None).allowed is True
    assert policy.screen("http", "mastodon.lan", None).allowed is True
    assert policy.screen("http", "10.0.0.5", 3000).address == "10.0.0.5"
    assert policy.screen("http", "localhost", 3001).allowed is True
    for host, port, kind in [
        ("mastodon.lan", 8443, PORT),  # allowed on the standard port only
        ("10.0.0.5", None, NOT_PUBLIC),  # allowed on port 3000 only
        ("10.0.0.6", 3000, PORT),
        ("localhost", None, NOT_PUBLIC),
    ]:
        with pytest.raises(OutboundRefused) as refused:
            policy.screen("http", host, port)
        assert refused.value.kind == kind, (host, port)
    with pytest.raises(OutboundRefused, match="443 for https, 80 for http"):
        policy.screen("https", "mastodon.social", 8080)


def test_check_url_resolves_once_and_checks_every_address() -> None:
    resolver = resolving(
        {
            "public.example": ["93.184.215.14", "2606:4700:4700::1111"],
            "inside.example": ["127.0.0.1"],
            "mixed.example": ["93.184.215.14", "10.0.0.7"],
            "mapped.example": ["::ffff:127.0.0.1"],
            "empty.example": [],
            "garbage.example": ["not-an-address"],
            "mastodon.lan": ["192.168.1.20"],
        }
    )
    policy = OutboundPolicy(resolver=resolver, allowed=parse_allowed_hosts("mastodon.lan"))
    target = policy.check_url("https://public.example/api/v1/apps")
    assert (target.host, target.port, target.address) == ("public.example", 443, "93.184.215.14")
    assert resolver.asked == [("public.example", 443)]  # type: ignore[attr-defined]
    lan = policy.check_url("https://mastodon.lan")
    assert (lan.address, lan.allowed) == ("192.168.1.20", True)
    for host in [
        "inside",
        "mixed",
        "mapped",
        "empty",
        "garbage",
        "unknown",
    ]:
        with pytest.raises(OutboundRefused) as refused:
            policy.check_url(f"https://{host}.example/")
        # the same sentence whatever the reason: the page must not tell them apart
        assert refused.value.kind == UNREACHABLE
        assert refused.value.message == f"{host}.example could not be reached."
    assert "10.0.0.7, which is private" in _refusal(policy, "https://mixed.example").detail
    with pytest.raises(OutboundRefused) as literal:
        policy.check_url("https://127.0.0.1/")
    assert literal.value.kind == NOT_PUBLIC
    assert [h for h, _ in resolver.asked].count("inside.example") == 1  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "url",
    [
        "https://user:pw@public.example/",
        "https://public.example:port/",
        "https://[::1/",
        "https:///x",
    ],
)
def test_check_url_refuses_malformed_urls(url: str) -> None:
    assert _refusal(OutboundPolicy(), url).kind == MALFORMED


def _refusal(policy: OutboundPolicy, url: str) -> OutboundRefused:
    with pytest.raises(OutboundRefused) as refused:
        policy.check_url(url)
    return refused.value


def test_system_resolver_reads_localhost() -> None:
    assert "127.0.0.1" in system_resolver("localhost", 80)


# -- real connections --------------------------------------------------------------------


@pytest.fixture
def listener() -> Iterator[Listener]:
    with Listener() as target:
        yield target


@pytest.fixture
def masto() -> Iterator[FakeMastodon]:
    with FakeMastodon(small_world()) as server:
        yield server


def test_a_name_resolving_to_loopback_never_connects(listener: Listener) -> None:
    """A public-looking name that resolves to 127.0.0.1, on the port the policy takes as
    standard (the listener's: port 443 needs privileges), is refused before connecting; the
    same name allowed by OUTBOUND_ALLOWED_HOSTS does reach the listener, so the listener
    would have told."""
    resolver = resolving({"rebind.example": ["127.0.0.1"]})
    ports = {"https": 443, "http": listener.port}
    policy = OutboundPolicy(allow_insecure=True, resolver=resolver, ports=ports)
    with ApiClient(f"http://rebind.example:{listener.port}", guard=policy) as api:
        with pytest.raises(Unreachable, match=r"could not be reached\.$"):
            api.get_json("/api/v1/instance")
        assert api.request_count == 1  # a refusal is not retried
    assert listener.connections == 0

    allowed = OutboundPolicy(
        allow_insecure=True,
        resolver=resolver,
        ports=ports,
        allowed=parse_allowed_hosts("rebind.example"),
    )
    with (
        ApiClient(f"http://rebind.example:{listener.port}", guard=allowed, max_retries=0) as api,
        pytest.raises(Unreachable),  # the listener hangs up without answering
    ):
        api.get_json("/api/v1/instance")
    assert listener.connections == 1


def test_the_checked_address_is_the_one_connected(masto: FakeMastodon) -> None:
    """``pinned.example`` exists only in the policy's resolver: the request reaches the fake,
    so the connection went to the address the guard checked and nothing resolved the name
    again; ``Host`` still names it."""
    resolver = resolving({"pinned.example": ["127.0.0.1"]})
    policy = OutboundPolicy(
        allow_insecure=True,
        resolver=resolver,
        allowed=parse_allowed_hosts(f"pinned.example:{masto.port}"),
    )
    with guarded_session(policy) as session:
        answer = session.get(f"http://pinned.example:{masto.port}/api/v1/accounts/2", timeout=5)
        session.get(f"http://pinned.example:{masto.port}/api/v1/accounts/3", timeout=5)
    assert answer.json()["username"] == "bob"
    assert [r.headers["host"] for r in masto.requests] == [f"pinned.example:{masto.port}"] * 2
    assert resolver.asked == [("pinned.example", masto.port)] * 2  # type: ignore[attr-defined]


@pytest.mark.parametrize("follow", [True, False])
def test_guarded_session_refuses_redirects_before_following(
    masto: FakeMastodon, listener: Listener, follow: bool
) -> None:
    original = masto.route

    def route(request):
        if request.path == "/away":
            return Response(307, {}, {"Location": f"http://{listener.netloc}/"})
        return original(request)

    masto.route = route  # type: ignore[method-assign]
    policy = OutboundPolicy(
        allow_insecure=True,
        allowed=parse_allowed_hosts(f"127.0.0.1:{masto.port},127.0.0.1:{listener.port}"),
    )
    with (
        guarded_session(policy) as session,
        pytest.raises(RedirectRefused, match=r"answered with a redirect \(HTTP 307\)"),
    ):
        session.post(f"{masto.url}/away", data={"a": "b"}, timeout=5, allow_redirects=follow)
    assert listener.connections == 0
    assert masto.count("/away") == 1


def test_guarded_session_refuses_what_the_policy_refuses(listener: Listener) -> None:
    with guarded_session(OutboundPolicy(allow_insecure=True)) as session:
        for url in [
            f"http://{listener.netloc}/",
            f"http://localhost:{listener.port}/",
            f"http://0x7f.1:{listener.port}/",
            "http://127.0.0.1/",
        ]:
            with pytest.raises(OutboundRefused):
                session.get(url, timeout=5)
    assert listener.connections == 0


def test_proxies_from_the_environment_are_not_used(
    masto: FakeMastodon, listener: Listener, monkeypatch
) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, f"http://{listener.netloc}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    policy = OutboundPolicy(
        allow_insecure=True, allowed=parse_allowed_hosts(f"127.0.0.1:{masto.port}")
    )
    with guarded_session(policy) as session:
        assert session.get(f"{masto.url}/api/v1/accounts/2", timeout=5).status_code == 200
        # even a proxy passed in by hand is not used
        proxies = {"http": f"http://{listener.netloc}"}
        assert session.get(f"{masto.url}/api/v1/accounts/2", proxies=proxies).ok
    assert listener.connections == 0
    assert masto.count("/api/v1/accounts/2") == 2


# -- TLS: the pinned connection still checks the certificate against the name -------------


def _certificate(tmp: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate for ``name``: (its PEM, the key's PEM)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / f"{name}.pem", tmp / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class _TlsServer:
    """An HTTPS server on 127.0.0.1 that records the SNI name and ``Host`` it was sent."""

    def __init__(self, cert: Path, key: Path) -> None:
        self.sni: list[str | None] = []
        self.hosts: list[str] = []
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        context.sni_callback = lambda sock, name, ctx: self.sni.append(name)  # type: ignore[assignment,misc,return-value]
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.hosts.append(self.headers["Host"])
                body = b'{"ok": true}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[_TlsServer, Path, Path]]:
    cert, key = _certificate(tmp_path, "mastodon.test")
    other, _ = _certificate(tmp_path, "other.test")
    server = _TlsServer(cert, key)
    yield server, cert, other
    server.stop()


def _tls_policy(port: int) -> OutboundPolicy:
    return OutboundPolicy(
        resolver=resolving({"mastodon.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]}),
        allowed=parse_allowed_hosts(f"mastodon.test:{port},other.test:{port}"),
    )


def test_tls_to_the_pinned_address_sends_and_verifies_the_name(tls_server) -> None:
    server, cert, _ = tls_server
    with guarded_session(_tls_policy(server.port)) as session:
        session.verify = str(cert)
        answer = session.get(f"https://mastodon.test:{server.port}/", timeout=5)
    assert answer.json() == {"ok": True}
    assert server.sni == ["mastodon.test"]
    assert server.hosts == [f"mastodon.test:{server.port}"]


def test_tls_certificate_for_another_name_is_refused(tls_server) -> None:
    """The server shows mastodon.test's certificate; asked for other.test (which the
    resolver also sends to 127.0.0.1) the check is made against other.test and fails."""
    server, cert, other = tls_server
    with guarded_session(_tls_policy(server.port)) as session:
        session.verify = str(cert)
        with pytest.raises(requests.exceptions.SSLError):
            session.get(f"https://other.test:{server.port}/", timeout=5)
        session.verify = str(other)  # trusting other.test's own certificate does not help
        with pytest.raises(requests.exceptions.SSLError):
            session.get(f"https://mastodon.test:{server.port}/", timeout=5)
    assert server.hosts == []


def test_guarded_api_client_messages_hold_no_remote_text(masto: FakeMastodon) -> None:
    original = masto.route
    secret = "REMOTE SECRET TEXT"

    def route(request):
        if request.path == "/refuse":
            return Response(403, {"error": secret})
        if request.path == "/away":
            return Response(302, {"error": secret}, {"Location": "https://mastodon.social/"})
        return original(request)

    masto.route = route  # type: ignore[method-assign]
    policy = OutboundPolicy(
        allow_insecure=True, allowed=parse_allowed_hosts(f"127.0.0.1:{masto.port}")
    )
    host = f"127.0.0.1:{masto.port}"
    with ApiClient(masto.url, service=host, guard=policy) as api:
        with pytest.raises(NetworkError) as refused:
            api.get_json("/refuse")
        assert str(refused.value) == f"{host} refused the request (HTTP 403)."
        with pytest.raises(NetworkError) as redirected:
            api.get_json("/away")
        assert str(redirected.value) == (
            f"{host} answered with a redirect (HTTP 302), which is not followed."
        )
    assert masto.count("/away") == 1


# -- the settings at app start -----------------------------------------------------------


def test_app_start_refuses_a_malformed_allow_list(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"OUTBOUND_ALLOWED_HOSTS: 'http://mastodon\.lan' is not"):
        create_app(make_config(tmp_path, OUTBOUND_ALLOWED_HOSTS="ok.lan, http://mastodon.lan"))


def test_app_start_warns_while_insecure_servers_are_allowed(tmp_path: Path, caplog) -> None:
    create_app(make_config(tmp_path, OUTBOUND_ALLOWED_HOSTS="mastodon.lan:3000"))
    assert "ALLOW_INSECURE_INSTANCES" not in caplog.text
    create_app(make_config(tmp_path, ALLOW_INSECURE_INSTANCES=True))
    (warning,) = [r for r in caplog.records if "ALLOW_INSECURE_INSTANCES" in r.getMessage()]
    assert warning.levelname == "WARNING"
    assert "meant for development" in warning.getMessage()
