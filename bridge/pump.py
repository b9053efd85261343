"""Exactly one bridge replica at a time copies a job's ``JobEvents`` stream into Redis.

The replica holds a lease (``SET NX PX``) and renews it with a compare-and-set script;
if it dies the lease runs out and the next replica to try (any reader of the job does,
every half lease) takes over, resuming the gRPC stream after the last buffered
sequence. Two pumps that overlap for a moment cannot duplicate anything: entry ids
are sequences and Redis refuses an id it already has.

The pump calls the orchestrator replica that runs the job (routed by the job id's
instance prefix, see bridge/clients.py). If that replica is gone (SIGKILLed, its pod
deleted: the stream broke and reconnecting keeps failing for ``lost_seconds``) or
answers NOT_FOUND (it restarted), the pump itself appends a terminal ``job_failed``
("the orchestrator running this job stopped") with the next sequence, so every
client's stream ends instead of hanging."""

from __future__ import annotations

import asyncio
import logging
import time

import grpc
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from bridge.buffer import EventBuffer
from bridge.clients import Clients
from docspasta import metrics
from docspasta.events import TERMINAL_EVENTS, event_json, event_name
from docspasta.v1 import orchestrator_pb2 as pb

log = logging.getLogger(__name__)

_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""
# gRPC codes that mean the orchestrator will never have this job's events.
_GONE = (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT)
STREAM_SLACK_SECONDS = 120.0
ORCHESTRATOR_STOPPED = "the orchestrator running this job stopped"


class LeaseLost(Exception):
    pass


class Lease:
    def __init__(self, redis: aioredis.Redis, key: str, owner: str, ttl_ms: int) -> None:
        self.redis = redis
        self.key = key
        self.owner = owner
        self.ttl_ms = ttl_ms

    async def acquire(self) -> bool:
        return bool(await self.redis.set(self.key, self.owner, nx=True, px=self.ttl_ms))

    async def renew(self) -> bool:
        return bool(await self.redis.eval(_RENEW, 1, self.key, self.owner, str(self.ttl_ms)))

    async def release(self) -> bool:
        return bool(await self.redis.eval(_RELEASE, 1, self.key, self.owner))


class Pumps:
    """This replica's running pumps, one task per job whose lease it holds."""

    def __init__(self, *, buffer: EventBuffer, clients: Clients, instance_id: str, lease_seconds: float,
                 rpc_timeout: float, lost_seconds: float = 10.0) -> None:
        self.buffer = buffer
        self.clients = clients
        self.instance_id = instance_id
        self.lease_ms = int(lease_seconds * 1000)
        self.rpc_timeout = rpc_timeout
        self.lost_seconds = lost_seconds
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._closing = False

    def running(self, job_id: str) -> bool:
        return job_id in self._tasks

    async def ensure(self, job_id: str, meta: dict[str, str] | None = None) -> bool:
        """Starts pumping ``job_id`` if it is not finished and no replica holds its lease.
        True when this replica pumps it."""
        if self._closing:
            return False
        if job_id in self._tasks:
            return True
        if meta is None:
            meta = await self.buffer.meta(job_id)
        if not meta or meta.get("terminal"):
            return False
        lease = Lease(self.buffer.redis, self.buffer.lease_key(job_id), self.instance_id, self.lease_ms)
        if not await lease.acquire():
            return False
        if job_id in self._tasks or self._closing:  # lost a race with ourselves
            return True
        log.info("pumping job events", extra={"job_id": job_id, "instance": self.instance_id})
        self._tasks[job_id] = asyncio.create_task(self._run(job_id, meta, lease), name=f"pump-{job_id}")
        return True

    async def _run(self, job_id: str, meta: dict[str, str], lease: Lease) -> None:
        body = asyncio.create_task(self._pump(job_id, meta))
        try:
            while not body.done():
                done, _ = await asyncio.wait({body}, timeout=self.lease_ms / 3000)
                if done:
                    break
                if not await lease.renew():
                    log.warning("pump lease lost", extra={"job_id": job_id})
                    body.cancel()
                    break
            await asyncio.gather(body, return_exceptions=True)
            if not body.cancelled() and body.exception() is not None:
                log.error("pump failed", exc_info=body.exception(), extra={"job_id": job_id})
        except asyncio.CancelledError:
            body.cancel()
            await asyncio.gather(body, return_exceptions=True)
            raise
        finally:
            self._tasks.pop(job_id, None)
            try:
                await asyncio.shield(lease.release())
            except Exception:  # noqa: BLE001 - the lease simply runs out
                log.debug("lease release failed", exc_info=True)

    async def _pump(self, job_id: str, meta: dict[str, str]) -> None:
        stub = self.clients.orchestrator_for(job_id, meta.get("orchestrator", ""))
        timeout = float(meta.get("timeout_seconds", "300")) + STREAM_SLACK_SECONDS
        loop = asyncio.get_running_loop()
        backoff = 0.1
        # When the stream to the orchestrator last broke with nothing received since
        # (None: it is healthy). Still broken after lost_seconds: the replica is gone.
        broken_since: float | None = None
        while True:
            try:
                last = await self.buffer.last(job_id)
                if last is not None and last.terminal:
                    return
                after = last.sequence if last is not None else 0
                call = stub.JobEvents(pb.JobEventsRequest(job_id=job_id, after_sequence=after), timeout=timeout)
                async for event in call:
                    broken_since = None
                    await self.buffer.append(event)
                    metrics.BUFFER_LAG.observe(max(0.0, time.time() - event.timestamp.ToNanoseconds() / 1e9))
                    backoff = 0.1
                    if event_name(event) in TERMINAL_EVENTS:
                        return
                broken_since = broken_since or loop.time()  # ended without a terminal event
            except grpc.aio.AioRpcError as exc:
                if exc.code() in _GONE:
                    if await self._stopped(job_id, f"it no longer has the job: {exc.details() or 'not found'}"):
                        return
                broken_since = broken_since or loop.time()
                log.warning("job events stream broke; resuming", extra={"job_id": job_id,
                                                                        "code": exc.code().name})
            except (RedisError, OSError) as exc:
                log.warning("buffer write failed; resuming", extra={"job_id": job_id, "error": str(exc)})
            if broken_since is not None and loop.time() - broken_since >= self.lost_seconds:
                if await self._stopped(job_id, f"unreachable for {loop.time() - broken_since:.0f} s"):
                    return
                broken_since = None
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)

    async def _stopped(self, job_id: str, detail: str) -> bool:
        """The orchestrator running the job is gone (SIGKILLed, its pod deleted) or no
        longer knows the job (it restarted or expired it): end the stream with a
        job_failed event of the next sequence so no client is left waiting. False when
        that sequence was taken meanwhile (the orchestrator is back: keep pumping)."""
        after = await self.buffer.last_sequence(job_id)
        event = pb.JobEvent(job_id=job_id, sequence=after + 1)
        event.timestamp.FromNanoseconds(time.time_ns())
        event.job_failed.error = f"{ORCHESTRATOR_STOPPED} ({detail})"
        stored = await self.buffer.append_raw(job_id, event.sequence, event_name(event), event_json(event),
                                              only_new=True)
        if stored:
            log.warning("orchestrator lost; job ended", extra={"job_id": job_id, "detail": detail})
        return stored

    async def close(self) -> None:
        """Stops every pump and releases its lease, so another replica takes over at once."""
        self._closing = True
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
