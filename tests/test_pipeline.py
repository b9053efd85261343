"""The pipeline end to end: real gRPC services, a local fixture site."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from aiohttp import web

from docspasta.local import LocalStack
from docspasta.v1 import orchestrator_pb2 as pb
from tests.support.jobs import by_type, check_contract, names, run_job, stored_pages
from tests.support.site import FixtureSite, page, tree_site


async def test_crawls_whole_tree_in_order_with_valid_events(stack: LocalStack, site: FixtureSite) -> None:
    site.pages.update(tree_site(40))
    job_id, events = await run_job(stack, site.url("/docs/"))
    check_contract(events)
    assert names(events)[-1] == "job_completed"
    pages = await stored_pages(stack, job_id)
    assert len(pages) == 40
    assert [p.order for p in pages] == sorted(p.order for p in pages)
    assert pages[0].url == site.url("/docs/")
    assert all("Text of page number" in p.markdown for p in pages)
    assert "navigation" not in pages[5].markdown.lower()
    totals = events[-1].job_completed.totals
    assert totals.processed == 40 and totals.failed == 0


async def test_concurrency_is_bounded(stack: LocalStack, site: FixtureSite) -> None:
    site.pages.update(tree_site(60, fanout=20))
    site.delay = 0.05
    _, events = await run_job(stack, site.url("/docs/"), concurrency=3)
    assert names(events)[-1] == "job_completed"
    assert site.max_in_flight == 3  # reached, never exceeded


async def test_urls_are_normalised_and_never_crawled_twice(stack: LocalStack, site: FixtureSite) -> None:
    links = ["a.html", "a.html#section", "./a.html?utm_source=x", "A.html", "b.html?y=2&x=1",
             "b.html?x=1&y=2", "sub/", "sub/index.html", "/docs/sub/index.html#top", "image.png",
             "https://example.invalid/outside.html", "/other/out-of-scope.html"]
    site.pages["/docs/index.html"] = page("Home", links=links)
    for path in ("/docs/a.html", "/docs/A.html", "/docs/b.html", "/docs/sub/index.html", "/docs/sub/"):
        site.pages[path] = page(path, links=["/docs/", "index.html"])
    site.pages["/docs/sub/"] = page("Sub", links=["../a.html"])
    site.pages["/docs/sub/index.html"] = site.pages["/docs/sub/"]
    job_id, events = await run_job(stack, site.url("/docs/index.html"))
    check_contract(events)
    started = [s.url for s in by_type(events, "url_started")]
    assert len(started) == len(set(started))
    # Fetched in the form first seen; /docs/sub/ and /docs/sub/index.html are one page.
    assert sorted(u.removeprefix(site.base) for u in started) == sorted(
        ["/docs/index.html", "/docs/a.html", "/docs/A.html", "/docs/b.html?x=1&y=2", "/docs/sub/"])
    assert site.requests["/other/out-of-scope.html"] == 0 and site.requests["/docs/image.png"] == 0
    skipped = events[-1].job_completed.totals.skipped
    assert skipped["out_of_scope"] >= 2 and skipped["non_page"] == 1 and skipped["duplicate"] >= 5


async def test_404_redirect_and_non_html(stack: LocalStack, site: FixtureSite) -> None:
    async def redirect(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("/docs/target.html")

    async def pdf(request: web.Request) -> web.StreamResponse:
        return web.Response(body=b"%PDF-1.4 binary", content_type="application/pdf")

    site.pages["/docs/"] = page("Home", links=["missing.html", "moved.html", "manual", "target.html"])
    site.pages["/docs/target.html"] = page("Target")
    site.handlers["/docs/moved.html"] = redirect
    site.handlers["/docs/manual"] = pdf
    job_id, events = await run_job(stack, site.url("/docs/"))
    check_contract(events)
    failed = {f.url.removeprefix(site.base): f for f in by_type(events, "url_failed")}
    assert failed["/docs/missing.html"].error == 4  # http_4xx, not retried
    assert failed["/docs/missing.html"].will_retry is False and site.requests["/docs/missing.html"] == 1
    assert "/docs/manual" not in failed  # a PDF is not a page: skipped (tests/test_non_pages.py), not failed
    crawled = {c.url.removeprefix(site.base): c for c in by_type(events, "url_crawled")}
    pages = {p.url.removeprefix(site.base) for p in await stored_pages(stack, job_id)}
    # moved.html redirects to target.html: one page, never two.
    assert "/docs/target.html" in pages or "/docs/moved.html" in pages
    assert not ("/docs/target.html" in pages and "/docs/moved.html" in pages)
    if "/docs/moved.html" in crawled:
        assert crawled["/docs/moved.html"].final_url.endswith("/docs/target.html")
    assert events[-1].job_completed.totals.failed == 1
    assert events[-1].job_completed.totals.skipped["not_html"] == 1


async def test_deadline_ends_in_timeout_with_partial_results(stack: LocalStack, site: FixtureSite) -> None:
    site.pages.update(tree_site(200, fanout=10))
    site.delay = 0.2
    job_id, events = await run_job(stack, site.url("/docs/"), concurrency=2, timeout_seconds=1.5)
    check_contract(events)
    assert names(events)[-1] == "job_timeout"
    done = events[-1].job_timeout.totals.processed
    assert 0 < done < 200
    assert len(await stored_pages(stack, job_id)) >= done


async def test_cancel_stops_promptly(stack: LocalStack, site: FixtureSite) -> None:
    site.pages.update(tree_site(300, fanout=10))
    site.delay = 0.1
    orchestrator = stack.orchestrator_stub()
    started = await orchestrator.StartJob(pb.StartJobRequest(url=site.url("/docs/")), timeout=10)
    await asyncio.sleep(0.5)
    await orchestrator.CancelJob(pb.CancelJobRequest(job_id=started.job_id), timeout=10)
    events = [e async for e in orchestrator.JobEvents(pb.JobEventsRequest(job_id=started.job_id), timeout=10)]
    check_contract(events)
    assert names(events)[-1] == "job_cancelled"
    requests = sum(site.requests.values())
    await asyncio.sleep(0.5)
    assert sum(site.requests.values()) == requests  # no fetch after the end
    job = await orchestrator.GetJob(pb.GetJobRequest(job_id=started.job_id), timeout=10)
    assert job.state == pb.JOB_STATE_CANCELLED


async def test_no_success_is_job_failed(stack: LocalStack, site: FixtureSite) -> None:
    _, events = await run_job(stack, site.url("/docs/nothing-here.html"))
    check_contract(events)
    assert names(events)[-1] == "job_failed"
    assert "HTTP 404" in events[-1].job_failed.error


async def test_replay_after_sequence(stack: LocalStack, site: FixtureSite) -> None:
    site.pages.update(tree_site(10))
    job_id, events = await run_job(stack, site.url("/docs/"))
    orchestrator = stack.orchestrator_stub()
    for after in (0, 1, 5, len(events) - 1, len(events)):
        again = [e async for e in orchestrator.JobEvents(
            pb.JobEventsRequest(job_id=job_id, after_sequence=after), timeout=10)]
        assert again == events[after:]


async def test_time_update_every_second(stack: LocalStack, site: FixtureSite) -> None:
    site.pages.update(tree_site(30, fanout=3))
    site.delay = 0.25
    _, events = await run_job(stack, site.url("/docs/"), concurrency=1)
    ticks = by_type(events, "time_update")
    elapsed = events[-1].job_completed.totals.elapsed_seconds
    assert abs(len(ticks) - int(elapsed)) <= 1
    assert [t.formatted for t in ticks[:3]] == ["0:01", "0:02", "0:03"]


@pytest.mark.parametrize("request_, message", [
    (pb.StartJobRequest(url=""), "url: required"),
    (pb.StartJobRequest(url="ftp://example.com/"), "only http and https"),
    (pb.StartJobRequest(url="https://example.com/", options=pb.JobOptions(max_pages=-1)), "options.max_pages"),
    (pb.StartJobRequest(url="https://example.com/", options=pb.JobOptions(concurrency=100000)),
     "options.concurrency"),
])
async def test_start_job_validates(stack: LocalStack, request_: pb.StartJobRequest, message: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stack.orchestrator_stub().StartJob(request_, timeout=10)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert message in (info.value.details() or "")


async def test_unknown_job_is_not_found(stack: LocalStack) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stack.orchestrator_stub().GetJob(pb.GetJobRequest(job_id="nope"), timeout=10)
    assert info.value.code() == grpc.StatusCode.NOT_FOUND
