"""The processor service and the site template (service.py, template.py): pages converted
while a job's template was learned are converted again once it is ready - only those
the template can change - and stored again when it removed blocks, before the answer to
the Process call that made the template ready."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import AsyncIterator
from dataclasses import replace

import grpc
import pytest

from docspasta.rpc import insecure_channel
from docspasta.v1 import processor_pb2, processor_pb2_grpc
from processor.pool import ConversionPool
from processor.server import create_server
from processor.settings import ProcessorSettings
from tests.convert.test_template import TOPICS, themed

pytestmark = pytest.mark.timeout(240)


@contextlib.asynccontextmanager
async def serve(**changes: object) -> AsyncIterator[tuple[processor_pb2_grpc.ProcessorAsyncStub, ConversionPool]]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = replace(ProcessorSettings(), bind="127.0.0.1:0", database_url=f"sqlite:///{tmp}/p.db",
                           **changes)  # type: ignore[arg-type]
        pool = await ConversionPool(workers=1, limits=settings.limits).start()
        host, port = await create_server(settings, pool=pool)
        channel = insecure_channel(f"127.0.0.1:{port}")
        try:
            yield processor_pb2_grpc.ProcessorStub(channel), pool
        finally:
            await channel.close(None)
            await host.stop(grace=0.5)
            await pool.close()


@pytest.fixture
async def processor() -> AsyncIterator[tuple[processor_pb2_grpc.ProcessorAsyncStub, ConversionPool]]:
    async with serve() as served:
        yield served


def plain(topic: str) -> str:
    """A page of a site whose pages share no block: its template is empty."""
    return (f"<html><head><title>{topic}</title></head><body><main><h1>About {topic}</h1>"
            f"<p>How to {topic} the cluster, explained for the {topic} step.</p></main></body></html>")


async def pages(stub: processor_pb2_grpc.ProcessorAsyncStub, job: str) -> dict[str, str]:
    out = {}
    async for page in stub.ListPages(processor_pb2.ListPagesRequest(job_id=job), timeout=60):
        out[page.url] = page.markdown
    return out


async def send(stub: processor_pb2_grpc.ProcessorAsyncStub, job: str, page: object,
               topics: slice = slice(None)) -> list[str]:
    urls = []
    for i, topic in list(enumerate(TOPICS))[topics]:
        url = f"http://proj.test/{topic}.html"
        urls.append(url)
        await stub.Process(processor_pb2.ProcessRequest(job_id=job, url=url, html=page(topic, i + 1),  # type: ignore[operator]
                                                        order=i + 1, omit_markdown=True), timeout=120)
    return urls


async def test_pages_held_while_learning_are_converted_again_only_when_the_template_changes_them(
        processor: tuple[processor_pb2_grpc.ProcessorAsyncStub, ConversionPool]) -> None:
    stub, pool = processor
    urls = await send(stub, "themed", themed, slice(0, 8))
    # The 8th page made the template ready: it and the 7 held before it convert again,
    # and its Process call returns only once they are stored without the theme (the
    # caller ends a job when its last call returns: its pages must not change after).
    # Read at once: a re-conversion left running after the answer has not stored them yet.
    stored = await pages(stub, "themed")
    assert sorted(stored) == sorted(urls) and pool.converted == 16, {u: md[:80] for u, md in stored.items()}
    assert all(md.startswith("# How to ") and "Proj 4.2 documentation" not in md and "Last update" not in md
               for md in stored.values()), {u: md[:80] for u, md in stored.items()}
    urls += await send(stub, "themed", themed, slice(8, None))
    stored = await pages(stub, "themed")
    assert sorted(stored) == sorted(urls) and all(
        stored[u].startswith("# How to ") and "Last update" not in stored[u] for u in urls)
    assert pool.converted == 18  # 10 pages, 8 of them again
    # A site whose template cannot change its first pages: nothing is converted twice.
    before = pool.converted
    urls = await send(stub, "plain", lambda topic, day: plain(topic))
    stored = await pages(stub, "plain")
    assert sorted(stored) == sorted(urls) and all(stored[u].startswith("# About ") for u in urls)
    # (a re-conversion would run before the 8th page's answer: the 10th answer counts it)
    assert pool.converted - before == 10


async def test_pages_that_waited_for_a_worker_while_the_template_was_learned_convert_once(
        processor: tuple[processor_pb2_grpc.ProcessorAsyncStub, ConversionPool]) -> None:
    # Ten pages at once, one worker: the first eight convert while the template is
    # learned (the 8th makes it ready, it and the seven held convert again); the last two
    # waited for the worker meanwhile and take the template as it is once the worker is
    # free - converted once, 18 in all (taken when they arrived, it would be 20).
    stub, pool = processor
    urls = [f"http://proj.test/{topic}.html" for topic in TOPICS]
    await asyncio.gather(*(stub.Process(processor_pb2.ProcessRequest(
        job_id="queued", url=url, html=themed(topic, i + 1), order=i + 1, omit_markdown=True), timeout=120)
        for i, (topic, url) in enumerate(zip(TOPICS, urls, strict=True))))
    stored = await pages(stub, "queued")
    assert sorted(stored) == sorted(urls) and all(
        md.startswith("# How to ") and "Proj 4.2 documentation" not in md and "Last update" not in md
        for md in stored.values()), {u: md[:80] for u, md in stored.items()}
    assert pool.converted == 18


@pytest.mark.parametrize("long_day", [2, 8])
async def test_a_page_refused_while_the_template_was_learned_is_not_stored_by_its_reconversion(
        long_day: int) -> None:
    # One page's Markdown is over the limit (with or without the theme): refused, the job
    # counts it failed, so it must not turn up among the job's pages once the 8th page
    # makes the template ready and the held pages convert again - and when that 8th page
    # is the refused one, the held pages are converted again all the same.
    def page(topic: str, day: int) -> str:
        long = f"<p>{'A long paragraph about the step. ' * 200}</p>" if day == long_day else ""
        return themed(topic, day).replace("</h1>\n<p>", f"</h1>\n{long}<p>", 1)

    async with serve(max_markdown_bytes=4000) as (stub, _):
        refused = []
        for i, topic in enumerate(TOPICS[:8]):
            try:
                await stub.Process(processor_pb2.ProcessRequest(
                    job_id="big", url=f"http://proj.test/{topic}.html", html=page(topic, i + 1), order=i + 1,
                    omit_markdown=True), timeout=120)
            except grpc.aio.AioRpcError as exc:
                assert exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
                refused.append(topic)
        stored = await pages(stub, "big")
    kept = [f"http://proj.test/{t}.html" for t in TOPICS[:8] if t != TOPICS[long_day - 1]]
    assert refused == [TOPICS[long_day - 1]] and sorted(stored) == sorted(kept)
    assert all("Proj 4.2 documentation" not in md and "Last update" not in md for md in stored.values())
