"""Durable jobs on a real SQLite job store with real in-process servers: a job outlives
the orchestrator that ran it (graceful stop, lost lease), any replica answers for any
job, StartJob is idempotent, the admission queue runs jobs in order, finished jobs
expire, and memory per job stays bounded."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import grpc
import pytest

from docspasta.events import TERMINAL_EVENTS, event_name
from docspasta.rpc import ServiceHost, insecure_channel, stop_all
from docspasta.v1 import orchestrator_pb2 as pb, orchestrator_pb2_grpc, processor_pb2, processor_pb2_grpc
from orchestrator.settings import OrchestratorSettings
from orchestrator.store.base import RUNNING
from orchestrator.store.sqlite import SqliteJobStore
from processor.settings import ProcessorSettings
from tests.conftest import local_crawler_settings
from tests.support.jobs import by_type, names
from tests.support.site import FixtureSite, tree_site

DEADLINE = 120.0


@dataclass
class Replicas:
    """One crawler, one processor and any number of orchestrators on one job store file."""
    tmp: Path
    crawler_target: str = ""
    processor_target: str = ""
    hosts: list[ServiceHost] = field(default_factory=list)
    channels: list[grpc.aio.Channel] = field(default_factory=list)

    @property
    def jobs_url(self) -> str:
        return f"sqlite:///{self.tmp / 'jobs.db'}"

    async def start(self) -> Replicas:
        from crawler.server import create_server as create_crawler
        from processor.server import create_server as create_processor

        crawler, port = await create_crawler(replace(local_crawler_settings(), bind="127.0.0.1:0"))
        self.hosts.append(crawler)
        self.crawler_target = f"127.0.0.1:{port}"
        processor, port = await create_processor(replace(ProcessorSettings(), bind="127.0.0.1:0", workers=1,
                                                         database_url=f"sqlite:///{self.tmp / 'pages.db'}"))
        self.hosts.append(processor)
        self.processor_target = f"127.0.0.1:{port}"
        return self

    async def orchestrator(self, **overrides: Any) -> tuple[ServiceHost, orchestrator_pb2_grpc.OrchestratorAsyncStub]:
        from orchestrator.server import create_server

        settings = replace(OrchestratorSettings(), bind="127.0.0.1:0", instance_id="t", crawler_target=self.crawler_target,
                           processor_target=self.processor_target, database_url=self.jobs_url,
                           **{"reconcile_seconds": 0.1, "lease_renew_seconds": 0.5, "lease_seconds": 5.0, **overrides})
        host, port = await create_server(settings)
        self.hosts.append(host)
        channel = insecure_channel(f"127.0.0.1:{port}")
        self.channels.append(channel)
        return host, orchestrator_pb2_grpc.OrchestratorStub(channel)

    async def stop(self, host: ServiceHost) -> None:
        """The graceful stop SIGTERM gives: NOT_SERVING, drain (commit, release), stop."""
        await host.stop(grace=5.0)
        self.hosts.remove(host)

    async def pages(self) -> list[processor_pb2.Page]:
        channel = insecure_channel(self.processor_target)
        self.channels.append(channel)
        stub = processor_pb2_grpc.ProcessorStub(channel)
        # Every stored row, by (job, url): a page stored twice would show up twice here.
        return [p async for p in stub.ListPages(processor_pb2.ListPagesRequest(job_id=self.job_id), timeout=30)]

    job_id: str = ""

    async def close(self) -> None:
        for channel in self.channels:
            await channel.close(None)
        await stop_all(reversed(self.hosts), grace=1.0)


@pytest.fixture
async def replicas(tmp_path: Path) -> AsyncIterator[Replicas]:
    r = await Replicas(tmp=tmp_path).start()
    yield r
    await r.close()


async def events_until(stub: orchestrator_pb2_grpc.OrchestratorAsyncStub, job_id: str, *, after: int = 0,
                       stop: Any = None) -> list[pb.JobEvent]:
    """JobEvents until the terminal event (or ``stop(events)`` says enough)."""
    got: list[pb.JobEvent] = []
    async for event in stub.JobEvents(pb.JobEventsRequest(job_id=job_id, after_sequence=after), timeout=DEADLINE):
        got.append(event)
        if stop is not None and stop(got):
            break
    return got


async def eventually(check: Any, deadline: float = DEADLINE) -> Any:
    end = time.monotonic() + deadline
    while True:
        value = await check()
        if value:
            return value
        assert time.monotonic() < end, "condition not met in time"
        await asyncio.sleep(0.05)


def check_stream(events: list[pb.JobEvent]) -> None:
    """Gapless from 1, no repeats, exactly one terminal event and it is last."""
    assert [e.sequence for e in events] == list(range(1, len(events) + 1))
    kinds = names(events)
    assert kinds[0] == "stream_connected"
    assert sum(k in TERMINAL_EVENTS for k in kinds) == 1 and kinds[-1] in TERMINAL_EVENTS


def processed(events: list[pb.JobEvent]) -> int:
    return sum(1 for e in events if event_name(e) == "url_processed")


async def test_a_job_survives_a_restarted_orchestrator(replicas: Replicas, site: FixtureSite) -> None:
    site.pages.update(tree_site(120))
    site.delay = 0.02
    first, stub = await replicas.orchestrator()
    started = await stub.StartJob(pb.StartJobRequest(url=site.url("/docs/"), options=pb.JobOptions(concurrency=4)),
                                  timeout=10)
    job_id = replicas.job_id = started.job_id
    before = await events_until(stub, job_id, stop=lambda got: processed(got) >= 30)
    await replicas.stop(first)  # mid-crawl

    store = SqliteJobStore(path=str(replicas.tmp / "jobs.db"))
    await store.open()
    try:
        record = await store.get_job(job_id)
        assert record is not None and record.state == RUNNING and record.owner == ""  # released, not failed
        stopped_at = record.last_sequence
    finally:
        await store.close()
    assert stopped_at >= before[-1].sequence

    _, stub = await replicas.orchestrator()  # a new process on the same store adopts the job
    events = await events_until(stub, job_id)
    check_stream(events)
    assert names(events)[-1] == "job_completed"
    assert [e.SerializeToString() for e in events[:len(before)]] == [e.SerializeToString() for e in before]
    resumed = by_type(events, "job_resumed")
    assert len(resumed) == 1 and resumed[0].last_sequence == stopped_at
    assert events[stopped_at].WhichOneof("event") == "job_resumed"  # right after the last stored event
    urls = [p.url for p in by_type(events, "url_processed")]
    assert len(urls) == len(set(urls)) == 120
    assert events[-1].job_completed.totals.processed == 120
    pages = await replicas.pages()
    assert len(pages) == 120 and len({p.url for p in pages}) == 120
    # Pages finished before the stop are not fetched again; only the re-queued in-flight ones may be.
    done_before = {site.url("/docs/index.html") if u.endswith("/docs/") else u
                   for u in (p.url for p in by_type(events[:stopped_at], "url_processed"))}
    refetched = [path for path, n in site.requests.items() if n > 1 and path.startswith("/docs/")]
    assert len(refetched) <= resumed[0].requeued_urls
    assert not {site.url(path) for path in refetched} & done_before
    # Replaying from 0 gives the same stream.
    assert [e.SerializeToString() for e in await events_until(stub, job_id)] == \
        [e.SerializeToString() for e in events]
    job = await stub.GetJob(pb.GetJobRequest(job_id=job_id), timeout=10)
    assert job.state == pb.JOB_STATE_COMPLETED and job.last_sequence == len(events)
    # The request budget carried over: what both owners sent, not only the adopter's
    # part (calls in flight at the stop were never settled, so they may be missing).
    store = SqliteJobStore(path=str(replicas.tmp / "jobs.db"))
    await store.open()
    try:
        record = await store.get_job(job_id)
    finally:
        await store.close()
    assert record is not None
    spent = json.loads(record.checkpoint)["budget"]["spent"]
    sent = sum(site.requests.values())
    assert sent - resumed[0].requeued_urls <= spent <= sent, (spent, sent, resumed[0].requeued_urls)


async def test_any_replica_answers_for_any_job(replicas: Replicas, site: FixtureSite) -> None:
    site.pages.update(tree_site(40))
    site.delay = 0.05
    _, a = await replicas.orchestrator()
    _, b = await replicas.orchestrator()
    started = await a.StartJob(pb.StartJobRequest(url=site.url("/docs/"), options=pb.JobOptions(concurrency=2)),
                               timeout=10)
    job = await b.GetJob(pb.GetJobRequest(job_id=started.job_id), timeout=10)
    assert job.job_id == started.job_id and job.url == site.url("/docs/")
    on_b = await events_until(b, started.job_id)
    check_stream(on_b)
    assert names(on_b)[-1] == "job_completed" and processed(on_b) == 40
    assert [e.SerializeToString() for e in await events_until(a, started.job_id)] == \
        [e.SerializeToString() for e in on_b]
    assert (await b.GetJob(pb.GetJobRequest(job_id=started.job_id), timeout=10)).state == pb.JOB_STATE_COMPLETED

    # Cancel through the replica that does not run the job.
    other = await a.StartJob(pb.StartJobRequest(url=site.url("/docs/"), options=pb.JobOptions(concurrency=1)),
                             timeout=10)
    await events_until(b, other.job_id, stop=lambda got: processed(got) >= 2)
    began = time.monotonic()
    await b.CancelJob(pb.CancelJobRequest(job_id=other.job_id), timeout=10)
    events = await events_until(b, other.job_id)
    check_stream(events)
    assert names(events)[-1] == "job_cancelled" and time.monotonic() - began < 30
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await b.GetJob(pb.GetJobRequest(job_id="t-nope"), timeout=10)
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


async def test_a_replica_that_loses_its_lease_stops(replicas: Replicas, site: FixtureSite) -> None:
    """A replica that cannot renew (here: never tries) loses the job to another, which
    continues after the last committed event; the old owner's late writes are refused."""
    site.pages.update(tree_site(80))
    site.delay = 0.15  # the job outlasts the 1 s lease
    _, a = await replicas.orchestrator(lease_seconds=1.0, lease_renew_seconds=3600.0, adopt_orphans=False)
    started = await a.StartJob(pb.StartJobRequest(url=site.url("/docs/"), options=pb.JobOptions(concurrency=3)),
                               timeout=10)
    replicas.job_id = started.job_id
    _, b = await replicas.orchestrator()
    events = await events_until(b, started.job_id)
    check_stream(events)
    assert names(events)[-1] == "job_completed"
    resumed = by_type(events, "job_resumed")
    assert len(resumed) == 1 and resumed[0].owner.startswith("t-")
    urls = [p.url for p in by_type(events, "url_processed")]
    assert len(urls) == len(set(urls)) == 80
    pages = await replicas.pages()
    assert len(pages) == 80 and len({p.url for p in pages}) == 80


