"""One crawl job: each URL flows on its own through started -> crawled -> discovered ->
sent to processing -> processed (or failed), at most ``concurrency`` crawls at once."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections import Counter
from collections.abc import Iterable

import grpc
from google.protobuf.message import Message

from docspasta import logs
from docspasta.events import format_elapsed
from docspasta.urls import InvalidURL, is_non_page, normalize
from docspasta.v1 import common_pb2, crawler_pb2, orchestrator_pb2 as pb, processor_pb2
from orchestrator.clients import Backends
from orchestrator.eventlog import EventLog
from orchestrator.frontier import Frontier, Item
from orchestrator.options import JobOptions
from orchestrator.retry import backoff_seconds, is_retryable
from orchestrator.scope import Scope

log = logging.getLogger(__name__)

TERMINAL_STATES = frozenset({pb.JOB_STATE_COMPLETED, pb.JOB_STATE_FAILED, pb.JOB_STATE_TIMEOUT,
                             pb.JOB_STATE_CANCELLED})


class CrawlJob:
    def __init__(self, *, job_id: str, start_url: str, options: JobOptions, backends: Backends,
                 max_attempts: int = 3, process_concurrency: int = 0, tick_seconds: float = 1.0) -> None:
        self.job_id = job_id
        self.start_url = start_url
        self.options = options
        self.events = EventLog(job_id)
        self.state: pb.JobState = pb.JOB_STATE_RUNNING
        self.error = ""
        self.created_at = time.time()
        self.finished_at: float | None = None
        self.scope = Scope(start_url=start_url, include=options.include_patterns,
                           exclude=options.exclude_patterns, allowed_domains=options.allowed_domains)
        self.frontier = Frontier()
        self.processed = 0
        self.failed = 0
        self.retries = 0
        self.in_flight = 0
        self.word_count = 0
        self.token_estimate = 0
        self.skipped: Counter[str] = Counter()
        self._backends = backends
        self._max_attempts = max_attempts
        self._tick = tick_seconds
        self._crawl_slots = asyncio.Semaphore(options.concurrency)
        self._process_slots = asyncio.Semaphore(process_concurrency or 2 * options.concurrency)
        self._live_cap = options.concurrency + (process_concurrency or 2 * options.concurrency)
        self._order = 0
        self._content_hashes: set[bytes] = set()
        self._first_error = ""
        self._cancel = asyncio.Event()
        self._shutdown_reason = ""
        self._started = time.monotonic()
        self._metadata = (("x-job-id", job_id),)
        self.task: asyncio.Task[None] | None = None

    # -- state -------------------------------------------------------------

    @property
    def elapsed(self) -> float:
        end = self.finished_at - self.created_at if self.finished_at else time.monotonic() - self._started
        return end

    def totals(self) -> pb.Totals:
        return pb.Totals(processed=self.processed, failed=self.failed, discovered=self.frontier.seen_count,
                         queued=len(self.frontier), in_flight=self.in_flight, elapsed_seconds=round(self.elapsed, 3),
                         token_estimate=self.token_estimate, word_count=self.word_count,
                         skipped=dict(self.skipped), retries=self.retries)

    def to_proto(self) -> pb.Job:
        job = pb.Job(job_id=self.job_id, url=self.start_url, state=self.state, options=self.options.to_proto(),
                     totals=self.totals(), scope=self.scope.describe(), last_sequence=self.events.last_sequence,
                     error=self.error)
        job.created_at.FromNanoseconds(int(self.created_at * 1e9))
        return job

    def emit(self, name: str, payload: Message) -> None:
        if not self.events.closed:
            self.events.append(name, payload)

    def _progress(self) -> None:
        self.emit("progress", pb.Progress(processed=self.processed, discovered=self.frontier.seen_count,
                                          queued=len(self.frontier), in_flight=self.in_flight, failed=self.failed))

    # -- control -----------------------------------------------------------

    def start(self) -> None:
        self.task = asyncio.create_task(self.run(), name=f"job-{self.job_id}")

    def cancel(self) -> None:
        self._cancel.set()

    async def shutdown(self, reason: str) -> None:
        """Ends a running job because the service stops: its terminal event says so."""
        self._shutdown_reason = reason
        self._cancel.set()
        if self.task is not None:
            await asyncio.gather(self.task, return_exceptions=True)

    async def run(self) -> None:
        logs.job_id_var.set(self.job_id)
        self.emit("stream_connected", pb.StreamConnected(url=self.start_url, options=self.options.to_proto(),
                                                         scope=self.scope.describe()))
        ticker = asyncio.create_task(self._ticker())
        crawl = asyncio.create_task(self._crawl())
        cancelled = asyncio.create_task(self._cancel.wait())
        try:
            done, _ = await asyncio.wait({crawl, cancelled}, timeout=self.options.timeout_seconds,
                                         return_when=asyncio.FIRST_COMPLETED)
            if crawl not in done:
                crawl.cancel()
                await asyncio.gather(crawl, return_exceptions=True)
        finally:
            ticker.cancel()
            cancelled.cancel()
            await asyncio.gather(ticker, cancelled, return_exceptions=True)
            self._finish(crawl)

    def _finish(self, crawl: asyncio.Task[None]) -> None:
        self.finished_at = time.time()
        totals = self.totals()
        if self._shutdown_reason:
            self.state, self.error = pb.JOB_STATE_FAILED, self._shutdown_reason
            self.emit("job_failed", pb.JobFailed(error=self.error, totals=totals))
        elif self._cancel.is_set() and not (crawl.done() and not crawl.cancelled() and self.frontier_empty()):
            self.state = pb.JOB_STATE_CANCELLED
            self.emit("job_cancelled", pb.JobCancelled(totals=totals))
        elif crawl.cancelled():
            self.state = pb.JOB_STATE_TIMEOUT
            message = (f"the job reached its {self.options.timeout_seconds:g} s deadline; "
                       f"{self.processed} pages were processed and kept")
            self.emit("job_timeout", pb.JobTimeout(totals=totals, message=message))
        elif crawl.exception() is not None:
            self.state, self.error = pb.JOB_STATE_FAILED, f"internal error: {crawl.exception()!r}"
            log.error("job crashed", exc_info=crawl.exception())
            self.emit("job_failed", pb.JobFailed(error=self.error, totals=totals))
        elif self.processed == 0:
            self.state = pb.JOB_STATE_FAILED
            self.error = "no page could be crawled" + (f": {self._first_error}" if self._first_error else "")
            self.emit("job_failed", pb.JobFailed(error=self.error, totals=totals))
        else:
            self.state = pb.JOB_STATE_COMPLETED
            self.emit("job_completed", pb.JobCompleted(totals=totals))
        log.info("job finished", extra={"state": pb.JobState.Name(self.state), "processed": self.processed})

    def frontier_empty(self) -> bool:
        return len(self.frontier) == 0 and self.in_flight == 0

    async def _ticker(self) -> None:
        """time_update every tick, on a fixed schedule so it does not drift."""
        n = 0
        while True:
            n += 1
            await asyncio.sleep(max(0.0, self._started + n * self._tick - time.monotonic()))
            elapsed = time.monotonic() - self._started
            self.emit("time_update", pb.TimeUpdate(
                elapsed_seconds=round(elapsed, 3), formatted=format_elapsed(elapsed), processed=self.processed,
                discovered=self.frontier.seen_count, queued=len(self.frontier), in_flight=self.in_flight))

    # -- the crawl ---------------------------------------------------------

    async def _crawl(self) -> None:
        self.frontier.push(normalize(self.start_url), self.start_url, 0)
        live: set[asyncio.Task[None]] = set()
        try:
            while True:
                while (self.frontier and len(live) < self._live_cap
                       and self.processed + len(live) < self.options.max_pages):
                    item = self.frontier.pop()
                    self.in_flight += 1
                    live.add(asyncio.create_task(self._visit(item)))
                if not live:
                    break
                done, live = await asyncio.wait(live, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    if task.exception() is not None:
                        raise task.exception()  # type: ignore[misc]
            if self.frontier:
                self.skipped["max_pages"] += len(self.frontier)
        finally:
            for task in live:
                task.cancel()
            await asyncio.gather(*live, return_exceptions=True)

    async def _visit(self, item: Item) -> None:
        token = logs.url_var.set(item.url)
        try:
            response = await self._fetch(item)
            if response is not None:
                await self._handle(item, response)
        finally:
            self.in_flight -= 1
            logs.url_var.reset(token)
            self._progress()

    async def _fetch(self, item: Item) -> crawler_pb2.CrawlResponse | None:
        """The fetch and retry steps; None after a final failure (reported)."""
        request = crawler_pb2.CrawlRequest(url=item.url, job_id=self.job_id)
        for attempt in range(1, self._max_attempts + 1):
            async with self._crawl_slots:
                self.emit("url_started", pb.UrlStarted(url=item.url, depth=item.depth, attempt=attempt))
                try:
                    response = await self._backends.crawl(request, self._metadata)
                except grpc.aio.AioRpcError as exc:
                    response = crawler_pb2.CrawlResponse(
                        url=item.url, error=common_pb2.ERROR_CATEGORY_CONNECT,
                        error_message=f"crawler unavailable: {exc.code().name} {exc.details() or ''}".strip())
            if not response.error:
                return response
            retry = is_retryable(response) and attempt < self._max_attempts
            delay = backoff_seconds(attempt, response.retry_after_seconds) if retry else 0.0
            self.emit("url_failed", pb.UrlFailed(url=item.url, error=response.error, message=response.error_message,
                                                 attempt=attempt, will_retry=retry,
                                                 retry_in_seconds=round(delay, 3)))
            if not retry:
                break
            self.retries += 1
            await asyncio.sleep(delay)
        self.failed += 1
        self._first_error = self._first_error or response.error_message
        return None

    def _skip(self, url: str, reason: str, detail: str) -> None:
        self.skipped[reason] += 1
        self.emit("url_skipped", pb.UrlSkipped(url=url, reason=reason, detail=detail))

    async def _handle(self, item: Item, response: crawler_pb2.CrawlResponse) -> None:
        url = item.url
        try:
            final = normalize(response.final_url or url)
        except InvalidURL:
            final = item.key
        if final != item.key:
            if item.depth == 0 and not self.options.include_patterns:
                # The start URL redirected (/docs -> /docs/, or to www.): scope follows it.
                self.scope = Scope(start_url=final, exclude=self.options.exclude_patterns,
                                   allowed_domains=(*self.options.allowed_domains, self.scope.start_host))
            if reason := self.scope.check(final):
                self._skip(url, reason, f"redirects to {final}")
                return
            if not self.frontier.mark_seen(final):
                self._skip(url, "duplicate", f"redirects to {final}, already in this job")
                return
        digest = hashlib.blake2b(response.html.encode("utf-8", "replace"), digest_size=16).digest()
        if digest in self._content_hashes:
            self._skip(url, "duplicate", "identical content to a page already in this job")
            return
        self._content_hashes.add(digest)
        self.emit("url_crawled", pb.UrlCrawled(url=url, title=response.title, content_length=response.content_length,
                                               status=response.status, final_url=response.final_url,
                                               fetch_seconds=round(response.fetch_seconds, 4)))
        if not response.nofollow:
            self._discover(url, response.links, item.depth + 1)
        await self._process(item, response.html)

    def _discover(self, source: str, links: Iterable[str], depth: int) -> None:
        """The admission steps for each link: normalise, non-page, scope, depth, dedup."""
        new: list[str] = []
        for link in links:
            try:
                key = normalize(link)
                url = normalize(link, fold_index=False)
            except InvalidURL:
                self.skipped["invalid"] += 1
                continue
            if self.frontier.seen(key):
                self.skipped["duplicate"] += 1
                continue
            if is_non_page(url):
                self.skipped["non_page"] += 1
                continue
            if reason := self.scope.check(key):
                self.skipped[reason] += 1
                continue
            if depth > self.options.max_depth:
                self.skipped["max_depth"] += 1
                continue
            self.frontier.push(key, url, depth)
            new.append(url)
        if new:
            self.emit("urls_discovered", pb.UrlsDiscovered(source_url=source, discovered_urls=new, count=len(new),
                                                           total_discovered=self.frontier.seen_count))

    async def _process(self, item: Item, html: str) -> None:
        self._order += 1
        request = processor_pb2.ProcessRequest(job_id=self.job_id, url=item.url, html=html, order=self._order,
                                               depth=item.depth)
        self.emit("sent_to_processing", pb.SentToProcessing(url=item.url))
        async with self._process_slots:
            try:
                result = await self._backends.process(request, self._metadata)
            except grpc.aio.AioRpcError as exc:
                category = (common_pb2.ERROR_CATEGORY_TOO_LARGE
                            if exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED else common_pb2.ERROR_CATEGORY_PROCESSING)
                message = f"processing failed: {exc.code().name} {exc.details() or ''}".strip()
                self.emit("url_failed", pb.UrlFailed(url=item.url, error=category, message=message, attempt=1))
                self.failed += 1
                self._first_error = self._first_error or message
                return
        self.processed += 1
        self.word_count += result.word_count
        self.token_estimate += result.token_estimate
        self.emit("url_processed", pb.UrlProcessed(url=item.url, title=result.title, word_count=result.word_count,
                                                   token_estimate=result.token_estimate))
