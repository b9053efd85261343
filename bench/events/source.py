"""A synthetic event source for the bridge benchmark: a real grpc.aio server speaking the
Orchestrator contract whose jobs emit ``progress`` events at a fixed rate (no crawling),
so the benchmark measures bridge + Redis, not the crawler.

StartJob reads ``rate``, ``seconds`` and ``start_after`` from the job URL's query.
Events are stored and followed with the orchestrator's own EventLog. Prints its port."""

from __future__ import annotations

import asyncio
import secrets
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import grpc  # noqa: E402

from docspasta.rpc import ServiceHost  # noqa: E402
from docspasta.v1 import orchestrator_pb2 as pb, orchestrator_pb2_grpc  # noqa: E402
from orchestrator.eventlog import EventLog  # noqa: E402

SERVICE = pb.DESCRIPTOR.services_by_name["Orchestrator"].full_name


class Source(orchestrator_pb2_grpc.OrchestratorServicer):
    def __init__(self) -> None:
        self.logs: dict[str, EventLog] = {}
        self.tasks: set[asyncio.Task[None]] = set()

    async def _emit(self, log: EventLog, rate: float, seconds: float, start_after: float) -> None:
        log.append("stream_connected", pb.StreamConnected(url="https://bench.example/"))
        await asyncio.sleep(start_after)
        loop = asyncio.get_running_loop()
        start = loop.time()
        n = 0
        while loop.time() - start < seconds:
            n += 1
            log.append("progress", pb.Progress(processed=n, discovered=n + 10, queued=5, in_flight=2))
            await asyncio.sleep(max(0.0, start + n / rate - loop.time()))
        log.append("job_completed", pb.JobCompleted(totals=pb.Totals(processed=n)))

    async def StartJob(self, request: pb.StartJobRequest, context: object) -> pb.StartJobResponse:
        q = {k: float(v[0]) for k, v in parse_qs(urlsplit(request.url).query).items()}
        job_id = f"bench-{secrets.token_hex(6)}"
        log = EventLog(job_id)
        self.logs[job_id] = log
        task = asyncio.create_task(self._emit(log, q.get("rate", 10), q.get("seconds", 5), q.get("start_after", 1)))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        job = pb.Job(job_id=job_id, url=request.url, state=pb.JOB_STATE_RUNNING,
                     options=pb.JobOptions(timeout_seconds=600))
        return pb.StartJobResponse(job_id=job_id, job=job)

    async def GetJob(self, request: pb.GetJobRequest, context: object) -> pb.Job:
        return pb.Job(job_id=request.job_id, state=pb.JOB_STATE_RUNNING)

    async def JobEvents(self, request: pb.JobEventsRequest, context: grpc.aio.ServicerContext[object, object],
                        ) -> AsyncIterator[pb.JobEvent]:
        log = self.logs.get(request.job_id)
        if log is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, "no such job")
            return
        async for event in log.follow(request.after_sequence):
            yield event


async def main() -> None:
    host = ServiceHost(service_names=[SERVICE], bind="127.0.0.1:0")
    orchestrator_pb2_grpc.add_OrchestratorServicer_to_server(Source(), host.server)  # type: ignore[arg-type]
    await host.start()
    print(host.port, flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
