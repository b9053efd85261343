"""Issue 14, case 2: ``max_pages`` bounds the requests a job sends, not only the pages
it keeps. Requests are counted where they arrive: at a local fixture server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from docspasta.events import category_name
from docspasta.local import LocalStack
from orchestrator.budget import BUDGET, BudgetLimits
from orchestrator.settings import OrchestratorSettings
from processor.settings import ProcessorSettings
from tests.conftest import local_crawler_settings
from tests.security.hostile_site import HostileSite, html_page
from tests.support.jobs import by_type, check_contract, names, run_job

pytestmark = pytest.mark.timeout(240)


def sitemap(site: HostileSite, count: int) -> bytes:
    urls = "".join(f"<url><loc>{site.base}/p/{i}</loc></url>" for i in range(count))
    return (f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}'
            "</urlset>").encode()


async def stack_with(limits: BudgetLimits) -> LocalStack:
    return LocalStack(crawler=local_crawler_settings(), processor=replace(ProcessorSettings(), workers=1),
                      orchestrator=replace(OrchestratorSettings(), instance_id="test", budget=limits))


async def test_300k_404_sitemap_job_sends_at_most_its_budget(hostile: HostileSite) -> None:
    hostile.html("/", html_page("Index"))
    hostile.html("/sitemap.xml", sitemap(hostile, 300_000), content_type="application/xml")
    async with await stack_with(BudgetLimits()) as stack:
        _, events = await run_job(stack, hostile.url("/"), max_pages=20, concurrency=10)
    check_contract(events)
    sent = sum(hostile.requests.values())
    print(f"300k-404 sitemap job, max_pages=20: {sent} requests (budget {BudgetLimits().job_budget(20)})")
    assert sent <= BudgetLimits().job_budget(20) == 60  # was 69,532 in 120 s
    # The error breaker closed the host after its window of 404s.
    assert sum(n for path, n in hostile.requests.items() if path.startswith("/p/")) <= 20
    assert names(events)[-1] == "job_completed"
    totals = events[-1].job_completed.totals
    # The rest (the sitemap cut at its 50,000-entry limit) is left unfetched, and counted.
    assert totals.processed == 1 and totals.skipped[BUDGET] > 40_000


async def test_the_job_budget_bounds_requests_when_errors_are_mixed(hostile: HostileSite) -> None:
    """Without the breaker (every other URL answers), the job budget alone caps."""
    good = [f"/p/{i}" for i in range(0, 400, 2)]
    for path in good:
        hostile.html(path, html_page(path))
    hostile.html("/", html_page("Index", [f"/p/{i}" for i in range(400)]))
    limits = BudgetLimits(requests_per_page=2, extra_requests=5)
    async with await stack_with(limits) as stack:
        _, events = await run_job(stack, hostile.url("/"), max_pages=30, concurrency=10)
    check_contract(events)
    sent = sum(hostile.requests.values())
    assert sent <= limits.job_budget(30) == 65, sent
    assert names(events)[-1] == "job_completed"
    failed = {category_name(e.error) for e in by_type(events, "url_failed")}
    assert failed <= {"http_4xx", "request_budget"}, failed


async def test_redirect_hops_count_toward_the_budget(hostile: HostileSite) -> None:
    for i in range(50):
        for hop in range(4):
            hostile.redirect(f"/r/{i}/{hop}", f"/r/{i}/{hop + 1}")
        hostile.html(f"/r/{i}/4", html_page(f"End {i}"))
    hostile.html("/", html_page("Index", [f"/r/{i}/0" for i in range(50)]))
    limits = BudgetLimits(requests_per_page=1, extra_requests=20)
    async with await stack_with(limits) as stack:
        _, events = await run_job(stack, hostile.url("/"), max_pages=20, concurrency=4)
    check_contract(events)
    sent = sum(hostile.requests.values())
    assert sent <= limits.job_budget(20) == 40, sent
    assert sum(n for p, n in hostile.requests.items() if p.startswith("/r/")) > 20  # hops were sent and counted