async def test_start_job_is_idempotent_by_request_id(replicas: Replicas, site: FixtureSite) -> None:
    site.pages.update(tree_site(5))
    _, a = await replicas.orchestrator()
    _, b = await replicas.orchestrator()
    request = pb.StartJobRequest(url=site.url("/docs/"), request_id="3f2c-retry-me")
    answers = await asyncio.gather(*(stub.StartJob(request, timeout=10) for stub in (a, b, a, b)))
    assert len({x.job_id for x in answers}) == 1
    events = await events_until(b, answers[0].job_id)
    assert names(events)[-1] == "job_completed"
    again = await a.StartJob(request, timeout=10)  # after the end too
    assert again.job_id == answers[0].job_id and again.job.state == pb.JOB_STATE_COMPLETED
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await a.StartJob(pb.StartJobRequest(url=site.url("/other/"), request_id="3f2c-retry-me"), timeout=10)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "request_id" in (err.value.details() or "")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await a.StartJob(pb.StartJobRequest(url=site.url("/docs/"), request_id="x" * 129), timeout=10)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    plain = [await a.StartJob(pb.StartJobRequest(url=site.url("/docs/")), timeout=10) for _ in range(2)]
    assert plain[0].job_id != plain[1].job_id


async def test_admission_queue_runs_jobs_in_order(replicas: Replicas, site: FixtureSite) -> None:
    site.pages.update(tree_site(15))
    site.delay = 0.02
    _, stub = await replicas.orchestrator(max_active_jobs=1)
    options = pb.JobOptions(concurrency=2)
    jobs = [await stub.StartJob(pb.StartJobRequest(url=site.url("/docs/"), options=options), timeout=10)
            for _ in range(3)]
    assert jobs[0].job.state == pb.JOB_STATE_RUNNING
    assert [j.job.state for j in jobs[1:]] == [pb.JOB_STATE_QUEUED, pb.JOB_STATE_QUEUED]
    # A queued job cancelled before it started ends at once, without running.
    cancelled = await stub.StartJob(pb.StartJobRequest(url=site.url("/docs/"), options=options), timeout=10)
    await stub.CancelJob(pb.CancelJobRequest(job_id=cancelled.job_id), timeout=10)
    events = await events_until(stub, cancelled.job_id)
    check_stream(events)
    assert names(events) == ["stream_connected", "job_queued", "job_cancelled"]
    assert (await stub.GetJob(pb.GetJobRequest(job_id=cancelled.job_id), timeout=10)).state == \
        pb.JOB_STATE_CANCELLED
    streams = [await events_until(stub, j.job_id) for j in jobs]
    for position, events in enumerate(streams):
        check_stream(events)
        assert names(events)[-1] == "job_completed"
        assert [q.position for q in by_type(events, "job_queued")] == ([position] if position else [])
    # In order: each starts after the one before it ended.
    for earlier, later in zip(streams, streams[1:]):
        first_start = next(e for e in later if event_name(e) == "url_started")
        assert earlier[-1].timestamp.ToNanoseconds() <= first_start.timestamp.ToNanoseconds()


