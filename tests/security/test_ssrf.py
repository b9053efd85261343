"""SSRF: forbidden targets, directly and at the end of redirect chains, are refused
before any connection.

The crawler under test refuses private targets (allow_private_network=False) and
allows exactly one loopback endpoint: the fixture site that serves the redirects
(``FetchPolicy(allowed_endpoints=...)``). Three independent witnesses:
- every refusal has category ``blocked`` (or ``invalid``) and is fast;
- a canary listener on another loopback port records zero connections;
- a guard on ``socket.connect`` records any connect attempt to anything but the
  fixture site, and refuses it, so no test ever sends traffic elsewhere."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import grpc
import pytest
from aiohttp import web

from crawler.fetch import CheckedResolver, FetchError, HttpFetcher
from crawler.safety import FetchPolicy
from crawler.server import create_server
from crawler.settings import CrawlerSettings
from docspasta.rpc import insecure_channel
from docspasta.v1 import common_pb2, crawler_pb2, crawler_pb2_grpc
from tests.support.site import FixtureSite, page

pytestmark = pytest.mark.timeout(120)

SETTINGS = replace(CrawlerSettings(), fetch_timeout=30.0, connect_timeout=20.0)
# Each refusal happens before any connect (the guard witnesses that): quicker than a
# connect timeout, with room for a loaded machine's scheduling.
REFUSAL_SECONDS = 10.0


@dataclass
class Canary:
    port: int = 0
    connections: int = 0
    server: asyncio.Server | None = None


@dataclass
class ConnectGuard:
    """Records and refuses every socket connect except to the allowed endpoints."""
    allowed: set[tuple[str, int]] = field(default_factory=set)
    refused: list[Any] = field(default_factory=list)


@pytest.fixture
async def canary() -> AsyncIterator[Canary]:
    c = Canary()

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        c.connections += 1
        writer.close()

    c.server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    c.port = c.server.sockets[0].getsockname()[1]
    yield c
    c.server.close()
    await c.server.wait_closed()


@pytest.fixture
def guard(monkeypatch: pytest.MonkeyPatch) -> Iterator[ConnectGuard]:
    g = ConnectGuard()
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def allowed(address: Any) -> bool:
        return isinstance(address, tuple) and (str(address[0]), int(address[1])) in g.allowed

    def connect(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not allowed(address):
            g.refused.append(address)
            raise ConnectionRefusedError("test guard: connection to a forbidden address")
        real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: Any) -> int:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not allowed(address):
            g.refused.append(address)
            return 111
        return real_connect_ex(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    yield g


@pytest.fixture
async def redirect_site(guard: ConnectGuard) -> AsyncIterator[FixtureSite]:
    """/hop/N?to=URL redirects N times, then to URL; / is a normal page."""
    site = FixtureSite()

    async def hop(request: web.Request) -> web.StreamResponse:
        n = int(request.path.rsplit("/", 1)[-1])
        to = request.query["to"]
        location = to if n <= 1 else f"/hop/{n - 1}?to={_quote(to)}"
        return web.Response(status=302, headers={"Location": location})

    for n in (1, 2, 3):
        site.handlers[f"/hop/{n}"] = hop
    site.pages["/"] = page("Home")
    await site.start()
    guard.allowed.add(("127.0.0.1", site.port))
    yield site
    await site.stop()


def _quote(url: str) -> str:
    from urllib.parse import quote
    return quote(url, safe="")


def fetcher_for(site: FixtureSite) -> HttpFetcher:
    policy = FetchPolicy(allow_private_network=False, allowed_ports=frozenset({80, 443}),
                         max_url_length=SETTINGS.max_url_length, allowed_endpoints=[("127.0.0.1", site.port)])
    return HttpFetcher(settings=SETTINGS, policy=policy)


def loopback_targets(c: int) -> list[str]:
    """Loopback in every spelling, on the canary's port."""
    return [
        f"http://127.0.0.1:{c}/",
        f"http://127.0.0.2:{c}/",
        f"http://localhost:{c}/",
        f"http://LOCALHOST:{c}/",
        f"http://docs.localhost:{c}/",
        f"http://[::1]:{c}/",
        f"http://[::1%25lo]:{c}/",
        f"http://2130706433:{c}/",            # decimal
        f"http://0177.0.0.1:{c}/",            # octal
        f"http://0177.1:{c}/",                # octal, short
        f"http://0x7f.1:{c}/",                # hex, short
        f"http://0x7f000001:{c}/",            # hex
        f"http://0x7F.0x0.0x0.0x1:{c}/",
        f"http://017700000001:{c}/",          # octal, one part
        f"http://127.1:{c}/",                 # short
        f"http://127.0.1:{c}/",
        f"http://127.000.000.001:{c}/",
        f"http://127.0.0.1.:{c}/",            # trailing dot
        f"http://\uff11\uff12\uff17.\uff10.\uff10.\uff11:{c}/",  # fullwidth digits (NFKC -> 127.0.0.1)
        f"http://\u2460\u2461\u2466.0.0.1:{c}/",  # circled digits
        f"http://[::ffff:127.0.0.1]:{c}/",    # IPv4-mapped
        f"http://[::ffff:7f00:1]:{c}/",
        f"http://[0:0:0:0:0:ffff:127.0.0.1]:{c}/",
        f"http://[::127.0.0.1]:{c}/",         # IPv4-compatible
        f"http://[64:ff9b::127.0.0.1]:{c}/",  # NAT64
        f"http://[2002:7f00:1::]:{c}/",       # 6to4
        f"http://0.0.0.0:{c}/",
        f"http://0:{c}/",
        f"http://[::]:{c}/",
        f"http://example.com@127.0.0.1:{c}/",  # userinfo
        f"http://example.com:80@127.0.0.1:{c}/",
        f"http://127.0.0.1:{c}#@example.com/",  # fragment trick
        f"http://127.0.0.1:{c}?@example.com/",
        f"http://127.0.0.1:{c}\\@example.com/",  # backslash trick
        f"http://@127.0.0.1:{c}/",
        f"//127.0.0.1:{c}/",                   # scheme-relative
    ]


