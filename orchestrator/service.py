"""The Orchestrator gRPC servicer."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc

from docspasta.ids import JOB_ID_RULE, valid_job_id
from docspasta.v1 import orchestrator_pb2 as pb, orchestrator_pb2_grpc
from orchestrator.job import CrawlJob
from orchestrator.jobs import JobRegistry, TooManyJobs
from orchestrator.options import InvalidOptions



class OrchestratorService(orchestrator_pb2_grpc.OrchestratorServicer):
    def __init__(self, *, registry: JobRegistry) -> None:
        self._registry = registry

    async def _job(self, job_id: str, context: grpc.aio.ServicerContext[object, object]) -> CrawlJob:
        if not valid_job_id(job_id):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, JOB_ID_RULE)
        job = self._registry.get(job_id)
        if job is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no job {job_id!r}")
        assert job is not None
        return job

    async def StartJob(self, request: pb.StartJobRequest,
                       context: grpc.aio.ServicerContext[pb.StartJobRequest, pb.StartJobResponse],
                       ) -> pb.StartJobResponse:
        try:
            job = self._registry.start(request.url, request.options)
        except InvalidOptions as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        except TooManyJobs as exc:
            await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, str(exc))
        return pb.StartJobResponse(job_id=job.job_id, job=job.to_proto())

    async def GetJob(self, request: pb.GetJobRequest,
                     context: grpc.aio.ServicerContext[pb.GetJobRequest, pb.Job]) -> pb.Job:
        return (await self._job(request.job_id, context)).to_proto()  # type: ignore[arg-type]

    async def CancelJob(self, request: pb.CancelJobRequest,
                        context: grpc.aio.ServicerContext[pb.CancelJobRequest, pb.Job]) -> pb.Job:
        job = await self._job(request.job_id, context)  # type: ignore[arg-type]
        job.cancel()
        return job.to_proto()

    async def JobEvents(self, request: pb.JobEventsRequest,
                        context: grpc.aio.ServicerContext[pb.JobEventsRequest, pb.JobEvent],
                        ) -> AsyncIterator[pb.JobEvent]:
        if request.after_sequence < 0:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "after_sequence: must not be negative")
        job = await self._job(request.job_id, context)  # type: ignore[arg-type]
        async for event in job.events.follow(request.after_sequence):
            yield event
