"""The running job's in-memory event tail (orchestrator/eventlog.py): followers on
the owner's replica get committed events from memory, never an uncommitted one, in
order, without a gap or a repeat — also when they start behind the window, when the
window moves on while they read, and when the tail closes (then from the store)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from docspasta.v1 import orchestrator_pb2 as pb
from orchestrator.eventlog import DEFAULT_TAIL_EVENTS, EventLog, EventTail, follow
from orchestrator.persist import JobWriter
from orchestrator.store.base import JobStore, NewJob
from orchestrator.store.sqlite import SqliteJobStore

JOB = "test-00112233445566ff"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[JobStore]:
    s = SqliteJobStore(path=str(tmp_path / "jobs.db"))
    await s.open()
    await s.create_job(NewJob(job_id=JOB, request_id="", request_hash="h", url="http://example.test/",
                              options=b"", totals=b"", checkpoint=b"{}"),
                       owner="me", lease_seconds=60, start=True, first_events=lambda _: [])
    yield s
    await s.close()


def job_log(store: JobStore, *, tail_events: int = DEFAULT_TAIL_EVENTS) -> tuple[EventLog, JobWriter]:
    holder: list[EventLog] = []
    writer = JobWriter(store=store, job_id=JOB, owner="me", snapshot=lambda: (b"", b"{}"), on_cancel=lambda: None,
                       on_lost=lambda: None, on_commit=lambda sequence: holder[0].committed(sequence))
    log = EventLog(JOB, writer, tail_events=tail_events)
    holder.append(log)
    return log, writer


def progress(log: EventLog, n: int) -> None:
    for _ in range(n):
        log.append("progress", pb.Progress(processed=log.last_sequence + 1))


async def collect(events: AsyncIterator[pb.JobEvent], count: int) -> list[pb.JobEvent]:
    out: list[pb.JobEvent] = []
    async for event in events:
        out.append(event)
        if len(out) == count:
            break
    return out


def test_the_window_keeps_the_newest_events_and_says_what_it_covers() -> None:
    tail = EventTail(base=10, size=3)
    assert tail.covers(10) and not tail.covers(9) and not tail.covers(11)
    events = [(pb.JobEvent(sequence=s), "progress") for s in range(11, 16)]
    tail.extend(events)
    assert tail.last == 15
    assert not tail.covers(11)  # 12 was dropped from the window
    assert tail.covers(12) and tail.covers(15) and not tail.covers(16)
    assert [e.sequence for e, _ in tail.after(12)] == [13, 14, 15]
    assert [e.sequence for e, _ in tail.after(14)] == [15]
    assert tail.after(15) == []
    tail.close()
    assert not tail.covers(15)


async def test_only_committed_events_are_served_from_memory(store: JobStore) -> None:
    log, writer = job_log(store)
    progress(log, 5)
    assert log.tail.last == 0  # appended, not committed: not in the tail
    await writer.flush()
    assert log.tail.last == 5
    got = await asyncio.wait_for(collect(follow(store, JOB, 0, lambda: log.tail), 5), 30)
    # The very messages the job built (not parsed again), equal to what the store holds.
    assert all(a is b for a, (b, _) in zip(got, log.tail.after(0), strict=True))
    stored = [pb.JobEvent.FromString(e.payload) for e in await store.events(JOB, after_sequence=0, limit=100)]
    assert got == stored
    assert [e.sequence for e in got] == [1, 2, 3, 4, 5]


async def test_a_live_follower_gets_each_commit_once_and_ends_at_the_terminal_event(store: JobStore) -> None:
    log, writer = job_log(store)
    follower = asyncio.create_task(collect(follow(store, JOB, 0, lambda: log.tail), 10_000))
    for _ in range(20):
        progress(log, 7)
        await writer.flush()
        await asyncio.sleep(0)
    log.append("job_completed", pb.JobCompleted())
    await writer.flush()
    got = await asyncio.wait_for(follower, 30)
    assert [e.sequence for e in got] == list(range(1, 142))
    assert got[-1].WhichOneof("event") == "job_completed"


async def test_a_follower_behind_the_window_reads_the_store_then_memory(store: JobStore) -> None:
    log, writer = job_log(store, tail_events=8)
    progress(log, 30)
    await writer.flush()
    assert not log.tail.covers(5)
    follower = asyncio.create_task(collect(follow(store, JOB, 5, lambda: log.tail), 10_000))
    await asyncio.sleep(0)
    progress(log, 30)
    await writer.flush()
    log.append("job_completed", pb.JobCompleted())
    await writer.flush()
    got = await asyncio.wait_for(follower, 30)
    assert [e.sequence for e in got] == list(range(6, 62))


async def test_a_closed_tail_sends_followers_to_the_store(store: JobStore) -> None:
    log, writer = job_log(store)
    follower = asyncio.create_task(collect(follow(store, JOB, 0, lambda: log.tail), 10_000))
    progress(log, 3)
    await writer.flush()
    log.close_tail()  # the job stopped here; another replica goes on in the store
    progress(log, 2)
    log.append("job_completed", pb.JobCompleted())
    await writer.flush()
    assert log.tail.last == 3
    got = await asyncio.wait_for(follower, 30)
    assert [e.sequence for e in got] == [1, 2, 3, 4, 5, 6]


async def test_closing_ends_a_follower_after_what_is_committed(store: JobStore) -> None:
    log, writer = job_log(store)
    closing = asyncio.Event()
    follower = asyncio.create_task(collect(follow(store, JOB, 0, lambda: log.tail, closing=closing), 10_000))
    progress(log, 4)
    await writer.flush()
    progress(log, 1)  # not committed: not sent
    closing.set()
    got = await asyncio.wait_for(follower, 30)
    assert [e.sequence for e in got] == [1, 2, 3, 4]
