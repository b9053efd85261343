"""Builds and runs the renderer's gRPC server."""

from __future__ import annotations

import asyncio

from crawler.fetch import HttpFetcher
from crawler.safety import FetchPolicy
from docspasta import metrics
from docspasta.rpc import ServiceHost, run_service
from docspasta.v1 import renderer_pb2, renderer_pb2_grpc
from renderer.browser import BrowserPool
from renderer.egress import Egress
from renderer.render import PageRenderer
from renderer.service import RendererService
from renderer.settings import RendererSettings

SERVICE_NAME = renderer_pb2.DESCRIPTOR.services_by_name["Renderer"].full_name


async def create_server(settings: RendererSettings, *,
                        policy: FetchPolicy | None = None) -> tuple[ServiceHost, int]:
    """A started renderer server and its bound port. The browser starts with the first
    page, so a renderer nobody calls costs no Chromium. ``policy`` replaces the one
    built from the settings (tests allow exactly one loopback fixture endpoint)."""
    fetcher = HttpFetcher(settings=settings.fetch, policy=policy)
    egress = Egress(fetcher=fetcher, max_body_bytes=settings.fetch.max_body_bytes)
    pool = BrowserPool(settings=settings, egress=egress)
    renderer = PageRenderer(settings=settings, fetcher=fetcher, pool=pool, egress=egress)
    host = ServiceHost(service_names=[SERVICE_NAME], bind=settings.bind, auth=settings.auth)
    renderer_pb2_grpc.add_RendererServicer_to_server(RendererService(settings=settings, renderer=renderer),
                                                     host.server)
    metrics.RENDER_CONTEXTS.set_function(lambda: pool.open_contexts)
    host.cleanups.append(fetcher.close)
    host.cleanups.append(pool.close)
    await host.start()
    return host, host.port


async def main() -> None:
    await run_service("renderer", RendererSettings.from_env(), create_server)


def run() -> None:
    asyncio.run(main())
