"""The registry of a replica's jobs: start, look up, cancel, expire, shut down."""

from __future__ import annotations

import asyncio
import secrets
import time

from docspasta.v1 import orchestrator_pb2
from orchestrator.clients import Backends
from orchestrator.job import CrawlJob
from orchestrator.options import effective_options, validate_url
from orchestrator.settings import OrchestratorSettings


class TooManyJobs(RuntimeError):
    pass


class JobRegistry:
    def __init__(self, *, settings: OrchestratorSettings, backends: Backends) -> None:
        self._settings = settings
        self._backends = backends
        self._jobs: dict[str, CrawlJob] = {}
        self._accepting = True

    def new_job_id(self) -> str:
        # The replica's identity first, so a bridge can route the job back to it.
        return f"{self._settings.instance_id}-{secrets.token_hex(8)}"

    def start(self, url: str, options: orchestrator_pb2.JobOptions) -> CrawlJob:
        """Raises InvalidOptions for bad input, TooManyJobs when full or stopping."""
        start_url = validate_url(url)
        effective = effective_options(options, self._settings)
        self._expire()
        if not self._accepting:
            raise TooManyJobs("this orchestrator is shutting down")
        if sum(1 for j in self._jobs.values() if j.finished_at is None) >= self._settings.max_active_jobs:
            raise TooManyJobs(f"{self._settings.max_active_jobs} jobs are already running")
        job = CrawlJob(job_id=self.new_job_id(), start_url=start_url, options=effective, backends=self._backends,
                       max_attempts=self._settings.max_attempts,
                       process_concurrency=self._settings.process_concurrency,
                       tick_seconds=self._settings.tick_seconds, settings=self._settings)
        self._jobs[job.job_id] = job
        job.start()
        return job

    def get(self, job_id: str) -> CrawlJob | None:
        return self._jobs.get(job_id)

    @property
    def active(self) -> int:
        return sum(1 for j in self._jobs.values() if j.finished_at is None)

    def running(self) -> list[CrawlJob]:
        return [j for j in self._jobs.values() if j.finished_at is None]

    def _expire(self) -> None:
        cutoff = time.time() - self._settings.job_retention_seconds
        for job_id in [j.job_id for j in self._jobs.values() if j.finished_at and j.finished_at < cutoff]:
            del self._jobs[job_id]

    async def shutdown(self) -> None:
        """Stops accepting jobs and ends the running ones with a terminal event that says why."""
        self._accepting = False
        running = [j for j in self._jobs.values() if j.finished_at is None]
        await asyncio.gather(*(j.shutdown("the orchestrator shut down before the job finished") for j in running))
