"""Issue 17: the SSE fan-out. One Redis reader per job per bridge process feeds every
local client the same pre-encoded bytes; a client resuming with Last-Event-ID replays
from the cache or Redis and joins the live fan-out with no gap and no duplicate; a
client that stops reading is cut at its bound and never delays the others."""

from __future__ import annotations

import asyncio
import random
import socket
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import aiohttp
import pytest
import redis.asyncio as aioredis

from bridge import fanout
from bridge.auth import token_hash
from bridge.buffer import EventBuffer
from docspasta.v1 import orchestrator_pb2 as pb
from tests.bridge.conftest import BridgeFactory
from tests.bridge.support import SSEParser
from tests.bridge.test_buffer import event

TOKEN = "test-token-for-fanout-tests"
DEADLINE = 120.0  # generous: the machine may be loaded


@pytest.fixture
async def buf(redis_url: str) -> AsyncIterator[EventBuffer]:
    redis = aioredis.from_url(redis_url, decode_responses=True)
    yield EventBuffer(redis, prefix="docspasta:", maxlen=100_000, retention_seconds=60, job_ttl_seconds=3600)
    await redis.aclose()


async def new_job(buf: EventBuffer, job_id: str) -> None:
    await buf.create_job(job_id, token_hash=token_hash(TOKEN), url="https://example.com/",
                         orchestrator="127.0.0.1:9", timeout_seconds=30)
    await buf.append(event(job_id, 1, "stream_connected"))


class Stream:
    """One SSE client: its events and the raw payload after the ``retry:`` line."""

    def __init__(self, http: aiohttp.ClientSession, url: str, last_event_id: int | None = None) -> None:
        self.http = http
        self.url = url
        self.headers = {} if last_event_id is None else {"Last-Event-ID": str(last_event_id)}
        self.ids: list[int] = []
        self.names: list[str] = []
        self.payload = bytearray()
        self.first = asyncio.Event()
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        parser = SSEParser()
        async with self.http.get(self.url, params={"token": TOKEN}, headers=self.headers) as resp:
            assert resp.status == 200
            async for chunk in resp.content.iter_any():
                self.payload += chunk
                for ev in parser.feed(chunk):
                    self.ids.append(int(ev.id or 0))
                    self.names.append(ev.event)
                    self.first.set()

    async def result(self) -> list[int]:
        async with asyncio.timeout(DEADLINE):
            await self.task
        return self.ids


async def health(http: aiohttp.ClientSession, base: str) -> dict[str, object]:
    async with http.get(f"{base}/healthz") as resp:
        return dict(await resp.json())


async def test_every_client_gets_the_same_gapless_bytes_from_one_reader(
        buf: EventBuffer, make_bridge: BridgeFactory) -> None:
    base = await make_bridge()
    job_id = "fanout-same-0123456789abcdef"
    await new_job(buf, job_id)
    url = f"{base}/api/jobs/{job_id}/events"
    clients, last = 40, 400
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        streams = [Stream(http, url) for _ in range(clients)]
        async with asyncio.timeout(DEADLINE):
            await asyncio.gather(*(s.first.wait() for s in streams))
        state = await health(http, base)
        assert state["sse_clients"] == clients and state["feeds"] == 1, state  # one reader for the job
        for seq in range(2, last):
            await buf.append(event(job_id, seq))
            if seq % 50 == 0:  # bursts and pauses: passes of one and of many events
                await asyncio.sleep(0.05)
        await buf.append(event(job_id, last, "job_completed"))
        results = [await s.result() for s in streams]
    for ids in results:
        assert ids == list(range(1, last + 1))
    assert all(s.names[-1] == "job_completed" for s in streams)
    # The same bytes for everyone (keep-alive comments are 15 s apart: none arrived).
    assert len({bytes(s.payload) for s in streams}) == 1


