"""The Orchestrator gRPC servicer. Every call is answered from the job store, so any
replica answers for any job."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc

from docspasta import errors
from docspasta.ids import JOB_ID_RULE, valid_job_id
from docspasta.v1 import orchestrator_pb2 as pb, orchestrator_pb2_grpc
from orchestrator.job import TERMINAL_STATES
from orchestrator.jobs import JobRegistry, RequestConflict, ShuttingDown
from orchestrator.options import InvalidOptions




class OrchestratorService(orchestrator_pb2_grpc.OrchestratorServicer):
    def __init__(self, *, registry: JobRegistry) -> None:
        self._registry = registry

    @staticmethod
    async def _check_id(job_id: str, context: grpc.aio.ServicerContext[object, object]) -> None:
        if not valid_job_id(job_id):
            await errors.abort_invalid_message(context, JOB_ID_RULE)

    @staticmethod
    async def _found(job: pb.Job | None, job_id: str, context: grpc.aio.ServicerContext[object, object]) -> pb.Job:
        if job is None:
            await errors.abort(context, grpc.StatusCode.NOT_FOUND, f"no job {job_id!r}",
                               reason=errors.JOB_NOT_FOUND, metadata={"job_id": job_id})
        assert job is not None
        return job

    async def StartJob(self, request: pb.StartJobRequest,
                       context: grpc.aio.ServicerContext[pb.StartJobRequest, pb.StartJobResponse],
                       ) -> pb.StartJobResponse:
        try:
            job = await self._registry.start_job(request.url, request.options, request.request_id,
                                                 request.webhook if request.HasField("webhook") else None)
        except (InvalidOptions, RequestConflict) as exc:
            await errors.abort_invalid_message(context, str(exc))
        except ShuttingDown as exc:
            # With RetryInfo: another replica takes the call (the channel retries UNAVAILABLE).
            await errors.abort(context, grpc.StatusCode.UNAVAILABLE, str(exc), reason=errors.SHUTTING_DOWN)
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
            await errors.abort_invalid(context, "after_sequence", "must not be negative")
        await self._check_id(request.job_id, context)  # type: ignore[arg-type]
        job = await self._found(await self._registry.get(request.job_id), request.job_id,
                                context)  # type: ignore[arg-type]
        if job.state in TERMINAL_STATES and request.after_sequence > job.last_sequence:
            # A finished job has no event after its last: waiting would never end.
            await errors.abort(
                context, grpc.StatusCode.OUT_OF_RANGE,
                f"after_sequence {request.after_sequence} is beyond the job's last sequence {job.last_sequence}",
                reason=errors.SEQUENCE_OUT_OF_RANGE,
                metadata={"job_id": request.job_id, "last_sequence": str(job.last_sequence)})
        async for event in self._registry.follow(request.job_id, request.after_sequence):
            yield event
        if self._registry.closing.is_set():
            # The stream ends before the job: the client reconnects (to any replica) with
            # after_sequence = the last sequence it received.
            await errors.abort(context, grpc.StatusCode.UNAVAILABLE, "this orchestrator is stopping; reconnect",
                               reason=errors.SHUTTING_DOWN, retry_after=0.0)
