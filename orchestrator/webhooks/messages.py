"""Which job events become webhook messages, and their bodies.

A message is ``{"type", "timestamp", "data"}`` (the Standard Webhooks shape); data
always has ``job_id``, ``sequence`` (the event it announces: messages of one job are
ordered by it), ``url`` and ``state``, plus what the type carries (``position``,
``totals``, ``error``, ``message``, ``owner``, ``requeued_urls``). Messages are
handed to the job's writer right after their event, so they are committed with it.
Page milestones are not every page: one each ``progress_pages`` more processed pages,
or after ``progress_seconds`` when pages were processed meanwhile."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import Message

from docspasta.events import message_dict
from docspasta.v1 import orchestrator_pb2 as pb
from docspasta.webhooks import TERMINAL_TYPES, TYPE_NAMES, WebhookSpec
from orchestrator.persist import JobWriter
from orchestrator.store.base import OutboxMessage, StoredEvent

_STATES: dict[int, str] = {
    pb.WEBHOOK_EVENT_TYPE_JOB_QUEUED: "queued",
    pb.WEBHOOK_EVENT_TYPE_JOB_COMPLETED: "completed", pb.WEBHOOK_EVENT_TYPE_JOB_FAILED: "failed",
    pb.WEBHOOK_EVENT_TYPE_JOB_TIMEOUT: "timeout", pb.WEBHOOK_EVENT_TYPE_JOB_CANCELLED: "cancelled",
}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def message(kind: int, *, job_id: str, sequence: int, url: str, **data: Any) -> OutboxMessage:
    """The outbox row of one message; its body is fixed here, so every attempt sends the same bytes."""
    body = {"type": TYPE_NAMES[kind], "timestamp": _now(),
            "data": {"job_id": job_id, "sequence": sequence, "url": url, "state": _STATES.get(kind, "running"),
                     **data}}
    return OutboxMessage(sequence=sequence, kind=kind,
                         body=json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode())


def terminal_message(name: str, payload: Message, *, job_id: str, sequence: int, url: str) -> OutboxMessage:
    """job.completed / failed / timeout / cancelled from the terminal event's payload."""
    data: dict[str, Any] = {"totals": message_dict(getattr(payload, "totals"))}
    if name == "job_failed":
        data["error"] = getattr(payload, "error")
    elif name == "job_timeout":
        data["message"] = getattr(payload, "message")
    return message(TERMINAL_TYPES[name], job_id=job_id, sequence=sequence, url=url, **data)


def created_messages(spec: WebhookSpec, *, job_id: str, url: str) -> Callable[[list[StoredEvent]], list[OutboxMessage]]:
    """For ``create_job``: job.queued when the job waits in the admission queue (a job
    that starts at once announces job.started when it runs)."""

    def build(events: list[StoredEvent]) -> list[OutboxMessage]:
        out = []
        for event in events:
            if event.name == "job_queued" and spec.wants(pb.WEBHOOK_EVENT_TYPE_JOB_QUEUED):
                position = pb.JobEvent.FromString(event.payload).job_queued.position
                out.append(message(pb.WEBHOOK_EVENT_TYPE_JOB_QUEUED, job_id=job_id, sequence=event.sequence,
                                   url=url, position=position))
        return out

    return build


class JobWebhook:
    """The messages of one running job: fed every event its owner appends."""

    def __init__(self, *, spec: WebhookSpec, job_id: str, url: str, writer: JobWriter,
                 totals: Callable[[], pb.Totals], processed: int = 0) -> None:
        self.spec = spec
        self._job_id = job_id
        self._url = url
        self._writer = writer
        self._totals = totals
        self._last_processed = processed
        self._next_pages = (processed // spec.progress_pages + 1) * spec.progress_pages
        self._last_time = time.monotonic()
        self._progress = spec.wants(pb.WEBHOOK_EVENT_TYPE_JOB_PROGRESS)

    def _send(self, kind: int, sequence: int, **data: Any) -> None:
        if self.spec.wants(kind):
            self._writer.message(message(kind, job_id=self._job_id, sequence=sequence, url=self._url, **data))

    def started(self, sequence: int) -> None:
        """The job begins on its first replica (``sequence``: the last event stored)."""
        self._send(pb.WEBHOOK_EVENT_TYPE_JOB_STARTED, sequence)

    def observe(self, sequence: int, name: str, payload: Message) -> None:
        if name == "progress":
            if self._progress:
                self._milestone(sequence, getattr(payload, "processed"))
        elif name == "job_resumed":
            self._send(pb.WEBHOOK_EVENT_TYPE_JOB_RESUMED, sequence, owner=getattr(payload, "owner"),
                       requeued_urls=getattr(payload, "requeued_urls"))
        elif name in TERMINAL_TYPES:
            if self.spec.wants(TERMINAL_TYPES[name]):
                self._writer.message(terminal_message(name, payload, job_id=self._job_id, sequence=sequence,
                                                      url=self._url))

    def _milestone(self, sequence: int, processed: int) -> None:
        now = time.monotonic()
        due = processed >= self._next_pages or (
            processed > self._last_processed and now - self._last_time >= self.spec.progress_seconds)
        if not due:
            return
        self._last_processed, self._last_time = processed, now
        self._next_pages = (processed // self.spec.progress_pages + 1) * self.spec.progress_pages
        self._send(pb.WEBHOOK_EVENT_TYPE_JOB_PROGRESS, sequence, totals=message_dict(self._totals()))