async def test_resume_mid_stream_joins_live_without_gap_or_duplicate(
        buf: EventBuffer, make_bridge: BridgeFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    # A small cache and small reads: resumers catch up through Redis (XRANGE), the
    # cache and the live hand-over while events keep arriving.
    monkeypatch.setattr(fanout, "CACHE_ENTRIES", 16)
    monkeypatch.setattr(fanout, "READ_COUNT", 7)
    base = await make_bridge()
    job_id = "fanout-resume-0123456789abcdef"
    await new_job(buf, job_id)
    url = f"{base}/api/jobs/{job_id}/events"
    last = 1500
    rng = random.Random(20261201)
    top = 1
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        anchor = Stream(http, url)
        async with asyncio.timeout(DEADLINE):
            await anchor.first.wait()
        resumers: list[tuple[int, Stream]] = []
        for seq in range(2, last):
            await buf.append(event(job_id, seq))
            top = seq
            if seq % 40 == 0:
                # Resume from anywhere: the tip, just behind it (cache), far behind (Redis).
                for after in (top, max(0, top - rng.randint(1, 12)), rng.randint(0, top)):
                    resumers.append((after, Stream(http, url, last_event_id=after)))
                await asyncio.sleep(0.01)
        await buf.append(event(job_id, last, "job_completed"))
        assert await anchor.result() == list(range(1, last + 1))
        for after, stream in resumers:
            ids = await stream.result()
            assert ids == list(range(after + 1, last + 1)), f"resumed after {after}"
            assert stream.names[-1] == "job_completed"


def big_event(job_id: str, seq: int) -> pb.JobEvent:
    e = pb.JobEvent(job_id=job_id, sequence=seq)
    e.timestamp.GetCurrentTime()
    urls = [f"https://example.com/docs/section-{seq}/a-rather-long-page-name-{i:05d}.html" for i in range(900)]
    e.urls_discovered.CopyFrom(pb.UrlsDiscovered(source_url="https://example.com/docs/", discovered_urls=urls,
                                                 count=len(urls)))
    return e


async def test_a_stalled_client_is_cut_and_never_delays_a_fast_one(
        buf: EventBuffer, make_bridge: BridgeFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fanout, "MAX_PENDING_BYTES", 64 * 1024)
    base = await make_bridge()
    port = int(urlsplit(base).port or 0)
    job_id = "fanout-stall-0123456789abcdef"
    await new_job(buf, job_id)
    url = f"{base}/api/jobs/{job_id}/events"
    last = 300  # ~60 KB each: ~18 MB, far more than the stalled socket's buffers hold
    loop = asyncio.get_running_loop()
    stalled = socket.socket()
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.setblocking(False)
    await loop.sock_connect(stalled, ("127.0.0.1", port))
    await loop.sock_sendall(stalled, f"GET /api/jobs/{job_id}/events?token={TOKEN} HTTP/1.1\r\n"
                                     f"Host: 127.0.0.1\r\n\r\n".encode())
    try:
        async with aiohttp.ClientSession() as http:
            async with asyncio.timeout(DEADLINE):
                while (await health(http, base))["sse_clients"] != 1:  # the stalled one is live
                    await asyncio.sleep(0.05)
            fast = Stream(http, url)
            async with asyncio.timeout(DEADLINE):
                await fast.first.wait()
            for seq in range(2, last):
                await buf.append(big_event(job_id, seq))
                # The fast client keeps up, event by event, while the other reads nothing.
                async with asyncio.timeout(DEADLINE):
                    while fast.ids[-1] < seq:
                        await asyncio.sleep(0.002)
            await buf.append(event(job_id, last, "job_completed"))
            assert await fast.result() == list(range(1, last + 1))

            # Only now read the stalled socket: it was cut before the end.
            raw = bytearray()
            async with asyncio.timeout(DEADLINE):
                while True:
                    try:
                        data = await loop.sock_recv(stalled, 1 << 20)
                    except ConnectionError:
                        break
                    if not data:
                        break
                    raw += data
            body = bytes(raw).partition(b"\r\n\r\n")[2]
            got = [int(e.id or 0) for e in SSEParser().feed(dechunk_lenient(body))]
            assert got == list(range(1, len(got) + 1)) and got[-1] < last, "the stalled client was not cut"
            # It resumes with Last-Event-ID like any client and gets the rest, exactly.
            resumed = Stream(http, url, last_event_id=got[-1])
            assert await resumed.result() == list(range(got[-1] + 1, last + 1))
    finally:
        stalled.close()


def dechunk_lenient(body: bytes) -> bytes:
    """The payload of the complete chunks of a chunked body that may be cut anywhere."""
    out = bytearray()
    while True:
        size_line, sep, rest = body.partition(b"\r\n")
        if not sep or not size_line:
            return bytes(out)
        size = int(size_line, 16)
        if size == 0 or len(rest) < size + 2:
            return bytes(out)
        out += rest[:size]
        body = rest[size + 2:]


async def test_keep_alives_are_one_shared_pass_and_need_no_redis(
        buf: EventBuffer, make_bridge: BridgeFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    base = await make_bridge(keepalive_seconds=0.2)
    job_id = "fanout-keepalive-0123456789abcdef"
    await new_job(buf, job_id)
    url = f"{base}/api/jobs/{job_id}/events"
    clients = 12
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        streams = [Stream(http, url) for _ in range(clients)]

        async def comments_everywhere(at_least: int) -> list[int]:
            async with asyncio.timeout(DEADLINE):
                while True:
                    counts = [s.payload.count(b"\n: ping\n\n") for s in streams]
                    if min(counts) >= at_least:
                        return counts
                    await asyncio.sleep(0.05)

        await comments_everywhere(2)
        # The feed's Redis reads now fail (it backs off and retries): its live clients
        # still get keep-alives, which need nothing from Redis.
        reads = 0

        async def failing_read(*args: object, **kwargs: object) -> list[object]:
            nonlocal reads
            reads += 1
            raise ConnectionError("redis is away")

        monkeypatch.setattr(EventBuffer, "read_blocking", failing_read)
        async with asyncio.timeout(DEADLINE):
            while reads < 2:  # its read in flight ended (at most 5 s): it is failing now
                await asyncio.sleep(0.05)
        before = [s.payload.count(b"\n: ping\n\n") for s in streams]
        after = await comments_everywhere(max(before) + 2)
        assert all(a > b for a, b in zip(after, before, strict=True))
        monkeypatch.undo()
        for seq in range(2, 30):
            await buf.append(event(job_id, seq))
        await buf.append(event(job_id, 30, "job_completed"))
        results = [await s.result() for s in streams]
    assert all(ids == list(range(1, 31)) for ids in results)
    # One pass writes the keep-alive for everyone: between the events every client's
    # bytes are the same comment frames (joins differ only before the first one).
    tails = {bytes(s.payload[s.payload.index(b"id: 2\n"):]) for s in streams}
    assert len(tails) == 1