OTHER_TARGETS = [
    # private, link-local, metadata, CGNAT, multicast, reserved, documentation, benchmarking
    "http://10.0.0.1/",
    "http://10.255.255.255/",
    "http://172.16.0.1/",
    "http://172.31.255.254/",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://169.254.170.2/v2/credentials",
    "http://2852039166/",                      # 169.254.169.254, decimal
    "http://0xa9fea9fe/",                      # 169.254.169.254, hex
    "http://0251.0376.0251.0376/",             # 169.254.169.254, octal
    "http://169.254.43518/",                   # 169.254.169.254, short
    "http://100.64.0.1/",
    "http://100.127.255.254/",
    "http://224.0.0.1/",
    "http://239.255.255.250:1900/",
    "http://255.255.255.255/",
    "http://240.0.0.1/",
    "http://198.18.0.1/",
    "http://198.19.255.1/",
    "http://192.0.2.1/",
    "http://198.51.100.7/",
    "http://203.0.113.9/",
    "http://192.0.0.170/",
    "http://192.88.99.1/",
    # IPv6
    "http://[fd00:ec2::254]/",                 # AWS metadata, ULA
    "http://[fc00::1]/",
    "http://[fec0::1]/",                       # site-local
    "http://[fe80::1]/",
    "http://[fe80::1%25eth0]/",                # scoped
    "http://[ff02::1]/",
    "http://[ff05::1:3]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[::ffff:a9fe:a9fe]/",
    "http://[::ffff:10.0.0.1]/",
    "http://[::10.0.0.1]/",
    "http://[64:ff9b::a9fe:a9fe]/",            # NAT64 of metadata
    "http://[64:ff9b:1::1]/",                  # local-use NAT64
    "http://[2002:a9fe:a9fe::1]/",             # 6to4 of metadata
    "http://[2002:c0a8:101::1]/",              # 6to4 of 192.168.1.1
    "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",  # Teredo
    "http://[2001:2::1]/",                     # benchmarking
    "http://[2001:db8::1]/",                   # documentation
    "http://[100::1]/",                        # discard
    "http://[::]/",
    # other schemes
    "file:///etc/passwd",
    "file://localhost/etc/passwd",
    "gopher://127.0.0.1:70/_GET%20/",
    "ftp://example.com/",
    "dict://127.0.0.1:11211/stat",
    "ldap://127.0.0.1/",
    "data:text/html,<h1>hi</h1>",
    "javascript:alert(1)",
    "ws://127.0.0.1/",
    # odd ports on public hosts: refused before any DNS lookup or connect
    "http://8.8.8.8:22/",
    "http://93.184.215.14:25/",
    "https://1.1.1.1:8443/",
    "http://example.com:6379/",
    "http://example.com:0/",
    "https://example.com:11211/",
    # credentials, even to a public host
    "http://user:pass@example.com/",
    "http://user@example.com/",
    # malformed
    "http://[::1/",
    "http://1.2.3.4.5/",
    "http://256.0.0.1/",
    "http://example.com:99999/",
    "http://exa mple.com/",
]


