"""Issue 7, checks 1 and 2, as they stand with durable jobs (issue 11): the whole
system as separate processes on loopback (2 crawlers, 2 processors and 2 orchestrators
on one PostgreSQL, 2 bridges, one Redis).

(a) SIGKILL a crawler, a processor and the bridge pumping the job mid-crawl: the job
    completes, the SSE client on the other bridge sees a gapless stream, PostgreSQL
    holds every page of the fixture site exactly once, and the crawl calls made while
    both crawlers lived were spread across them within +-25%.
(c) SIGTERM a crawler, a processor, the pumping bridge and the orchestrator running the
    job, one after another, during the crawl: each gRPC server's health turns
    NOT_SERVING before it exits (exit 0), no call fails (no url_failed), the other
    orchestrator takes the job over and it completes, and jobs started while that
    orchestrator drains complete too.

The orchestrator takeovers (rolling restart, SIGKILL of the owner, the orphaned pump)
are in test_takeover.py."""

from __future__ import annotations

import asyncio
import json
import signal
import time

import aiohttp
import pytest

from docspasta.events import TERMINAL_EVENTS
from docspasta.urls import normalize
from tests.cluster.checks import Stream, fixture_urls, follow, lease_owner, start_crawl, stored, wait_until
from tests.cluster.harness import NOT_SERVING, Cluster, HealthWatch, crawl_calls
from tests.support.site import FixtureSite, tree_site

pytestmark = pytest.mark.cluster

PAGES = 240
DELAY = 0.3  # per request: a crawl takes ~10-20 s on a shared 2-core machine


async def scrape(http: aiohttp.ClientSession, port: int) -> str:
    async with http.get(f"http://127.0.0.1:{port}/metrics") as resp:
        return await resp.text()


@pytest.fixture
def fixture_site(site: FixtureSite) -> FixtureSite:
    site.pages.update(tree_site(PAGES))
    site.delay = DELAY
    return site


async def test_sigkill_crawler_processor_and_pumping_bridge(
        cluster: Cluster, fixture_site: FixtureSite, http: aiohttp.ClientSession) -> None:
    bridge_a, bridge_b = cluster.bridges
    began = time.monotonic()
    job = await start_crawl(http, bridge_a.base, fixture_site)
    job_id = job["job_id"]
    spread: dict[str, int] = {}
    killed_at = 0.0

    async def kill_midway(stream: Stream) -> None:
        nonlocal killed_at
        if killed_at or len(stream.processed) < PAGES // 3:
            return
        assert stream.names[-1] not in TERMINAL_EVENTS
        for name in ("crawler-1", "crawler-2"):
            spread[name] = crawl_calls(await scrape(http, cluster.metrics_ports[name]))
        cluster.crawlers[0].signal(signal.SIGKILL)
        cluster.processors[0].signal(signal.SIGKILL)
        bridge_a.kill()  # it created the job, so it pumps it
        killed_at = time.monotonic()

    stream = await follow(http, bridge_b.base, job, kill_midway)
    elapsed = time.monotonic() - began
    assert killed_at, "the job ended before the replicas could be killed"
    stream.check_gapless()
    stream.check_each_page_once()
    assert stream.names[-1] == "job_completed", stream.terminal
    # A lost call may be retried by gRPC (transparently) or by the orchestrator (a
    # url_failed with will_retry); none may fail for good.
    assert [f for f in stream.failed if not f.get("will_retry")] == [], "a lost call was not retried"

    # Every page of the fixture site, each exactly once.
    rows = await stored(cluster.database_url, job_id)
    assert [u for u, n in rows.items() if n != 1] == []
    assert {normalize(u) for u in rows} == fixture_urls(fixture_site)
    assert len(rows) == len(fixture_urls(fixture_site)) == stream.terminal["totals"]["processed"]
    # ... also through the surviving bridge and processor.
    async with http.get(bridge_b.base + job["urls"]["pages"], params={"token": job["token"]}) as resp:
        assert resp.status == 200
        assert len((await resp.text()).splitlines()) == len(rows)

    # Crawl calls while both crawlers lived: each within 25% of the mean.
    mean = sum(spread.values()) / 2
    assert mean >= 20, spread
    assert all(abs(n - mean) <= 0.25 * mean for n in spread.values()), spread
    assert any("pumping job events" in line and "bridge-b" in line for line in bridge_b.lines)
    print(f"\ncluster (a): {len(rows)} pages in {elapsed:.1f} s; crawl calls before the kill {spread}; "
          f"{len(stream.seqs)} events gapless")