async def test_finished_jobs_expire_from_the_store(replicas: Replicas, site: FixtureSite) -> None:
    site.pages.update(tree_site(3))
    _, stub = await replicas.orchestrator(job_retention_seconds=0.5)
    started = await stub.StartJob(pb.StartJobRequest(url=site.url("/docs/")), timeout=10)
    assert names(await events_until(stub, started.job_id))[-1] == "job_completed"

    async def gone() -> bool:
        try:
            await stub.GetJob(pb.GetJobRequest(job_id=started.job_id), timeout=10)
        except grpc.aio.AioRpcError as exc:
            return exc.code() == grpc.StatusCode.NOT_FOUND
        return False

    await eventually(gone)
    store = SqliteJobStore(path=str(replicas.tmp / "jobs.db"))
    await store.open()
    try:
        assert await store.events(started.job_id, after_sequence=0, limit=10) == []
        assert (await store.frontier_summary(started.job_id)).counts == {}
    finally:
        await store.close()


async def test_memory_per_job_is_bounded(replicas: Replicas, site: FixtureSite,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A frontier window of 10 and a seen cache of 20 keys crawl a 150-page site
    correctly: every page once, none fetched twice."""
    from orchestrator import frontier

    peak = {"known": 0, "window": 0}
    remember = frontier.Frontier._remember

    def spy(self: frontier.Frontier, entry: Any) -> None:
        remember(self, entry)
        peak["known"] = max(peak["known"], len(self.known))
        peak["window"] = max(peak["window"], self.window_len)

    monkeypatch.setattr(frontier.Frontier, "_remember", spy)
    site.pages.update(tree_site(150, fanout=6))
    _, stub = await replicas.orchestrator(frontier_window=10, seen_cache_size=20, dedup_cache_size=10)
    started = await stub.StartJob(pb.StartJobRequest(url=site.url("/docs/"), options=pb.JobOptions(concurrency=4)),
                                  timeout=10)
    replicas.job_id = started.job_id
    events = await events_until(stub, started.job_id)
    check_stream(events)
    assert names(events)[-1] == "job_completed" and processed(events) == 150
    assert peak["known"] <= 20 and peak["window"] <= 20
    assert max(n for path, n in site.requests.items() if path.startswith("/docs/page-")) == 1
    assert len(await replicas.pages()) == 150
