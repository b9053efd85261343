"""Issue 7, checks 1 and 2: the whole system as separate processes on loopback (2
crawlers, 2 processors on one PostgreSQL, 2 orchestrators, 2 bridges, one Redis).

(a) SIGKILL a crawler, a processor and the bridge pumping the job mid-crawl: the job
    completes, the SSE client on the other bridge sees a gapless stream, PostgreSQL
    holds every page of the fixture site exactly once, and the crawl calls made while
    both crawlers lived were spread across them within +-25%.
(b) SIGKILL the orchestrator running the job: the bridge ends the job with job_failed
    ("the orchestrator running this job stopped") within BRIDGE_ORCHESTRATOR_LOST_SECONDS
    plus slack, no page is duplicated, and new jobs go to the surviving orchestrator.
(c) SIGTERM a crawler, a processor, the pumping bridge and the orchestrator running the
    job, one after another, during the crawl: each gRPC server's health turns
    NOT_SERVING before it exits (exit 0), no call fails (no url_failed), and the job
    ends with the documented job_failed "the orchestrator shut down ...", and jobs
    started while that orchestrator drains go to the other one."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import asyncpg
import pytest

from docspasta.events import TERMINAL_EVENTS
from docspasta.urls import normalize
from tests.bridge.support import create_job, sse_events
from tests.cluster.harness import NOT_SERVING, Cluster, HealthWatch, crawl_calls
from tests.support.site import FixtureSite, tree_site

pytestmark = pytest.mark.cluster

PAGES = 240
DELAY = 0.3  # per request: a crawl takes ~10-20 s on a shared 2-core machine
LOST_SECONDS = 4.0  # BRIDGE_ORCHESTRATOR_LOST_SECONDS in conftest.py
STREAM_LIMIT = 180.0


@dataclass
class Stream:
    seqs: list[int] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    data: list[dict[str, Any]] = field(default_factory=list)
    processed: set[str] = field(default_factory=set)
    failed: list[dict[str, Any]] = field(default_factory=list)

    @property
    def terminal(self) -> dict[str, Any]:
        return self.data[-1]

    def check_gapless(self) -> None:
        assert self.seqs == list(range(1, len(self.seqs) + 1)), "gap or duplicate in the SSE stream"
        assert sum(n in TERMINAL_EVENTS for n in self.names) == 1 and self.names[-1] in TERMINAL_EVENTS


OnEvent = Callable[[Stream], Awaitable[None]]


async def follow(http: aiohttp.ClientSession, base: str, job: dict[str, Any], on_event: OnEvent | None = None,
                 ) -> Stream:
    """Reads the job's SSE stream from ``base`` to its end (a dropped connection is
    resumed with Last-Event-ID, as EventSource does)."""
    stream = Stream()
    async with asyncio.timeout(STREAM_LIMIT):
        while not stream.names or stream.names[-1] not in TERMINAL_EVENTS:
            headers = {"Last-Event-ID": str(stream.seqs[-1])} if stream.seqs else {}
            async with http.get(base + job["urls"]["events"], params={"token": job["token"]},
                                headers=headers) as resp:
                assert resp.status == 200, await resp.text()
                async for ev in sse_events(resp):
                    data = ev.json
                    stream.seqs.append(int(ev.id or 0))
                    stream.names.append(ev.event)
                    stream.data.append(data)
                    if ev.event == "url_processed":
                        stream.processed.add(data["url"])
                    elif ev.event == "url_failed":
                        stream.failed.append(data)
                    if on_event is not None:
                        await on_event(stream)
    return stream


async def stored(database_url: str, job_id: str) -> dict[str, int]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch("SELECT url, count(*) AS n FROM pages WHERE job_id = $1 GROUP BY url", job_id)
    finally:
        await conn.close()
    return {r["url"]: int(r["n"]) for r in rows}


def fixture_urls(site: FixtureSite) -> set[str]:
    return {normalize(site.url(path)) for path in site.pages}


async def start_crawl(http: aiohttp.ClientSession, base: str, site: FixtureSite, **options: Any) -> dict[str, Any]:
    return await create_job(http, base, site.url("/docs/"), **{"concurrency": 8, "max_pages": 1000,
                                                               "use_sitemaps": False, **options})


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


async def test_sigkill_orchestrator_running_the_job(
        cluster: Cluster, fixture_site: FixtureSite, http: aiohttp.ClientSession) -> None:
    bridge_a, bridge_b = cluster.bridges
    job = await start_crawl(http, bridge_a.base, fixture_site)
    job_id = job["job_id"]
    running = cluster.orchestrator_of(job_id)
    survivor = next(o for o in cluster.orchestrators if o is not running)
    killed_at = 0.0

    async def kill_midway(stream: Stream) -> None:
        nonlocal killed_at
        if not killed_at and len(stream.processed) >= PAGES // 3:
            running.signal(signal.SIGKILL)
            killed_at = time.monotonic()

    stream = await follow(http, bridge_b.base, job, kill_midway)
    ended_after = time.monotonic() - killed_at
    assert killed_at, "the job ended before its orchestrator could be killed"
    stream.check_gapless()
    assert stream.names[-1] == "job_failed", stream.terminal
    assert "the orchestrator running this job stopped" in stream.terminal["error"]
    assert ended_after < LOST_SECONDS + 15, f"the terminal event came {ended_after:.1f} s after the kill"

    # No page twice, and every page reported processed is stored.
    rows = await stored(cluster.database_url, job_id)
    assert [u for u, n in rows.items() if n != 1] == []
    assert stream.processed <= set(rows)
    assert set(rows) <= {u for u in rows if normalize(u) in fixture_urls(fixture_site)}

    # The job's status comes from the buffer now; new jobs go to the surviving replica.
    async with http.get(f"{bridge_b.base}/api/jobs/{job_id}", params={"token": job["token"]}) as resp:
        assert resp.status == 200
        assert (await resp.json())["state"] == "failed"
    fixture_site.delay = 0.0
    second = await start_crawl(http, bridge_b.base, fixture_site, max_pages=20)
    assert second["job_id"].startswith(survivor.name + "-")
    again = await follow(http, bridge_a.base, second)
    again.check_gapless()
    assert again.names[-1] == "job_completed", again.terminal
    print(f"\ncluster (b): job_failed {ended_after:.1f} s after SIGKILL of {running.name}; "
          f"{len(rows)} pages kept, none twice")


async def test_sigterm_each_service_during_work(
        cluster: Cluster, fixture_site: FixtureSite, http: aiohttp.ClientSession) -> None:
    bridge_a, bridge_b = cluster.bridges
    job = await start_crawl(http, bridge_a.base, fixture_site)
    job_id = job["job_id"]
    orchestrator = cluster.orchestrator_of(job_id)
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
        # While the orchestrator drains (NOT_SERVING), new jobs go to the other one.
        survivor = next(o for o in cluster.orchestrators if o is not orchestrator)
        new_jobs = [await start_crawl(http, bridge_b.base, fixture_site, max_pages=3) for _ in range(3)]
        assert all(j["job_id"].startswith(survivor.name + "-") for j in new_jobs), [j["job_id"] for j in new_jobs]
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
    assert stream.failed == [], "a caller saw an error"
    assert stream.names[-1] == "job_failed", stream.terminal
    assert "the orchestrator shut down" in stream.terminal["error"]
    rows = await stored(cluster.database_url, job_id)
    assert [u for u, n in rows.items() if n != 1] == []
    assert stream.processed <= set(rows)
    for new_job in new_jobs:
        done = await follow(http, bridge_b.base, new_job)
        assert done.names[-1] == "job_completed" and done.failed == [], done.terminal
    print(f"\ncluster (c): {len(stream.processed)} pages before the orchestrator shut down; health flips "
          + json.dumps({n: [s for _, s in w.statuses] for n, w in watches.items()}))
