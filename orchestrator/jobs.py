"""The replica's side of the job store: start jobs (idempotent by request id, queued
when full), answer for any job from the store, run the jobs whose lease this replica
holds, renew those leases, adopt queued and orphaned jobs when there is room, delete
expired jobs, and on shutdown give every job up without ending it."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import secrets
import time
from collections.abc import AsyncGenerator

from docspasta.aio import wait_at_most
from docspasta.v1 import orchestrator_pb2 as pb
from docspasta.webhooks import TERMINAL_TYPES, InvalidWebhook, WebhookSpec, check_webhook
from orchestrator.clients import Backends
from orchestrator.eventlog import EventTail, follow, make_event
from orchestrator.job import TERMINAL_STATES, CrawlJob
from orchestrator.options import InvalidOptions, JobOptions, effective_options, validate_url
from orchestrator.scope import Scope
from orchestrator.settings import OrchestratorSettings
from orchestrator.store.base import (CANCELLED, CANCELLING, QUEUED, RUNNING, Finish, JobRecord, JobStore, LeaseLost,
                                     NewJob, StoredEvent)
from orchestrator.webhooks.messages import created_messages, terminal_message

log = logging.getLogger(__name__)

MAX_REQUEST_ID_LENGTH = 128
# How often finished jobs past their retention are deleted, at most.
RETENTION_SWEEP_SECONDS = 60.0
_STATES: dict[str, int] = {name.removeprefix("JOB_STATE_").lower(): value for name, value in pb.JobState.items()}


class RequestConflict(ValueError):
    """A request_id already used for a different request."""


class ShuttingDown(RuntimeError):
    pass


def request_digest(url: str, options: pb.JobOptions, webhook: pb.Webhook | None = None) -> str:
    data = url.encode() + b"\0" + options.SerializeToString(deterministic=True)
    if webhook is not None:  # only then: digests of jobs without one stay as they were
        data += b"\0webhook\0" + webhook.SerializeToString(deterministic=True)
    return hashlib.sha256(data).hexdigest()


def record_to_proto(record: JobRecord) -> pb.Job:
    checkpoint = json.loads(record.checkpoint or b"{}")
    options = pb.JobOptions.FromString(record.options)
    scope = checkpoint.get("scope")
    if not scope:
        effective = JobOptions.from_proto(options)
        scope = Scope(start_url=record.url, include=effective.include_patterns, exclude=effective.exclude_patterns,
                      allowed_domains=effective.allowed_domains).describe()
    job = pb.Job(job_id=record.job_id, url=record.url, state=_STATES.get(record.state, pb.JOB_STATE_UNSPECIFIED),  # type: ignore[arg-type]
                 options=options, totals=pb.Totals.FromString(record.totals), scope=scope,
                 last_sequence=record.last_sequence, error=record.error)
    job.created_at.FromNanoseconds(int(record.created_at * 1e9))
    return job


class JobRegistry:
    def __init__(self, *, settings: OrchestratorSettings, backends: Backends, store: JobStore) -> None:
        self._settings = settings
        self._backends = backends
        self.store = store
        # Unique per process: a restarted replica does not mistake its predecessor's leases for its own.
        self.owner = f"{settings.instance_id}-{os.getpid()}-{secrets.token_hex(3)}"
        self._jobs: dict[str, CrawlJob] = {}
        # Jobs this replica should run although adopt_orphans is off: its own queued jobs,
        # and orphans a StartJob asked for again.
        self._wanted: set[str] = set()
        self._accepting = True
        self.closing = asyncio.Event()
        self._kick = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Starts the reconciler and the lease renewal."""
        self._tasks = [asyncio.create_task(self._reconcile(), name="reconciler"),
                       asyncio.create_task(self._renew(), name="lease-renewal")]

    def new_job_id(self) -> str:
        # The replica's name first: it helps reading logs (routing no longer depends on it).
        return f"{self._settings.instance_id}-{secrets.token_hex(8)}"

    @property
    def active(self) -> int:
        return len(self._jobs)

    def running(self) -> list[CrawlJob]:
        return list(self._jobs.values())

    # -- the RPCs ----------------------------------------------------------------

    def _check_webhook(self, webhook: pb.Webhook) -> WebhookSpec:
        """The checked webhook, or InvalidOptions naming the field ("webhook.url: ...")."""
        from crawler.safety import PRIVATE_NETWORK_HINT, Blocked  # only for jobs with a webhook

        settings = self._settings.webhooks
        try:
            spec = check_webhook(webhook, max_pages=self._settings.limit_max_pages)
        except InvalidWebhook as exc:
            raise InvalidOptions(str(exc)) from None
        try:
            # The egress policy's static rules now (scheme, port, literal and local
            # addresses); resolved addresses are checked again at every delivery.
            settings.policy().check_url(spec.url)
        except Blocked as exc:
            reason = settings.private_hint() if str(exc) == PRIVATE_NETWORK_HINT else str(exc)
            raise InvalidOptions(f"webhook.url: {reason}") from None
        except ValueError as exc:
            raise InvalidOptions(f"webhook.url: {exc}") from None
        if not spec.secret and not settings.secrets:
            raise InvalidOptions("webhook.secret: required: this deployment has no webhook secret (WEBHOOK_SECRET)")
        return spec

    async def start_job(self, url: str, options: pb.JobOptions, request_id: str = "",
                        webhook: pb.Webhook | None = None) -> pb.Job:
        """Raises InvalidOptions for bad input, RequestConflict, ShuttingDown."""
        start_url = validate_url(url)
        effective = effective_options(options, self._settings)
        spec = self._check_webhook(webhook) if webhook is not None else None
        if len(request_id) > MAX_REQUEST_ID_LENGTH or not request_id.isprintable() or request_id != request_id.strip():
            raise InvalidOptions(f"request_id: at most {MAX_REQUEST_ID_LENGTH} printable characters, "
                                 "no surrounding spaces")
        if not self._accepting:
            raise ShuttingDown("this orchestrator is shutting down")
        digest = request_digest(url, options, webhook)
        job_id = self.new_job_id()
        scope = Scope(start_url=start_url, include=effective.include_patterns, exclude=effective.exclude_patterns,
                      allowed_domains=effective.allowed_domains).describe()

        def first_events(position: int) -> list[StoredEvent]:
            events = [make_event(job_id, 1, "stream_connected", pb.StreamConnected(
                url=start_url, options=effective.to_proto(), scope=scope))]
            if position:
                events.append(make_event(job_id, 2, "job_queued", pb.JobQueued(position=position)))
            return events

        totals = pb.Totals()
        record, created = await self.store.create_job(
            NewJob(job_id=job_id, request_id=request_id, request_hash=digest, url=start_url,
                   options=effective.to_proto().SerializeToString(), totals=totals.SerializeToString(),
                   checkpoint=b"{}", webhook=spec),
            owner=self.owner, lease_seconds=self._settings.lease_seconds,
            start=self._accepting and self.active < self._settings.max_active_jobs, first_events=first_events,
            outbox=created_messages(spec, job_id=job_id, url=start_url) if spec is not None else None)
        if not created:
            if record.request_hash != digest:
                raise RequestConflict("request_id: already used for a different request")
            if record.state in (RUNNING, CANCELLING) and record.job_id not in self._jobs:
                # Asked for again (a retry, the CLI's --resume): adopt it now if nobody runs it.
                self._wanted.add(record.job_id)
                await self._adopt([record.job_id])
            return await self.get(record.job_id) or record_to_proto(record)
        if record.state == RUNNING and record.owner == self.owner:
            await self._launch(record)
        else:
            self._wanted.add(job_id)
            self._kick.set()
        return await self.get(job_id) or record_to_proto(record)

    async def get(self, job_id: str) -> pb.Job | None:
        local = self._jobs.get(job_id)
        # The owner answers for a job it runs. An ended job is answered from its stored
        # row: the owner's state turns terminal before its final commit returns, and for
        # that moment its view would pair COMPLETED with an earlier commit's
        # last_sequence (a client resuming from the terminal event would be refused).
        if local is not None and not local.stopped and local.state not in TERMINAL_STATES:
            return local.to_proto()
        record = await self.store.get_job(job_id)
        return record_to_proto(record) if record is not None else None

    async def cancel(self, job_id: str) -> pb.Job | None:
        record = await self.store.request_cancel(job_id)
        if record is None:
            return None
        local = self._jobs.get(job_id)
        if local is not None:
            local.cancel()
        if record.state == QUEUED:
            totals = pb.Totals.FromString(record.totals)
            cancelled = pb.JobCancelled(totals=totals)
            event = make_event(job_id, record.last_sequence + 1, "job_cancelled", cancelled)
            spec = await self.store.webhook(job_id)
            outbox = [terminal_message("job_cancelled", cancelled, job_id=job_id, sequence=event.sequence,
                                       url=record.url)] if spec and spec.wants(TERMINAL_TYPES["job_cancelled"]) else []
            if not await self.store.append_unowned(job_id, state=QUEUED, events=[event],
                                                   finish=Finish(state=CANCELLED), outbox=outbox):
                await self.store.request_cancel(job_id)  # it started meanwhile: its owner ends it
            self._wanted.discard(job_id)
        got = await self.store.get_job(job_id)
        return record_to_proto(got or record)

    async def exists(self, job_id: str) -> bool:
        return await self.store.get_job(job_id) is not None

    async def follow(self, job_id: str, after_sequence: int) -> AsyncGenerator[pb.JobEvent, None]:
        """The job's events (from memory while this replica runs it and the follower keeps
        up, else from the store); ends early (``closing`` set) when this replica stops,
        after what was committed by then."""
        def tail() -> EventTail | None:
            job = self._jobs.get(job_id)
            return job.events.tail if job is not None else None

        # Closed also when the call itself is cancelled (the server stops): no read of
        # the store outlives it.
        async with contextlib.aclosing(follow(self.store, job_id, after_sequence, tail,
                                              closing=self.closing)) as events:
            async for event in events:
                yield event

    # -- running jobs ------------------------------------------------------------

    async def _launch(self, record: JobRecord) -> None:
        options = JobOptions.from_proto(pb.JobOptions.FromString(record.options))
        s = self._settings
        try:
            webhook = await self.store.webhook(record.job_id)
        except Exception:
            log.error("could not read job %s's webhook", record.job_id, exc_info=True)
            with contextlib.suppress(Exception):
                await self.store.release_lease(record.job_id, owner=self.owner)
            return
        job = CrawlJob(job_id=record.job_id, start_url=record.url, options=options, backends=self._backends,
                       store=self.store, owner=self.owner, last_sequence=record.last_sequence,
                       checkpoint=record.checkpoint, created_at=record.created_at, max_attempts=s.max_attempts,
                       process_concurrency=s.process_concurrency, tick_seconds=s.tick_seconds, settings=s,
                       webhook=webhook)
        self._jobs[record.job_id] = job
        try:
            await job.prepare()
        except LeaseLost:
            self._jobs.pop(record.job_id, None)
            return
        except Exception:
            log.error("could not resume job %s", record.job_id, exc_info=True)
            self._jobs.pop(record.job_id, None)
            with contextlib.suppress(Exception):
                await self.store.release_lease(record.job_id, owner=self.owner)
            return
        if not self._accepting:  # shutting down meanwhile: leave it to another replica
            self._jobs.pop(record.job_id, None)
            with contextlib.suppress(Exception):
                await self.store.release_lease(record.job_id, owner=self.owner)
            return
        if job.resumed:
            log.info("job adopted", extra={"job_id": record.job_id, "requeued": job.requeued})
        job.start()
        if record.state == CANCELLING:
            job.cancel()
        assert job.task is not None
        job.task.add_done_callback(lambda _: self._done(job))

    def _done(self, job: CrawlJob) -> None:
        if self._jobs.get(job.job_id) is job:
            del self._jobs[job.job_id]
        self._wanted.discard(job.job_id)
        self._kick.set()  # room for a queued job

    async def _adopt(self, job_ids: list[str] | None) -> None:
        room = self._settings.max_active_jobs - self.active
        if room <= 0 or not self._accepting or (job_ids is not None and not job_ids):
            return
        for record in await self.store.claim_jobs(owner=self.owner, lease_seconds=self._settings.lease_seconds,
                                                  limit=room, job_ids=job_ids):
            self._wanted.discard(record.job_id)
            if not self._accepting:
                await self.store.release_lease(record.job_id, owner=self.owner)
                continue
            await self._launch(record)

    async def _reconcile(self) -> None:
        last_sweep = 0.0
        while self._accepting:
            await wait_at_most(self._kick.wait(), self._settings.reconcile_seconds)
            self._kick.clear()
            try:
                await self._adopt(None if self._settings.adopt_orphans else sorted(self._wanted))
                if time.monotonic() - last_sweep >= min(RETENTION_SWEEP_SECONDS, self._settings.job_retention_seconds):
                    last_sweep = time.monotonic()
                    deleted = await self.store.delete_finished(
                        finished_before=time.time() - self._settings.job_retention_seconds)
                    if deleted:
                        log.info("expired jobs deleted", extra={"jobs": deleted})
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("reconciler pass failed", exc_info=True)

    async def _renew(self) -> None:
        last_ok = time.monotonic()
        while True:
            await asyncio.sleep(self._settings.lease_renew_seconds)
            jobs = [j for j in self._jobs.values() if not j.stopped and j.finished_at is None]
            if not jobs:
                last_ok = time.monotonic()
                continue
            try:
                held = await self.store.renew_leases(owner=self.owner, job_ids=[j.job_id for j in jobs],
                                                     lease_seconds=self._settings.lease_seconds)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("lease renewal failed", exc_info=True)
                if time.monotonic() - last_ok > self._settings.lease_seconds:
                    # Our leases may have expired: another replica may run these jobs now.
                    for job in jobs:
                        job.lose()
                continue
            last_ok = time.monotonic()
            for job in jobs:
                if job.job_id not in held and job.finished_at is None:
                    job.lose()

    async def shutdown(self) -> None:
        """Stops admitting, commits what every running job did and releases its lease:
        the jobs stay RUNNING in the store for another replica (or a restart) to continue."""
        self._accepting = False
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.gather(*(job.suspend() for job in list(self._jobs.values())))
        # Then the streams end (after the jobs' last commits, which they still send).
        self.closing.set()

