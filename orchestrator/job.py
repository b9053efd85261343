"""One crawl job: each URL flows on its own through started -> crawled -> discovered ->
sent to processing -> processed (or failed), at most ``concurrency`` crawls at once.

The job runs on the replica that holds its lease; everything it learns goes to the
job store through its writer (orchestrator/persist.py), so another replica can adopt
it (``resume``) and continue after the last stored event. ``suspend`` gives the job
up without ending it (the replica stops); ``lose`` stops at once, writing nothing
(another replica took it)."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Coroutine, Iterable
from typing import Any
from urllib.parse import urlsplit

import grpc
from google.protobuf.message import Message

from docspasta import logs
from docspasta.metrics import JOB_ID_KEY, REQUEST_ID_KEY
from docspasta.events import format_elapsed
from docspasta.texthash import TEXT_HASH_BYTES, text_hash
from docspasta.urls import InvalidURL, is_non_page, normalize
from docspasta.v1 import common_pb2, crawler_pb2, orchestrator_pb2 as pb, processor_pb2, renderer_pb2
from orchestrator.budget import BUDGET, RequestBudget
from orchestrator.clients import Backends, RendererUnavailable
from orchestrator.eventlog import EventLog
from orchestrator.dedup import DUPLICATE, Dedup, is_variant
from orchestrator.frontier import Frontier, Item, Known, host_key
from orchestrator.options import JobOptions
from docspasta.webhooks import WebhookSpec
from orchestrator.persist import JobWriter
from orchestrator.webhooks.messages import JobWebhook
from orchestrator.store.base import F_SEEN, F_SKIPPED, Finish, JobStore, LeaseLost
from orchestrator.politeness import Politeness
from orchestrator.render import RenderDecision, check_shell
from orchestrator.retry import backoff_seconds, is_retryable, rpc_failure
from orchestrator.robots import ROBOTS, RobotsCache, RobotsRules
from orchestrator.scope import Scope
from orchestrator.settings import OrchestratorSettings
from orchestrator.sitemaps import SitemapReader
from orchestrator.traps import TRAP, TrapLimits, Traps

# Process calls that ended because of the processor, not the page: it went away
# (a replica stopped past its grace) or was saturated (ABORTED: no worker free in time).
_PROCESSOR_GONE = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED, grpc.StatusCode.ABORTED})
PROCESS_ATTEMPTS = 3

NOT_HTML = "not_html"  # the reason a non-HTML response is skipped (as the processor's body sniffing says)

log = logging.getLogger(__name__)

TERMINAL_STATES = frozenset({pb.JOB_STATE_COMPLETED, pb.JOB_STATE_FAILED, pb.JOB_STATE_TIMEOUT,
                             pb.JOB_STATE_CANCELLED})


def state_name(state: pb.JobState) -> str:
    """JOB_STATE_COMPLETED -> "completed" (the job store's spelling)."""
    return str(pb.JobState.Name(state)).removeprefix("JOB_STATE_").lower()


class CrawlJob:
    def __init__(self, *, job_id: str, start_url: str, options: JobOptions, backends: Backends, store: JobStore,
                 owner: str, last_sequence: int = 0, checkpoint: bytes = b"", created_at: float = 0.0,
                 max_attempts: int = 3, process_concurrency: int = 0, tick_seconds: float = 1.0,
                 settings: OrchestratorSettings | None = None, webhook: WebhookSpec | None = None) -> None:
        s = settings or OrchestratorSettings()
        self.job_id = job_id
        self.start_url = start_url
        self.options = options
        self.owner = owner
        self._store = store
        self.writer = JobWriter(store=store, job_id=job_id, owner=owner, snapshot=self._snapshot,
                                on_cancel=self.cancel, on_lost=self.lose, interval=s.flush_seconds,
                                max_events=s.flush_events, on_commit=lambda sequence: self.events.committed(sequence))
        self.writer.committed_sequence = last_sequence
        self.events = EventLog(job_id, self.writer, last_sequence=last_sequence)
        self.state: pb.JobState = pb.JOB_STATE_RUNNING
        self.error = ""
        self.created_at = created_at or time.time()
        self.finished_at: float | None = None
        saved = json.loads(checkpoint or b"{}")
        # A job that ran before (on this or another replica) is resumed, not started.
        self.resumed = bool(saved.get("started"))
        self.scope = Scope(start_url=saved.get("scope_url") or start_url, include=options.include_patterns,
                           exclude=options.exclude_patterns,
                           allowed_domains=tuple(saved.get("scope_domains") or options.allowed_domains))
        self.frontier = Frontier(job_id=job_id, store=store, writer=self.writer, window=s.frontier_window,
                                 seen_cache=s.seen_cache_size)
        self.processed = int(saved.get("processed", 0))
        self.failed = int(saved.get("failed", 0))
        self.retries = int(saved.get("retries", 0))
        self.in_flight = 0
        self.word_count = int(saved.get("word_count", 0))
        self.token_estimate = int(saved.get("token_estimate", 0))
        self.skipped: Counter[str] = Counter(saved.get("skipped", {}))
        self._saved_discovered = int(saved.get("discovered", 0))
        self._backends = backends
        self._max_attempts = max_attempts
        self._tick = tick_seconds
        self._crawl_slots = asyncio.Semaphore(options.concurrency)
        self._process_slots = asyncio.Semaphore(process_concurrency or 2 * options.concurrency)
        self._live_cap = options.concurrency + (process_concurrency or 2 * options.concurrency)
        self._order = int(saved.get("page_order", 0))
        self.politeness = Politeness(host_concurrency=s.host_concurrency, max_crawl_delay=s.max_crawl_delay)
        self.traps = Traps(TrapLimits(max_url_length=s.max_url_length, max_query_variants=s.max_query_variants,
                                      max_links_per_page=s.max_links_per_page))
        self.robots = RobotsCache(self._fetch_resource, s.robots_user_agent)
        self.dedup = Dedup(job_id=job_id, store=store, writer=self.writer, cache_size=s.dedup_cache_size,
                           complete=not self.resumed)
        self.budget = RequestBudget(max_pages=options.max_pages, limits=s.budget)
        self.budget.restore(saved.get("budget"))
        self._sitemaps = SitemapReader(self._fetch_resource, self._seed_from_sitemap,
                                       max_documents=s.max_sitemap_documents, max_urls=s.max_sitemap_urls)
        self._origins: set[str] = set()
        self._aux: set[asyncio.Task[None]] = set()
        # Tasks of the crawl (pages and background steps) ended since the loop last looked.
        self._finished: list[asyncio.Task[None]] = []
        self._wake = asyncio.Event()
        self._first_error = str(saved.get("first_error", ""))
        self._cancel = asyncio.Event()
        # Why the job stops without ending: "suspend" (give it up) or "lost" (taken over).
        self._stop_reason = ""
        self._base_elapsed = float(saved.get("elapsed", 0.0))
        self._started = time.monotonic()
        self._calls = int(saved.get("calls", 0))
        self.requeued = 0
        self.task: asyncio.Task[None] | None = None
        # The render step (orchestrator/render.py), and the URLs whose page was rendered.
        self._render = RenderDecision(options.render_mode)
        self._render.restore(saved.get("render_shells"))
        self._rendered: set[str] = set()
        # The job's webhook messages (orchestrator/webhooks/), None without a webhook.
        self.webhook = JobWebhook(spec=webhook, job_id=job_id, url=start_url, writer=self.writer,
                                  totals=self.totals, processed=self.processed) if webhook is not None else None

    # -- state -------------------------------------------------------------

    @property
    def elapsed(self) -> float:
        """Seconds the job has run, on every replica that ran it."""
        if self.finished_at is not None and self._finished_elapsed is not None:
            return self._finished_elapsed
        return self._base_elapsed + time.monotonic() - self._started

    _finished_elapsed: float | None = None

    def totals(self) -> pb.Totals:
        return pb.Totals(processed=self.processed, failed=self.failed, discovered=self.frontier.seen_count,
                         queued=len(self.frontier), in_flight=self.in_flight, elapsed_seconds=round(self.elapsed, 3),
                         token_estimate=self.token_estimate, word_count=self.word_count,
                         skipped=dict(self.skipped), retries=self.retries)

    def _snapshot(self) -> tuple[bytes, bytes]:
        """(totals, checkpoint) for the writer's next commit."""
        checkpoint = {
            "started": True, "processed": self.processed, "failed": self.failed, "retries": self.retries,
            "word_count": self.word_count, "token_estimate": self.token_estimate, "skipped": dict(self.skipped),
            "discovered": self.frontier.seen_count, "page_order": self._order, "calls": self._calls,
            "scope_url": self.scope.start_url, "scope_domains": list(self.scope.allowed_domains),
            "scope": self.scope.describe(), "first_error": self._first_error, "elapsed": round(self.elapsed, 3),
            "budget": self.budget.checkpoint(), "render_shells": self._render.checkpoint(),
        }
        return self.totals().SerializeToString(), json.dumps(checkpoint, separators=(",", ":")).encode()

    def to_proto(self) -> pb.Job:
        job = pb.Job(job_id=self.job_id, url=self.start_url, state=self.state, options=self.options.to_proto(),
                     totals=self.totals(), scope=self.scope.describe(), last_sequence=self.writer.committed_sequence,
                     error=self.error)
        job.created_at.FromNanoseconds(int(self.created_at * 1e9))
        return job

    def emit(self, name: str, payload: Message) -> None:
        # While suspending, events still flow until the last commit: a URL finished in
        # that moment keeps its events, and its row says done.
        if not self.events.closed and self._stop_reason != "lost":
            self.events.append(name, payload)
            if self.webhook is not None:
                self.webhook.observe(self.events.last_sequence, name, payload)

    def _progress(self) -> None:
        self.emit("progress", pb.Progress(processed=self.processed, discovered=self.frontier.seen_count,
                                          queued=len(self.frontier), in_flight=self.in_flight, failed=self.failed))

    # -- control -----------------------------------------------------------

    async def prepare(self) -> None:
        """Before ``start``: a resumed job re-queues what was in flight and picks up its
        stored frontier."""
        if self.resumed:
            self.requeued = await self._store.requeue_in_flight(self.job_id, owner=self.owner)
            # The trap counters (query variants per path) are rebuilt from the admitted URLs.
            await self.frontier.restore(seen_count=self._saved_discovered, on_row=lambda row: (
                self.traps.admitted(row.key) if row.state not in (F_SKIPPED, F_SEEN) else None))

    def start(self) -> None:
        self.task = asyncio.create_task(self.run(), name=f"job-{self.job_id}")

    def cancel(self) -> None:
        self._cancel.set()

    async def suspend(self) -> None:
        """Stops working on the job without ending it: what is done is committed and the
        lease released, so another replica (or a later run) continues it."""
        self._stop("suspend")
        if self.task is not None:
            await asyncio.gather(self.task, return_exceptions=True)

    def lose(self) -> None:
        """Another replica owns the job now: stop at once, write nothing more."""
        self._stop("lost")
        self.events.close_tail()  # its followers read the new owner's events from the store

    def _stop(self, reason: str) -> None:
        if not self._stop_reason and self.finished_at is None:
            self._stop_reason = reason
            self._cancel.set()

    @property
    def stopped(self) -> bool:
        return bool(self._stop_reason)

    async def run(self) -> None:
        logs.job_id_var.set(self.job_id)
        self.writer.start()
        if self.resumed:
            self.emit("job_resumed", pb.JobResumed(owner=self.owner, requeued_urls=self.requeued,
                                                   last_sequence=self.events.last_sequence))
        elif self.webhook is not None:
            self.webhook.started(self.events.last_sequence)
        ticker = asyncio.create_task(self._ticker())
        crawl = asyncio.create_task(self._crawl())
        cancelled = asyncio.create_task(self._cancel.wait())
        try:
            done, _ = await asyncio.wait({crawl, cancelled},
                                         timeout=max(0.0, self.options.timeout_seconds - self._base_elapsed),
                                         return_when=asyncio.FIRST_COMPLETED)
            if crawl not in done:
                crawl.cancel()
                await asyncio.gather(crawl, return_exceptions=True)
        finally:
            ticker.cancel()
            cancelled.cancel()
            await asyncio.gather(ticker, cancelled, return_exceptions=True)
            try:
                if self._stop_reason:
                    await self._give_up()
                else:
                    await self._finish(crawl)
            finally:
                await self.writer.stop()
                # Everything committed is in the store: followers read it from there now.
                self.events.close_tail()

    async def _give_up(self) -> None:
        self.finished_at = time.time()
        if self._stop_reason == "lost":
            log.warning("job lease lost; another replica continues it")
            return
        try:
            await self.writer.flush()
            await self._store.release_lease(self.job_id, owner=self.owner)
            log.info("job suspended; lease released", extra={"processed": self.processed})
        except LeaseLost:
            pass
        except Exception:
            # The lease then expires and another replica adopts the job from its last commit.
            log.warning("could not commit or release the job while stopping", exc_info=True)

    async def _finish(self, crawl: asyncio.Task[None]) -> None:
        self._finished_elapsed = self.elapsed
        self.finished_at = time.time()
        totals = self.totals()
        if self._cancel.is_set() and not (crawl.done() and not crawl.cancelled() and self.frontier_empty()):
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
        for attempt in range(1, 4):
            try:
                await self.writer.flush(finish=Finish(state=state_name(self.state), error=self.error))
                break
            except LeaseLost:
                log.warning("job lease lost before its end was stored; another replica continues it")
                return
            except Exception:
                if attempt == 3:
                    log.error("could not store the job's end; its lease expires and it is adopted",
                              exc_info=True)
                    return
                await asyncio.sleep(0.5 * attempt)
        log.info("job finished", extra={"state": pb.JobState.Name(self.state), "processed": self.processed})

    def frontier_empty(self) -> bool:
        return len(self.frontier) == 0 and self.in_flight == 0

    async def _ticker(self) -> None:
        """time_update every tick, on a fixed schedule so it does not drift."""
        n = 0
        while True:
            n += 1
            await asyncio.sleep(max(0.0, self._started + n * self._tick - time.monotonic()))
            elapsed = self.elapsed
            self.emit("time_update", pb.TimeUpdate(
                elapsed_seconds=round(elapsed, 3), formatted=format_elapsed(elapsed), processed=self.processed,
                discovered=self.frontier.seen_count, queued=len(self.frontier), in_flight=self.in_flight))

    # -- the crawl ---------------------------------------------------------
    #
    # The steps, in order, each its own module: admission (urls: normalise, non-page;
    # scope; traps; depth; frontier dedup) -> dispatch (frontier, shallow first, per
    # host; politeness: host slots) -> robots -> fetch (politeness: adaptive limit,
    # Retry-After, crawl delay; retry: backoff) -> dedup (redirect, content hash,
    # canonical) -> discovery (links and sitemaps back to admission) -> processing.

    def _wakeup(self) -> None:
        self._wake.set()

    def _budget_left(self, live: int) -> bool:
        return self.processed + live < self.options.max_pages and not self.budget.exhausted

    def _spawn_aux(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        """A background step of the crawl (sitemap reading, seeding): the crawl loop waits
        for it as for a page."""
        task = asyncio.create_task(coro, name=name)
        task.add_done_callback(self._task_done)
        self._aux.add(task)
        self._wakeup()

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._finished.append(task)
        self._wake.set()

    async def _crawl(self) -> None:
        if not self.resumed:
            self.frontier.push(normalize(self.start_url), self.start_url, 0)
        live: set[asyncio.Task[None]] = set()
        # Each task tells the loop when it ends (a done callback), so one pass of the loop
        # costs the same whatever the concurrency: no asyncio.wait over every live task.
        try:
            while True:
                self._wake.clear()
                finished, self._finished = self._finished, []
                for task in finished:
                    if task in live:
                        live.discard(task)
                        if not task.cancelled() and task.exception() is not None:
                            raise task.exception()  # type: ignore[misc]
                    elif task in self._aux:
                        self._aux.discard(task)
                        if not task.cancelled() and task.exception() is not None:
                            log.warning("sitemap discovery failed", exc_info=task.exception())
                if self.frontier.needs_refill():
                    await self.frontier.refill()
                while len(live) < self._live_cap and self._budget_left(len(live)):
                    item = self.frontier.pop(ready=lambda h: self.politeness.can_assign(h) and self.budget.open(h))
                    if item is None:
                        break
                    self.politeness.assign(item.host)
                    self.in_flight += 1
                    task = asyncio.create_task(self._visit(item))
                    task.add_done_callback(self._task_done)
                    live.add(task)
                if not live and (not self._aux or not self._budget_left(0)):
                    break
                await self._wake.wait()
            if self.frontier:
                # Left because max_pages was reached, or because no request may be sent.
                self.skipped["max_pages" if self.processed >= self.options.max_pages else BUDGET] += len(self.frontier)
        finally:
            pending = [*live, *self._aux]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def _visit(self, item: Item) -> None:
        token = logs.url_var.set(item.url)
        released = False
        # (failed, reason) once the URL is finished; None while it is not (a job stopped
        # mid-visit leaves it in flight in the store, and the adopter crawls it again).
        outcome: tuple[bool, str] | None = None
        try:
            if await self._robots_allow(item):
                response = await self._fetch(item)
            else:
                response, outcome = None, (False, ROBOTS)
            self._release(item)
            released = True
            if response is None:
                outcome = outcome or (True, "")
            elif response.error == common_pb2.ERROR_CATEGORY_NOT_HTML:
                # Refused by its content type (a PDF, an image, a source file): not a page,
                # so skipped with the reason counted, never failed.
                self._skip(item.url, NOT_HTML, response.error_message)
                outcome = (False, NOT_HTML)
            else:
                outcome = await self._handle(item, response)
        finally:
            if not released:
                self._release(item)
            if outcome is not None:
                self.frontier.done(item, failed=outcome[0], reason=outcome[1])
            self.in_flight -= 1
            logs.url_var.reset(token)
            self._progress()

    def _release(self, item: Item) -> None:
        """The fetch stage is over: the host may take another URL."""
        self.politeness.unassign(item.host)
        self._wakeup()

    # -- robots and sitemaps -------------------------------------------------

    async def _origin_rules(self, key: str) -> RobotsRules:
        """The origin's robots.txt (fetched once); the first time, its crawl delay goes to
        politeness and its sitemaps are read in the background."""
        parts = urlsplit(key)
        origin = f"{parts.scheme}://{parts.netloc}"
        if not (self.options.obey_robots or self.options.use_sitemaps):
            return RobotsRules()
        rules = await self.robots.get(origin)
        if origin not in self._origins:
            self._origins.add(origin)
            if self.options.obey_robots:
                self.politeness.set_crawl_delay(host_key(key), rules.delay)
            if self.options.use_sitemaps:
                roots = [*rules.sitemaps, f"{origin}/sitemap.xml"]
                self._spawn_aux(self._sitemaps.read(roots), f"sitemaps {origin}")
        return rules

    async def _robots_allow(self, item: Item) -> bool:
        rules = await self._origin_rules(item.key)
        if not self.options.obey_robots or rules.allowed(item.url, self.robots.user_agent):
            return True
        detail = rules.disallow_all or f"disallowed for {self.robots.user_agent} by robots.txt"
        self._skip(item.url, ROBOTS, detail)
        self._first_error = self._first_error or f"{item.url}: {detail}"
        return False

    def _seed_from_sitemap(self, sitemap: str, urls: list[str]) -> None:
        async def admit() -> None:
            await self._admit(sitemap, urls, 1, cap=False)
            self._wakeup()

        self._spawn_aux(admit(), f"seed {sitemap}")

    async def _fetch_resource(self, url: str) -> crawler_pb2.CrawlResponse:
        """robots.txt or a sitemap: through the crawler (its network policy applies), with
        the host's politeness and the retries, but no page events."""
        request = crawler_pb2.CrawlRequest(url=url, job_id=self.job_id, allow_non_html=True)
        response = crawler_pb2.CrawlResponse()
        for attempt in range(1, self._max_attempts + 1):
            response = await self._request(host_key(url), request)
            if not response.error or not is_retryable(response) or attempt == self._max_attempts:
                break
            await asyncio.sleep(backoff_seconds(attempt, response.retry_after_seconds))
        return response

    # -- fetch ---------------------------------------------------------------

    async def _request(self, host: str, request: crawler_pb2.CrawlRequest,
                       on_start: Callable[[], None] | None = None) -> crawler_pb2.CrawlResponse:
        """One Crawl call within the host's politeness and the job's concurrency."""
        async with self.politeness.request(host) as ticket, self._crawl_slots:
            if on_start is not None:
                on_start()
            began = time.monotonic()
            if not (granted := self.budget.grant(host)):
                return self.budget.refusal(request.url, host)
            request.max_requests = granted  # every request and redirect hop counts (orchestrator/budget.py)
            try:
                response = await self._backends.crawl(request, self._call_metadata())
            except grpc.aio.AioRpcError as exc:
                response = rpc_failure(request.url, exc)  # the crawler's trouble, not the host's
                self.budget.settle(host, granted, response)
                return response
            self.budget.settle(host, granted, response)
            ticket.done(response, response.fetch_seconds or time.monotonic() - began)
        return response

    async def _fetch(self, item: Item) -> crawler_pb2.CrawlResponse | None:
        """The fetch, render and retry steps; None after a final failure (reported); a
        response refused as not HTML comes back as it is."""
        if self._render.render_directly(item.host):
            rendered = await self._render_page(item, announced=False, fetched=None)
            if rendered is not None or not self._render.guessing:
                return rendered
            # Auto mode guessed from other pages of the host; the browser could not do it:
            # fetch the page as it is (url_failed said will_retry).
        request = crawler_pb2.CrawlRequest(url=item.url, job_id=self.job_id)
        response = crawler_pb2.CrawlResponse()
        for attempt in range(1, self._max_attempts + 1):
            def started(attempt: int = attempt) -> None:
                self.emit("url_started", pb.UrlStarted(url=item.url, depth=item.depth, attempt=attempt))

            response = await self._request(item.host, request, started)
            if not response.error:
                if self._render.wants_check() and await check_shell(response.html) is not None:
                    page = await self._render_page(item, announced=True, fetched=response)
                    if page is not None and page is not response and self._render.confirms_shell(
                            response.html, page.html):
                        self._render.shell_seen(item.host)
                    return page
                return response
            if response.error == common_pb2.ERROR_CATEGORY_NOT_HTML:
                return response  # not a page: _visit skips it
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

    async def _render_page(self, item: Item, *, announced: bool,
                           fetched: crawler_pb2.CrawlResponse | None) -> crawler_pb2.CrawlResponse | None:
        """The page through the renderer, with the host's politeness, the request budget
        and the retries; None after a final failure (reported). ``announced``:
        url_started was already sent for this URL's fetch. In auto mode a page the
        browser could not render is not lost: ``fetched`` (the page as fetched) is
        returned, or None after a will_retry url_failed so that the caller fetches it."""
        page = crawler_pb2.CrawlResponse()
        for attempt in range(1, self._max_attempts + 1):
            async with self.politeness.request(item.host) as ticket, self._crawl_slots:
                if not announced or attempt > 1:
                    self.emit("url_started", pb.UrlStarted(url=item.url, depth=item.depth, attempt=attempt))
                began = time.monotonic()
                if granted := self.budget.grant(item.host):
                    page = await self._render_call(item, granted)
                    self.budget.settle(item.host, granted, page)
                    if page.requests_sent:  # the host answered (not the renderer's own trouble)
                        ticket.done(page, page.fetch_seconds or time.monotonic() - began)
                else:
                    page = self.budget.refusal(item.url, item.host)
            if not page.error:
                self._rendered.add(item.key)
                return page
            retry = is_retryable(page) and attempt < self._max_attempts
            delay = backoff_seconds(attempt, page.retry_after_seconds) if retry else 0.0
            if not retry and self._render.guessing:
                self.emit("url_failed", pb.UrlFailed(
                    url=item.url, error=page.error, attempt=attempt, will_retry=True,
                    message=f"{page.error_message}; keeping the page as fetched"))
                return fetched
            self.emit("url_failed", pb.UrlFailed(url=item.url, error=page.error, message=page.error_message,
                                                 attempt=attempt, will_retry=retry, retry_in_seconds=round(delay, 3)))
            if not retry:
                break
            self.retries += 1
            await asyncio.sleep(delay)
        self.failed += 1
        self._first_error = self._first_error or page.error_message
        return None

    async def _render_call(self, item: Item, granted: int) -> crawler_pb2.CrawlResponse:
        """One Render call; the renderer's own trouble comes back as a failed page."""
        # The document's requests count against the budget, as a crawl's do.
        request = renderer_pb2.RenderRequest(url=item.url, job_id=self.job_id, max_requests=granted)
        try:
            return (await self._backends.render(request, self._call_metadata())).page
        except RendererUnavailable as exc:
            self._render.renderer_unavailable()
            return crawler_pb2.CrawlResponse(url=item.url, error=common_pb2.ERROR_CATEGORY_INVALID,
                                             error_message=str(exc))
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.FAILED_PRECONDITION:  # no browser there: the message says which package
                self._render.renderer_unavailable()
                return crawler_pb2.CrawlResponse(url=item.url, error=common_pb2.ERROR_CATEGORY_INVALID,
                                                 error_message=exc.details() or "the renderer cannot render")
            page = rpc_failure(item.url, exc)
            page.error_message = page.error_message.replace("crawler", "renderer", 1)
            return page

    # -- after the fetch -----------------------------------------------------

    def _skip(self, url: str, reason: str, detail: str) -> None:
        self.skipped[reason] += 1
        self.emit("url_skipped", pb.UrlSkipped(url=url, reason=reason, detail=detail))

    async def _handle(self, item: Item, response: crawler_pb2.CrawlResponse) -> tuple[bool, str]:
        """After the fetch: (failed, reason left out) of the URL."""
        url = item.url
        rendered = item.key in self._rendered
        self._rendered.discard(item.key)
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
                return False, reason
            if not await self.frontier.mark_seen(final, response.final_url or url, source=url):
                self._skip(url, DUPLICATE, f"redirects to {final}, already in this job")
                return False, DUPLICATE
        if await self.dedup.same_html(response.html, final):
            self._skip(url, DUPLICATE, "identical content to a page already in this job")
            return False, DUPLICATE
        if detail := await self._canonical_duplicate(final, response):
            self._skip(url, DUPLICATE, detail)
            return False, DUPLICATE
        self.emit("url_crawled", pb.UrlCrawled(url=url, title=response.title, content_length=response.content_length,
                                               status=response.status, final_url=response.final_url,
                                               fetch_seconds=round(response.fetch_seconds, 4),
                                               rendered=rendered))
        if not response.nofollow:
            await self._admit(url, response.links, item.depth + 1)
        return await self._process(item, response.html), ""

    async def _canonical_duplicate(self, key: str, response: crawler_pb2.CrawlResponse) -> str:
        """The canonical step (rules in orchestrator/dedup.py); a reason when the page is a
        duplicate, else ""."""
        canonical = ""
        if response.canonical_url:
            try:
                canonical = normalize(response.canonical_url)
            except InvalidURL:
                canonical = ""
        text: bytes | None = None
        if canonical and canonical != key and self.scope.check(canonical) is None:
            if is_variant(key, canonical):
                if not await self.frontier.mark_seen(canonical, canonical, source=key):
                    return f"its canonical URL {canonical} is already in this job"
            else:
                text = await _text_hash(response)
                if await self.dedup.canonical_duplicate(key, canonical, text):
                    return f"its canonical URL {canonical} was kept with the same text"
        if response.canonical_url or await self.dedup.has_claims(key):
            if text is None:
                text = await _text_hash(response)
            if await self.dedup.claimed(key, text):
                return "a page kept earlier names this URL canonical and has the same text"
            self.dedup.keep(key, text)
        return ""

    # -- admission -----------------------------------------------------------

    def _reject(self, key: str, url: str, depth: int, reason: str, source: str,
                found: dict[str, Known] | None = None) -> None:
        """Counts a URL left out, once per URL (a URL linked from every page counts once)."""
        if (found is None or key not in found) and self.frontier.peek(key) is None:
            self.frontier.reject(key, url, depth, reason, source=source)
            self.skipped[reason] += 1

    async def _admit(self, source: str, links: Iterable[str], depth: int, *, cap: bool = True) -> None:
        """The admission steps for each link: normalise, dedup, non-page, scope, traps,
        depth; then the frontier."""
        links = list(links)
        extra: list[str] = []
        if cap and len(links) > self.traps.limits.max_links_per_page:
            extra = links[self.traps.limits.max_links_per_page:]
            links = links[:self.traps.limits.max_links_per_page]
        parsed: list[tuple[str, str, str]] = []  # (link, key, url); key "" when invalid
        for link in links:
            try:
                parsed.append((link, normalize(link), normalize(link, fold_index=False)))
            except InvalidURL:
                parsed.append((link, "", link))
        async with self.frontier.admission:
            # One look at the seen set for the whole page (memory first, the store for the rest).
            found = await self.frontier.lookup([key or link for link, key, _ in parsed] + extra)
            self._admit_found(source, parsed, extra, found, depth)

    def _admit_found(self, source: str, parsed: list[tuple[str, str, str]], extra: list[str],
                     found: dict[str, Known], depth: int) -> None:
        for link in extra:
            self._reject(link, link, depth, TRAP, source, found)
        new: list[str] = []
        for link, key, url in parsed:
            if not key:
                self._reject(link, link, depth, "invalid", source, found)
                continue
            # The snapshot first (this loop's own rows may evict it from the cache), then
            # memory for the keys this loop just took.
            known = found.get(key) or self.frontier.peek(key)
            if known is not None and known.taken:
                # Counted per link: each one is a URL form leading to a page already taken.
                self.skipped[DUPLICATE] += 1
                continue
            earlier = known.reason if known is not None else None
            if earlier is not None and not (earlier == "max_depth" and depth <= self.options.max_depth):
                continue
            if is_non_page(url):
                reason: str | None = "non_page"
            elif reason := self.scope.check(key):
                pass
            elif self.traps.check(key):
                reason = TRAP
            elif depth > self.options.max_depth:
                reason = "max_depth"
            if reason:
                self._reject(key, url, depth, reason, source)
                continue
            if earlier is not None:  # too deep before, reachable now
                self.skipped[earlier] -= 1
            self.frontier.push(key, url, depth, source=source)
            self.traps.admitted(key)
            new.append(url)
        if new:
            self.emit("urls_discovered", pb.UrlsDiscovered(source_url=source, discovered_urls=new, count=len(new),
                                                           total_discovered=self.frontier.seen_count))

    def _call_metadata(self) -> tuple[tuple[str, str], ...]:
        """Correlation ids for one backend call: the job, and a request id that the
        crawler's and processor's logs carry too."""
        self._calls += 1
        return ((JOB_ID_KEY, self.job_id), (REQUEST_ID_KEY, f"{self.job_id}.{self._calls}"))

    async def _process_call(self, request: processor_pb2.ProcessRequest) -> processor_pb2.ProcessResponse:
        """Process, called again when the processor went away mid-call (a replica draining
        past its grace, a restart) or had no worker free in time: the call is an idempotent
        upsert, and failing the page would lose it for the processor's trouble."""
        for attempt in range(1, PROCESS_ATTEMPTS + 1):
            try:
                return await self._backends.process(request, self._call_metadata())
            except grpc.aio.AioRpcError as exc:
                if exc.code() not in _PROCESSOR_GONE or attempt == PROCESS_ATTEMPTS:
                    raise
                await asyncio.sleep(backoff_seconds(attempt))
        raise AssertionError("unreachable")

    async def _process(self, item: Item, html: str) -> bool:
        """The processing step; True when it failed (reported)."""
        self._order += 1
        request = processor_pb2.ProcessRequest(job_id=self.job_id, url=item.url, html=html, order=self._order,
                                               depth=item.depth, omit_markdown=True)
        self.emit("sent_to_processing", pb.SentToProcessing(url=item.url))
        async with self._process_slots:
            try:
                result = await self._process_call(request)
            except grpc.aio.AioRpcError as exc:
                category = {grpc.StatusCode.RESOURCE_EXHAUSTED: common_pb2.ERROR_CATEGORY_TOO_LARGE,
                            grpc.StatusCode.DEADLINE_EXCEEDED: common_pb2.ERROR_CATEGORY_TOO_SLOW,
                            }.get(exc.code(), common_pb2.ERROR_CATEGORY_PROCESSING)
                message = f"processing failed: {exc.code().name} {exc.details() or ''}".strip()
                self.emit("url_failed", pb.UrlFailed(url=item.url, error=category, message=message, attempt=1))
                self.failed += 1
                self._first_error = self._first_error or message
                return True
        if result.skipped_reason:  # not a page after all (a source file, a binary): skipped, not failed
            self._skip(item.url, result.skipped_reason, "the body is not an HTML page")
            return False
        self.processed += 1
        self.word_count += result.word_count
        self.token_estimate += result.token_estimate
        self.emit("url_processed", pb.UrlProcessed(url=item.url, title=result.title, word_count=result.word_count,
                                                   token_estimate=result.token_estimate))
        return False


async def _text_hash(response: crawler_pb2.CrawlResponse) -> bytes:
    """The page's main-text hash: the crawler's, made from the tree it read the links
    from (a page naming a canonical URL; most sites' pages do), else parsed here in a
    thread (a rendered page, a page only others name canonical)."""
    if len(response.text_hash) == TEXT_HASH_BYTES:
        return response.text_hash
    return await asyncio.to_thread(text_hash, response.html)
