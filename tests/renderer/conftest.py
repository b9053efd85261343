"""Renderer fixtures: the real service (its own factory, in-process, port 0) driving
real Chromium, a policy that refuses private targets except exactly the test site's
endpoint, and two loopback listeners that record every connection they get: the canary
(the forbidden target pages reach for) and the backstop (the browser's proxy, where a
request that escaped routing would arrive)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from crawler.safety import FetchPolicy
from crawler.settings import CrawlerSettings
from docspasta.rpc import ServiceHost, insecure_channel
from docspasta.v1 import renderer_pb2_grpc
from renderer.server import create_server
from renderer.settings import RendererSettings
from tests.renderer.sites import ProbeSite, SpaSite

# Generous for a loaded 2-core machine; the hostile tests use their own, shorter caps.
SETTINGS = replace(RendererSettings(), bind="127.0.0.1:0", render_timeout=45.0, settle_seconds=10.0, max_pages=2,
                   fetch=replace(CrawlerSettings(), fetch_timeout=20.0, connect_timeout=5.0))


@dataclass
class Canary:
    port: int = 0
    connections: int = 0
    # The first bytes of each connection (what leaked, when something did).
    received: list[bytes] = field(default_factory=list)
    server: asyncio.Server | None = None


@pytest.fixture
async def canary() -> AsyncIterator[Canary]:
    async for c in _listener():
        yield c


@pytest.fixture
async def backstop() -> AsyncIterator[Canary]:
    async for c in _listener():
        yield c


async def _listener() -> AsyncIterator[Canary]:
    c = Canary()

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        c.connections += 1
        try:
            c.received.append(await asyncio.wait_for(reader.read(200), 2.0))
        except (TimeoutError, ConnectionError):
            c.received.append(b"")
        writer.close()

    c.server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    c.port = c.server.sockets[0].getsockname()[1]
    yield c
    c.server.close()
    await c.server.wait_closed()


@pytest.fixture
async def spa() -> AsyncIterator[SpaSite]:
    s = await SpaSite().start()
    yield s
    await s.stop()


@pytest.fixture
async def probe(canary: Canary) -> AsyncIterator[ProbeSite]:
    s = await ProbeSite(canary_port=canary.port).start()
    yield s
    await s.stop()


def policy_for(port: int) -> FetchPolicy:
    """The production policy (no private targets, ports 80/443) plus exactly one endpoint."""
    return FetchPolicy(allow_private_network=False, allowed_ports=frozenset({80, 443}), max_url_length=2048,
                       allowed_endpoints=[("127.0.0.1", port)])


@dataclass
class RendererUnderTest:
    host: ServiceHost
    stub: renderer_pb2_grpc.RendererAsyncStub
    port: int


StartRenderer = Callable[..., Awaitable[RendererUnderTest]]


@pytest.fixture
async def start_renderer(backstop: Canary) -> AsyncIterator[StartRenderer]:
    started: list[tuple[ServiceHost, Any]] = []

    async def start(site_port: int, **overrides: Any) -> RendererUnderTest:
        settings = replace(SETTINGS, backstop_proxy=f"http://127.0.0.1:{backstop.port}", **overrides)
        host, port = await create_server(settings, policy=policy_for(site_port))
        channel = insecure_channel(f"127.0.0.1:{port}")
        started.append((host, channel))
        return RendererUnderTest(host=host, stub=renderer_pb2_grpc.RendererStub(channel), port=port)

    yield start
    for host, channel in started:
        await channel.close(None)
        await host.stop(grace=1.0)
