"""Hostile pages end in a per-page error within their cap, and the renderer keeps
serving: infinite DOM growth, a script that never yields, endless requests, endless
dialogs, ten thousand frames, a heap that grows without end."""

from __future__ import annotations

import time

import pytest

from docspasta.v1 import common_pb2, renderer_pb2
from tests.renderer.conftest import StartRenderer
from tests.renderer.sites import HOSTILE, ProbeSite

pytestmark = [pytest.mark.browser, pytest.mark.timeout(400)]

CAP = 15.0
# A loaded 2-core machine: the answer may come a little after the cap, never much later.
SLACK = 10.0
EXPECTED = {
    "dom-growth": {common_pb2.ERROR_CATEGORY_TOO_LARGE, common_pb2.ERROR_CATEGORY_TIMEOUT},
    "busy-loop": {common_pb2.ERROR_CATEGORY_TIMEOUT},
    "endless-xhr": {common_pb2.ERROR_CATEGORY_TOO_LARGE},
    "dialogs": {common_pb2.ERROR_CATEGORY_TOO_LARGE},
    "iframes": {common_pb2.ERROR_CATEGORY_TOO_LARGE, common_pb2.ERROR_CATEGORY_TIMEOUT},
    "memory": {common_pb2.ERROR_CATEGORY_TOO_LARGE, common_pb2.ERROR_CATEGORY_TIMEOUT},
}


async def test_hostile_pages_fail_alone_within_their_cap(probe: ProbeSite, start_renderer: StartRenderer) -> None:
    assert set(EXPECTED) == set(HOSTILE)
    r = await start_renderer(probe.port, render_timeout=CAP, settle_seconds=CAP, max_subrequests=100,
                             max_dom_elements=50_000, max_frames=50, max_dialogs=20, js_heap_mb=128)
    for kind in HOSTILE:
        started = time.monotonic()
        response = await r.stub.Render(renderer_pb2.RenderRequest(url=f"{probe.base}/hostile/{kind}", job_id="h"),
                                       timeout=CAP + 60)
        took = time.monotonic() - started
        assert response.page.error in EXPECTED[kind], (kind, response.page.error, response.page.error_message)
        assert response.page.error_message
        assert took < CAP + SLACK, (kind, took)
        # The same job's next page renders as if nothing happened.
        ok = await r.stub.Render(renderer_pb2.RenderRequest(url=probe.base + "/ok", job_id="h"), timeout=CAP + 60)
        assert not ok.page.error, (kind, ok.page.error_message)
        assert "built by script" in ok.page.html
