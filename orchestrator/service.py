"""The Orchestrator gRPC servicer. Every call is answered from the job store, so any
replica answers for any job."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc

from docspasta.ids import JOB_ID_RULE, valid_job_id
from docspasta.v1 import orchestrator_pb2 as pb, orchestrator_pb2_grpc
from orchestrator.jobs import JobRegistry, RequestConflict, ShuttingDown
from orchestrator.options import InvalidOptions


class OrchestratorService(orchestrator_pb2_grpc.OrchestratorServicer):
    def __init__(self, *, registry: JobRegistry) -> None:
        self._registry = registry

    @staticmethod
    async def _check_id(job_id: str, context: grpc.aio.ServicerContext[object, object]) -> None:
        if not valid_job_id(job_id):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, JOB_ID_RULE)

    @staticmethod
    async def _found(job: pb.Job | None, job_id: str, context: grpc.aio.ServicerContext[object, object]) -> pb.Job:
        if job is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no job {job_id!r}")
        assert job is not None
        return job

    async def StartJob(self, request: pb.StartJobRequest,
                       context: grpc.aio.ServicerContext[pb.StartJobRequest, pb.StartJobResponse],
                       ) -> pb.StartJobResponse:
        try:
            job = await self._registry.start_job(request.url, request.options, request.request_id)
        except (InvalidOptions, RequestConflict) as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        except ShuttingDown as exc:
            await context.abort(grpc.StatusCode.UNAVAILABLE, str(exc))
        return pb.StartJobResponse(job_id=job.job_id, job=job)

    async def GetJob(self, request: pb.GetJobRequest,
                     context: grpc.aio.ServicerContext[pb.GetJobRequest, pb.Job]) -> pb.Job:
        await self._check_id(request.job_id, context)  # type: ignore[arg-type]
        return await self._found(await self._registry.get(request.job_id), request.job_id,
                                 context)  # type: ignore[arg-type]

    async def CancelJob(self, request: pb.CancelJobRequest,
                        context: grpc.aio.ServicerContext[pb.CancelJobRequest, pb.Job]) -> pb.Job:
        await self._check_id(request.job_id, context)  # type: ignore[arg-type]
        return await self._found(await self._registry.cancel(request.job_id), request.job_id,
                                 context)  # type: ignore[arg-type]

    async def JobEvents(self, request: pb.JobEventsRequest,
                        context: grpc.aio.ServicerContext[pb.JobEventsRequest, pb.JobEvent],
                        ) -> AsyncIterator[pb.JobEvent]:
        if request.after_sequence < 0:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "after_sequence: must not be negative")
        await self._check_id(request.job_id, context)  # type: ignore[arg-type]
        if not await self._registry.exists(request.job_id):
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no job {request.job_id!r}")
        async for event in self._registry.follow(request.job_id, request.after_sequence):
            yield event
        if self._registry.closing.is_set():
            # The stream ends before the job: the client reconnects (to any replica) with
            # after_sequence = the last sequence it received.
            await context.abort(grpc.StatusCode.UNAVAILABLE, "this orchestrator is stopping; reconnect")
