"""Issue 11, bridge side: a pump runs for every live job whether or not anybody streams
it, and only the orchestrator ends a job.

- An orphaned job (a bridge created it, buffered part of it and died holding its
  lease; nobody reads it) is adopted by another bridge's reconciler and buffered to its
  real terminal event, every event equal to the orchestrator's own replay.
- The orchestrator connection dropping for longer than the old "lost" clock changes
  nothing: the pump reconnects after the last buffered sequence and the job ends with
  the orchestrator's job_completed.
- Only when the orchestrators no longer know the job at all does the pump end it, with
  an event that says so.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import aiohttp
import pytest
import redis.asyncio as aioredis

from bridge.buffer import Entry, EventBuffer
from bridge.clients import Clients
from bridge.pump import JOB_GONE, Pumps, batches
from docspasta.events import TERMINAL_EVENTS, event_json, event_name
from docspasta.local import LocalStack
from docspasta.v1 import orchestrator_pb2 as pb
from tests.bridge.conftest import BridgeFactory
from tests.bridge.support import TcpProxy, create_job
from tests.support.site import FixtureSite, tree_site

LEASE_SECONDS = 1.0
DEADLINE = 120.0


@pytest.fixture
async def buffer(redis_url: str) -> AsyncIterator[EventBuffer]:
    redis = aioredis.from_url(redis_url, decode_responses=True)
    yield EventBuffer(redis, prefix="docspasta:", maxlen=100_000, retention_seconds=600, job_ttl_seconds=3600)
    await redis.aclose()


async def replay(stack: LocalStack, job_id: str) -> list[tuple[int, str, str]]:
    """The orchestrator's own record of the job: JobEvents from sequence 0 (to the end)."""
    call = stack.orchestrator_stub().JobEvents(pb.JobEventsRequest(job_id=job_id, after_sequence=0), timeout=DEADLINE)
    return [(e.sequence, event_name(e), event_json(e)) async for e in call]


async def wait_terminal(buffer: EventBuffer, job_id: str, timeout: float = DEADLINE) -> list[Entry]:
    async with asyncio.timeout(timeout):
        while True:
            last = await buffer.last(job_id)
            if last is not None and last.terminal:
                break
            await asyncio.sleep(0.1)
    entries: list[Entry] = []
    while batch := await buffer.read_after(job_id, entries[-1].sequence if entries else 0):
        entries += batch
    return entries


async def test_orphaned_job_is_adopted_and_buffered_to_its_real_end(
        stack: LocalStack, site: FixtureSite, buffer: EventBuffer, make_bridge: BridgeFactory) -> None:
    site.pages.update(tree_site(20))
    site.delay = 0.05
    started = await stack.orchestrator_stub().StartJob(
        pb.StartJobRequest(url=site.url("/docs/"), options=pb.JobOptions(concurrency=2)), timeout=30)
    job_id = started.job_id
    # A bridge that created the job, buffered its first events and died holding the lease.
    await buffer.create_job(job_id, token_hash="x", url=site.url("/docs/"), orchestrator=stack.orchestrator_target,
                            timeout_seconds=started.job.options.timeout_seconds)
    call = stack.orchestrator_stub().JobEvents(pb.JobEventsRequest(job_id=job_id), timeout=DEADLINE)
    async for event in call:
        await buffer.append(event)
        if event.sequence >= 5:
            break
    call.cancel()
    await buffer.redis.set(buffer.lease_key(job_id), "dead-bridge", px=int(LEASE_SECONDS * 1000))
    assert await buffer.live_jobs() == (0, [job_id])

    # A bridge that nobody talks to: its reconciler alone must find the job.
    await make_bridge(stack, lease_seconds=LEASE_SECONDS, instance_id="bridge-b")
    entries = await wait_terminal(buffer, job_id)
    truth = await replay(stack, job_id)
    assert [(e.sequence, e.name) for e in entries] == [(s, n) for s, n, _ in truth]
    assert [e.data for e in entries] == [d for _, _, d in truth], "buffered events differ from the orchestrator's"
    assert entries[-1].name == "job_completed" and sum(e.terminal for e in entries) == 1
    assert await buffer.live_jobs() == (0, []), "a finished job leaves the registry"


async def test_orchestrator_connection_drop_never_ends_the_job(
        stack: LocalStack, site: FixtureSite, buffer: EventBuffer, make_bridge: BridgeFactory,
        http: aiohttp.ClientSession) -> None:
    site.pages.update(tree_site(40))
    site.delay = 0.1
    proxy = await TcpProxy(stack.orchestrator_target).start()
    try:
        base = await make_bridge(stack, orchestrator_target=proxy.target, lease_seconds=LEASE_SECONDS)
        job = await create_job(http, base, site.url("/docs/"), concurrency=1)
        job_id = job["job_id"]
        async with asyncio.timeout(DEADLINE):
            while await buffer.last_sequence(job_id) < 10:
                await asyncio.sleep(0.05)
        # The orchestrator becomes unreachable for longer than the old 10 s "lost" clock
        # ... of which a loaded machine's 12 s is plenty; the job goes on meanwhile.
        await proxy.cut()
        await asyncio.sleep(6)
        midway = await buffer.last(job_id)  # events already on their way when the cut came are in
        await asyncio.sleep(6)
        during = await buffer.last(job_id)
        assert during is not None and midway is not None
        assert not during.terminal, "the bridge invented an end while the job ran"
        assert during.sequence == midway.sequence, "events arrived through a cut connection"
        await proxy.start()  # back, same address
        entries = await wait_terminal(buffer, job_id)
        truth = await replay(stack, job_id)
        assert [(e.sequence, e.name) for e in entries] == [(s, n) for s, n, _ in truth]
        assert entries[-1].name == "job_completed" and sum(e.terminal for e in entries) == 1
        assert proxy.connections >= 2, "the pump reconnected"
    finally:
        await proxy.close()


