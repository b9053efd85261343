"""The orchestrator's gRPC clients to the crawler and the processor, with a deadline on
every call."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc

from docspasta.rpc import insecure_channel
from docspasta.v1 import crawler_pb2, crawler_pb2_grpc, processor_pb2, processor_pb2_grpc

CRAWLER_SERVICE = "docspasta.v1.Crawler"
PROCESSOR_SERVICE = "docspasta.v1.Processor"


class Backends:
    def __init__(self, *, crawler_target: str, processor_target: str, crawl_timeout: float,
                 process_timeout: float) -> None:
        # Crawl is idempotent (a GET); Process is an idempotent upsert: both may be retried.
        self._crawler_channel = insecure_channel(crawler_target, retry_services=[CRAWLER_SERVICE])
        self._processor_channel = insecure_channel(processor_target, retry_services=[PROCESSOR_SERVICE])
        self._crawler = crawler_pb2_grpc.CrawlerStub(self._crawler_channel)
        self._processor = processor_pb2_grpc.ProcessorStub(self._processor_channel)
        self.crawl_timeout = crawl_timeout
        self.process_timeout = process_timeout

    async def crawl(self, request: crawler_pb2.CrawlRequest,
                    metadata: tuple[tuple[str, str], ...] = ()) -> crawler_pb2.CrawlResponse:
        response: crawler_pb2.CrawlResponse = await self._crawler.Crawl(
            request, timeout=self.crawl_timeout, metadata=metadata)
        return response

    async def process(self, request: processor_pb2.ProcessRequest,
                      metadata: tuple[tuple[str, str], ...] = ()) -> processor_pb2.ProcessResponse:
        response: processor_pb2.ProcessResponse = await self._processor.Process(
            request, timeout=self.process_timeout, metadata=metadata)
        return response

    async def list_pages(self, job_id: str, timeout: float = 300.0) -> AsyncIterator[processor_pb2.Page]:
        call = self._processor.ListPages(processor_pb2.ListPagesRequest(job_id=job_id), timeout=timeout)
        async for page in call:
            yield page

    async def close(self) -> None:
        await self._crawler_channel.close(None)
        await self._processor_channel.close(None)


def is_transient(error: grpc.aio.AioRpcError) -> bool:
    return error.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED,
                            grpc.StatusCode.ABORTED)
