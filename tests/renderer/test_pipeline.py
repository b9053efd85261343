"""Rendering in whole jobs: the local stack (crawler, processor, orchestrator) with the
renderer started on first need, a script-built site and an ordinary static one."""

from __future__ import annotations

import asyncio
import faulthandler
import json
import logging
import os
import re
import sys
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from docspasta.local import LocalStack
from docspasta.v1 import orchestrator_pb2 as pb
from orchestrator.settings import OrchestratorSettings
from processor.settings import ProcessorSettings
from renderer.settings import RendererSettings
from tests.conftest import local_crawler_settings
from tests.renderer.sites import DocsifySite, SpaSite
from tests.support.jobs import by_type, check_contract, names, run_job, stored_pages
from tests.support.site import FixtureSite, tree_site

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]
ROOT = Path(__file__).resolve().parents[2]


def recall(expected: str, got: str) -> float:
    """Share of the expected words (with multiplicity) found in what was kept."""
    def tokens(text: str) -> Counter[str]:
        return Counter(re.findall(r"[\w.']+", text.lower()))
    want = tokens(expected)
    return sum((want & tokens(got)).values()) / max(1, sum(want.values()))


def renderer_hosts(stack: LocalStack) -> int:
    return sum(1 for h in stack.hosts if h.service_names == ["docspasta.v1.Renderer"])


@pytest.fixture
async def render_stack() -> AsyncIterator[LocalStack]:
    async with LocalStack(crawler=local_crawler_settings(), processor=replace(ProcessorSettings(), workers=1),
                          orchestrator=replace(OrchestratorSettings(), instance_id="test"),
                          renderer=replace(RendererSettings(), fetch=local_crawler_settings(), max_pages=2)) as s:
        yield s


async def test_auto_captures_every_page_of_a_script_built_site(render_stack: LocalStack, spa: SpaSite) -> None:
    job_id, events = await run_job(render_stack, spa.base + "/", render_mode=pb.RENDER_MODE_AUTO)
    check_contract(events)
    assert names(events)[-1] == "job_completed", by_type(events, "url_failed")
    crawled = by_type(events, "url_crawled")
    assert len(crawled) == len(spa.paths())
    assert all(c.rendered for c in crawled)
    pages = {p.url: p for p in await stored_pages(render_stack, job_id)}
    assert set(pages) == {spa.base + p for p in spa.paths()}
    for path in spa.paths():
        page = pages[spa.base + path]
        score = recall(spa.expected_text(path), page.markdown)
        assert score >= 0.99, (path, score, page.markdown[:500])
        assert page.title.startswith(str(spa.content(path)["title"]))
    # After two shells on the host the rest went to the browser directly: only the
    # first pages (those in flight before the second shell was seen) were fetched first.
    assert sum(spa.requests[p] for p in spa.paths()) < 2 * len(spa.paths())


async def test_auto_renders_nothing_on_a_static_site(render_stack: LocalStack, site: FixtureSite) -> None:
    site.pages.update(tree_site(30))
    _, events = await run_job(render_stack, site.url("/docs/"))
    assert names(events)[-1] == "job_completed"
    crawled = by_type(events, "url_crawled")
    assert len(crawled) == 30 and not any(c.rendered for c in crawled)
    assert renderer_hosts(render_stack) == 0  # no browser was ever started


async def test_static_pages_that_only_look_like_shells_do_not_send_the_host_to_the_browser(
        render_stack: LocalStack, site: FixtureSite) -> None:
    """Tiny static pages with a script (a Doxygen index, a short list page) are taken for
    shells and rendered; the render adds no text, so they do not count as the host's
    shells and every page is still fetched first, not sent to the browser directly."""
    n = 8
    for i in range(n):
        links = "".join(f'<a href="/s/{j}.html">Item {j}</a> ' for j in (2 * i + 1, 2 * i + 2) if j < n)
        site.pages[f"/s/{i}.html"] = (f"<html><head><title>Item {i}</title><script>window.item = {i};</script>"
                                      f"</head><body><h1>Item {i}</h1><p>Short.</p>{links}</body></html>")
    job_id, events = await run_job(render_stack, site.url("/s/0.html"), render_mode=pb.RENDER_MODE_AUTO)
    assert names(events)[-1] == "job_completed", by_type(events, "url_failed")
    assert len(await stored_pages(render_stack, job_id)) == n
    # Each page: the crawler's fetch, then the browser's (the renderer fetches through
    # the crawler's fetcher). A host sent to the browser directly would skip the first.
    assert all(site.requests[f"/s/{i}.html"] == 2 for i in range(n)), site.requests