async def test_sigterm_each_service_during_work(
        cluster: Cluster, fixture_site: FixtureSite, http: aiohttp.ClientSession) -> None:
    bridge_a, bridge_b = cluster.bridges
    job = await start_crawl(http, bridge_a.base, fixture_site)
    job_id = job["job_id"]
    await wait_until(lambda: lease_owner(cluster.database_url, job_id), "a replica leases the job", 30)
    orchestrator = cluster.orchestrator_named(await lease_owner(cluster.database_url, job_id))
    assert orchestrator is not None
    survivor = cluster.other(orchestrator)
    targets = [cluster.crawlers[0], cluster.processors[0], orchestrator]
    watches = {s.name: HealthWatch(s.target) for s in targets}
    exits: dict[str, asyncio.Task[int]] = {}
    # Share of the pages processed at which each service gets SIGTERM.
    plan = [(0.2, cluster.crawlers[0]), (0.35, cluster.processors[0]), (0.5, "bridge"), (0.65, orchestrator)]
    bridge_exit: asyncio.Task[None] | None = None

    async def terminate(stream: Stream) -> None:
        nonlocal bridge_exit
        while plan and len(stream.processed) >= plan[0][0] * PAGES:
            _, service = plan.pop(0)
            if service == "bridge":
                bridge_exit = asyncio.create_task(bridge_a.stop())  # SIGTERM, then wait
            else:
                assert not isinstance(service, str)
                service.signal(signal.SIGTERM)
                exits[service.name] = asyncio.create_task(service.wait(60))

    try:
        for watch in watches.values():
            await watch.wait_for(1)  # SERVING
        stream = await follow(http, bridge_b.base, job, terminate)
        assert not plan, "the job ended before every service got SIGTERM"
        # Jobs started while the orchestrator drains (NOT_SERVING) go to the other one.
        new_jobs = [await start_crawl(http, bridge_b.base, fixture_site, max_pages=3) for _ in range(3)]
        codes = {name: await task for name, task in exits.items()}
        assert bridge_exit is not None
        await bridge_exit
    finally:
        for watch in watches.values():
            await watch.close()

    assert codes == {s.name: 0 for s in targets}, codes
    assert bridge_a.proc is not None and bridge_a.proc.returncode == 0
    for name, watch in watches.items():
        # A status that arrived was sent by the live process: NOT_SERVING came before the exit.
        assert watch.first(NOT_SERVING) is not None, f"{name}: health never said NOT_SERVING ({watch.statuses})"
    stream.check_gapless()
    stream.check_each_page_once()
    assert stream.failed == [], "a caller saw an error"
    # The SIGTERMed orchestrator released the job; the other one resumed it to the end.
    assert stream.names[-1] == "job_completed", stream.terminal
    resumed = [d for d, n in zip(stream.data, stream.names) if n == "job_resumed"]
    assert [d["owner"] for d in resumed][-1:] and cluster.orchestrator_named(resumed[-1]["owner"]) is survivor, resumed
    rows = await stored(cluster.database_url, job_id)
    assert [u for u, n in rows.items() if n != 1] == []
    assert {normalize(u) for u in rows} == fixture_urls(fixture_site)
    assert stream.terminal["totals"]["processed"] == len(rows)
    for new_job in new_jobs:
        done = await follow(http, bridge_b.base, new_job)
        assert done.names[-1] == "job_completed" and done.failed == [], done.terminal
    print(f"\ncluster (c): {len(stream.processed)} pages, taken over by {survivor.name}; health flips "
          + json.dumps({n: [s for _, s in w.statuses] for n, w in watches.items()}))
