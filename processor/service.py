"""The Processor gRPC servicer: validate, convert in a worker process (within the
page's budget and the caller's deadline), store.

A page over its budget fails that call with a status the orchestrator reports as the
page's error category: RESOURCE_EXHAUSTED -> too_large, DEADLINE_EXCEEDED -> too_slow.
A saturated processor (no worker free before the deadline) answers ABORTED: try again.

Only HTML becomes a page: a body that does not sniff as HTML (processor.convert's
`looks_like_html`: a reST/Markdown source, JSON, a binary inventory) is answered with
`skipped_reason` and nothing is stored. Each job's site template (convert/template.py)
is learned here, in this process, from the keys every conversion returns, and handed
to the workers with each page; the pages converted before it was ready are converted
again once it is, by the Process call that made it ready, before that call returns (so
once every Process call of a job has returned, its stored pages no longer change)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import AsyncIterator

import grpc

from docspasta import errors, logs, metrics
from docspasta.call_streams import StreamServer
from docspasta.ids import JOB_ID_RULE, valid_job_id
from docspasta.v1 import processor_pb2, processor_pb2_grpc
from processor.convert import Converted, looks_like_html
from processor.convert.template import Held, SiteTemplate, TemplateRegistry, changes
from processor.limits import PageTooLarge, PageTooSlow, ProcessorBusy
from processor.memory import release_free_memory
from processor.pool import ConversionPool
from processor.settings import ProcessorSettings
from processor.store import PageStore, StoredPage

log = logging.getLogger(__name__)

# Seconds before the caller's deadline at which a conversion is abandoned, so the
# refusal reaches the caller before its own deadline does.
_ANSWER_MARGIN = 0.25
# Pages above this size are converted at most one per worker at a time.
_LARGE_PAGE_BYTES = 1024 * 1024
# ProcessResponse.skipped_reason for a body that is not an HTML page.
SKIPPED_NOT_HTML = "not_html"


class ProcessorService(processor_pb2_grpc.ProcessorServicer):
    def __init__(self, *, settings: ProcessorSettings, store: PageStore, pool: ConversionPool) -> None:
        self._settings = settings
        self._store = store
        self._pool = pool
        self._large_pages = asyncio.Semaphore(pool.workers)
        self._templates = TemplateRegistry()
        self.streams: StreamServer[processor_pb2.ProcessStreamRequest, processor_pb2.ProcessStreamResponse] = \
            StreamServer(self.Process, answer=processor_pb2.ProcessStreamResponse, service="processor",
                         method="Process")

    async def Process(self, request: processor_pb2.ProcessRequest,
                      context: grpc.aio.ServicerContext[processor_pb2.ProcessRequest, processor_pb2.ProcessResponse],
                      ) -> processor_pb2.ProcessResponse:
        if not valid_job_id(request.job_id):
            await errors.abort_invalid_message(context, JOB_ID_RULE)
        if not request.url.startswith(("http://", "https://")):
            await errors.abort_invalid(context, "url", "must be an absolute http(s) URL")
        if len(request.url) > 8192:
            await errors.abort_invalid(context, "url", "longer than 8192 characters")
        if request.order < 0:
            await errors.abort_invalid(context, "order", "must not be negative")
        if request.depth < 0:
            await errors.abort_invalid(context, "depth", "must not be negative")
        # Each read of a string field decodes the message's bytes anew (6 ms for a 900 KB
        # page that is not ASCII): read once, for the checks and the conversion.
        html = request.html
        if len(html) > self._settings.max_html_bytes:
            await errors.abort_invalid(context, "html", f"larger than {self._settings.max_html_bytes} bytes")
        logs.job_id_var.set(request.job_id)
        logs.url_var.set(request.url)
        if not looks_like_html(html):
            return processor_pb2.ProcessResponse(url=request.url, skipped_reason=SKIPPED_NOT_HTML)
        template = self._templates.get(request.job_id)
        # The keys this page converts with, taken when a worker is free (see below).
        keys: frozenset[int] | None = None

        def template_now() -> frozenset[int] | None:
            nonlocal keys
            keys = template.template()
            return keys

        started = time.perf_counter()
        # Conversion is CPU-bound: it runs in worker processes, never on this loop, and
        # stops when the caller's deadline passes (less a margin for the answer to arrive).
        remaining = context.time_remaining()
        timeout = None if remaining is None else max(0.0, remaining - _ANSWER_MARGIN)
        deadline = None if timeout is None else asyncio.get_running_loop().time() + timeout
        loop = asyncio.get_running_loop()
        large = request.ByteSize() > _LARGE_PAGE_BYTES
        if large:
            # A large page waits for its turn as the request message alone; its text
            # (and the copy sent to the worker) exist only while a worker converts it.
            html = ""
            try:
                async with asyncio.timeout_at(deadline):
                    await self._large_pages.acquire()
            except TimeoutError:
                await context.abort(grpc.StatusCode.ABORTED, "the processor is saturated: the deadline passed "
                                    "while the page waited for a worker; try again")
        became_ready = False
        to_hold: str | None = None  # held once its Markdown passed the size check below
        try:
            left = None if deadline is None else max(0.0, deadline - loop.time())
            if large:
                html = request.html
            # The template as it is once a worker takes the page: a page that queued while
            # the template was learned, and found it ready, is not converted twice.
            result: Converted = await self._pool.convert(html, request.url, timeout=left, template=template_now)
            became_ready = template.add(result.template_keys)
            # A page converted without the template converts again once it is ready, unless
            # the template cannot change it (none of the keys its strip asked about is in it).
            if keys is None:
                if template.ready:  # the template became ready while this page converted
                    now = template.template()
                    if changes(result.template_probe, None, now):
                        left = None if deadline is None else max(0.0, deadline - loop.time())
                        result = await self._pool.convert(html, request.url, timeout=left, template=now)
                elif not large and result.template_probe:
                    to_hold = html
            del html
        except PageTooLarge as exc:
            log.info("page refused", extra={"category": "too_large", "reason": str(exc)})
            await errors.abort(context, grpc.StatusCode.RESOURCE_EXHAUSTED, f"too large to convert: {exc}",
                               reason=errors.PAGE_TOO_LARGE, retryable=False)
        except PageTooSlow as exc:
            log.info("page refused", extra={"category": "too_slow", "reason": str(exc)})
            await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, f"too slow to convert: {exc}")
        except ProcessorBusy as exc:
            # Not the page's fault: ABORTED, which the orchestrator calls again (with a fresh
            # deadline); UNAVAILABLE would be retried by the channel within this expiring one.
            log.info("page deferred", extra={"reason": str(exc)})
            await context.abort(grpc.StatusCode.ABORTED, f"the processor is saturated: {exc}; try again")
        finally:
            if large:
                self._large_pages.release()
                release_free_memory()
        encoded = result.markdown.encode("utf-8")  # for its size and its hash
        markdown_bytes = len(encoded)
        if markdown_bytes > self._settings.max_markdown_bytes:
            # Stored pages are read back one per message (ListPages): a page over this
            # limit would not reach a client that keeps gRPC's 4 MiB default.
            log.info("page refused", extra={"category": "too_large", "reason": "markdown"})
            if became_ready:  # the held pages are converted again all the same
                await self._reconvert(request.job_id, template, deadline=deadline)
            await errors.abort(
                context, grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"too large to convert: its Markdown is {markdown_bytes} bytes, more than "
                f"PROCESSOR_MAX_MARKDOWN_BYTES={self._settings.max_markdown_bytes}",
                reason=errors.PAGE_TOO_LARGE, retryable=False,
                metadata={"markdown_bytes": str(markdown_bytes),
                          "limit_bytes": str(self._settings.max_markdown_bytes)})
        if to_hold is not None:
            # Not before the size check: a refused page is never stored, nor held to be
            # stored by its re-conversion. (No await since the template.ready test above,
            # so the template cannot have become ready meanwhile.)
            template.hold((request.order, request.depth, request.url), to_hold, result.template_probe)
            del to_hold
        content_hash = await self._put(request.job_id, request.url, request.order, request.depth, result, encoded)
        del encoded
        if became_ready:
            # Awaited, not left to a background task: the caller finishes a job when its
            # last Process call returns, and a finished job's pages must read the same on
            # every read (a re-conversion stored after that replaced pages under readers
            # that had already listed them). Within this call's deadline: a held page
            # that does not fit stays stored as first converted.
            await self._reconvert(request.job_id, template, deadline=deadline)
        metrics.PROCESS_SECONDS.observe(time.perf_counter() - started)
        metrics.PAGES_PROCESSED.inc()
        return processor_pb2.ProcessResponse(
            url=request.url, title=result.title, markdown="" if request.omit_markdown else result.markdown,
            word_count=result.word_count, token_estimate=result.token_estimate, description=result.description,
            content_hash=content_hash)

    async def _put(self, job_id: str, url: str, order: int, depth: int, result: Converted,
                   encoded: bytes | None = None) -> str:
        """Store the page; `encoded` is its Markdown as UTF-8 when the caller has it."""
        content_hash = hashlib.sha256(result.markdown.encode("utf-8") if encoded is None else encoded).hexdigest()
        await self._store.put(StoredPage(
            job_id=job_id, url=url, order=order, depth=depth,
            title=result.title, markdown=result.markdown, word_count=result.word_count,
            token_estimate=result.token_estimate, description=result.description, content_hash=content_hash))
        return content_hash

    async def _reconvert(self, job_id: str, template: SiteTemplate, *, deadline: float | None) -> None:
        """The pages converted while the job's template was learned, converted again with
        it (side by side, on as many workers as are free) and stored again, all before
        this returns; a page whose conversion fails or does not end by `deadline` (loop
        time) stays stored as first converted."""
        keys = template.template()
        loop = asyncio.get_running_loop()

        async def again(held: Held) -> None:
            order, depth, url = held.key
            left = None if deadline is None else max(0.0, deadline - loop.time())
            try:
                result = await self._pool.convert(held.html, url, timeout=left, template=keys)
            except (PageTooLarge, PageTooSlow, ProcessorBusy, RuntimeError) as exc:
                log.info("page not re-converted with the site template", extra={"reason": str(exc)})
                return
            if result.template_removed:
                await self._put(job_id, url, order, depth, result)

        # Only the pages the template can change (the others are as stored).
        await asyncio.gather(*(again(held) for held in template.take_held() if changes(held.probe, None, keys)))

    async def ProcessStream(self, request_iterator: AsyncIterator[processor_pb2.ProcessStreamRequest],
                            context: grpc.aio.ServicerContext[processor_pb2.ProcessStreamRequest,
                                                              processor_pb2.ProcessStreamResponse],
                            ) -> AsyncIterator[processor_pb2.ProcessStreamResponse]:
        """Process calls on one stream (docspasta/call_streams.py), each run by Process."""
        async for answer in self.streams.serve(request_iterator, context):
            yield answer

    async def ListPages(self, request: processor_pb2.ListPagesRequest,
                        context: grpc.aio.ServicerContext[processor_pb2.ListPagesRequest, processor_pb2.Page],
                        ) -> AsyncIterator[processor_pb2.Page]:
        if not valid_job_id(request.job_id):
            await errors.abort_invalid_message(context, JOB_ID_RULE)
        if request.after_order < 0:
            await errors.abort_invalid(context, "after_order", "must not be negative")
        if request.limit < 0:
            await errors.abort_invalid(context, "limit", "must not be negative")
        async for page in self._store.pages(request.job_id, after_order=request.after_order, limit=request.limit):
            yield processor_pb2.Page(
                job_id=page.job_id, url=page.url, title=page.title, markdown=page.markdown,
                word_count=page.word_count, token_estimate=page.token_estimate, description=page.description,
                order=page.order, depth=page.depth)