def check_refusal(exc: FetchError, url: str) -> None:
    assert exc.category in ("blocked", "invalid"), (url, exc.category, exc.message)
    for leaked in ("127.0.0.1", "169.254", "10.0.0.1", "192.168"):
        assert leaked not in exc.message, (url, exc.message)


async def refused(fetcher: HttpFetcher, url: str) -> FetchError:
    started = time.monotonic()
    with pytest.raises(FetchError) as info:
        await fetcher.fetch(url)
    assert time.monotonic() - started < REFUSAL_SECONDS, url
    check_refusal(info.value, url)
    return info.value


async def test_at_least_40_forbidden_targets_are_refused_without_connecting(
        redirect_site: FixtureSite, canary: Canary, guard: ConnectGuard) -> None:
    fetcher = fetcher_for(redirect_site)
    targets = loopback_targets(canary.port) + OTHER_TARGETS
    assert len(targets) >= 40
    try:
        private_hint = 0
        for url in targets:
            exc = await refused(fetcher, url)
            if "--allow-private-network" in exc.message:
                private_hint += 1
        # The fixture itself is reachable: the refusals are not a dead network.
        ok = await fetcher.fetch(redirect_site.url("/"))
        assert ok.status == 200
    finally:
        await fetcher.close()
    assert private_hint >= 50
    assert canary.connections == 0
    assert guard.refused == []


@pytest.mark.parametrize("hops", [1, 3])
async def test_redirect_chains_ending_in_forbidden_targets_are_refused(
        hops: int, redirect_site: FixtureSite, canary: Canary, guard: ConnectGuard) -> None:
    fetcher = fetcher_for(redirect_site)
    targets = loopback_targets(canary.port) + [t for t in OTHER_TARGETS if not t.startswith("//")]
    try:
        for target in targets:
            start = redirect_site.url(f"/hop/{hops}?to={_quote(target)}")
            exc = await refused(fetcher, start)
            # Refused at the last hop, after following the allowed ones.
            assert len(exc.redirects) == hops, (target, exc.redirects, exc.message)
            assert exc.redirects[0] == start
    finally:
        await fetcher.close()
    assert canary.connections == 0
    assert guard.refused == []


async def test_private_target_message_names_the_flag_and_not_the_address(redirect_site: FixtureSite,
                                                                         canary: Canary) -> None:
    fetcher = fetcher_for(redirect_site)
    try:
        exc = await refused(fetcher, f"http://2130706433:{canary.port}/")
    finally:
        await fetcher.close()
    assert exc.category == "blocked"
    assert "--allow-private-network" in exc.message
    assert "127.0.0.1" not in exc.message and "2130706433" not in exc.message


def _fake_getaddrinfo(table: dict[str, list[str]], calls: list[str]) -> Any:
    async def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        calls.append(host)
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "not found")
        out: list[Any] = []
        for address in table[host]:
            if ":" in address:
                out.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0)))
            else:
                out.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)))
        return out
    return getaddrinfo


