"""docspasta.v2.OrchestratorService: the v1 orchestrator's calls, in v2 messages. A job
is one job under both APIs (same store, same events); v2 adds the finish time the job
store keeps."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import grpc

from docspasta import errors
from docspasta.v1 import orchestrator_pb2 as v1
from docspasta.v2 import orchestrator_pb2 as v2, orchestrator_pb2_grpc as v2_grpc
from docspasta.v2convert import duration_problem
from docspasta.v2errors import V2Context
from orchestrator.job import TERMINAL_STATES
from orchestrator.jobs import JobRegistry
from orchestrator.service import OrchestratorService
from orchestrator.v2 import convert


class OrchestratorServiceV2(v2_grpc.OrchestratorServiceServicer):
    def __init__(self, *, v1: OrchestratorService, registry: JobRegistry) -> None:
        self._v1 = v1
        self._registry = registry

    @staticmethod
    def _context(context: grpc.aio.ServicerContext[object, object]) -> V2Context:
        return V2Context(context, fields=convert.FIELDS)

    async def _job(self, job: v1.Job) -> v2.Job:
        if job.state in TERMINAL_STATES:
            # v1 already answers an ended job from its stored row (JobRegistry.get); the
            # row also holds what v1 cannot say: when the job ended.
            record = await self._registry.store.get_job(job.job_id)
            if record is not None:
                return convert.job(job, finished_at=record.finished_at)
        return convert.job(job)

    async def StartJob(self, request: v2.StartJobRequest,
                       context: grpc.aio.ServicerContext[v2.StartJobRequest, v2.StartJobResponse],
                       ) -> v2.StartJobResponse:
        ctx = self._context(context).as_context()  # type: ignore[arg-type]
        for field, value in (("options.timeout", request.options.timeout),
                             ("webhook.progress_interval", request.webhook.progress_interval)):
            if problem := duration_problem(value):
                await errors.abort_invalid(ctx, field, problem)
        # Everything else (url, options' bounds, request_id, webhook) is validated once,
        # by the v1 implementation, and refused in v2 terms.
        response = await self._v1.StartJob(convert.start_job_request(request), ctx)
        return v2.StartJobResponse(job_id=response.job_id, job=await self._job(response.job))

    async def GetJob(self, request: v2.GetJobRequest,
                     context: grpc.aio.ServicerContext[v2.GetJobRequest, v2.Job]) -> v2.Job:
        ctx = self._context(context).as_context()  # type: ignore[arg-type]
        return await self._job(await self._v1.GetJob(v1.GetJobRequest(job_id=request.job_id), ctx))

    async def CancelJob(self, request: v2.CancelJobRequest,
                        context: grpc.aio.ServicerContext[v2.CancelJobRequest, v2.Job]) -> v2.Job:
        ctx = self._context(context).as_context()  # type: ignore[arg-type]
        return await self._job(await self._v1.CancelJob(v1.CancelJobRequest(job_id=request.job_id), ctx))

    async def JobEvents(self, request: v2.JobEventsRequest,
                        context: grpc.aio.ServicerContext[v2.JobEventsRequest, v2.JobEventsResponse],
                        ) -> AsyncIterator[v2.JobEventsResponse]:
        ctx = self._context(context).as_context()  # type: ignore[arg-type]
        # The replay, the follow, OUT_OF_RANGE and the cut at shutdown are v1's.
        events = self._v1.JobEvents(convert.job_events_request(request), ctx)
        async with contextlib.aclosing(events):  # type: ignore[type-var]
            async for event in events:
                yield convert.event(event)
