"""docspasta.v2.CrawlerService: the v1 crawler's Crawl, in v2 messages."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc

from crawler.service import CrawlerService
from crawler.v2 import convert
from docspasta.v2 import crawler_pb2 as v2, crawler_pb2_grpc as v2_grpc
from docspasta.call_streams import StreamServer
from docspasta.v2errors import V2Context


class CrawlerServiceV2(v2_grpc.CrawlerServiceServicer):
    def __init__(self, *, v1: CrawlerService) -> None:
        self._v1 = v1
        self.streams: StreamServer[v2.CrawlStreamRequest, v2.CrawlStreamResponse] = StreamServer(
            self.Crawl, answer=v2.CrawlStreamResponse, service="crawler", method="Crawl",
            timeout_of=lambda message: message.timeout.ToNanoseconds() / 1e9)

    async def Crawl(self, request: v2.CrawlRequest,
                    context: grpc.aio.ServicerContext[v2.CrawlRequest, v2.CrawlResponse]) -> v2.CrawlResponse:
        # Validation (url, job_id, max_requests) is the v1 servicer's, refused in v2 terms.
        ctx = V2Context(context, fields=convert.FIELDS).as_context()
        return convert.crawl_response(await self._v1.Crawl(convert.crawl_request(request), ctx))

    async def CrawlStream(self, request_iterator: AsyncIterator[v2.CrawlStreamRequest],
                          context: grpc.aio.ServicerContext[v2.CrawlStreamRequest, v2.CrawlStreamResponse],
                          ) -> AsyncIterator[v2.CrawlStreamResponse]:
        """Crawl calls on one stream (docspasta/call_streams.py), each run by Crawl above."""
        async for answer in self.streams.serve(request_iterator, context):
            yield answer