async def test_pump_keeps_trying_an_unreachable_orchestrator(buffer: EventBuffer) -> None:
    job_id = "orch-a-0123456789abcdef"
    clients = Clients(processor_target="127.0.0.1:9", orchestrator_target="127.0.0.1:9",
                      orchestrator_instances=[("orch-a", "127.0.0.1:9")])
    pumps = Pumps(buffer=buffer, clients=clients, instance_id="b1", lease_seconds=LEASE_SECONDS, rpc_timeout=1)
    await buffer.create_job(job_id, token_hash="x", url="http://x/", orchestrator="127.0.0.1:9", timeout_seconds=30)
    await buffer.append_raw(job_id, 1, "stream_connected", "{}")
    try:
        assert await pumps.ensure(job_id)
        await asyncio.sleep(6)
        assert pumps.running(job_id), "the pump gave up"
        assert await buffer.last_sequence(job_id) == 1, "the pump wrote an event of its own"
        meta = await buffer.meta(job_id)
        assert meta is not None and "terminal" not in meta
    finally:
        await pumps.close()
        await clients.close()


async def test_job_unknown_to_the_orchestrators_ends_with_an_honest_event(
        stack: LocalStack, buffer: EventBuffer) -> None:
    job_id = "test-00000000deadbeef"  # the orchestrator never had it (or its retention deleted it)
    clients = Clients(processor_target=stack.processor_target, orchestrator_target=stack.orchestrator_target)
    pumps = Pumps(buffer=buffer, clients=clients, instance_id="b1", lease_seconds=LEASE_SECONDS, rpc_timeout=5)
    await buffer.create_job(job_id, token_hash="x", url="http://x/", orchestrator=stack.orchestrator_target,
                            timeout_seconds=30)
    await buffer.append_raw(job_id, 1, "stream_connected", "{}")
    try:
        assert await pumps.ensure(job_id)
        entries = await wait_terminal(buffer, job_id, timeout=30)
        assert [(e.sequence, e.name) for e in entries] == [(1, "stream_connected"), (2, "job_failed")]
        assert json.loads(entries[-1].data)["error"].startswith(JOB_GONE)
        meta = await buffer.meta(job_id)
        assert meta is not None and meta["terminal"] == "job_failed"
    finally:
        await pumps.close()
        await clients.close()


def test_job_calls_fall_back_to_any_replica() -> None:
    clients = Clients(processor_target="p:1", orchestrator_target="ipv4:127.0.0.1:1,127.0.0.1:2",
                      orchestrator_instances=[("orch-a", "127.0.0.1:1")])
    assert clients.job_targets("orch-a-0123456789abcdef") == ["127.0.0.1:1", "ipv4:127.0.0.1:1,127.0.0.1:2"]
    single = Clients(processor_target="p:1", orchestrator_target="127.0.0.1:5")
    assert single.job_targets("orch-a-0123456789abcdef", "127.0.0.1:5") == ["127.0.0.1:5"]
    assert TERMINAL_EVENTS >= {"job_completed", "job_failed"}


async def test_batches_hold_what_arrived_and_keep_a_broken_streams_events() -> None:
    """The pump stores what has arrived in one round trip; a list never runs past a
    terminal event, and a stream's error comes after every event received before it."""
    gate = asyncio.Event()

    def ev(seq: int, name: str = "progress") -> pb.JobEvent:
        e = pb.JobEvent(job_id="j", sequence=seq)
        getattr(e, name).SetInParent()
        return e

    async def stream() -> AsyncIterator[pb.JobEvent]:
        for seq in range(1, 6):
            yield ev(seq)
        await gate.wait()  # a pause: what came before it is one list
        yield ev(6)
        raise ConnectionResetError("stream broke")

    got: list[list[int]] = []
    with pytest.raises(ConnectionResetError):
        async for batch in batches(stream(), limit=3):
            got.append([e.sequence for e in batch])
            gate.set()
    assert [s for b in got for s in b] == list(range(1, 7))
    assert all(len(b) <= 3 for b in got) and len(got) >= 2

    async def ended() -> AsyncIterator[pb.JobEvent]:
        yield ev(1)
        yield ev(2, "job_completed")
        yield ev(3)  # never read past the terminal event into the same list

    lists = [[e.sequence for e in b] async for b in batches(ended())]
    assert [s for b in lists for s in b] == [1, 2, 3]
    assert next(b for b in lists if 2 in b)[-1] == 2
