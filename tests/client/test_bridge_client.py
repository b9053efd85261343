"""The client against a real bridge (Redis, orchestrator, crawler, processor):
idempotent start, status, downloads, and an event stream cut mid-response that
resumes with no gap and no repeat."""

from __future__ import annotations

from urllib.parse import urlsplit

from docspasta.client import AsyncClient, CrawlOptions, InvalidRequest, JobNotFound
from docspasta.local import LocalStack
from tests.bridge.conftest import BridgeFactory
from tests.support.cutting_proxy import CuttingProxy
from tests.support.site import FixtureSite, tree_site


async def test_cut_event_stream_resumes_without_gap(stack: LocalStack, site: FixtureSite,
                                                   make_bridge: BridgeFactory) -> None:
    site.pages.update(tree_site(30))
    site.delay = 0.05
    base = await make_bridge(stack)
    port = urlsplit(base).port
    assert port is not None
    # Cut the first three event connections after these many response bytes: mid-event.
    proxy = CuttingProxy(upstream=f"127.0.0.1:{port}", budgets=[700, 1500, 2600], per_request=b"/events")
    proxied = "http://" + await proxy.start()
    try:
        async with AsyncClient(proxied, timeout=60) as client:
            job = await client.start(site.url("/docs/"), CrawlOptions(max_pages=30, concurrency=2))
            assert job.token and job.state in ("running", "queued")
            events = [event async for event in client.events(job)]
            final = await client.get(job)
    finally:
        await proxy.stop()
    sequences = [e.sequence for e in events]
    assert proxy.cuts == 3, f"the stream was cut {proxy.cuts} times"
    assert proxy.streams >= 4
    assert sequences == list(range(1, len(sequences) + 1)), "gap, repeat or disorder after a reconnect"
    assert events[0].type == "stream_connected"
    assert events[-1].type == "job_completed" and sum(e.terminal for e in events) == 1
    assert final.state == "completed" and final.totals.processed == 30
    assert final.last_sequence == sequences[-1]


async def test_start_is_idempotent_and_downloads_are_typed(stack: LocalStack, site: FixtureSite,
                                                           make_bridge: BridgeFactory) -> None:
    site.pages.update(tree_site(6))
    base = await make_bridge(stack)
    async with AsyncClient(base, timeout=60) as client:
        first = await client.start(site.url("/docs/"), CrawlOptions(max_pages=6), request_id="req-7f3a9c1e-0001")
        again = await client.start(site.url("/docs/"), CrawlOptions(max_pages=6), request_id="req-7f3a9c1e-0001")
        assert again.job_id == first.job_id and again.token == first.token and again.replayed
        done = await client.wait(first.job_id)  # a bare id works: the client kept the token
        assert done.state == "completed" and done.totals.processed == 6
        pages = await client.pages(first)
        assert len(pages) == 6 and all(p.url.startswith(site.url("/docs/")) and p.markdown for p in pages)
        assert sum(p.token_estimate for p in pages) > 0
        document = await client.markdown(first)
        assert all(p.title in document for p in pages)
        try:
            await client.start("ftp://example.com/", timeout=10)
            raise AssertionError("a bad URL was accepted")
        except InvalidRequest as exc:
            assert exc.field == "url" and exc.status == 400
        try:
            await client.get("0" * 32, timeout=10)
            raise AssertionError("an unknown job was found")
        except JobNotFound as exc:
            assert exc.status == 404
