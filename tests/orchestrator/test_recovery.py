"""Retries and politeness against hosts that push back (issue 5, "done when" 2): one
answers 429 with Retry-After, one fails half of its requests transiently; the crawl
completes with every page, the events show each attempt, and the 429 host gets no
request while its Retry-After runs."""

from __future__ import annotations

from collections import Counter

from aiohttp import web

from docspasta.v1 import orchestrator_pb2 as pb

from docspasta.local import LocalStack
from tests.orchestrator.test_site import html
from tests.orchestrator.vhosts import VirtualHosts
from tests.support.jobs import by_type, check_contract, names, run_job, stored_pages

FLAKY = "flaky.example.localhost"
BUSY = "busy.example.localhost"
RETRY_AFTER = 3.0
PAUSE_SLACK = 1.0
N_FLAKY = 12
N_BUSY = 12


def seconds(event: pb.JobEvent) -> float:
    return event.timestamp.seconds + event.timestamp.nanos / 1e9


def build(v: VirtualHosts) -> list[float]:
    """The hosts; returns the list the busy host appends each 429's time to."""
    flaky, busy = v.host(FLAKY), v.host(BUSY)
    flaky.pages["/docs/"] = html("Flaky home", [f"p{i}" for i in range(N_FLAKY)]
                                 + [v.url(BUSY, f"/docs/b{i}") for i in range(N_BUSY)])
    for i in range(N_FLAKY):
        flaky.pages[f"/docs/p{i}"] = html(f"Flaky page {i}")
    for i in range(N_BUSY):
        busy.pages[f"/docs/b{i}"] = html(f"Busy page {i}")
    seen: Counter[str] = Counter()
    failures = [500, 502, 503, 504, 408]

    async def flaky_handler(request: web.Request) -> web.StreamResponse:
        # Every path's odd-numbered request fails: half of all requests, none twice in a row.
        seen[request.path] += 1
        if seen[request.path] % 2:
            status = failures[sum(seen.values()) % len(failures)]
            return web.Response(status=status, text="try again")
        if request.path in flaky.pages:
            return web.Response(text=flaky.pages[request.path], content_type="text/html")
        return web.Response(status=404, text="no")

    for path in [*flaky.pages, "/robots.txt", "/sitemap.xml"]:
        flaky.handlers[path] = flaky_handler
    refusals: list[float] = []
    count = Counter[str]()

    async def busy_handler(request: web.Request) -> web.StreamResponse:
        if request.path in busy.pages:
            count["n"] += 1
        if request.path in busy.pages and count["n"] in (3, 9):  # pushes back twice during the crawl
            refusals.append(busy.log[-1][0])
            return web.Response(status=429, text="slow down", headers={"Retry-After": f"{RETRY_AFTER:g}"})
        if request.path in busy.pages:
            return web.Response(text=busy.pages[request.path], content_type="text/html")
        return web.Response(status=404, text="no")

    busy.handlers["*"] = busy_handler
    busy.handlers.update({p: busy_handler for p in busy.pages})
    return refusals


async def test_429_and_flaky_hosts_complete_with_every_page(stack: LocalStack, vhosts: VirtualHosts) -> None:
    refusals = build(vhosts)
    job_id, events = await run_job(stack, vhosts.url(FLAKY, "/docs/"), allowed_domains=[BUSY])
    check_contract(events)
    assert names(events)[-1] == "job_completed"
    stored = {p.url for p in await stored_pages(stack, job_id)}
    assert len(stored) == 1 + N_FLAKY + N_BUSY
    totals = events[-1].job_completed.totals
    assert totals.failed == 0

    # Every flaky page: attempt 1 fails with will_retry, attempt 2 starts and succeeds.
    failed = by_type(events, "url_failed")
    started = by_type(events, "url_started")
    for url in [vhosts.url(FLAKY, "/docs/")] + [vhosts.url(FLAKY, f"/docs/p{i}") for i in range(N_FLAKY)]:
        attempts = [s.attempt for s in started if s.url == url]
        assert attempts == [1, 2], (url, attempts)
        first = [f for f in failed if f.url == url]
        assert len(first) == 1 and first[0].will_retry and first[0].attempt == 1 and first[0].retry_in_seconds > 0
    assert totals.retries == 1 + N_FLAKY + 2  # the flaky pages and the two 429s
    flaky_log = vhosts.hosts[FLAKY].paths()
    assert flaky_log.count("/robots.txt") == 2  # failed once, retried, obeyed

    # The busy host: after each 429 the orchestrator starts no request to it before
    # Retry-After has passed. Judged by the orchestrator's own events (when it started
    # each request), not by arrival times at the server: a loaded machine delays requests
    # already granted when the 429 came by any amount. PAUSE_SLACK covers the moments
    # between the answer coming in (the pause starts) and its url_failed event.
    assert len(refusals) == 2
    busy = vhosts.url(BUSY, "")
    started_at = [seconds(e) for e in events if names([e]) == ["url_started"] and e.url_started.url.startswith(busy)]
    refused = [e for e in events if names([e]) == ["url_failed"] and e.url_failed.url.startswith(busy)
               and e.url_failed.will_retry]
    assert len(refused) == 2 and all(e.url_failed.retry_in_seconds >= RETRY_AFTER for e in refused)
    for event in refused:
        at = seconds(event)
        early = [t - at for t in started_at if at < t < at + RETRY_AFTER - PAUSE_SLACK]
        assert not early, early
