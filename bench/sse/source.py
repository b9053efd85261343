"""The event source of the SSE benchmark: a real grpc.aio server speaking the
``docspasta.v1`` Orchestrator contract (StartJob, GetJob, CancelJob, JobEvents with
``after_sequence`` replay), whose jobs emit a crawl's event mix at a fixed rate without
crawling, so the benchmark measures bridge + Redis + fan-out, not the crawler.

A job emits ``stream_connected`` when it starts, then waits: the benchmark writes
``go JOB_ID RATE SECONDS`` to this process's stdin once every client is connected, and
the job emits RATE events per second for SECONDS seconds in the order a crawl does
(per page: url_started, url_crawled, urls_discovered, sent_to_processing,
url_processed, progress), then ``job_completed``. Every event's timestamp is set when
it is emitted, as the orchestrator's EventLog does. Prints its port on stdout.

    python bench/sse/source.py
"""

from __future__ import annotations

import asyncio
import secrets
import sys
from collections.abc import AsyncIterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import grpc  # noqa: E402
from google.protobuf.message import Message  # noqa: E402

from docspasta.rpc import ServiceHost  # noqa: E402
from docspasta.v1 import orchestrator_pb2 as pb, orchestrator_pb2_grpc  # noqa: E402

SERVICE = pb.DESCRIPTOR.services_by_name["Orchestrator"].full_name
SITE = "https://bench.example/docs/"


class SourceJob:
    def __init__(self, job_id: str, url: str) -> None:
        self.job_id = job_id
        self.url = url
        self.events: list[pb.JobEvent] = []
        self.changed = asyncio.Event()
        self.state = pb.JOB_STATE_RUNNING
        self.processed = 0

    def emit(self, name: str, payload: Message) -> None:
        event = pb.JobEvent(job_id=self.job_id, sequence=len(self.events) + 1)
        event.timestamp.GetCurrentTime()
        getattr(event, name).CopyFrom(payload)
        self.events.append(event)
        changed, self.changed = self.changed, asyncio.Event()
        changed.set()

    def page_events(self, n: int) -> list[tuple[str, Message]]:
        url = f"{SITE}sec-{n // 40:03d}/page-{n:05d}.html"
        found = [f"{SITE}sec-{n // 40:03d}/page-{n + k:05d}.html" for k in range(1, 4)]
        self.processed += 1
        return [
            ("url_started", pb.UrlStarted(url=url, depth=2, attempt=1)),
            ("url_crawled", pb.UrlCrawled(url=url, title=f"Page {n} - Bench documentation",
                                          content_length=18_000 + n % 5000, status=200,
                                          final_url=url, fetch_seconds=0.05)),
            ("urls_discovered", pb.UrlsDiscovered(source_url=url, discovered_urls=found, count=len(found),
                                                total_discovered=self.processed + 40)),
            ("sent_to_processing", pb.SentToProcessing(url=url)),
            ("url_processed", pb.UrlProcessed(url=url, title=f"Page {n} - Bench documentation",
                                              word_count=900 + n % 700, token_estimate=1200 + n % 900)),
            ("progress", pb.Progress(processed=self.processed, discovered=self.processed + 40,
                                     queued=30, in_flight=4)),
        ]

    async def run(self, rate: float, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        sent = 0
        page = 0
        pending: list[tuple[str, Message]] = []
        total = int(rate * seconds)
        while sent < total:
            if not pending:
                page += 1
                pending = self.page_events(page)
            name, payload = pending.pop(0)
            self.emit(name, payload)
            sent += 1
            # Absolute schedule: a late wake-up emits the missed events at once, as a
            # busy orchestrator does, instead of drifting the rate down.
            delay = start + sent / rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
        self.emit("job_completed", pb.JobCompleted(totals=pb.Totals(processed=self.processed)))
        self.state = pb.JOB_STATE_COMPLETED

    def job(self) -> pb.Job:
        return pb.Job(job_id=self.job_id, url=self.url, state=self.state,
                      options=pb.JobOptions(timeout_seconds=3600))


class Source(orchestrator_pb2_grpc.OrchestratorServicer):
    def __init__(self) -> None:
        self.jobs: dict[str, SourceJob] = {}
        self.tasks: set[asyncio.Task[None]] = set()

    def go(self, job_id: str, rate: float, seconds: float) -> None:
        task = asyncio.create_task(self.jobs[job_id].run(rate, seconds))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def StartJob(self, request: pb.StartJobRequest, context: object) -> pb.StartJobResponse:
        job = SourceJob(f"bench-{secrets.token_hex(8)}", request.url)
        self.jobs[job.job_id] = job
        job.emit("stream_connected", pb.StreamConnected(url=request.url))
        return pb.StartJobResponse(job_id=job.job_id, job=job.job())

    async def _job(self, job_id: str, context: grpc.aio.ServicerContext[object, object]) -> SourceJob:
        job = self.jobs.get(job_id)
        if job is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, "no such job")
        assert job is not None
        return job

    async def GetJob(self, request: pb.GetJobRequest, context: grpc.aio.ServicerContext[object, object]) -> pb.Job:
        return (await self._job(request.job_id, context)).job()

    async def CancelJob(self, request: pb.CancelJobRequest,
                        context: grpc.aio.ServicerContext[object, object]) -> pb.Job:
        return (await self._job(request.job_id, context)).job()

    async def JobEvents(self, request: pb.JobEventsRequest, context: grpc.aio.ServicerContext[object, object],
                        ) -> AsyncIterator[pb.JobEvent]:
        job = await self._job(request.job_id, context)
        sent = request.after_sequence
        while True:
            changed = job.changed
            while sent < len(job.events):
                event = job.events[sent]
                sent += 1
                yield event
                if event.WhichOneof("event") == "job_completed":
                    return
            await changed.wait()


async def read_commands(source: Source) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        verb, job_id, rate, seconds = line.decode().split()
        if verb == "go":
            source.go(job_id, float(rate), float(seconds))


async def main() -> None:
    host = ServiceHost(service_names=[SERVICE], bind="127.0.0.1:0")
    source = Source()
    orchestrator_pb2_grpc.add_OrchestratorServicer_to_server(source, host.server)
    await host.start()
    print(host.port, flush=True)
    await read_commands(source)  # stdin closed: the benchmark is over
    await host.server.stop(1)


if __name__ == "__main__":
    asyncio.run(main())
