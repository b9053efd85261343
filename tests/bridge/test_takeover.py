"""Issue 4, check 2: two bridge processes share one Redis and one orchestrator; SIGKILL
the one pumping a running job and the other takes over within seconds while its
clients see a gapless stream."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
import redis.asyncio as aioredis

from docspasta.events import TERMINAL_EVENTS, event_name
from docspasta.local import LocalStack
from docspasta.v1 import orchestrator_pb2 as pb
from tests.bridge.procs import BridgeProcess
from tests.bridge.support import create_job, sse_events
from tests.support.site import FixtureSite, tree_site

pytestmark = pytest.mark.cluster
LEASE_SECONDS = 1.5
TAKEOVER_LIMIT_SECONDS = 8.0


@pytest.fixture
async def two_bridges(stack: LocalStack, redis_url: str) -> AsyncIterator[tuple[BridgeProcess, BridgeProcess]]:
    common = {"REDIS_URL": redis_url, "ORCHESTRATOR_TARGET": stack.orchestrator_target,
              "PROCESSOR_TARGET": stack.processor_target, "BRIDGE_LEASE_SECONDS": str(LEASE_SECONDS),
              "BRIDGE_ALLOW_PRIVATE_NETWORK": "true", "LOG_LEVEL": "info"}
    a = BridgeProcess({**common, "BRIDGE_INSTANCE_ID": "bridge-a"})
    b = BridgeProcess({**common, "BRIDGE_INSTANCE_ID": "bridge-b"})
    await asyncio.gather(a.start(), b.start())
    try:
        yield a, b
    finally:
        await asyncio.gather(a.stop(), b.stop())


async def test_sigkill_pumping_bridge_other_takes_over(
        two_bridges: tuple[BridgeProcess, BridgeProcess], site: FixtureSite, redis_url: str,
        http: aiohttp.ClientSession) -> None:
    a, b = two_bridges
    site.pages.update(tree_site(30))
    site.delay = 0.25
    job = await create_job(http, a.base, site.url("/docs/"), concurrency=1)
    lease_key = f"docspasta:job:{{{job['job_id']}}}:lease"
    redis = aioredis.from_url(redis_url, decode_responses=True)
    try:
        assert await redis.get(lease_key) == "bridge-a", "the creating bridge pumps the job"
        seqs: list[int] = []
        names: list[str] = []
        killed_at = 0.0
        taken_over_at = 0.0
        params = {"token": job["token"]}
        async with http.get(b.base + job["urls"]["events"], params=params) as resp:
            assert resp.status == 200
            async with asyncio.timeout(120):
                async for ev in sse_events(resp):
                    seqs.append(int(ev.id or 0))
                    names.append(ev.event)
                    if not killed_at and len(seqs) >= 25:
                        assert ev.event not in TERMINAL_EVENTS
                        a.kill()
                        killed_at = time.monotonic()
                    if killed_at and not taken_over_at and await redis.get(lease_key) == "bridge-b":
                        taken_over_at = time.monotonic()
        assert killed_at, "the job ended before the pumping bridge could be killed"
        assert seqs == list(range(1, len(seqs) + 1)), "gap or duplicate across the takeover"
        assert names[-1] == "job_completed" and sum(n in TERMINAL_EVENTS for n in names) == 1
        assert taken_over_at, "bridge-b never held the lease"
        assert taken_over_at - killed_at < TAKEOVER_LIMIT_SECONDS
        assert len(seqs) > 40, "events arrived after the takeover"
        assert any("pumping job events" in line and "bridge-b" in line for line in b.lines)
    finally:
        await redis.aclose()


async def test_sigkill_pumping_bridge_while_nobody_streams(
        two_bridges: tuple[BridgeProcess, BridgeProcess], stack: LocalStack, site: FixtureSite, redis_url: str,
        http: aiohttp.ClientSession) -> None:
    """Issue 11's orphaned pump: the job is created on bridge A, A is SIGKILLed while
    nobody streams it; B's reconciler adopts it and the buffer holds every real event
    to the orchestrator's own job_completed (before: it stopped at the kill and the
    first reader got a made-up job_failed)."""
    a, b = two_bridges
    site.pages.update(tree_site(30))
    site.delay = 0.2
    job = await create_job(http, a.base, site.url("/docs/"), concurrency=1)
    job_id = job["job_id"]
    key = f"docspasta:job:{{{job_id}}}"
    redis = aioredis.from_url(redis_url, decode_responses=True)
    try:
        async with asyncio.timeout(60):
            while await redis.xlen(f"{key}:events") < 10:
                await asyncio.sleep(0.05)
        a.kill()
        async with asyncio.timeout(180):
            while (await redis.hget(f"{key}:meta", "terminal")) is None:
                await asyncio.sleep(0.2)
        buffered = [(int(i.split("-")[0]), f["e"]) for i, f in await redis.xrange(f"{key}:events")]
        call = stack.orchestrator_stub().JobEvents(pb.JobEventsRequest(job_id=job_id), timeout=60)
        truth = [(e.sequence, event_name(e)) async for e in call]
        assert buffered == truth, "the buffer is not the orchestrator's record"
        assert buffered[-1][1] == "job_completed"
        assert any("adopted orphaned job" in line and "bridge-b" in line for line in b.lines)
    finally:
        await redis.aclose()
