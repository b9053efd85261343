"""A job's events: appended with gapless sequence numbers, replayed from any point,
then followed live until the terminal event."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from google.protobuf.message import Message

from docspasta.events import TERMINAL_EVENTS
from docspasta.v1 import orchestrator_pb2


class EventLog:
    def __init__(self, job_id: str) -> None:
        self.job_id = job_id
        self._events: list[orchestrator_pb2.JobEvent] = []
        self._changed = asyncio.Event()
        self.closed = False

    @property
    def last_sequence(self) -> int:
        return len(self._events)

    def append(self, name: str, payload: Message) -> orchestrator_pb2.JobEvent:
        """Stores ``payload`` as the event ``name`` with the next sequence number."""
        if self.closed:
            raise RuntimeError("the job already ended")
        event = orchestrator_pb2.JobEvent(job_id=self.job_id, sequence=len(self._events) + 1)
        event.timestamp.GetCurrentTime()
        getattr(event, name).CopyFrom(payload)
        self._events.append(event)
        if name in TERMINAL_EVENTS:
            self.closed = True
        # Wake every follower; the next append waits on a fresh Event.
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()
        return event

    def since(self, after_sequence: int) -> list[orchestrator_pb2.JobEvent]:
        return self._events[max(after_sequence, 0):]

    async def follow(self, after_sequence: int) -> AsyncIterator[orchestrator_pb2.JobEvent]:
        """Events after ``after_sequence``, then live ones; ends after the terminal event."""
        index = max(after_sequence, 0)
        while True:
            while index < len(self._events):
                event = self._events[index]
                index += 1
                yield event
            if self.closed:
                return
            await self._changed.wait()
