"""A job's stored pages and downloads over gRPC, without a bridge: the processor's
``ListPages`` (where v1 serves the page store) read in batches, and the bridge's own
download writers (bridge/downloads.py) run on them, so ``markdown``, ``llms.txt``,
``llms-full.txt``, ``archive.zip`` and ``pages`` are the same bytes from either server.

ListPages is a read: a batch cut by UNAVAILABLE (a processor restarting, a recycled
connection) is reopened after the last page it gave, never repeated, never skipped."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date

import grpc

from bridge.downloads import (PageSource, Writer, write_archive, write_combined, write_jsonl, write_llms,
                              write_llms_full)
from docspasta.client.errors import InvalidRequest
from docspasta.v1 import processor_pb2, processor_pb2_grpc

WRITERS: dict[str, Writer] = {"markdown": write_combined, "llms.txt": write_llms, "llms-full.txt": write_llms_full,
                              "archive.zip": write_archive, "pages": write_jsonl}
# A batch reopened this many times in a row without a new page fails for good.
MAX_BATCH_RETRIES = 5
RETRYABLE = (grpc.StatusCode.UNAVAILABLE,)


@dataclass(frozen=True)
class _Stub:
    """What PageSource asks for its processor (bridge/downloads.py ``Processors``)."""

    stub: processor_pb2_grpc.ProcessorAsyncStub

    def processor(self) -> processor_pb2_grpc.ProcessorAsyncStub:
        return self.stub


@dataclass(kw_only=True)
class RetryingPageSource(PageSource):
    """PageSource whose batches survive a dropped stream (see the module docstring)."""

    retries: list[int] = field(default_factory=list)  # one entry per reopened batch (tests read it)

    async def _batch(self, after: int, limit: int) -> AsyncIterator[processor_pb2.Page]:
        stub = self.clients.processor()
        given = 0
        last_order: int | None = None
        at_last: set[str] = set()  # urls given at order == last_order (an order may repeat)
        failures = 0
        while True:
            if last_order is None:
                request = processor_pb2.ListPagesRequest(job_id=self.job_id, after_order=after, limit=limit)
            else:  # from the last order again, skipping the pages of it already given
                left = limit - given + len(at_last) if limit else 0
                request = processor_pb2.ListPagesRequest(job_id=self.job_id, after_order=last_order - 1, limit=left)
            call = stub.ListPages(request, timeout=self.timeout)
            try:
                async for page in call:
                    if page.order == last_order and page.url in at_last:
                        continue
                    if page.order != last_order:
                        last_order, at_last = page.order, set()
                    at_last.add(page.url)
                    given += 1
                    failures = 0
                    yield page
                return
            except grpc.RpcError as exc:
                code = exc.code() if hasattr(exc, "code") else None
                if code not in RETRYABLE or failures >= MAX_BATCH_RETRIES:
                    raise
                failures += 1
                self.retries.append(given)
                await asyncio.sleep(min(0.1 * 2 ** failures, 2.0))
            finally:
                call.cancel()


class Buffer:
    """A download collected in memory (bridge/downloads.py ``Sink``)."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write_text(self, text: str) -> None:
        self.parts.append(text.encode("utf-8"))

    def write_bytes(self, data: bytes) -> None:
        self.parts.append(bytes(data))

    async def flush(self, force: bool = False) -> None:
        await asyncio.sleep(0)  # the writers flush once per page: let other tasks run

    def value(self) -> bytes:
        return b"".join(self.parts)


def page_source(channel: grpc.aio.Channel, job_id: str, *, call_timeout: float) -> RetryingPageSource:
    return RetryingPageSource(clients=_Stub(processor_pb2_grpc.ProcessorStub(channel)), job_id=job_id,
                              timeout=call_timeout)


async def download(source: PageSource, document: str, *, url: str, day: date | None = None) -> bytes:
    """One of the job's downloads, whole, as the bridge would send it today."""
    writer = WRITERS.get(document)
    if writer is None:
        raise InvalidRequest(code="invalid_argument", message=f"document: one of {', '.join(WRITERS)}",
                             field="document")
    buffer = Buffer()
    await writer(source, buffer, url, day or date.today())
    return buffer.value()
