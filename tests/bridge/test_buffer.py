"""The Redis buffer: idempotent XADD, reset for a Last-Event-ID older than the buffer,
expiry after the terminal event, SSE framing (retry, keep-alive, headers)."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import redis.asyncio as aioredis

from bridge.auth import token_hash
from bridge.buffer import EventBuffer
from docspasta.v1 import orchestrator_pb2 as pb
from tests.bridge.conftest import BridgeFactory
from tests.bridge.support import SSEParser, read_all

TOKEN = "test-token-for-buffer-tests"


def event(job_id: str, seq: int, name: str = "progress") -> pb.JobEvent:
    e = pb.JobEvent(job_id=job_id, sequence=seq)
    e.timestamp.GetCurrentTime()
    if name == "progress":
        e.progress.processed = seq
    else:
        getattr(e, name).SetInParent()
    return e


async def buffer_for(redis_url: str, **kw: float) -> EventBuffer:
    client = aioredis.from_url(redis_url, decode_responses=True)
    return EventBuffer(client, prefix="docspasta:", maxlen=int(kw.get("maxlen", 1000)),
                       retention_seconds=kw.get("retention", 60.0), job_ttl_seconds=kw.get("ttl", 3600.0))


async def test_xadd_is_idempotent(redis_url: str) -> None:
    buf = await buffer_for(redis_url)
    try:
        assert [await buf.append(event("j1", s)) for s in (1, 2, 3)] == [True, True, True]
        assert await buf.append(event("j1", 2)) is False
        assert await buf.append(event("j1", 3)) is False
        assert await buf.append(event("j1", 1)) is False
        assert await buf.redis.xlen(buf.events_key("j1")) == 3
        assert [e.sequence for e in await buf.read_after("j1", 0)] == [1, 2, 3]
        stored = json.loads((await buf.read_after("j1", 2))[0].data)
        assert stored["sequence"] == 3 and stored["type"] == "progress" and stored["processed"] == 3
        assert await buf.append(event("j1", 4)) is True
        assert await buf.last_sequence("j1") == 4
    finally:
        await buf.redis.aclose()


async def test_maxlen_and_expiry_after_terminal(redis_url: str) -> None:
    buf = await buffer_for(redis_url, maxlen=10, retention=60.0, ttl=3600.0)
    try:
        await buf.create_job("j2", token_hash="x", url="https://example.com/", orchestrator="127.0.0.1:9",
                             timeout_seconds=30)
        await buf.redis.set(buf.lease_key("j2"), "someone", px=60_000)
        for s in range(1, 26):
            await buf.append(event("j2", s))
        assert await buf.redis.xlen(buf.events_key("j2")) == 10
        assert await buf.first_sequence("j2") == 16
        events_ttl, meta_ttl = await buf.ttl_ms("j2")
        assert events_ttl > 60_000 and meta_ttl > 60_000, "running jobs keep the long safety TTL"
        assert await buf.append(event("j2", 26, "job_completed")) is True
        events_ttl, meta_ttl = await buf.ttl_ms("j2")
        assert 0 < events_ttl <= 60_000 and 0 < meta_ttl <= 60_000
        meta = await buf.meta("j2")
        assert meta is not None and meta["terminal"] == "job_completed" and meta["terminal_sequence"] == "26"
        assert await buf.redis.exists(buf.lease_key("j2")) == 0
        # A replayed terminal event is refused but keeps the expiry in place.
        assert await buf.append(event("j2", 26, "job_completed")) is False
    finally:
        await buf.redis.aclose()


async def test_reset_for_last_event_id_older_than_buffer(redis_url: str, make_bridge: BridgeFactory,
                                                         http: aiohttp.ClientSession) -> None:
    base = await make_bridge(buffer_maxlen=10)
    buf = await buffer_for(redis_url, maxlen=10)
    try:
        await buf.create_job("j3", token_hash=token_hash(TOKEN), url="https://example.com/docs/",
                             orchestrator="127.0.0.1:9", timeout_seconds=30)
        for s in range(1, 31):
            await buf.append(event("j3", s))
        await buf.append(event("j3", 31, "job_cancelled"))
        url = f"{base}/api/jobs/j3/events"
        status, got = await read_all(http, url, params={"token": TOKEN}, headers={"Last-Event-ID": "5"})
        assert status == 200
        assert got[0].event == "reset" and got[0].id == "21" and got[0].json["first_sequence"] == 22
        assert [int(e.id or 0) for e in got[1:]] == list(range(22, 32))
        assert got[-1].event == "job_cancelled"
        # Still inside the buffer: no reset.
        status, got = await read_all(http, url, params={"token": TOKEN, "last_event_id": "25"})
        assert [e.event for e in got if e.event == "reset"] == []
        assert [int(e.id or 0) for e in got] == list(range(26, 32))
        # A fresh client when the start is gone is told, too.
        status, got = await read_all(http, url, params={"token": TOKEN})
        assert got[0].event == "reset"
    finally:
        await buf.redis.aclose()


async def test_malformed_last_event_id_is_400(redis_url: str, make_bridge: BridgeFactory,
                                              http: aiohttp.ClientSession) -> None:
    base = await make_bridge()
    buf = await buffer_for(redis_url)
    try:
        await buf.create_job("j4", token_hash=token_hash(TOKEN), url="https://example.com/",
                             orchestrator="127.0.0.1:9", timeout_seconds=30)
        await buf.append(event("j4", 1, "job_completed"))
        for bad, field in (("abc", "Last-Event-ID"), ("-1", "Last-Event-ID"), ("1.5", "Last-Event-ID"),
                           ("99999999999", "Last-Event-ID")):
            async with http.get(f"{base}/api/jobs/j4/events", params={"token": TOKEN},
                                headers={"Last-Event-ID": bad}) as resp:
                assert resp.status == 400
                body = await resp.json()
                assert body["error"]["code"] == "invalid_argument" and body["error"]["field"] == field
        async with http.get(f"{base}/api/jobs/j4/events", params={"token": TOKEN, "last_event_id": "x1"}) as resp:
            assert resp.status == 400 and (await resp.json())["error"]["field"] == "last_event_id"
    finally:
        await buf.redis.aclose()


async def test_sse_headers_retry_and_keepalive(redis_url: str, make_bridge: BridgeFactory,
                                               http: aiohttp.ClientSession) -> None:
    base = await make_bridge(keepalive_seconds=0.2, sse_retry_ms=1500)
    buf = await buffer_for(redis_url)
    try:
        # A job that is not finished: the stream stays open and sends keep-alive comments.
        await buf.create_job("j5", token_hash=token_hash(TOKEN), url="https://example.com/",
                             orchestrator="127.0.0.1:9", timeout_seconds=30)
        await buf.append(event("j5", 1, "stream_connected"))
        parser = SSEParser()
        got = []
        async with http.get(f"{base}/api/jobs/j5/events", params={"token": TOKEN}) as resp:
            assert resp.status == 200
            assert resp.headers["Content-Type"].startswith("text/event-stream")
            assert resp.headers["Cache-Control"] == "no-cache, no-transform"
            assert resp.headers["X-Accel-Buffering"] == "no"
            async with asyncio.timeout(10):
                async for chunk in resp.content.iter_any():
                    got += parser.feed(chunk)
                    if len(parser.comments) >= 2:
                        break
        assert parser.retries == [1500]
        assert [(e.id, e.event) for e in got] == [("1", "stream_connected")]
        assert len(parser.comments) >= 2
    finally:
        await buf.redis.aclose()


async def test_append_batch_is_idempotent_and_finishes_the_job(redis_url: str) -> None:
    """The pump's path: many events in one round trip, with the same rules as append."""
    buf = await buffer_for(redis_url)
    try:
        await buf.create_job("jb", token_hash="x", url="https://example.com/", orchestrator="127.0.0.1:9",
                             timeout_seconds=30)
        assert await buf.append_batch([event("jb", s) for s in range(1, 6)]) == 5
        overlap = [event("jb", s) for s in range(4, 8)] + [event("jb", 8, "job_completed")]
        assert await buf.append_batch(overlap) == 3  # 4 and 5 were stored already
        assert [e.sequence for e in await buf.read_after("jb", 0)] == list(range(1, 9))
        meta = await buf.meta("jb")
        assert meta is not None and meta["terminal"] == "job_completed" and meta["terminal_sequence"] == "8"
        assert "jb" not in (await buf.live_jobs())[1]
    finally:
        await buf.redis.aclose()
