"""Exactly one bridge replica at a time copies a job's ``JobEvents`` stream into Redis.

The replica holds a lease (``SET NX PX``) and renews it with a compare-and-set script;
if it dies the lease runs out and the next replica to try (any reader of the job does,
every half lease) takes over, resuming the gRPC stream after the last buffered
sequence. Two pumps that overlap for a moment cannot duplicate anything: entry ids
are sequences and Redis refuses an id it already has."""

from __future__ import annotations

import asyncio
import logging
import time

import grpc
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from bridge.buffer import EventBuffer
from bridge.clients import Clients
from docspasta.events import TERMINAL_EVENTS, event_name
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
                 rpc_timeout: float) -> None:
        self.buffer = buffer
        self.clients = clients
        self.instance_id = instance_id
        self.lease_ms = int(lease_seconds * 1000)
        self.rpc_timeout = rpc_timeout
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
        stub = self.clients.orchestrator(meta["orchestrator"])
        timeout = float(meta.get("timeout_seconds", "300")) + STREAM_SLACK_SECONDS
        backoff = 0.1
        while True:
            try:
                last = await self.buffer.last(job_id)
                if last is not None and last.terminal:
                    return
                after = last.sequence if last is not None else 0
                call = stub.JobEvents(pb.JobEventsRequest(job_id=job_id, after_sequence=after), timeout=timeout)
                async for event in call:
                    await self.buffer.append(event)
                    backoff = 0.1
                    if event_name(event) in TERMINAL_EVENTS:
                        return
            except grpc.aio.AioRpcError as exc:
                if exc.code() in _GONE:
                    await self._gone(job_id, exc.details() or "")
                    return
                log.warning("job events stream broke; resuming", extra={"job_id": job_id,
                                                                        "code": exc.code().name})
            except (RedisError, OSError) as exc:
                log.warning("buffer write failed; resuming", extra={"job_id": job_id, "error": str(exc)})
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)

    async def _gone(self, job_id: str, detail: str) -> None:
        """The orchestrator no longer knows the job (it restarted or expired it): end the
        stream with a job_failed event so clients are not left waiting."""
        after = await self.buffer.last_sequence(job_id)
        event = pb.JobEvent(job_id=job_id, sequence=after + 1)
        event.timestamp.FromNanoseconds(time.time_ns())
        event.job_failed.error = f"the orchestrator no longer has this job ({detail or 'not found'})"
        await self.buffer.append(event)

    async def close(self) -> None:
        """Stops every pump and releases its lease, so another replica takes over at once."""
        self._closing = True
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
