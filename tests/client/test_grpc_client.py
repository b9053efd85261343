"""The client against the real orchestrator (and its crawler and processor) over gRPC."""

from __future__ import annotations

import pytest

from docspasta.client import AsyncClient, CrawlOptions, InvalidRequest, JobNotFound
from docspasta.local import LocalStack
from tests.support.site import FixtureSite, tree_site


async def test_start_follow_cancel_over_grpc(stack: LocalStack, site: FixtureSite) -> None:
    site.pages.update(tree_site(8))
    async with AsyncClient(stack.orchestrator_target, timeout=60) as client:
        job = await client.start(site.url("/docs/"), CrawlOptions(max_pages=8), request_id="grpc-req-0001")
        again = await client.start(site.url("/docs/"), CrawlOptions(max_pages=8), request_id="grpc-req-0001")
        assert again.job_id == job.job_id, "a retried StartJob started a second job"
        events = [e async for e in client.events(job)]
        assert [e.sequence for e in events] == list(range(1, len(events) + 1))
        assert events[-1].type == "job_completed"
        assert sum(e.type == "url_processed" for e in events) == 8
        # Resuming from the middle gives exactly the rest.
        middle = events[len(events) // 2].sequence
        tail = [e.sequence async for e in client.events(job.job_id, after=middle)]
        assert tail == list(range(middle + 1, len(events) + 1))
        final = await client.get(job)
        assert final.state == "completed" and final.totals.processed == 8 and final.last_sequence == len(events)
        # Cancelling a finished job changes nothing.
        assert (await client.cancel(job)).state == "completed"

        with pytest.raises(JobNotFound) as missing:
            await client.get("0" * 32, timeout=10)
        assert missing.value.reason == "JOB_NOT_FOUND" and missing.value.code == "not_found"
        with pytest.raises(InvalidRequest) as bad:
            await client.start("ftp://example.com/", timeout=10)
        assert bad.value.field == "url" and bad.value.reason == "FIELD_INVALID"