async def test_hostnames_resolving_to_forbidden_addresses_are_refused(
        redirect_site: FixtureSite, canary: Canary, guard: ConnectGuard, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    table = {
        "internal.test": ["10.1.2.3"],
        "metadata.test": ["169.254.169.254"],
        "mixed.test": ["93.184.215.14", "10.0.0.5"],       # one bad address spoils the host
        "mapped.test": ["::ffff:10.0.0.1"],
        "ula.test": ["fd12:3456::1"],
        "cgnat.test": ["100.64.1.1"],
        "loop.test": ["127.0.0.1"],
        "ok.test": ["127.0.0.1"],
    }
    loop = asyncio.get_running_loop()
    monkeypatch.setattr(loop, "getaddrinfo", _fake_getaddrinfo(table, calls))
    port = redirect_site.port
    fetcher = fetcher_for(redirect_site)
    try:
        for host in ("internal.test", "metadata.test", "mixed.test", "mapped.test", "ula.test", "cgnat.test"):
            exc = await refused(fetcher, f"http://{host}:{port}/")
            assert exc.category == "blocked" and "--allow-private-network" in exc.message
            for address in table[host]:
                assert address not in exc.message
        # Same address, other port: the exception is one exact endpoint.
        await refused(fetcher, f"http://loop.test:{canary.port}/")
        # Via a redirect from the allowed fixture.
        exc = await refused(fetcher, redirect_site.url(f"/hop/3?to={_quote('http://internal.test/')}"))
        assert len(exc.redirects) == 3
        # The allowed endpoint through a name: one lookup, then connect to that checked address.
        calls.clear()
        ok = await fetcher.fetch(f"http://ok.test:{port}/")
        assert ok.status == 200
        assert calls == ["ok.test"]
    finally:
        await fetcher.close()
    assert canary.connections == 0
    assert guard.refused == []


async def test_resolver_refuses_loopback_names() -> None:
    policy = FetchPolicy(allow_private_network=False, allowed_ports=frozenset({80, 443}), max_url_length=2048)
    from crawler.safety import Blocked
    with pytest.raises(Blocked) as info:
        await CheckedResolver(policy).resolve("localhost", 80)
    assert "127.0.0.1" not in str(info.value)


async def test_grpc_crawl_reports_blocked(redirect_site: FixtureSite, canary: Canary, guard: ConnectGuard) -> None:
    """The same refusals through the Crawler RPC: a per-page error with category BLOCKED."""
    fetcher = fetcher_for(redirect_site)
    host, port = await create_server(replace(SETTINGS, bind="127.0.0.1:0"), fetcher=fetcher)
    channel = insecure_channel(f"127.0.0.1:{port}")
    try:
        stub = crawler_pb2_grpc.CrawlerStub(channel)
        for url in (f"http://[::ffff:127.0.0.1]:{canary.port}/", "http://169.254.169.254/",
                    redirect_site.url(f"/hop/3?to={_quote(f'http://0x7f.1:{canary.port}/')}")):
            response = await stub.Crawl(crawler_pb2.CrawlRequest(url=url), timeout=10)
            assert response.error == common_pb2.ERROR_CATEGORY_BLOCKED, (url, response)
            assert "--allow-private-network" in response.error_message
        ok = await stub.Crawl(crawler_pb2.CrawlRequest(url=redirect_site.url("/")), timeout=10)
        assert ok.error == common_pb2.ERROR_CATEGORY_UNSPECIFIED and ok.title
    finally:
        await channel.close(None)
        await host.stop(grace=0.5)
    assert canary.connections == 0
    assert guard.refused == []


async def test_allow_private_network_still_refuses_unlisted_ports(redirect_site: FixtureSite,
                                                                  canary: Canary) -> None:
    """The private-network switch does not open every port: the port list still applies."""
    settings = replace(SETTINGS, allow_private_network=True)
    fetcher = HttpFetcher(settings=settings)
    try:
        exc = await refused(fetcher, f"http://127.0.0.1:{canary.port}/")
        assert "CRAWLER_ALLOWED_PORTS" in exc.message
    finally:
        await fetcher.close()
    assert canary.connections == 0
