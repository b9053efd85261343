"""Exactly one bridge replica at a time copies a job's ``JobEvents`` stream into Redis,
for every live job, whether or not anybody is reading it.

The replica holds a lease (``SET NX PX``) and renews it with a compare-and-set script.
Every job the bridge created is in a Redis registry of live jobs (``EventBuffer``'s
``live_key``) until its terminal event is buffered; the reconciler on every replica
walks that registry every half lease and adopts each job whose lease is free or has
run out (its pump's bridge died, or nobody has pumped it yet). Readers also try to
take the lease (bridge/fanout.py), so a streamed job is adopted at once. Two pumps
that overlap for a moment cannot duplicate anything: entry ids are sequences and
Redis refuses an id it already has.

Only the orchestrator says a job ended. A pump never invents a terminal event while
the job may be alive: when the stream breaks, ends early or cannot be opened, it
reconnects (backing off to 5 s) with ``after_sequence`` = the last buffered sequence,
first to the replica the job id names and then to any replica (``ORCHESTRATOR_TARGET``;
every replica serves every job from the job store), for as long as the job's keys
live. The one exception is a job the orchestrators no longer have at all: when
``JobEvents`` *and* ``GetJob`` answer ``NOT_FOUND`` (the store's retention deleted it,
or it never existed there), the pump appends one ``job_failed`` saying exactly that
(``JOB_GONE``), so readers do not wait for events that can never come."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterable, AsyncIterator

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
# gRPC codes after which the pump asks GetJob whether the job still exists anywhere.
_MAYBE_GONE = (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT)
# A JobEvents call is re-opened after this long even if healthy (deadlines on every
# call; servers also recycle connections every few minutes, which the pump resumes).
STREAM_DEADLINE_SECONDS = 1800.0
MAX_BACKOFF_SECONDS = 5.0
# Most events the pump stores in one Redis round trip.
PUMP_BATCH = 200
# How many registry entries one reconcile pass checks per Redis round trip.
RECONCILE_BATCH = 500
JOB_GONE = ("the orchestrators no longer have this job (its retention expired or it was deleted); "
            "the events buffered here are all that remain of it")


async def batches(call: AsyncIterable[pb.JobEvent], limit: int = PUMP_BATCH,
                  ) -> AsyncIterator[list[pb.JobEvent]]:
    """The stream's events in lists of what has already arrived (at most ``limit``),
    so the buffer stores each list in one round trip; a list ends at a terminal event.
    A reader task keeps receiving while a list is being stored; its error (the stream
    broke) comes out here after the events received before it."""
    queue: asyncio.Queue[pb.JobEvent | BaseException | None] = asyncio.Queue(maxsize=limit * 2)

    async def read() -> None:
        try:
            async for event in call:
                await queue.put(event)
            await queue.put(None)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, in order
            await queue.put(exc)

    reader = asyncio.create_task(read())
    try:
        while True:
            batch: list[pb.JobEvent] = []
            item = await queue.get()
            while isinstance(item, pb.JobEvent):
                batch.append(item)
                if len(batch) >= limit or event_name(item) in TERMINAL_EVENTS or queue.empty():
                    break
                item = queue.get_nowait()
            if batch:
                yield batch
            if isinstance(item, pb.JobEvent):
                continue
            if item is None:  # the stream ended
                return
            raise item
    finally:
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)


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
    """This replica's running pumps, one task per job whose lease it holds, and the
    reconciler that adopts orphaned jobs."""

    def __init__(self, *, buffer: EventBuffer, clients: Clients, instance_id: str, lease_seconds: float,
                 rpc_timeout: float) -> None:
        self.buffer = buffer
        self.clients = clients
        self.instance_id = instance_id
        self.lease_ms = int(lease_seconds * 1000)
        self.rpc_timeout = rpc_timeout
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._reconciler: asyncio.Task[None] | None = None
        self._closing = False

    def running(self, job_id: str) -> bool:
        return job_id in self._tasks

    @property
    def count(self) -> int:
        return len(self._tasks)

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
        if job_id in self._tasks:  # lost a race with ourselves (the lease is ours either way)
            return True
        if self._closing:
            await lease.release()
            return False
        log.info("pumping job events", extra={"job_id": job_id, "instance": self.instance_id})
        self._tasks[job_id] = asyncio.create_task(self._run(job_id, meta, lease), name=f"pump-{job_id}")
        return True

    # -- the reconciler -----------------------------------------------------------------

    def start_reconciler(self) -> None:
        if self._reconciler is None:
            self._reconciler = asyncio.create_task(self._reconcile_forever(), name="pump-reconciler")

    async def _reconcile_forever(self) -> None:
        interval = self.lease_ms / 2000
        while not self._closing:
            try:
                await self.reconcile()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - Redis hiccup: the next pass retries
                log.warning("reconcile pass failed", exc_info=True)
            # Jitter, so replicas do not all race for the same orphan at the same instant.
            await asyncio.sleep(interval * random.uniform(0.75, 1.25))

    async def reconcile(self) -> int:
        """One pass over the registry of live jobs: adopts every job whose lease is free
        (or expired), drops entries whose job keys expired. Returns how many it adopted."""
        adopted = 0
        cursor = 0
        redis = self.buffer.redis
        while True:
            cursor, entries = await self.buffer.live_jobs(cursor, count=RECONCILE_BATCH)
            candidates = [j for j in entries if j not in self._tasks]
            if candidates:
                async with redis.pipeline(transaction=False) as pipe:
                    for job_id in candidates:
                        pipe.exists(self.buffer.lease_key(job_id))
                    leased = await pipe.execute()
                for job_id, held in zip(candidates, leased, strict=True):
                    if held or self._closing:
                        continue
                    meta = await self.buffer.meta(job_id)
                    if meta is None or meta.get("terminal"):
                        await self.buffer.forget_live(job_id)
                        continue
                    # A job created a moment ago is its creating bridge's to pump (it takes
                    # the lease right after registering it); orphans are older than that.
                    if time.time() * 1000 - int(meta.get("created_ms") or 0) < self.lease_ms:
                        continue
                    if await self.ensure(job_id, meta):
                        log.info("adopted orphaned job", extra={"job_id": job_id, "instance": self.instance_id})
                        adopted += 1
            if cursor == 0:
                return adopted

    # -- one pump -------------------------------------------------------------------------

    async def _run(self, job_id: str, meta: dict[str, str], lease: Lease) -> None:
        body = asyncio.create_task(self._pump(job_id, meta))
        try:
            while not body.done():
                done, _ = await asyncio.wait({body}, timeout=self.lease_ms / 3000)
                if done:
                    break
                try:
                    renewed = await lease.renew()
                except (RedisError, OSError):
                    # Keep pumping: Redis may be back before the lease runs out; if not,
                    # another replica's pump overlaps harmlessly (XADD refuses duplicates).
                    log.warning("pump lease renewal failed", exc_info=True, extra={"job_id": job_id})
                    continue
                if not renewed:
                    # Storing the terminal event deletes the lease: a renewal racing with
                    # it fails while the body is about to return, which is no loss.
                    await asyncio.wait({body}, timeout=0.5)
                    if body.done():
                        break
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
        targets = self.clients.job_targets(job_id, meta.get("orchestrator", ""))
        attempt = 0
        backoff = 0.1
        while True:
            target = targets[attempt % len(targets)]
            stub = self.clients.orchestrator(target)
            received = False
            try:
                last = await self.buffer.last(job_id)
                if last is not None and last.terminal:
                    return
                after = last.sequence if last is not None else 0
                call = stub.JobEvents(pb.JobEventsRequest(job_id=job_id, after_sequence=after),
                                      timeout=STREAM_DEADLINE_SECONDS)
                async for batch in batches(call):
                    received = True
                    await self.buffer.append_batch(batch)
                    now = time.time()
                    for event in batch:
                        metrics.BUFFER_LAG.observe(max(0.0, now - event.timestamp.ToNanoseconds() / 1e9))
                    if event_name(batch[-1]) in TERMINAL_EVENTS:
                        return
                log.info("job events stream ended before the job did; resuming", extra={"job_id": job_id})
            except grpc.aio.AioRpcError as exc:
                if exc.code() in _MAYBE_GONE and await self._gone(job_id, targets, exc):
                    return
                log.warning("job events stream broke; resuming", extra={
                    "job_id": job_id, "target": target, "code": exc.code().name})
            except (RedisError, OSError) as exc:
                log.warning("buffer write failed; resuming", extra={"job_id": job_id, "error": str(exc)})
            if received:
                backoff = 0.1  # it was healthy: resume at once, on the same replica
            else:
                attempt += 1  # nothing from this replica: the next try goes to another one
                await asyncio.sleep(backoff * random.uniform(0.5, 1.0))
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
            if not await self.buffer.meta(job_id):
                log.warning("job keys expired while pumping; stopping", extra={"job_id": job_id})
                return

    async def _gone(self, job_id: str, targets: list[str], exc: grpc.aio.AioRpcError) -> bool:
        """True (and the honest terminal event buffered) only when every orchestrator we
        can ask says the job does not exist: JobEvents said NOT_FOUND, and GetJob says
        NOT_FOUND on every target too. Anything else (a replica that is down, slow,
        or that knows the job) keeps the pump going."""
        for target in targets:
            try:
                job = await self.clients.orchestrator(target).GetJob(
                    pb.GetJobRequest(job_id=job_id), timeout=self.rpc_timeout)
            except grpc.aio.AioRpcError as check:
                if check.code() in _MAYBE_GONE:
                    continue
                return False
            log.info("orchestrator knows the job after all; resuming", extra={
                "job_id": job_id, "state": pb.JobState.Name(job.state)})
            return False
        after = await self.buffer.last_sequence(job_id)
        event = pb.JobEvent(job_id=job_id, sequence=after + 1)
        event.timestamp.FromNanoseconds(time.time_ns())
        event.job_failed.error = f"{JOB_GONE} ({exc.details() or 'not found'})"
        stored = await self.buffer.append_raw(job_id, event.sequence, event_name(event), event_json(event),
                                              only_new=True)
        if stored:
            log.warning("job unknown to the orchestrators; stream ended", extra={"job_id": job_id})
        return stored

    async def close(self) -> None:
        """Stops every pump and releases its lease, so another replica takes over at once."""
        self._closing = True
        tasks = list(self._tasks.values())
        if self._reconciler is not None:
            tasks.append(self._reconciler)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
