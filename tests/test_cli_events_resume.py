"""`docspasta crawl` follows its job's events across a stream that ends early with
UNAVAILABLE (the server recycles every connection after a few minutes; a crawl longer
than that used to fail with "max connection age" and write nothing): it reopens the
stream after the last event it received, as the JobEvents contract asks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
from rich.console import Console

from docspasta.crawl_command import ProgressView, RunState, _follow
from docspasta.v1 import orchestrator_pb2 as pb, orchestrator_pb2_grpc

JOB = "local-0123456789abcdef"


def event(sequence: int) -> pb.JobEvent:
    e = pb.JobEvent(job_id=JOB, sequence=sequence)
    if sequence == 6:
        e.job_completed.CopyFrom(pb.JobCompleted())
    else:
        e.progress.CopyFrom(pb.Progress(processed=sequence))
    return e


class CutOrchestrator(orchestrator_pb2_grpc.OrchestratorServicer):
    """Sends two events per stream, then ends it with UNAVAILABLE (until the last)."""

    def __init__(self) -> None:
        self.requests: list[int] = []

    async def JobEvents(self, request: pb.JobEventsRequest,  # noqa: N802 - the gRPC method name
                        context: grpc.aio.ServicerContext[pb.JobEventsRequest, pb.JobEvent],
                        ) -> AsyncIterator[pb.JobEvent]:
        self.requests.append(request.after_sequence)
        first = request.after_sequence + 1
        for sequence in range(first, min(first + 2, 7)):
            yield event(sequence)
        if first + 2 <= 6:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "max connection age")


async def test_follow_reopens_after_the_last_event() -> None:
    servicer = CutOrchestrator()
    server = grpc.aio.server()
    orchestrator_pb2_grpc.add_OrchestratorServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = orchestrator_pb2_grpc.OrchestratorStub(channel)
            started = pb.StartJobResponse(job_id=JOB, job=pb.Job(job_id=JOB, options=pb.JobOptions(timeout_seconds=30)))
            state = RunState()
            view = ProgressView(Console(quiet=True), enabled=False)
            await asyncio.wait_for(_follow(stub, started, None, view, state, asyncio.Event(), object()), 30)
    finally:
        await server.stop(None)
    assert servicer.requests == [0, 2, 4]
    assert state.terminal is not None and state.terminal.sequence == 6
    assert state.terminal.WhichOneof("event") == "job_completed"
