"""The processor service and the site template (service.py, template.py): pages converted
while a job's template was learned are converted again once it is ready - only those
the template can change - and stored again when it removed blocks."""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from docspasta.rpc import insecure_channel
from docspasta.v1 import processor_pb2, processor_pb2_grpc
from processor.pool import ConversionPool
from processor.server import create_server
from processor.settings import ProcessorSettings
from tests.convert.test_template import TOPICS, themed

pytestmark = pytest.mark.timeout(240)


@pytest.fixture
async def processor() -> AsyncIterator[tuple[processor_pb2_grpc.ProcessorAsyncStub, ConversionPool]]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = replace(ProcessorSettings(), bind="127.0.0.1:0", database_url=f"sqlite:///{tmp}/p.db")
        pool = await ConversionPool(workers=1, limits=settings.limits).start()
        host, port = await create_server(settings, pool=pool)
        channel = insecure_channel(f"127.0.0.1:{port}")
        try:
            yield processor_pb2_grpc.ProcessorStub(channel), pool
        finally:
            await channel.close(None)
            await host.stop(grace=0.5)
            await pool.close()


def plain(topic: str) -> str:
    """A page of a site whose pages share no block: its template is empty."""
    return (f"<html><head><title>{topic}</title></head><body><main><h1>About {topic}</h1>"
            f"<p>How to {topic} the cluster, explained for the {topic} step.</p></main></body></html>")


async def pages(stub: processor_pb2_grpc.ProcessorAsyncStub, job: str) -> dict[str, str]:
    out = {}
    async for page in stub.ListPages(processor_pb2.ListPagesRequest(job_id=job), timeout=60):
        out[page.url] = page.markdown
    return out


async def send(stub: processor_pb2_grpc.ProcessorAsyncStub, job: str, page: object) -> list[str]:
    urls = []
    for i, topic in enumerate(TOPICS):
        url = f"http://proj.test/{topic}.html"
        urls.append(url)
        await stub.Process(processor_pb2.ProcessRequest(job_id=job, url=url, html=page(topic, i + 1),  # type: ignore[operator]
                                                        order=i + 1, omit_markdown=True), timeout=120)
    return urls


async def test_pages_held_while_learning_are_converted_again_only_when_the_template_changes_them(
        processor: tuple[processor_pb2_grpc.ProcessorAsyncStub, ConversionPool]) -> None:
    stub, pool = processor
    urls = await send(stub, "themed", themed)
    # The 8th page made the template ready: it and the 7 held before it convert again,
    # in the background for the held ones; they are stored without the theme.
    deadline = time.monotonic() + 120
    while True:
        stored = await pages(stub, "themed")
        if all("Proj 4.2 documentation" not in stored.get(u, "Proj 4.2 documentation") for u in urls):
            break
        assert time.monotonic() < deadline, {u: md[:80] for u, md in stored.items()}
        await asyncio.sleep(0.2)
    assert all(stored[u].startswith("# How to ") and "Last update" not in stored[u] for u in urls)
    while pool.converted < 18 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert pool.converted == 18  # 10 pages, 8 of them again
    # A site whose template cannot change its first pages: nothing is converted twice.
    before = pool.converted
    urls = await send(stub, "plain", lambda topic, day: plain(topic))
    stored = await pages(stub, "plain")
    assert sorted(stored) == sorted(urls) and all(stored[u].startswith("# About ") for u in urls)
    # (a re-conversion would start when the 8th page's answer is sent, on the pool's one
    # worker, before the 9th page's conversion: it would be counted by the 10th answer)
    assert pool.converted - before == 10
