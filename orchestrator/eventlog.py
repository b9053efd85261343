"""A job's events: appended by its owner with gapless sequence numbers (continuing
after the last stored one when a replica adopts the job), committed through the
writer, and replayed from the job store by any replica, then followed live until the
terminal event."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

from google.protobuf.message import Message

from docspasta.events import TERMINAL_EVENTS
from docspasta.v1 import orchestrator_pb2
from orchestrator.persist import JobWriter
from orchestrator.store.base import FINISHED_STATES, JobStore, StoredEvent

# Events read per store query while replaying.
REPLAY_BATCH = 500
# Longest single wait for new events before the follower checks the job again.
FOLLOW_WAIT_SECONDS = 5.0


def make_event(job_id: str, sequence: int, name: str, payload: Message) -> StoredEvent:
    event = orchestrator_pb2.JobEvent(job_id=job_id, sequence=sequence)
    # Not Timestamp.GetCurrentTime(): it goes through datetime and costs several times
    # the rest of the event (six events per page).
    event.timestamp.seconds, event.timestamp.nanos = divmod(time.time_ns(), 1_000_000_000)
    getattr(event, name).CopyFrom(payload)
    return StoredEvent(sequence, name, event.SerializeToString())


class EventLog:
    def __init__(self, job_id: str, writer: JobWriter, *, last_sequence: int = 0) -> None:
        self.job_id = job_id
        self._writer = writer
        self.last_sequence = last_sequence
        self.closed = False

    def append(self, name: str, payload: Message) -> None:
        """Stores ``payload`` as the event ``name`` with the next sequence number."""
        if self.closed:
            raise RuntimeError("the job already ended")
        self.last_sequence += 1
        self._writer.event(make_event(self.job_id, self.last_sequence, name, payload))
        if name in TERMINAL_EVENTS:
            self.closed = True


async def follow(store: JobStore, job_id: str, after_sequence: int) -> AsyncIterator[orchestrator_pb2.JobEvent]:
    """Committed events after ``after_sequence``, then live ones; ends after the terminal
    event (or at once when the job ended at or before ``after_sequence``, or is gone)."""
    sequence = after_sequence
    waited = False
    while True:
        batch = await store.events(job_id, after_sequence=sequence, limit=REPLAY_BATCH)
        for stored in batch:
            sequence = stored.sequence
            yield orchestrator_pb2.JobEvent.FromString(stored.payload)
            if stored.name in TERMINAL_EVENTS:
                return
        if len(batch) == REPLAY_BATCH:
            continue
        if not batch and waited:
            # Nothing came after a wait: the job may have ended (or been deleted) before this point.
            job = await store.get_job(job_id)
            if job is None or (job.state in FINISHED_STATES and job.last_sequence <= sequence):
                return
        # Returns at once when the job has more, has ended or is gone.
        await store.wait_for_events(job_id, after_sequence=sequence, timeout=FOLLOW_WAIT_SECONDS)
        waited = not batch
