"""Streamed downloads (bridge/downloads.py) give byte for byte what the in-memory
renderers give for the same pages: the combined document in the contents' order (not
crawl order), llms.txt, llms-full.txt, the zip and JSON lines; across ListPages batches,
with an order that repeats, and with a selection."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import aiohttp
import pytest
import redis.asyncio as aioredis

from bridge import downloads
from bridge.auth import token_hash
from bridge.buffer import EventBuffer
from docspasta import bundle
from docspasta.llmstxt import llms_full_txt, llms_txt
from docspasta.mirror import mirror_files
from processor.server import create_server as create_processor
from processor.settings import ProcessorSettings
from processor.store import open_store
from tests.bridge.conftest import BridgeFactory
from tests.bridge.pagegen import fill_sqlite, page

TOKEN = "test-token-for-download-tests"
JOB = "gen-0123456789abcdef"
SOURCE = "https://docs.example.com"
PAGES = 40


@pytest.fixture
async def processor(tmp_path: Path) -> AsyncIterator[tuple[str, list[bundle.PageDoc]]]:
    """A processor whose store holds PAGES generated pages, one of them sharing its
    order with another page (stored again after a takeover); and those pages as the
    processor lists them (order, then URL)."""
    path = str(tmp_path / "pages.db")
    await fill_sqlite(path, JOB, SOURCE, PAGES, extra=[replace(page(JOB, SOURCE, PAGES, PAGES + 1), order=9)])
    settings = replace(ProcessorSettings(), bind="127.0.0.1:0", database_url=f"sqlite:///{path}", workers=1)
    host, port = await create_processor(settings)
    store = open_store(f"sqlite:///{path}")
    await store.open()
    docs = [bundle.PageDoc(url=p.url, title=p.title, markdown=p.markdown, word_count=p.word_count,
                           token_estimate=p.token_estimate, description=p.description, depth=p.depth)
            async for p in store.pages(JOB)]
    await store.close()
    try:
        yield f"127.0.0.1:{port}", docs
    finally:
        await host.stop(0)


async def register(redis_url: str) -> None:
    redis = aioredis.from_url(redis_url, decode_responses=True)
    buf = EventBuffer(redis, prefix="docspasta:", maxlen=100, retention_seconds=60, job_ttl_seconds=600)
    await buf.create_job(JOB, token_hash=token_hash(TOKEN), url=f"{SOURCE}/docs/", orchestrator="127.0.0.1:9",
                         timeout_seconds=30)
    await buf.append_raw(JOB, 1, "job_completed", "{}")
    await redis.aclose()


@pytest.mark.parametrize("batch", [7, downloads.PAGE_BATCH])
async def test_streamed_downloads_equal_the_in_memory_documents(
        processor: tuple[str, list[bundle.PageDoc]], redis_url: str, make_bridge: BridgeFactory,
        http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch, batch: int) -> None:
    monkeypatch.setattr(downloads, "PAGE_BATCH", batch)
    target, docs = processor
    assert len(docs) == PAGES + 1
    base = await make_bridge(processor_target=target)
    await register(redis_url)
    source = f"{SOURCE}/docs/"
    index = [bundle.index_entry(d) for d in docs]
    order = bundle.document_order(index, source_url=source)
    assert order != sorted(order), "the generated site must have contents order != crawl order"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    jobs = f"{base}/api/jobs/{JOB}"

    async with http.get(f"{jobs}/markdown", headers=auth) as resp:
        assert resp.status == 200 and resp.headers["Content-Type"] == "text/markdown; charset=utf-8"
        assert "Content-Length" not in resp.headers  # streamed
        assert await resp.text() == bundle.combined_document(docs, source_url=source, day=date.today())
    async with http.get(f"{jobs}/llms.txt", headers=auth) as resp:
        assert await resp.text() == llms_txt(docs, source_url=source)
    async with http.get(f"{jobs}/llms-full.txt", headers=auth) as resp:
        assert await resp.text() == llms_full_txt(docs, source_url=source)
    async with http.get(f"{jobs}/archive.zip", headers=auth) as resp:
        assert resp.status == 200
        with zipfile.ZipFile(io.BytesIO(await resp.read())) as archive:
            assert archive.testzip() is None
            got = {name: archive.read(name).decode() for name in archive.namelist()}
            assert all(info.flag_bits & 0x08 for info in archive.infolist()), "written with data descriptors"
        assert got == {str(rel): text for rel, text in mirror_files(docs, source_url=source)}
    async with http.get(f"{jobs}/pages", headers=auth) as resp:
        lines = (await resp.text()).splitlines()
        assert [json.loads(line)["url"] for line in lines] == [d.url for d in docs]
    chosen = [docs[3].url, docs[12].url, docs[30].url]
    async with http.post(f"{jobs}/markdown", json={"urls": chosen}, headers=auth) as resp:
        kept = [d for d in docs if d.url in chosen]
        assert await resp.text() == bundle.combined_document(kept, source_url=source, day=date.today())


async def test_processor_down_is_a_json_error(redis_url: str, make_bridge: BridgeFactory,
                                              http: aiohttp.ClientSession) -> None:
    base = await make_bridge(processor_target="127.0.0.1:9")
    await register(redis_url)
    async with http.get(f"{base}/api/jobs/{JOB}/markdown", headers={"Authorization": f"Bearer {TOKEN}"}) as resp:
        assert resp.status == 503 and (await resp.json())["error"]["code"] == "unavailable"
