"""Builds and runs the crawler's gRPC server."""

from __future__ import annotations

from crawler.fetch import Fetcher, HttpFetcher
from crawler.service import CrawlerService
from crawler.settings import CrawlerSettings
from crawler.v2.service import CrawlerServiceV2
from docspasta import aio
from docspasta.rpc import ServiceHost, run_service
from docspasta.v1 import crawler_pb2, crawler_pb2_grpc
from docspasta.v2 import crawler_pb2 as crawler_v2, crawler_pb2_grpc as crawler_v2_grpc

SERVICE_NAME = crawler_pb2.DESCRIPTOR.services_by_name["Crawler"].full_name
# docspasta.v2 beside v1 for the deprecation period (docs/contract.md).
SERVICE_NAME_V2 = crawler_v2.DESCRIPTOR.services_by_name["CrawlerService"].full_name


async def create_server(settings: CrawlerSettings, *, fetcher: Fetcher | None = None) -> tuple[ServiceHost, int]:
    """A started crawler server and its bound port (port 0 in ``bind`` picks a free one)."""
    fetcher = fetcher or HttpFetcher(settings=settings)
    host = ServiceHost(service_names=[SERVICE_NAME, SERVICE_NAME_V2], bind=settings.bind, auth=settings.auth)
    v1 = CrawlerService(settings=settings, fetcher=fetcher)
    crawler_pb2_grpc.add_CrawlerServicer_to_server(v1, host.server)
    v2 = CrawlerServiceV2(v1=v1)
    crawler_v2_grpc.add_CrawlerServiceServicer_to_server(v2, host.server)
    # Draining: each stream's calls in flight are answered, then it ends (docspasta/call_streams.py).
    host.on_drain.extend((v1.streams.drain, v2.streams.drain))
    host.cleanups.append(fetcher.close)
    await host.start()
    return host, host.port


async def main() -> None:
    await run_service("crawler", CrawlerSettings.from_env(), create_server)


def run() -> None:
    aio.run(main())
