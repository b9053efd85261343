"""A job's events in a Redis Stream, and its metadata in a Redis hash.

Entry ids are ``<sequence>-0``, so Redis itself refuses to store an event twice: an
XADD with an id equal to or below the stream's top is rejected, which the buffer
treats as "already stored". The stream is capped (MAXLEN) and both keys expire a
while after the terminal event. Keys carry the job id in a hash tag so one job's
keys live on one Redis Cluster slot. One set (``live_key``) lists the jobs whose
terminal event is not buffered yet: the registry the pump reconciler walks."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from docspasta.events import TERMINAL_EVENTS, event_json, event_name
from docspasta.v1 import orchestrator_pb2 as pb


@dataclass(slots=True)
class Entry:
    """One buffered event: its sequence, event name and JSON (the SSE ``data:``)."""

    sequence: int
    name: str
    data: str
    _wire: bytes = field(default=b"", repr=False)

    @property
    def terminal(self) -> bool:
        return self.name in TERMINAL_EVENTS

    @property
    def wire(self) -> bytes:
        """The SSE frame, encoded once and shared by every client."""
        if not self._wire:
            self._wire = f"id: {self.sequence}\nevent: {self.name}\ndata: {self.data}\n\n".encode()
        return self._wire


def _entry(raw: Any) -> Entry:
    entry_id, fields = raw
    return Entry(sequence=int(entry_id.split("-", 1)[0]), name=fields.get("e", ""), data=fields.get("d", "{}"))


def _is_duplicate(exc: ResponseError) -> bool:
    return "equal or smaller" in str(exc)


class EventBuffer:
    def __init__(self, redis: aioredis.Redis, *, prefix: str, maxlen: int, retention_seconds: float,
                 job_ttl_seconds: float, blocking_redis: aioredis.Redis | None = None) -> None:
        self.redis = redis
        # Blocking XREADs hold a connection each: a separate pool keeps them from starving commands.
        self.blocking_redis = blocking_redis or redis
        self.prefix = prefix
        self.maxlen = maxlen
        self.retention_ms = int(retention_seconds * 1000)
        self.job_ttl_ms = int(job_ttl_seconds * 1000)

    def events_key(self, job_id: str) -> str:
        return f"{self.prefix}job:{{{job_id}}}:events"

    def meta_key(self, job_id: str) -> str:
        return f"{self.prefix}job:{{{job_id}}}:meta"

    def lease_key(self, job_id: str) -> str:
        return f"{self.prefix}job:{{{job_id}}}:lease"

    @property
    def live_key(self) -> str:
        return f"{self.prefix}live-jobs"

    # -- metadata ---------------------------------------------------------------------

    async def create_job(self, job_id: str, *, token_hash: str, url: str, orchestrator: str,
                         timeout_seconds: float) -> None:
        key = self.meta_key(job_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping={"token_hash": token_hash, "url": url, "orchestrator": orchestrator,
                                    "timeout_seconds": repr(float(timeout_seconds)),
                                    "created_ms": str(int(time.time() * 1000))})
            pipe.pexpire(key, self.job_ttl_ms)
            await pipe.execute()
        await self.redis.sadd(self.live_key, job_id)

    async def live_jobs(self, cursor: int = 0, *, count: int = 500) -> tuple[int, list[str]]:
        """One SSCAN step over the registry of unfinished jobs: (next cursor, job ids);
        cursor 0 back means the scan is complete."""
        result: Any = await self.redis.sscan(self.live_key, cursor, count=count)
        next_cursor, members = result
        return int(next_cursor), [str(m) for m in members]

    async def forget_live(self, job_id: str) -> None:
        await self.redis.srem(self.live_key, job_id)

    async def meta(self, job_id: str) -> dict[str, str] | None:
        data: Any = await self.redis.hgetall(self.meta_key(job_id))
        return {str(k): str(v) for k, v in data.items()} if data else None

    # -- events -----------------------------------------------------------------------

    async def append(self, event: pb.JobEvent) -> bool:
        return await self.append_raw(event.job_id, event.sequence, event_name(event), event_json(event))

    async def append_raw(self, job_id: str, sequence: int, name: str, data: str, *, only_new: bool = False) -> bool:
        """Stores the event; False when it was already stored (same or older sequence).
        With ``only_new`` an event refused as a duplicate changes nothing else either
        (the bridge's own terminal event must not finish a job whose sequence was taken)."""
        if sequence < 1:
            raise ValueError("sequence must be at least 1")
        key = self.events_key(job_id)
        stored = True
        try:
            await self.redis.xadd(key, {"e": name, "d": data}, id=f"{sequence}-0",
                                  maxlen=self.maxlen, approximate=False)
        except ResponseError as exc:
            if not _is_duplicate(exc):
                raise
            stored = False
        if name in TERMINAL_EVENTS and (stored or not only_new):
            await self._finish(job_id, sequence, name, data)
        elif stored and sequence == 1:
            await self.redis.pexpire(key, self.job_ttl_ms)
        return stored

    async def append_batch(self, events: list[pb.JobEvent]) -> int:
        """Stores consecutive events of one job in one pipelined round trip (the pump's
        path: on a busy machine every round trip waits for two processes to be
        scheduled, so one per event caps the rate). Same rules as ``append`` for each
        event; returns how many were new."""
        if not events:
            return 0
        job_id = events[0].job_id
        key = self.events_key(job_id)
        items = [(e.sequence, event_name(e), event_json(e)) for e in events]
        if any(sequence < 1 for sequence, _, _ in items):
            raise ValueError("sequence must be at least 1")
        async with self.redis.pipeline(transaction=False) as pipe:
            for sequence, name, data in items:
                pipe.xadd(key, {"e": name, "d": data}, id=f"{sequence}-0", maxlen=self.maxlen, approximate=False)
            results = await pipe.execute(raise_on_error=False)
        stored = 0
        for (sequence, name, data), result in zip(items, results, strict=True):
            if isinstance(result, ResponseError):
                if not _is_duplicate(result):
                    raise result
                new = False
            else:
                new = True
                stored += 1
            if name in TERMINAL_EVENTS:
                await self._finish(job_id, sequence, name, data)
            elif new and sequence == 1:
                await self.redis.pexpire(key, self.job_ttl_ms)
        return stored

    async def _finish(self, job_id: str, sequence: int, name: str, data: str) -> None:
        meta = self.meta_key(job_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(meta, mapping={"terminal": name, "terminal_sequence": str(sequence), "final": data})
            pipe.pexpire(meta, self.retention_ms)
            pipe.pexpire(self.events_key(job_id), self.retention_ms)
            pipe.delete(self.lease_key(job_id))
            await pipe.execute()
        # Outside the transaction: the registry is one key for all jobs (another slot).
        await self.forget_live(job_id)

    async def last(self, job_id: str) -> Entry | None:
        raw: Any = await self.redis.xrevrange(self.events_key(job_id), "+", "-", count=1)
        return _entry(raw[0]) if raw else None

    async def last_sequence(self, job_id: str) -> int:
        entry = await self.last(job_id)
        return entry.sequence if entry else 0

    async def first_sequence(self, job_id: str) -> int:
        raw: Any = await self.redis.xrange(self.events_key(job_id), "-", "+", count=1)
        return _entry(raw[0]).sequence if raw else 0

    async def read_after(self, job_id: str, after: int, count: int = 500) -> list[Entry]:
        raw: Any = await self.redis.xrange(self.events_key(job_id), f"{after + 1}-0", "+", count=count)
        return [_entry(r) for r in raw]

    async def read_blocking(self, job_id: str, after: int, *, block_ms: int, count: int = 500) -> list[Entry]:
        """Entries after ``after``, waiting up to ``block_ms`` for the first one."""
        result: Any = await self.blocking_redis.xread({self.events_key(job_id): f"{after}-0"}, count=count, block=block_ms)
        if not result:
            return []
        if isinstance(result, dict):  # RESP3
            streams = list(result.values())
            return [_entry(r) for r in streams[0][0]] if streams else []
        return [_entry(r) for r in result[0][1]]

    async def ttl_ms(self, job_id: str) -> tuple[int, int]:
        """PTTL of the events stream and the metadata hash (-1: none, -2: missing)."""
        return (int(await self.redis.pttl(self.events_key(job_id))),
                int(await self.redis.pttl(self.meta_key(job_id))))


def final_totals(meta: dict[str, str]) -> dict[str, Any]:
    try:
        final = json.loads(meta.get("final", "{}"))
    except ValueError:
        return {}
    totals = final.get("totals", {}) if isinstance(final, dict) else {}
    return totals if isinstance(totals, dict) else {}
