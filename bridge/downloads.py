"""Job downloads streamed from the processor's ListPages with bounded memory, whatever
the job's size: the bridge holds one page's Markdown at a time (plus the small index
a document's contents need), never the whole document.

- ``pages`` (JSON lines) and ``archive.zip`` (one ``.md`` per page) are one pass in
  crawl order; the zip is written to the response as it grows (stdlib ``zipfile`` on a
  non-seekable stream writes data descriptors), only its central directory is kept.
- ``llms.txt`` needs only the index; ``llms-full.txt`` is the index (for its head),
  then a second pass in crawl order.
- ``markdown``, the combined document, is the index (its contents and the fragments
  its links name), the anchors of the pages such links point to (only those
  fragments), then the sections in the contents' order (``bundle.document_order``),
  which differs from crawl order: the pages are asked for in runs of ascending crawl
  positions (``ListPages`` from an ``order``, with a ``limit``).

ListPages is called in batches with a deadline each, so a long download of a big job
never runs into one call's deadline. Pages stored after the index was read (the job is
still running) are left out of that download, as the contents promise."""

from __future__ import annotations

import asyncio
import io
import zipfile
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import PurePosixPath
from typing import Protocol, TypeVar

from aiohttp import web

from docspasta import bundle
from docspasta.llmstxt import llms_full_head, llms_full_section, llms_txt
from docspasta.mirror import mirror_files
from docspasta.v1 import processor_pb2, processor_pb2_grpc

PAGE_BATCH = 256
# Responses are written in pieces of about this size (one write per page otherwise).
FLUSH_BYTES = 64 * 1024
# Pages fetched ahead of the writer in the second pass (bounded: this many at most).
PREFETCH_PAGES = 32
# Pages with more Markdown than this are rendered in a thread, off the event loop.
OFFLOAD_CHARS = 256 * 1024

T = TypeVar("T")


def page_doc(p: processor_pb2.Page) -> bundle.PageDoc:
    return bundle.PageDoc(url=p.url, title=p.title, markdown=p.markdown, word_count=p.word_count,
                          token_estimate=p.token_estimate, description=p.description, depth=p.depth)


async def render(size: int, fn: Callable[..., T], *args: object) -> T:
    """``fn(*args)``: inline for a normal page, in a thread for a huge one."""
    if size > OFFLOAD_CHARS:
        return await asyncio.to_thread(fn, *args)
    return fn(*args)


class Processors(Protocol):
    """Where a PageSource gets its processor stub: the bridge's Clients, or the gRPC
    transport of docspasta.client (the same downloads without a bridge)."""

    def processor(self) -> processor_pb2_grpc.ProcessorAsyncStub: ...


class Sink(Protocol):
    """What a writer writes to: a response Body, or a client's in-memory buffer."""

    def write_text(self, text: str) -> None: ...

    def write_bytes(self, data: bytes) -> None: ...

    async def flush(self, force: bool = False) -> None: ...