async def test_never_keeps_the_shells(render_stack: LocalStack, spa: SpaSite) -> None:
    job_id, events = await run_job(render_stack, spa.base + "/", render_mode=pb.RENDER_MODE_NEVER)
    assert not any(c.rendered for c in by_type(events, "url_crawled"))
    pages = await stored_pages(render_stack, job_id)
    assert len(pages) == 1  # the shell links nowhere
    assert recall(spa.expected_text("/"), pages[0].markdown) < 0.2
    assert renderer_hosts(render_stack) == 0


async def test_rendering_without_chromium_fails_naming_the_package(site: FixtureSite) -> None:
    site.pages.update(tree_site(3))
    async with LocalStack(crawler=local_crawler_settings(), processor=replace(ProcessorSettings(), workers=1),
                          orchestrator=replace(OrchestratorSettings(), instance_id="test"),
                          renderer=replace(RendererSettings(), fetch=local_crawler_settings(),
                                           chromium="/nonexistent/chromium")) as stack:
        _, events = await run_job(stack, site.url("/docs/"), render_mode=pb.RENDER_MODE_ALWAYS)
    assert names(events)[-1] == "job_failed"
    assert "apt-get install chromium" in events[-1].job_failed.error
    failures = by_type(events, "url_failed")
    assert failures and all("apt-get install chromium" in f.message and not f.will_retry for f in failures)


async def test_auto_without_chromium_keeps_the_pages_as_fetched(spa: SpaSite, site: FixtureSite) -> None:
    """Auto mode renders on a guess: with no browser the guess costs nothing — the shell
    is kept as fetched, as --render never keeps it, and a static site whose pages look
    like shells to the check is crawled whole."""
    site.pages.update(tree_site(12))
    async with LocalStack(crawler=local_crawler_settings(), processor=replace(ProcessorSettings(), workers=1),
                          orchestrator=replace(OrchestratorSettings(), instance_id="test"),
                          renderer=replace(RendererSettings(), fetch=local_crawler_settings(),
                                           chromium="/nonexistent/chromium")) as stack:
        job_id, events = await run_job(stack, spa.base + "/", render_mode=pb.RENDER_MODE_AUTO)
        check_contract(events)
        assert names(events)[-1] == "job_completed", events[-1]
        failures = by_type(events, "url_failed")
        assert failures and all(f.will_retry and "keeping the page as fetched" in f.message
                                and "apt-get install chromium" in f.message for f in failures)
        assert events[-1].job_completed.totals.failed == 0
        pages = await stored_pages(stack, job_id)
        assert [p.url for p in pages] == [spa.base + "/"]
        # Once auto mode knows there is no browser it stops asking: a second job on the
        # same stack is a fresh decision, and a static site goes through untouched.
        _, events = await run_job(stack, site.url("/docs/"), render_mode=pb.RENDER_MODE_AUTO)
        assert names(events)[-1] == "job_completed"
        assert len(by_type(events, "url_crawled")) == 12


class SegfaultWhenUnpickled:
    """A settings value whose unpickling is a real SIGSEGV (faulthandler's own test hook):
    the renderer child, which gets its settings pickled, crashes as it starts — what the
    clean-clone CI saw (exit -11, twice), deterministically."""

    def __reduce__(self) -> tuple[object, tuple[()]]:
        return faulthandler._sigsegv, ()


