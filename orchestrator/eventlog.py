"""A job's events: appended by its owner with gapless sequence numbers (continuing
after the last stored one when a replica adopts the job), committed through the
writer, and replayed from the job store by any replica, then followed live until the
terminal event.

On the replica that runs the job, its newest committed events are also kept in
memory (``EventTail``, a bounded window): a follower that keeps up (the CLI's own
progress display, a bridge's pump) is served from there, as the very messages the
job built, instead of reading each commit back from the store and parsing it again.
Only committed events enter the tail, so a follower never sees an event the store
could still lose; one that falls behind the window, or follows a job another replica
runs, reads the store."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable
from itertools import islice

from google.protobuf.message import Message

from docspasta.aio import wait_at_most
from docspasta.events import TERMINAL_EVENTS
from docspasta.v1 import orchestrator_pb2
from orchestrator.persist import JobWriter
from orchestrator.store.base import FINISHED_STATES, JobStore, StoredEvent

# Events read per store query while replaying.
REPLAY_BATCH = 500
# Longest single wait for new events before the follower checks the job again.
FOLLOW_WAIT_SECONDS = 5.0
# Committed events a running job keeps in memory for its followers (~6 per page, up to
# ~1 KB each): two full write-behind batches, so a follower that keeps up never reads
# the store, and ~0.5 MB per running job at most.
DEFAULT_TAIL_EVENTS = 512


def make_event(job_id: str, sequence: int, name: str, payload: Message) -> StoredEvent:
    return _stored(_message(job_id, sequence, name, payload), name)


def _message(job_id: str, sequence: int, name: str, payload: Message) -> orchestrator_pb2.JobEvent:
    event = orchestrator_pb2.JobEvent(job_id=job_id, sequence=sequence)
    # Not Timestamp.GetCurrentTime(): it goes through datetime and costs several times
    # the rest of the event (six events per page).
    event.timestamp.seconds, event.timestamp.nanos = divmod(time.time_ns(), 1_000_000_000)
    getattr(event, name).CopyFrom(payload)
    return event


def _stored(event: orchestrator_pb2.JobEvent, name: str) -> StoredEvent:
    return StoredEvent(event.sequence, name, event.SerializeToString())


class EventTail:
    """The newest committed events of one running job, at most ``size``, in order.

    ``covers(s)`` says whether every committed event after sequence ``s`` is here (then
    ``after(s)`` returns them); ``wait`` returns when more are committed or the tail
    closes. A closed tail (the job ended, stopped or was taken over on this replica)
    covers nothing: followers go back to the store."""

    def __init__(self, *, base: int, size: int = DEFAULT_TAIL_EVENTS) -> None:
        self._events: deque[tuple[orchestrator_pb2.JobEvent, str]] = deque(maxlen=max(1, size))
        # The sequence just before the first event kept (everything up to it is in the store).
        self._base = base
        self.last = base
        self.closed = False
        self._changed = asyncio.Event()

    def covers(self, sequence: int) -> bool:
        return not self.closed and self._base <= sequence <= self.last

    def after(self, sequence: int) -> list[tuple[orchestrator_pb2.JobEvent, str]]:
        start = sequence - self._base
        return list(self._events) if start <= 0 else list(islice(self._events, start, None))

    def extend(self, events: list[tuple[orchestrator_pb2.JobEvent, str]]) -> None:
        if self.closed:
            return
        for event, name in events:
            if event.sequence != self.last + 1:  # never a gap: start over after it
                self._events.clear()
                self._base = event.sequence - 1
            if len(self._events) == self._events.maxlen:
                self._base += 1
            self._events.append((event, name))
            self.last = event.sequence
        self._wake()

    def close(self) -> None:
        self.closed = True
        self._events.clear()
        self._wake()

    def _wake(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait(self, sequence: int, timeout: float) -> None:
        """Returns when an event after ``sequence`` is committed, the tail closes, or after ``timeout``."""
        if self.closed or self.last > sequence:
            return
        await wait_at_most(self._changed.wait(), timeout)


class EventLog:
    def __init__(self, job_id: str, writer: JobWriter, *, last_sequence: int = 0,
                 tail_events: int = DEFAULT_TAIL_EVENTS) -> None:
        self.job_id = job_id
        self._writer = writer
        self.last_sequence = last_sequence
        self.closed = False
        self.tail = EventTail(base=last_sequence, size=tail_events)
        # Appended, not yet committed: they enter the tail when the writer says so.
        self._uncommitted: deque[tuple[orchestrator_pb2.JobEvent, str]] = deque()

    def append(self, name: str, payload: Message) -> None:
        """Stores ``payload`` as the event ``name`` with the next sequence number."""
        if self.closed:
            raise RuntimeError("the job already ended")
        self.last_sequence += 1
        event = _message(self.job_id, self.last_sequence, name, payload)
        self._writer.event(_stored(event, name))
        if not self.tail.closed:
            self._uncommitted.append((event, name))
        if name in TERMINAL_EVENTS:
            self.closed = True

    def committed(self, sequence: int) -> None:
        """The writer committed every event up to ``sequence``: they go to the tail."""
        done = []
        while self._uncommitted and self._uncommitted[0][0].sequence <= sequence:
            done.append(self._uncommitted.popleft())
        if done:
            self.tail.extend(done)

    def close_tail(self) -> None:
        self._uncommitted.clear()
        self.tail.close()


async def _wait(waiting: Awaitable[None], closing: asyncio.Event | None) -> None:
    """Awaits ``waiting``, or until ``closing`` is set."""
    if closing is None:
        await waiting
        return
    if closing.is_set():
        if asyncio.iscoroutine(waiting):
            waiting.close()
        return
    tasks = {asyncio.ensure_future(waiting), asyncio.ensure_future(closing.wait())}
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def follow(store: JobStore, job_id: str, after_sequence: int,
                 tail_of: Callable[[], EventTail | None] = lambda: None, *,
                 closing: asyncio.Event | None = None) -> AsyncGenerator[orchestrator_pb2.JobEvent, None]:
    """Committed events after ``after_sequence``, then live ones; ends after the terminal
    event (or at once when the job ended at or before ``after_sequence``, or is gone).
    ``tail_of`` gives the job's in-memory tail while this replica runs it; events the
    tail holds are not read from the store. Once ``closing`` is set (the replica stops)
    the follower sends what is committed and ends without waiting for more."""
    sequence = after_sequence
    waited = False
    while True:
        ending = closing is not None and closing.is_set()
        tail = tail_of()
        if tail is not None and tail.covers(sequence):
            for event, name in tail.after(sequence):
                sequence = event.sequence
                yield event
                if name in TERMINAL_EVENTS:
                    return
            if ending:
                return
            await _wait(tail.wait(sequence, FOLLOW_WAIT_SECONDS), closing)
            waited = False
            continue
        batch = await store.events(job_id, after_sequence=sequence, limit=REPLAY_BATCH)
        for stored in batch:
            sequence = stored.sequence
            yield orchestrator_pb2.JobEvent.FromString(stored.payload)
            if stored.name in TERMINAL_EVENTS:
                return
        if len(batch) == REPLAY_BATCH:
            continue
        if ending:
            return
        tail = tail_of()
        if tail is not None and tail.covers(sequence):
            continue  # caught up with what this replica's job keeps in memory
        if not batch and waited:
            # Nothing came after a wait: the job may have ended (or been deleted) before this point.
            job = await store.get_job(job_id)
            if job is None or (job.state in FINISHED_STATES and job.last_sequence <= sequence):
                return
        # Returns at once when the job has more, has ended or is gone.
        await _wait(store.wait_for_events(job_id, after_sequence=sequence, timeout=FOLLOW_WAIT_SECONDS), closing)
        waited = not batch
