"""What the cluster tests observe and check: an SSE client that follows a job through a
bridge (resuming with Last-Event-ID like EventSource), the pages in PostgreSQL, the job's
row in the job store, and a JobEvents replay straight from an orchestrator replica."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import asyncpg
import grpc
import redis.asyncio as aioredis

from docspasta.events import TERMINAL_EVENTS, event_dict
from docspasta.urls import normalize
from docspasta.v1 import orchestrator_pb2 as pb, orchestrator_pb2_grpc
from tests.bridge.support import create_job, sse_events
from tests.support.site import FixtureSite

STREAM_LIMIT = 600.0  # the longest a followed job may take, on a loaded 2-core machine


@dataclass
class Stream:
    """Everything one SSE client received, in order."""

    seqs: list[int] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    data: list[dict[str, Any]] = field(default_factory=list)
    processed: list[str] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    reconnects: int = 0

    @property
    def terminal(self) -> dict[str, Any]:
        return self.data[-1]

    @property
    def ended(self) -> bool:
        return bool(self.names) and self.names[-1] in TERMINAL_EVENTS

    def check_gapless(self) -> None:
        """Sequences 1..N, each once, and exactly one terminal event, the last."""
        assert self.seqs == list(range(1, len(self.seqs) + 1)), (
            f"gap or duplicate in the SSE stream: {_first_break(self.seqs)}")
        assert sum(n in TERMINAL_EVENTS for n in self.names) == 1 and self.names[-1] in TERMINAL_EVENTS, (
            [n for n in self.names if n in TERMINAL_EVENTS])

    def check_each_page_once(self) -> None:
        twice = [u for u, n in Counter(self.processed).items() if n > 1]
        assert twice == [], f"url_processed more than once for {twice[:5]} ({len(twice)} URLs)"


def _first_break(seqs: list[int]) -> str:
    for i, s in enumerate(seqs, 1):
        if s != i:
            return f"position {i} has sequence {s} (around {seqs[max(0, i - 3):i + 2]})"
    return "none"


OnEvent = Callable[[Stream], Awaitable[None]]


async def follow(http: aiohttp.ClientSession, base: str, job: dict[str, Any], on_event: OnEvent | None = None,
                 stream: Stream | None = None, limit: float = STREAM_LIMIT) -> Stream:
    """Reads the job's SSE stream from ``base`` to its terminal event (a dropped
    connection is resumed with Last-Event-ID, as EventSource does)."""
    stream = stream if stream is not None else Stream()
    async with asyncio.timeout(limit):
        while not stream.ended:
            headers = {"Last-Event-ID": str(stream.seqs[-1])} if stream.seqs else {}
            try:
                async with http.get(base + job["urls"]["events"], params={"token": job["token"]},
                                    headers=headers) as resp:
                    assert resp.status == 200, await resp.text()
                    async for ev in sse_events(resp):
                        data = ev.json
                        stream.seqs.append(int(ev.id or 0))
                        stream.names.append(ev.event)
                        stream.data.append(data)
                        if ev.event == "url_processed":
                            stream.processed.append(data["url"])
                        elif ev.event == "url_failed":
                            stream.failed.append(data)
                        if on_event is not None:
                            await on_event(stream)
            except aiohttp.ClientError:
                pass
            if not stream.ended:
                stream.reconnects += 1
                await asyncio.sleep(0.2)  # EventSource's retry pause, not a wait for a condition
    return stream


async def wait_until(condition: Callable[[], object], what: str, timeout: float = 120.0,
                     every: float = 0.1) -> None:
    """Polls ``condition`` (a function, or a coroutine function) until its result is
    truthy; fails with ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:g} s: {what}")
        await asyncio.sleep(every)


async def stored(database_url: str, job_id: str) -> dict[str, int]:
    """URL -> number of rows in the processors' pages table."""
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch("SELECT url, count(*) AS n FROM pages WHERE job_id = $1 GROUP BY url", job_id)
    finally:
        await conn.close()
    return {r["url"]: int(r["n"]) for r in rows}


async def lease_owner(database_url: str, job_id: str) -> str:
    """The replica holding the job's lease in the job store, '' when none holds it."""
    conn = await asyncpg.connect(database_url)
    try:
        # Leases are in epoch seconds of the database clock (orchestrator/store/postgres.py).
        owner = await conn.fetchval("SELECT owner FROM jobs WHERE job_id = $1 "
                                    "AND lease_expires_at > extract(epoch FROM clock_timestamp())", job_id)
    finally:
        await conn.close()
    return str(owner or "")


async def buffered_events(redis_url: str, job_id: str, prefix: str = "docspasta:") -> tuple[int, str]:
    """(events in the bridges' Redis stream of the job, the terminal event its meta
    records or ''), read straight from Redis (bridge/buffer.py's keys)."""
    redis = aioredis.from_url(redis_url, decode_responses=True)
    try:
        count = int(await redis.xlen(f"{prefix}job:{{{job_id}}}:events"))
        terminal = await redis.hget(f"{prefix}job:{{{job_id}}}:meta", "terminal")
    finally:
        await redis.aclose()
    return count, str(terminal or "")


def fixture_urls(site: FixtureSite) -> set[str]:
    return {normalize(site.url(path)) for path in site.pages}


async def start_crawl(http: aiohttp.ClientSession, base: str, site: FixtureSite, **options: Any) -> dict[str, Any]:
    return await create_job(http, base, site.url("/docs/"), **{"concurrency": 8, "max_pages": 5000,
                                                               "use_sitemaps": False, **options})


async def replay(target: str, job_id: str, timeout: float = 60.0) -> list[dict[str, Any]]:
    """JobEvents from sequence 0 on one orchestrator replica, as the bridge's JSON."""
    async with grpc.aio.insecure_channel(target) as channel:
        stub = orchestrator_pb2_grpc.OrchestratorStub(channel)
        events = []
        async for event in stub.JobEvents(pb.JobEventsRequest(job_id=job_id, after_sequence=0), timeout=timeout):
            events.append(event_dict(event))
        return events


async def get_job(target: str, job_id: str) -> pb.Job:
    async with grpc.aio.insecure_channel(target) as channel:
        stub = orchestrator_pb2_grpc.OrchestratorStub(channel)
        job: pb.Job = await stub.GetJob(pb.GetJobRequest(job_id=job_id), timeout=10)
        return job


def check_replay_matches(stream: Stream, events: list[dict[str, Any]], replica: str) -> None:
    """A replay from 0 is the SSE stream, event for event."""
    assert [e["sequence"] for e in events] == stream.seqs, f"{replica}: the replay's sequences differ"
    assert [e["type"] for e in events] == stream.names, f"{replica}: the replay's event names differ"
    differ = [(e, d) for e, d in zip(events, stream.data, strict=True) if e != d]
    assert differ == [], f"{replica}: {len(differ)} events differ from the SSE stream, first {differ[0]}"
