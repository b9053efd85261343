"""Helpers to run a job on a LocalStack and check its event stream."""

from __future__ import annotations

from typing import Any

from docspasta.events import TERMINAL_EVENTS, event_name
from docspasta.local import LocalStack
from docspasta.v1 import orchestrator_pb2 as pb, processor_pb2


async def run_job(stack: LocalStack, url: str, **options: Any) -> tuple[str, list[pb.JobEvent]]:
    orchestrator = stack.orchestrator_stub()
    started = await orchestrator.StartJob(pb.StartJobRequest(url=url, options=pb.JobOptions(**options)), timeout=10)
    events = [e async for e in orchestrator.JobEvents(pb.JobEventsRequest(job_id=started.job_id), timeout=120)]
    return started.job_id, events


async def stored_pages(stack: LocalStack, job_id: str) -> list[processor_pb2.Page]:
    call = stack.processor_stub().ListPages(processor_pb2.ListPagesRequest(job_id=job_id), timeout=30)
    return [p async for p in call]


def names(events: list[pb.JobEvent]) -> list[str]:
    return [event_name(e) for e in events]


def by_type(events: list[pb.JobEvent], name: str) -> list[Any]:
    return [getattr(e, name) for e in events if event_name(e) == name]


def check_contract(events: list[pb.JobEvent]) -> None:
    """Gapless sequence from 1, exactly one terminal event and it is last, and every
    URL's steps in order: started -> crawled -> sent_to_processing -> processed."""
    assert [e.sequence for e in events] == list(range(1, len(events) + 1))
    kinds = names(events)
    assert kinds[0] == "stream_connected"
    assert sum(k in TERMINAL_EVENTS for k in kinds) == 1 and kinds[-1] in TERMINAL_EVENTS
    steps: dict[str, list[str]] = {}
    for e in events:
        name = event_name(e)
        if name in ("url_started", "url_crawled", "sent_to_processing", "url_processed"):
            steps.setdefault(getattr(e, name).url, []).append(name)
    for url, seen in steps.items():
        if "url_processed" in seen:
            tail = [s for s in seen if s != "url_started"]
            assert seen[0] == "url_started", (url, seen)
            assert tail == ["url_crawled", "sent_to_processing", "url_processed"], (url, seen)
