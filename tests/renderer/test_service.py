"""The renderer service end to end: real gRPC server, real Chromium, a local SPA."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from docspasta.rpc import insecure_channel
from docspasta.v1 import common_pb2, renderer_pb2
from tests.renderer.conftest import StartRenderer
from tests.renderer.sites import ProbeSite, SpaSite

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]


def words(text: str) -> list[str]:
    return text.split()


async def test_renders_every_page_of_a_script_built_site(spa: SpaSite, start_renderer: StartRenderer) -> None:
    r = await start_renderer(spa.port)
    for path in spa.paths():
        response = await r.stub.Render(renderer_pb2.RenderRequest(url=spa.base + path, job_id="job-spa"), timeout=90)
        page = response.page
        assert page.error == common_pb2.ERROR_CATEGORY_UNSPECIFIED, page.error_message
        assert page.status == 200 and page.content_type == "text/html"
        assert page.final_url == spa.base + path
        for line in spa.expected_text(path).splitlines():
            assert " ".join(words(line)) in " ".join(words(page.html.replace("&#39;", "'"))), line
        assert page.title == f"{spa.content(path)['title']} - SPA Docs"
        # Navigation links the script built, absolute like a crawl's.
        assert {spa.base + p for p in spa.paths()} <= set(page.links)
        assert response.subrequests >= 3 and response.dom_elements > 10
        assert page.content_length == len(page.html.encode())


async def test_a_jobs_context_is_its_own(probe: ProbeSite, start_renderer: StartRenderer) -> None:
    r = await start_renderer(probe.port)

    async def visits(job_id: str) -> str:
        response = await r.stub.Render(renderer_pb2.RenderRequest(url=probe.base + "/storage", job_id=job_id),
                                       timeout=90)
        assert not response.page.error, response.page.error_message
        return response.page.html

    assert "visits 1" in await visits("job-a")
    assert "visits 2" in await visits("job-a")      # one job: one context
    assert "visits 1" in await visits("job-b")      # another job sees nothing of it
    assert "visits 1" in await visits("")           # no job: a context for this page alone
    assert "visits 1" in await visits("")


async def test_page_errors_have_the_crawlers_categories(probe: ProbeSite, start_renderer: StartRenderer) -> None:
    r = await start_renderer(probe.port)
    blocked = await r.stub.Render(renderer_pb2.RenderRequest(url="http://10.0.0.1/docs/"), timeout=60)
    assert blocked.page.error == common_pb2.ERROR_CATEGORY_BLOCKED
    assert "private" in blocked.page.error_message
    other_port = await r.stub.Render(renderer_pb2.RenderRequest(url="http://127.0.0.1:1/"), timeout=60)
    assert other_port.page.error == common_pb2.ERROR_CATEGORY_BLOCKED
    text = await r.stub.Render(renderer_pb2.RenderRequest(url=probe.base + "/plain"), timeout=60)
    assert text.page.error == common_pb2.ERROR_CATEGORY_NOT_HTML
    bad_selector = await r.stub.Render(renderer_pb2.RenderRequest(url=probe.base + "/ok", wait_selector="p[[["),
                                       timeout=60)
    assert bad_selector.page.error == common_pb2.ERROR_CATEGORY_INVALID
    assert "wait_selector" in bad_selector.page.error_message
    waited = await r.stub.Render(renderer_pb2.RenderRequest(url=probe.base + "/ok", wait_selector="#built"),
                                 timeout=60)
    assert "built by script" in waited.page.html
    # Images, fonts, media and style sheets are never fetched (nothing in them is text).
    assert not [path for path in probe.requests if path.startswith("/assets/")], probe.requests


@pytest.mark.parametrize(("request_fields", "field"), [
    ({"url": ""}, "url"),
    ({"url": "ftp://example.com/"}, "url"),
    ({"url": "http://exa\tmple.com/"}, "url"),
    ({"url": "http://example.com/" + "a" * 3000}, "url"),
    ({"url": "http://example.com/", "job_id": "bad id!"}, "job_id"),
    ({"url": "http://example.com/", "timeout_seconds": -1}, "timeout_seconds"),
    ({"url": "http://example.com/", "timeout_seconds": float("nan")}, "timeout_seconds"),
    ({"url": "http://example.com/", "wait_selector": "x" * 2000}, "wait_selector"),
])
async def test_bad_requests_are_refused(request_fields: dict[str, object], field: str, probe: ProbeSite,
                                        start_renderer: StartRenderer) -> None:
    r = await start_renderer(probe.port)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await r.stub.Render(renderer_pb2.RenderRequest(**request_fields), timeout=30)  # type: ignore[arg-type]
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (caught.value.details() or "").startswith(f"{field}:")


async def test_without_chromium_the_error_names_the_package(probe: ProbeSite, start_renderer: StartRenderer) -> None:
    r = await start_renderer(probe.port, chromium="/nonexistent/chromium")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await r.stub.Render(renderer_pb2.RenderRequest(url=probe.base + "/ok"), timeout=30)
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "apt-get install chromium" in (caught.value.details() or "")


async def test_health_reflection_and_deadlines(probe: ProbeSite, start_renderer: StartRenderer) -> None:
    r = await start_renderer(probe.port)
    channel = insecure_channel(f"127.0.0.1:{r.port}")
    try:
        health = health_pb2_grpc.HealthStub(channel)
        reply = await health.Check(health_pb2.HealthCheckRequest(service="docspasta.v1.Renderer"), timeout=10)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
        # A deadline too short to render anything: refused at once, not left to hang.
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await r.stub.Render(renderer_pb2.RenderRequest(url=probe.base + "/ok"), timeout=0.3)
        assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        # A deadline shorter than a hung page: the answer is a timeout error within it.
        response = await r.stub.Render(renderer_pb2.RenderRequest(url=probe.base + "/hostile/busy-loop"), timeout=8)
        assert response.page.error == common_pb2.ERROR_CATEGORY_TIMEOUT
    finally:
        await channel.close(None)
