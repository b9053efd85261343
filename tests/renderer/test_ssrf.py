"""SSRF through the renderer: a page whose scripts, frames, links, workers and redirects
reach for loopback, private, metadata and other-port targets gets none of them.

The renderer refuses private targets and allows exactly one loopback endpoint, the
probe site. Witnesses: a canary listener on another loopback port counts zero
connections; the browser's backstop proxy (another listener) receives no request at all
(Chromium may open a speculative connection to its proxy when a navigation starts, and
sends nothing on it; in production that proxy is a closed port); the page's own record
of each attempt says refused; the renderer counts the refusals."""

from __future__ import annotations

import re

import pytest

from docspasta.v1 import common_pb2, renderer_pb2
from tests.renderer.conftest import Canary, StartRenderer
from tests.renderer.sites import ProbeSite

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]


async def test_nothing_the_page_reaches_for_is_fetched(probe: ProbeSite, canary: Canary, backstop: Canary,
                                                       start_renderer: StartRenderer) -> None:
    # The page says when every attempt has reported (30 s at most): settle up to 45 s for it.
    r = await start_renderer(probe.port, settle_seconds=45.0, render_timeout=90.0)
    response = await r.stub.Render(renderer_pb2.RenderRequest(
        url=probe.base + "/ssrf", job_id="ssrf", wait_selector="#done:not(:empty)"), timeout=150)
    page = response.page
    assert page.error == common_pb2.ERROR_CATEGORY_UNSPECIFIED, page.error_message
    assert "attempts finished" in page.html
    results = re.findall(r"<li>([^<]*)</li>", page.html)
    # The scripts ran: every fetch and XHR attempt reported back, each refused.
    assert sum(1 for line in results if line.startswith(("fetch ", "xhr "))) >= 2 * 12, results
    assert not [line for line in results if "GOT" in line], results
    assert "worker refused" in results
    assert canary.connections == 0, canary.received
    assert not [data for data in backstop.received if data], backstop.received
    # The site's own redirect was fetched; its forbidden next hop was not.
    assert probe.requests["/redirect"] >= 1
    assert response.blocked_requests >= 12
    # Only the probe site was ever asked for anything, and never for the canary paths.
    assert not {"/loopback", "/via-redirect", "/from-worker", "/ssrf/sw.js"} & set(probe.requests)


async def test_a_document_that_redirects_to_a_private_target_is_refused(
        probe: ProbeSite, canary: Canary, start_renderer: StartRenderer) -> None:
    r = await start_renderer(probe.port)
    for target in (f"http://127.0.0.1:{canary.port}/", "http://169.254.169.254/latest/meta-data/",
                   "http://[::1]/", f"http://localhost:{canary.port}/", "file:///etc/passwd"):
        response = await r.stub.Render(renderer_pb2.RenderRequest(url=f"{probe.base}/redirect?to={target}"),
                                       timeout=60)
        assert response.page.error in (common_pb2.ERROR_CATEGORY_BLOCKED, common_pb2.ERROR_CATEGORY_INVALID), target
    assert canary.connections == 0


async def test_a_page_navigating_to_a_private_target_fails_as_blocked(
        probe: ProbeSite, canary: Canary, start_renderer: StartRenderer) -> None:
    r = await start_renderer(probe.port)
    response = await r.stub.Render(renderer_pb2.RenderRequest(url=probe.base + "/navigate-away"), timeout=60)
    assert response.page.error == common_pb2.ERROR_CATEGORY_BLOCKED
    assert "navigated to" in response.page.error_message
    assert canary.connections == 0
