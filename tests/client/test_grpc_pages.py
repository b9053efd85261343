"""Pages and downloads over gRPC (the processor's ListPages, where v1 serves the page
store) against the real services: the same typed pages and the same bytes the bridge
sends for the same job; a ListPages stream cut mid-response resumes after the last page
it gave; deadlines and refusals are typed errors."""

from __future__ import annotations

import asyncio
import io
import zipfile

import pytest

from docspasta.client import AsyncClient, CallTimeout, Client, ClientError, CrawlOptions, InvalidRequest, Page
from docspasta.local import LocalStack
from tests.bridge.conftest import BridgeFactory
from tests.support.cutting_proxy import CuttingProxy
from tests.support.site import FixtureSite, tree_site
from tests.test_cli import docs_tree

DOCUMENTS = ("markdown", "llms.txt", "llms-full.txt", "pages")


def _archive(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


async def test_grpc_pages_and_downloads_match_the_bridge(stack: LocalStack, site: FixtureSite,
                                                         make_bridge: BridgeFactory) -> None:
    docs_tree(site)  # fragment links between pages: the combined document's anchor pass runs
    base = await make_bridge(stack)
    async with AsyncClient(base, timeout=60) as bridge, \
            AsyncClient(stack.orchestrator_target, processor=stack.processor_target, timeout=60) as grpc_client:
        job = await bridge.start(site.url("/docs/"), CrawlOptions(max_pages=20))
        assert (await bridge.wait(job)).state == "completed"
        over_http = await bridge.pages(job)
        over_grpc = await grpc_client.pages(job.job_id)
        assert len(over_grpc) == 7 and over_grpc == over_http
        assert over_grpc[0].url == site.url("/docs/") and over_grpc[0].markdown and over_grpc[0].token_estimate > 0
        streamed = [page async for page in grpc_client.iter_pages(job.job_id)]
        assert streamed == over_grpc
        llms_txt = await bridge.download(job, "llms.txt")
        for document in DOCUMENTS:
            assert await grpc_client.download(job.job_id, document) == await bridge.download(job, document), document
        assert await grpc_client.markdown(job.job_id) == await bridge.markdown(job)
        # The zip's member times are the moment it is written: compare what it holds.
        assert _archive(await grpc_client.download(job.job_id, "archive.zip")) == \
            _archive(await bridge.download(job, "archive.zip"))

        with pytest.raises(InvalidRequest) as bad:
            await grpc_client.download(job.job_id, "everything.tar")
        assert bad.value.field == "document"
        with pytest.raises(CallTimeout):
            await grpc_client.download(job.job_id, "markdown", timeout=0.001)
        assert await grpc_client.pages("0" * 32) == []  # a job with no stored pages
    async with AsyncClient(stack.orchestrator_target) as no_processor:
        with pytest.raises(ClientError) as missing:
            await no_processor.pages(job.job_id)
        assert missing.value.code == "unimplemented" and "processor" in missing.value.message
    with pytest.raises(ValueError):
        AsyncClient(base, processor=stack.processor_target)
    # The sync client (in a thread: the services run on this test's loop): the same pages and bytes.

    def sync_reads() -> tuple[list[Page], bytes]:
        with Client(stack.orchestrator_target, processor=stack.processor_target, timeout=60) as sync:
            return list(sync.iter_pages(job.job_id)), sync.download(job.job_id, "llms.txt")

    sync_pages, sync_llms = await asyncio.to_thread(sync_reads)
    assert sync_pages == over_grpc and sync_llms == llms_txt


async def test_a_cut_list_pages_stream_resumes_after_the_last_page(stack: LocalStack, site: FixtureSite) -> None:
    site.pages.update(tree_site(40))
    async with AsyncClient(stack.orchestrator_target, processor=stack.processor_target, timeout=60) as direct:
        job = await direct.start(site.url("/docs/"), CrawlOptions(max_pages=40))
        assert (await direct.wait(job)).state == "completed"
        whole = await direct.pages(job)
        document = await direct.download(job, "markdown")
    assert len(whole) == 40
    # The first two connections to the processor are reset mid-response.
    proxy = CuttingProxy(upstream=stack.processor_target, budgets=[6000, 9000])
    target = await proxy.start()
    try:
        async with AsyncClient(stack.orchestrator_target, processor=target, timeout=60) as cut:
            assert await cut.pages(job) == whole, "a page missing or repeated after the cut"
            assert await cut.download(job, "markdown") == document
        assert proxy.cuts == 2 and proxy.streams >= 3, (proxy.cuts, proxy.streams)
    finally:
        await proxy.stop()
