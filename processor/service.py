"""The Processor gRPC servicer: validate, convert in a worker process, store."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import AsyncIterator
from concurrent.futures import Executor

import grpc

from docspasta import errors, logs, metrics
from docspasta.ids import JOB_ID_RULE, valid_job_id
from docspasta.v1 import processor_pb2, processor_pb2_grpc
from processor.convert import Converted, convert
from processor.settings import ProcessorSettings
from processor.store import PageStore, StoredPage

log = logging.getLogger(__name__)


class ProcessorService(processor_pb2_grpc.ProcessorServicer):
    def __init__(self, *, settings: ProcessorSettings, store: PageStore, executor: Executor) -> None:
        self._settings = settings
        self._store = store
        self._executor = executor

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
        if len(request.html) > self._settings.max_html_bytes:
            await errors.abort_invalid(context, "html", f"larger than {self._settings.max_html_bytes} bytes")
        logs.job_id_var.set(request.job_id)
        logs.url_var.set(request.url)
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        # Conversion is CPU-bound: it runs in worker processes, never on this loop.
        result: Converted = await loop.run_in_executor(self._executor, convert, request.html, request.url)
        content_hash = hashlib.sha256(result.markdown.encode("utf-8")).hexdigest()
        await self._store.put(StoredPage(
            job_id=request.job_id, url=request.url, order=request.order, depth=request.depth,
            title=result.title, markdown=result.markdown, word_count=result.word_count,
            token_estimate=result.token_estimate, description=result.description, content_hash=content_hash))
        metrics.PROCESS_SECONDS.observe(time.perf_counter() - started)
        metrics.PAGES_PROCESSED.inc()
        return processor_pb2.ProcessResponse(
            url=request.url, title=result.title, markdown="" if request.omit_markdown else result.markdown,
            word_count=result.word_count, token_estimate=result.token_estimate, description=result.description,
            content_hash=content_hash)

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