@dataclass(kw_only=True)
class PageSource:
    """A job's stored pages from the processor."""

    clients: Processors
    job_id: str
    timeout: float
    keep: Callable[[processor_pb2.Page], bool] = lambda page: True

    async def _batch(self, after: int, limit: int) -> AsyncIterator[processor_pb2.Page]:
        call = self.clients.processor().ListPages(
            processor_pb2.ListPagesRequest(job_id=self.job_id, after_order=after, limit=limit), timeout=self.timeout)
        async for page in call:
            yield page

    async def _scan(self, first: int = 1, last: tuple[int, str] | None = None,
                    ) -> AsyncIterator[processor_pb2.Page]:
        """Stored pages from order ``first`` on, up to the (order, url) key ``last``, in
        (order, url) sequence, a batch per call. An order may repeat (a page stored again
        after a takeover), so a batch ending inside one order resumes at that order,
        skipping the pages it already gave."""
        after = first - 1
        given: set[str] = set()  # urls already yielded at order == after
        while True:
            limit = PAGE_BATCH + len(given)
            if last is not None:  # no more than the range can hold (orders repeat rarely)
                limit = min(limit, last[0] - after + 1 + len(given))
            count = 0
            async for page in self._batch(max(0, after - 1) if given else after, limit):
                count += 1
                if page.order == after and page.url in given:
                    continue
                if last is not None and (page.order, page.url) > last:
                    return
                if page.order != after:
                    after, given = page.order, set()
                given.add(page.url)
                yield page
            if count < limit:
                return

    async def crawl_order(self) -> AsyncIterator[processor_pb2.Page]:
        """Every kept page, in crawl order."""
        async for page in self._scan():
            if self.keep(page):
                yield page

    async def in_order(self, keys: Sequence[tuple[int, str]]) -> AsyncIterator[processor_pb2.Page]:
        """The pages with these (order, url) keys, in the sequence given: a scan per run
        of ascending keys, fetched a little ahead of the caller (PREFETCH_PAGES)."""
        queue: asyncio.Queue[processor_pb2.Page | BaseException | None] = asyncio.Queue(PREFETCH_PAGES)

        async def produce() -> None:
            try:
                for run in _runs(keys):
                    wanted = set(run)
                    async for page in self._scan(run[0][0], run[-1]):
                        if (page.order, page.url) in wanted:
                            await queue.put(page)
                await queue.put(None)
            except BaseException as exc:  # noqa: BLE001 - handed to the consumer
                await queue.put(exc)
                raise

        task = asyncio.create_task(produce())
        try:
            while (item := await queue.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def index(self, *, links: bool = False) -> tuple[list[bundle.PageDoc], list[tuple[int, str]]]:
        """Every kept page without its Markdown (with the fragments its links name, for
        the combined document), and each one's (order, url) key."""
        entries: list[bundle.PageDoc] = []
        keys: list[tuple[int, str]] = []
        async for page in self.crawl_order():
            doc = replace(page_doc(page), markdown="")
            if links:
                found = await render(len(page.markdown), _fragment_links, page.markdown)
                doc = replace(doc, fragment_links=found)
            entries.append(doc)
            keys.append((page.order, page.url))
        return entries, keys


def _fragment_links(markdown: str) -> frozenset[tuple[str, str]]:
    return frozenset(bundle.linked_fragments(markdown))


def _linked_anchors(markdown: str, linked: set[str]) -> frozenset[str]:
    return bundle.page_anchors(markdown) & linked


def _runs(keys: Sequence[tuple[int, str]]) -> list[list[tuple[int, str]]]:
    """Orders ``[5, 6, 7, 2, 9]`` -> ``[[5, 6, 7], [2], [9]]``: ascending stretches."""
    runs: list[list[tuple[int, str]]] = []
    for key in keys:
        if runs and key > runs[-1][-1]:
            runs[-1].append(key)
        else:
            runs.append([key])
    return runs


@dataclass
class Body:
    """Text or bytes collected and written to the response in FLUSH_BYTES pieces. The
    response is prepared (its headers sent) with the first piece, so a failure before
    any byte can still be answered with a proper error."""

    request: web.Request
    resp: web.StreamResponse
    parts: list[bytes] = field(default_factory=list)
    size: int = 0

    def write_text(self, text: str) -> None:
        self.write_bytes(text.encode("utf-8"))

    def write_bytes(self, data: bytes) -> None:
        if data:
            self.parts.append(data)
            self.size += len(data)

    async def flush(self, force: bool = False) -> None:
        if self.size >= FLUSH_BYTES or (force and self.size):
            data, self.parts, self.size = b"".join(self.parts), [], 0
            if not self.resp.prepared:
                await self.resp.prepare(self.request)
            await self.resp.write(data)

    async def finish(self) -> web.StreamResponse:
        await self.flush(force=True)
        if not self.resp.prepared:
            await self.resp.prepare(self.request)
        await self.resp.write_eof()
        return self.resp


class _ZipSink(io.RawIOBase):
    """What zipfile writes to: no tell/seek (so it streams with data descriptors), the
    bytes go to a Body."""

    def __init__(self, body: Sink) -> None:
        super().__init__()
        self.body = body

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.body.write_bytes(bytes(data))
        return len(data)


Writer = Callable[[PageSource, Sink, str, date], Awaitable[None]]


async def write_combined(source: PageSource, body: Sink, url: str, day: date) -> None:
    # Pass 1: the index and the fragments links name. Pass 2 (only pages some link
    # names a fragment of): those pages' anchors, kept only where a link points, so the
    # index stays small however many headings the pages have. Then the document.
    index, keys = await source.index(links=True)
    position_of = {key: position for position, key in enumerate(keys)}
    by_key = bundle.Bundle(index, source_url=url).by_key
    linked: dict[int, set[str]] = {}
    for entry in index:
        for key, fragment in entry.fragment_links:
            if (target := by_key.get(key)) is not None:
                linked.setdefault(target, set()).add(fragment)
    del by_key
    async for page in source.in_order([keys[target] for target in sorted(linked)]):
        target = position_of[(page.order, page.url)]
        anchors = await render(len(page.markdown), _linked_anchors, page.markdown, linked[target])
        index[target] = replace(index[target], anchors=anchors)
    del linked
    text = io.StringIO()
    writer = bundle.CombinedWriter(text, index, source_url=url, day=day)
    sequence = [keys[position] for position in bundle.document_order(index, source_url=url)]
    async for page in source.in_order(sequence):
        body.write_text(_take(text))
        doc = replace(index[position_of[(page.order, page.url)]], markdown=page.markdown)
        await render(len(page.markdown), writer.add, doc)
        await body.flush()
    body.write_text(_take(text))


def _take(text: io.StringIO) -> str:
    """What was written to ``text`` since the last take."""
    value = text.getvalue()
    text.seek(0)
    text.truncate()
    return value


async def write_llms(source: PageSource, body: Sink, url: str, day: date) -> None:
    index, _ = await source.index()
    body.write_text(llms_txt(index, source_url=url))


async def write_llms_full(source: PageSource, body: Sink, url: str, day: date) -> None:
    index, keys = await source.index()
    body.write_text(llms_full_head(index, source_url=url))
    known = set(keys)
    del index
    async for page in source.crawl_order():
        if (page.order, page.url) in known:
            body.write_text(await render(len(page.markdown), llms_full_section, page_doc(page)))
            await body.flush()


async def write_archive(source: PageSource, body: Sink, url: str, day: date) -> None:
    used: set[PurePosixPath] = set()
    with zipfile.ZipFile(_ZipSink(body), "w", compression=zipfile.ZIP_DEFLATED) as archive:
        async for page in source.crawl_order():
            for rel, text in mirror_files([page_doc(page)], source_url=url, used=used):
                await render(len(text), archive.writestr, str(rel), text)
            await body.flush()
    # Closing wrote the central directory into the body; the caller flushes it.


async def write_jsonl(source: PageSource, body: Sink, url: str, day: date) -> None:
    async for page in source.crawl_order():
        body.write_text(bundle.jsonl_line(page_doc(page)))
        await body.flush()
