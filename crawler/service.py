"""The Crawler gRPC servicer: validate, fetch, extract."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator

import grpc

from crawler.extract import extract
from crawler.fetch import Fetcher, FetchError
from crawler.settings import CrawlerSettings
from docspasta import errors, logs, metrics
from docspasta.call_streams import StreamServer
from docspasta.ids import valid_job_id
from docspasta.rpc import DEFAULT_MAX_MESSAGE_BYTES
from docspasta.v1 import common_pb2, crawler_pb2, crawler_pb2_grpc

log = logging.getLogger(__name__)

# Room for everything in a CrawlResponse besides the page and its links.
_RESPONSE_MARGIN = 64 * 1024
# Pages up to this many characters are parsed for links on the event loop (~0.1-1 ms):
# a thread hop (submit, wake-up, the future's callback, the GIL handed back and forth)
# costs about as much CPU as extracting a small page, and most documentation pages are
# small. A larger page goes to a thread, which keeps the loop free while lxml parses.
INLINE_EXTRACT_CHARS = 64 * 1024

# C0 controls and DEL, looked for in C: a generator over the URL's characters was ~3 % of
# the crawler's CPU on small pages.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

CATEGORIES = {name.removeprefix("ERROR_CATEGORY_").lower(): value
              for name, value in common_pb2.ErrorCategory.items()}


def url_problem(url: str, *, max_length: int) -> str | None:
    """Why a request's page URL is unusable, or None. Shared by every service that
    takes one (crawler, renderer)."""
    if not url:
        return "required"
    if len(url) > max_length:
        return f"longer than {max_length} characters"
    if not url[:8].lower().startswith(("http://", "https://")):
        return "must be an absolute http(s) URL"
    if _CONTROL.search(url):
        return "must not contain control characters"
    return None


class CrawlerService(crawler_pb2_grpc.CrawlerServicer):
    def __init__(self, *, settings: CrawlerSettings, fetcher: Fetcher,
                 max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES) -> None:
        self._settings = settings
        self._fetcher = fetcher
        self._max_message_bytes = max_message_bytes
        self.streams: StreamServer[crawler_pb2.CrawlStreamRequest, crawler_pb2.CrawlStreamResponse] = StreamServer(
            self.Crawl, answer=crawler_pb2.CrawlStreamResponse, service="crawler", method="Crawl")

    async def CrawlStream(self, request_iterator: AsyncIterator[crawler_pb2.CrawlStreamRequest],
                          context: grpc.aio.ServicerContext[crawler_pb2.CrawlStreamRequest,
                                                            crawler_pb2.CrawlStreamResponse],
                          ) -> AsyncIterator[crawler_pb2.CrawlStreamResponse]:
        """Crawl calls on one stream (docspasta/call_streams.py), each run by Crawl."""
        async for answer in self.streams.serve(request_iterator, context):
            yield answer

    async def Crawl(self, request: crawler_pb2.CrawlRequest,
                    context: grpc.aio.ServicerContext[crawler_pb2.CrawlRequest, crawler_pb2.CrawlResponse],
                    ) -> crawler_pb2.CrawlResponse:
        url = request.url.strip()
        if problem := url_problem(url, max_length=self._settings.max_url_length):
            await errors.abort_invalid(context, "url", problem)
        if request.max_requests < 0:
            await errors.abort_invalid(context, "max_requests", "must not be negative")
        if request.job_id and not valid_job_id(request.job_id):
            await errors.abort_invalid(context, "job_id", "1-128 characters of letters, digits, '_', '-', '.', ':'")
        logs.job_id_var.set(request.job_id)
        logs.url_var.set(url)
        response = crawler_pb2.CrawlResponse(url=url)
        try:
            with metrics.FETCHES_IN_FLIGHT.track_inprogress():
                result = await self._fetcher.fetch(url, allow_non_html=request.allow_non_html,
                                                   max_requests=max(0, request.max_requests))
        except FetchError as exc:
            response.requests_sent = exc.requests
            response.final_url = exc.final_url or url
            response.status = exc.status
            response.error = CATEGORIES.get(exc.category, common_pb2.ERROR_CATEGORY_INVALID)  # type: ignore[assignment]
            response.error_message = exc.message
            response.retry_after_seconds = exc.retry_after
            response.redirects.extend(exc.redirects)
            log.info("fetch failed", extra={"category": exc.category, "reason": exc.message})
            metrics.PAGES_FETCHED.labels(exc.category).inc()
            return response
        metrics.PAGES_FETCHED.labels("ok").inc()
        metrics.FETCH_SECONDS.observe(result.seconds)
        response.final_url = result.final_url
        response.status = result.status
        response.content_type = result.content_type
        response.fetch_seconds = result.seconds
        response.content_length = result.body_bytes
        response.redirects.extend(result.redirects)
        response.requests_sent = result.requests
        if result.content_type in ("text/html", "application/xhtml+xml") or not request.allow_non_html:
            if len(result.text) <= INLINE_EXTRACT_CHARS:
                found = extract(result.text, result.final_url, max_links=self._settings.max_links,
                                max_elements=self._settings.max_elements)
            else:
                found = await asyncio.to_thread(extract, result.text, result.final_url,
                                                max_links=self._settings.max_links,
                                                max_elements=self._settings.max_elements)
            response.title = found.title
            response.links.extend(found.links)
            response.canonical_url = found.canonical
            response.nofollow = found.nofollow
            response.text_hash = found.text_hash
        response.html = result.text
        # The text now lives in the response only (and a large page's slot is freed).
        del result
        if response.ByteSize() > self._max_message_bytes - _RESPONSE_MARGIN:
            # The page would not fit in one gRPC message: fail this page, not the call.
            response.ClearField("html")
            response.ClearField("links")
            response.error = common_pb2.ERROR_CATEGORY_TOO_LARGE
            response.error_message = f"the page does not fit in a {self._max_message_bytes} byte message"
            for name in ("title", "canonical_url", "nofollow", "text_hash"):
                response.ClearField(name)
        return response
