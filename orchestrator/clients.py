"""The orchestrator's gRPC clients to the crawler, the processor and the renderer, with a
deadline on every call. The renderer channel opens on first use: a local stack starts
its renderer process only then (``start_renderer``), so ordinary sites never pay for a
browser."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import grpc

from docspasta.call_streams import CallStream
from docspasta.rpc import service_channel
from docspasta.service_auth import ServiceAuth
from docspasta.v1 import crawler_pb2, crawler_pb2_grpc, processor_pb2, processor_pb2_grpc, renderer_pb2, renderer_pb2_grpc

CRAWLER_SERVICE = "docspasta.v1.Crawler"
PROCESSOR_SERVICE = "docspasta.v1.Processor"
RENDERER_SERVICE = "docspasta.v1.Renderer"
NO_RENDERER = ("this page needs rendering in a browser, and no renderer service is configured "
               "(RENDERER_TARGET; `docspasta crawl` and `serve` start one themselves)")
# After the renderer failed to start, pages that need it fail at once for this long
# instead of each starting (and losing) one more: a job in always mode would otherwise
# start two browser stacks per page. Then the next page tries again (a long-lived
# `serve` recovers from a passing failure).
DEFAULT_RENDERER_RESTART_SECONDS = 60.0

log = logging.getLogger(__name__)


class RendererUnavailable(Exception):
    """No renderer to send a page to; the message says what to configure."""


class Backends:
    def __init__(self, *, crawler_target: str, processor_target: str, crawl_timeout: float,
                 process_timeout: float, renderer_target: str = "", render_timeout: float = 60.0,
                 start_renderer: Callable[[], Awaitable[str]] | None = None, auth: ServiceAuth | None = None,
                 renderer_restart_seconds: float = DEFAULT_RENDERER_RESTART_SECONDS,
                 call_streams: bool = False) -> None:
        self._auth = auth
        # Crawl is idempotent (a GET); Process is an idempotent upsert: both may be retried.
        self._crawler_channel = service_channel(crawler_target, auth=auth, retry_services=[CRAWLER_SERVICE])
        self._processor_channel = service_channel(processor_target, auth=auth, retry_services=[PROCESSOR_SERVICE])
        self._crawler = crawler_pb2_grpc.CrawlerStub(self._crawler_channel)
        self._processor = processor_pb2_grpc.ProcessorStub(self._processor_channel)
        # Crawl and Process calls on one stream per service (docspasta/call_streams.py):
        # what the local stack uses, where each service is one process on a unix socket.
        self._crawl_stream: CallStream[crawler_pb2.CrawlRequest, crawler_pb2.CrawlResponse] | None = None
        self._process_stream: CallStream[processor_pb2.ProcessRequest, processor_pb2.ProcessResponse] | None = None
        if call_streams:
            self._crawl_stream = CallStream(self._crawler.CrawlStream, message=crawler_pb2.CrawlStreamRequest,
                                            unary=self._crawler.Crawl)
            self._process_stream = CallStream(self._processor.ProcessStream,
                                              message=processor_pb2.ProcessStreamRequest, unary=self._processor.Process)
        self.crawl_timeout = crawl_timeout
        self.process_timeout = process_timeout
        self.render_timeout = render_timeout
        self._renderer_target = renderer_target
        self._start_renderer = start_renderer
        self._renderer_channel: grpc.aio.Channel | None = None
        self._renderer: renderer_pb2_grpc.RendererAsyncStub | None = None
        self._renderer_lock = asyncio.Lock()
        self._renderer_restart_seconds = renderer_restart_seconds
        # Why the renderer could not be started, and when (monotonic): see DEFAULT_RENDERER_RESTART_SECONDS.
        self._start_failure: tuple[str, float] | None = None

    async def _renderer_stub(self) -> renderer_pb2_grpc.RendererAsyncStub:
        async with self._renderer_lock:
            if self._renderer is None:
                target = self._renderer_target
                if not target and self._start_renderer is not None:
                    target = await self._started_renderer()
                if not target:
                    raise RendererUnavailable(NO_RENDERER)
                self._renderer_channel = service_channel(target, auth=self._auth, retry_services=[RENDERER_SERVICE])
                self._renderer = renderer_pb2_grpc.RendererStub(self._renderer_channel)
            return self._renderer

    async def _started_renderer(self) -> str:
        if self._start_failure is not None:
            reason, at = self._start_failure
            if time.monotonic() - at < self._renderer_restart_seconds:
                raise RendererUnavailable(reason)
        assert self._start_renderer is not None
        try:
            target = await self._start_renderer()
        except Exception as exc:
            # Whatever stopped it (its process died starting, twice; a server that would not
            # bind), there is no renderer: the pages that need one fail, the job goes on.
            reason = f"the renderer could not be started: {exc}"
            log.error("%s", reason, exc_info=not isinstance(exc, RuntimeError))
            self._start_failure = (reason, time.monotonic())
            raise RendererUnavailable(reason) from exc
        self._start_failure = None
        return target

    async def render(self, request: renderer_pb2.RenderRequest,
                     metadata: tuple[tuple[str, str], ...] = ()) -> renderer_pb2.RenderResponse:
        """Raises RendererUnavailable when there is no renderer at all."""
        stub = await self._renderer_stub()
        response: renderer_pb2.RenderResponse = await stub.Render(
            request, timeout=self.render_timeout, metadata=metadata)
        return response

    async def crawl(self, request: crawler_pb2.CrawlRequest,
                    metadata: tuple[tuple[str, str], ...] = ()) -> crawler_pb2.CrawlResponse:
        if self._crawl_stream is not None:
            return await self._crawl_stream.call(request, timeout=self.crawl_timeout, metadata=metadata)
        response: crawler_pb2.CrawlResponse = await self._crawler.Crawl(
            request, timeout=self.crawl_timeout, metadata=metadata)
        return response

    async def process(self, request: processor_pb2.ProcessRequest,
                      metadata: tuple[tuple[str, str], ...] = ()) -> processor_pb2.ProcessResponse:
        if self._process_stream is not None:
            return await self._process_stream.call(request, timeout=self.process_timeout, metadata=metadata)
        response: processor_pb2.ProcessResponse = await self._processor.Process(
            request, timeout=self.process_timeout, metadata=metadata)
        return response

    async def list_pages(self, job_id: str, timeout: float = 300.0) -> AsyncIterator[processor_pb2.Page]:
        call = self._processor.ListPages(processor_pb2.ListPagesRequest(job_id=job_id), timeout=timeout)
        async for page in call:
            yield page

    async def close(self) -> None:
        for stream in (self._crawl_stream, self._process_stream):
            if stream is not None:
                await stream.close()
        await self._crawler_channel.close(None)
        await self._processor_channel.close(None)
        if self._renderer_channel is not None:
            await self._renderer_channel.close(None)


def is_transient(error: grpc.aio.AioRpcError) -> bool:
    return error.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED,
                            grpc.StatusCode.ABORTED)