async def test_a_renderer_that_cannot_start_fails_only_the_pages_that_need_it(
        spa: SpaSite, site: FixtureSite, caplog: pytest.LogCaptureFixture) -> None:
    """The CLI's stack (children): the renderer child dies of SIGSEGV at start, and again
    on the retry. Auto mode keeps the shell as fetched and completes; always mode fails
    the page with the cause and the job ends; the log has the signal and the child's own
    report of the crash; and the next job does not start it again at once."""
    site.pages.update(tree_site(3))
    caplog.set_level(logging.WARNING)
    async with LocalStack(crawler=local_crawler_settings(), processor=replace(ProcessorSettings(), workers=1),
                          orchestrator=replace(OrchestratorSettings(), instance_id="test"), processes=True,
                          renderer=replace(RendererSettings(), fetch=local_crawler_settings(),
                                           log_level=SegfaultWhenUnpickled())) as stack:  # type: ignore[arg-type]
        job_id, events = await run_job(stack, spa.base + "/", render_mode=pb.RENDER_MODE_AUTO)
        check_contract(events)
        assert names(events)[-1] == "job_completed", events[-1]
        failures = by_type(events, "url_failed")
        assert failures and all(f.will_retry and "keeping the page as fetched" in f.message
                                and "killed by SIGSEGV (exit -11)" in f.message for f in failures), failures
        assert [p.url for p in await stored_pages(stack, job_id)] == [spa.base + "/"]

        _, events = await run_job(stack, site.url("/docs/"), render_mode=pb.RENDER_MODE_ALWAYS)
        assert names(events)[-1] == "job_failed", events[-1]
        failures = by_type(events, "url_failed")
        assert failures and all("the renderer could not be started" in f.message and "SIGSEGV" in f.message
                                and not f.will_retry for f in failures), failures
    starts = [r for r in caplog.records if r.name == "docspasta.local" and r.levelno == logging.ERROR]
    # Two starts (the first and its retry) for both jobs: the second job came within
    # DEFAULT_RENDERER_RESTART_SECONDS of the failure and did not start two more.
    assert len(starts) == 2, [r.getMessage() for r in starts]
    for record in starts:
        message = record.getMessage()
        assert "renderer process" in message and "killed by SIGSEGV" in message
        assert "Fatal Python error: Segmentation fault" in message, message  # the child's faulthandler


@pytest.fixture
async def docsify() -> AsyncIterator[DocsifySite]:
    s = await DocsifySite().start()
    yield s
    await s.stop()


async def test_auto_captures_every_page_of_a_docsify_site(render_stack: LocalStack, docsify: DocsifySite) -> None:
    job_id, events = await run_job(render_stack, docsify.base + "/")
    check_contract(events)
    assert names(events)[-1] == "job_completed", by_type(events, "url_failed")
    crawled = by_type(events, "url_crawled")
    # Docsify's heading anchors are links to /page?id=heading: a crawl takes those as
    # URLs of their own (the query is part of a page's identity), so the paths are
    # compared here, each page once at least.
    assert {urlsplit(c.url).path for c in crawled} == set(docsify.paths())
    assert all(c.rendered for c in crawled)
    pages = {p.url: p for p in await stored_pages(render_stack, job_id)}
    for path in docsify.paths():
        page = pages[docsify.base + path]
        score = recall(docsify.expected_text(path), page.markdown)
        assert score >= 0.99, (path, score, page.markdown[:800])
        assert "```python" in page.markdown or "``` python" in page.markdown


async def test_docspasta_crawl_starts_the_renderer_for_a_script_built_site(spa: SpaSite, tmp_path: Path) -> None:
    """The CLI's stack (crawler and processor in child processes): the renderer is a child
    started on the first shell, and the events and pages say so."""
    events_file, pages_file = tmp_path / "events.jsonl", tmp_path / "pages.jsonl"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PROCESSOR_WORKERS": "1", "LOG_LEVEL": "warning"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "docspasta.cli", "crawl", spa.base + "/", "--allow-private-network", "-q",
        "--render", "auto", "--events", str(events_file), "--jsonl", str(pages_file), "-o", str(tmp_path / "out.md"),
        cwd=str(tmp_path), env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 240)
    assert proc.returncode == 0, err.decode()[-2000:]
    events = [json.loads(line) for line in events_file.read_text().splitlines()]
    crawled = [e for e in events if e["type"] == "url_crawled"]
    assert len(crawled) == len(spa.paths()), events[:3]
    assert all(e["rendered"] is True for e in crawled), crawled[:2]  # the events' JSON says so
    pages = [json.loads(line) for line in pages_file.read_text().splitlines()]
    assert len(pages) == len(spa.paths())
    for page in pages:
        path = urlsplit(page["url"]).path
        assert recall(spa.expected_text(path), page["markdown"]) >= 0.99, path
