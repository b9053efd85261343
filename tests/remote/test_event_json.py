"""event_from_dict inverts event_dict on every event a real job sends (the remote CLI
rebuilds the JobEvents its progress display and summary read from the bridge's JSON)."""

from __future__ import annotations

from docspasta.events import event_dict, event_from_dict
from docspasta.local import LocalStack
from docspasta.v1 import orchestrator_pb2 as pb
from tests.support.site import FixtureSite, page, tree_site


async def test_every_event_of_a_real_job_survives_its_json_form(stack: LocalStack, site: FixtureSite) -> None:
    site.pages.update(tree_site(6))
    site.pages["/docs/page-1.html"] = page("Page 1", "Links to a missing page.", ["missing.html", "index.html"])
    orchestrator = stack.orchestrator_stub()
    started = await orchestrator.StartJob(pb.StartJobRequest(url=site.url("/docs/")), timeout=60)
    events = [e async for e in orchestrator.JobEvents(pb.JobEventsRequest(job_id=started.job_id), timeout=120)]
    names = {e.WhichOneof("event") for e in events}
    assert {"stream_connected", "url_processed", "url_failed", "progress", "job_completed"} <= names, names
    for event in events:
        assert event_from_dict(event_dict(event)) == event, event.WhichOneof("event")
    failed = next(e for e in events if e.WhichOneof("event") == "url_failed")
    assert failed.url_failed.error != 0, "the error category was lost"
    # A field or event type this version does not know is ignored, not an error.
    assert event_from_dict({**event_dict(events[0]), "new_field": 1}) == events[0]
    unknown = event_from_dict({"type": "from_the_future", "job_id": "j", "sequence": 9})
    assert unknown.sequence == 9 and unknown.WhichOneof("event") is None
