"""Issue 11, done-when 1 and 2: a job outlives the orchestrator running it. The whole
system as separate processes on loopback (2 crawlers, 2 processors and 2 orchestrators
on one PostgreSQL, 2 bridges on one Redis), a 2,000-page fixture site.

(a) Rolling restart: SIGTERM the orchestrator holding the job's lease, wait for the
    other one to take the job over, start the first again; then the same for the other.
(b) SIGKILL of the job's owner: its lease expires and the other replica adopts the job.
(c) The orphaned pump: a job created on bridge A, bridge A SIGKILLed while nobody
    streams the job; the job completes, and the first client on bridge B gets every
    real event, the real job_completed last.

Each time: the job ends job_completed, every page is in PostgreSQL exactly once (and
processed once), the SSE stream through the bridges is gapless with no duplicate and
exactly one terminal event, and JobEvents from sequence 0 on either orchestrator
replays exactly that stream. Every wait is on a condition, with a generous deadline;
the fixture site is slowed only while replicas are being stopped, so the job cannot
finish before the faults are done, then runs at full speed."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from docspasta.urls import normalize
from docspasta.v1 import orchestrator_pb2 as pb
from tests.cluster.checks import (Stream, buffered_events, check_replay_matches, fixture_urls, follow, get_job,
                                  lease_owner, replay, start_crawl, stored, wait_until)
from tests.cluster.harness import Cluster, Service
from tests.support.site import FixtureSite, tree_site

# Each test crawls 2,000 pages through ten processes: generous on a loaded 2-core machine.
pytestmark = [pytest.mark.cluster, pytest.mark.timeout(900)]

PAGES = 2000
# Per request while replicas are stopped: at concurrency 8 the job then runs at most
# ~30 pages/s, so 2,000 pages outlast two takeovers; the rest goes at full speed.
SLOW = 0.25
PROGRESS = 150  # pages processed under an owner before it is stopped
TAKEOVER_LIMIT = 90.0  # from stopping the owner to the other replica holding the lease


@pytest.fixture
def big_site(site: FixtureSite) -> FixtureSite:
    site.pages.update(tree_site(PAGES))
    site.delay = SLOW
    return site


async def owner(cluster: Cluster, job_id: str) -> Service | None:
    return cluster.orchestrator_named(await lease_owner(cluster.database_url, job_id))


async def wait_for_owner(cluster: Cluster, job_id: str, *, other_than: Service | None = None,
                         timeout: float = TAKEOVER_LIMIT) -> Service:
    found: Service | None = None

    async def held() -> bool:
        nonlocal found
        found = await owner(cluster, job_id)
        return found is not None and found is not other_than

    await wait_until(held, f"a replica other than {other_than.name if other_than else '-'} leases {job_id}",
                     timeout)
    assert found is not None
    return found


async def wait_for_progress(stream: Stream, follower: asyncio.Task[Stream], pages: int) -> None:
    """Until ``pages`` more pages are processed (fails at once if the job ended)."""
    target = len(stream.processed) + pages

    def moved() -> bool:
        assert not follower.done() or follower.exception() is None, follower.exception()
        assert not stream.ended, f"the job ended early: {stream.terminal}"
        return len(stream.processed) >= target

    await wait_until(moved, f"{pages} more pages processed", 300)


async def check_outcome(cluster: Cluster, http: aiohttp.ClientSession, site: FixtureSite, job: dict[str, Any],
                        stream: Stream) -> dict[str, int]:
    """The promises every scenario keeps; returns the stored rows."""
    job_id = job["job_id"]
    stream.check_gapless()
    assert stream.names[-1] == "job_completed", stream.terminal
    stream.check_each_page_once()
    # A URL in flight at a takeover is crawled again, never failed for good.
    assert [f for f in stream.failed if not f.get("will_retry")] == [], stream.failed[:3]

    rows = await stored(cluster.database_url, job_id)
    assert [u for u, n in rows.items() if n != 1] == [], "a page stored twice"
    assert {normalize(u) for u in rows} == fixture_urls(site)
    assert len(rows) == len(fixture_urls(site)) == stream.terminal["totals"]["processed"] == len(stream.processed)

    # Any replica replays the whole job from sequence 0, event for event.
    for orchestrator in cluster.orchestrators:
        check_replay_matches(stream, await replay(orchestrator.target, job_id), orchestrator.name)
        assert (await get_job(orchestrator.target, job_id)).state == pb.JOB_STATE_COMPLETED
    async with http.get(f"{cluster.bridges[1].base}/api/jobs/{job_id}", params={"token": job["token"]}) as resp:
        assert resp.status == 200
        assert (await resp.json())["state"] == "completed"
    return rows


@contextlib.asynccontextmanager
async def followed_crawl(cluster: Cluster, http: aiohttp.ClientSession,
                         site: FixtureSite) -> AsyncIterator[tuple[dict[str, Any], Stream, asyncio.Task[None]]]:
    """A crawl of ``site`` started on bridge A and followed over SSE on bridge B. On the
    way out the site runs at full speed again and the follower is gone."""
    bridge_a, bridge_b = cluster.bridges
    job = await start_crawl(http, bridge_a.base, site)
    stream = Stream()
    follower = asyncio.create_task(follow(http, bridge_b.base, job, stream=stream))
    try:
        yield job, stream, follower
    finally:
        site.delay = 0.0
        follower.cancel()
        await asyncio.gather(follower, return_exceptions=True)


def resumes(stream: Stream) -> list[dict[str, Any]]:
    return [d for d, n in zip(stream.data, stream.names, strict=True) if n == "job_resumed"]


async def test_rolling_restart_of_the_orchestrators(
        cluster: Cluster, big_site: FixtureSite, http: aiohttp.ClientSession) -> None:
    began = time.monotonic()
    async with followed_crawl(cluster, http, big_site) as (job, stream, follower):
        job_id = job["job_id"]
        victim = await wait_for_owner(cluster, job_id)
        order: list[str] = []
        heirs: list[Service] = []
        takeovers: list[float] = []
        for _ in range(2):  # the owner, then the other (which took the job over meanwhile)
            await wait_for_progress(stream, follower, PROGRESS)
            assert (await owner(cluster, job_id)) is victim
            stopped = time.monotonic()
            victim.signal(signal.SIGTERM)
            heir = await wait_for_owner(cluster, job_id, other_than=victim)
            takeovers.append(time.monotonic() - stopped)
            assert heir is cluster.other(victim)
            heirs.append(heir)
            assert await victim.wait(60) == 0, victim.log_tail()
            await victim.restart()
            order.append(victim.name)
            victim = heir
        big_site.delay = 0.0
        await follower

    assert order[0] != order[1], order
    rows = await check_outcome(cluster, http, big_site, job, stream)
    # One job_resumed per takeover, naming the heir.
    assert [cluster.orchestrator_named(r["owner"]) for r in resumes(stream)] == heirs, resumes(stream)
    print(f"\ntakeover (a): rolling restart {' then '.join(order)}; {len(rows)} pages once each in "
          f"{time.monotonic() - began:.1f} s; {len(stream.seqs)} events gapless; SIGTERM -> lease taken over in "
          + ", ".join(f"{t:.1f} s" for t in takeovers))


async def test_sigkill_of_the_jobs_owner(
        cluster: Cluster, big_site: FixtureSite, http: aiohttp.ClientSession) -> None:
    began = time.monotonic()
    async with followed_crawl(cluster, http, big_site) as (job, stream, follower):
        job_id = job["job_id"]
        victim = await wait_for_owner(cluster, job_id)
        await wait_for_progress(stream, follower, PAGES // 3)
        killed = time.monotonic()
        victim.signal(signal.SIGKILL)
        await victim.wait(30)
        heir = await wait_for_owner(cluster, job_id, other_than=victim)
        adopted_after = time.monotonic() - killed
        assert heir is cluster.other(victim)
        await victim.restart()  # so that both replicas replay the job below
        big_site.delay = 0.0
        await follower

    rows = await check_outcome(cluster, http, big_site, job, stream)
    [resumed] = resumes(stream)
    assert cluster.orchestrator_named(resumed["owner"]) is heir, resumed
    print(f"\ntakeover (b): SIGKILL of {victim.name} at {PAGES // 3} pages, {heir.name} adopted the job "
          f"{adopted_after:.1f} s later ({resumed.get('requeued_urls', 0)} URLs requeued); {len(rows)} pages "
          f"once each in {time.monotonic() - began:.1f} s; {len(stream.seqs)} events gapless")


async def test_orphaned_pump_keeps_every_real_event(
        cluster: Cluster, site: FixtureSite, http: aiohttp.ClientSession) -> None:
    """Nobody streams the job when the bridge pumping it dies: another bridge adopts
    the pump, and the first reader later gets the real job_completed."""
    pages = 240
    site.pages.update(tree_site(pages))
    site.delay = 0.3
    bridge_a, bridge_b = cluster.bridges
    job = await start_crawl(http, bridge_a.base, site)
    job_id = job["job_id"]
    some = len(tree_site(pages)) // 3

    async def a_third_stored() -> bool:
        return len(await stored(cluster.database_url, job_id)) >= some

    await wait_until(a_third_stored, f"{some} pages stored", 120)
    bridge_a.kill()  # it created the job, so it pumps it; nobody reads the job

    async def completed() -> bool:
        return (await get_job(cluster.orchestrators[0].target, job_id)).state == pb.JOB_STATE_COMPLETED

    await wait_until(completed, "the job completes on the orchestrators", 180, every=0.5)
    last = (await get_job(cluster.orchestrators[0].target, job_id)).last_sequence

    # Still nobody reads: a bridge pumps every live job anyway, so the buffer fills to
    # the real terminal event on its own.
    async def buffered() -> bool:
        return await buffered_events(cluster.redis_url, job_id) == (last, "job_completed")

    await wait_until(buffered, f"all {last} events buffered in Redis with no reader", 60, every=0.5)
    stream = await follow(http, bridge_b.base, job)
    stream.check_gapless()
    assert stream.names[-1] == "job_completed", stream.terminal
    stream.check_each_page_once()
    assert stream.seqs[-1] == last
    for orchestrator in cluster.orchestrators:
        check_replay_matches(stream, await replay(orchestrator.target, job_id), orchestrator.name)
    rows = await stored(cluster.database_url, job_id)
    assert {normalize(u) for u in rows} == fixture_urls(site)
    assert all(n == 1 for n in rows.values())
    print(f"\ntakeover (c): bridge-a SIGKILLed at {some} pages with no reader; the first reader on bridge-b got "
          f"all {len(stream.seqs)} events, job_completed last")
