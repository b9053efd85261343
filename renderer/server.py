"""Builds and runs the renderer's gRPC server."""

from __future__ import annotations

import asyncio

from crawler.fetch import HttpFetcher
from crawler.safety import FetchPolicy
from docspasta import metrics
from docspasta.rpc import ServiceHost, run_service
from docspasta.v1 import renderer_pb2, renderer_pb2_grpc
from docspasta.v2 import renderer_pb2 as renderer_v2, renderer_pb2_grpc as renderer_v2_grpc
from renderer.browser import BrowserPool
from renderer.egress import Egress
from renderer.render import PageRenderer
from renderer.service import RendererService
from renderer.settings import RendererSettings
from renderer.v2.service import RendererServiceV2

SERVICE_NAME = renderer_pb2.DESCRIPTOR.services_by_name["Renderer"].full_name
# docspasta.v2 beside v1 for the deprecation period (docs/contract.md).
SERVICE_NAME_V2 = renderer_v2.DESCRIPTOR.services_by_name["RendererService"].full_name


async def create_server(settings: RendererSettings, *,
                        policy: FetchPolicy | None = None) -> tuple[ServiceHost, int]:
    """A started renderer server and its bound port. The browser starts with the first
    page, so a renderer nobody calls costs no Chromium. ``policy`` replaces the one
    built from the settings (tests allow exactly one loopback fixture endpoint)."""
    fetcher = HttpFetcher(settings=settings.fetch, policy=policy)
    egress = Egress(fetcher=fetcher, max_body_bytes=settings.fetch.max_body_bytes)
    pool = BrowserPool(settings=settings, egress=egress)
    renderer = PageRenderer(settings=settings, fetcher=fetcher, pool=pool, egress=egress)
    host = ServiceHost(service_names=[SERVICE_NAME, SERVICE_NAME_V2], bind=settings.bind, auth=settings.auth)
    v1 = RendererService(settings=settings, renderer=renderer)
    renderer_pb2_grpc.add_RendererServicer_to_server(v1, host.server)
    renderer_v2_grpc.add_RendererServiceServicer_to_server(RendererServiceV2(v1=v1), host.server)
    metrics.RENDER_CONTEXTS.set_function(lambda: pool.open_contexts)
    host.cleanups.append(fetcher.close)
    host.cleanups.append(pool.close)
    await host.start()
    return host, host.port


async def main() -> None:
    await run_service("renderer", RendererSettings.from_env(), create_server)


def run() -> None:
    asyncio.run(main())
