"""docspasta.v2.RendererService beside v1 on the same renderer: real Chromium, a local
SPA; the same render in v2 messages (Duration, int64 counts), refusals in v2 terms."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import duration_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

from docspasta import errors
from docspasta.rpc import insecure_channel
from docspasta.v1 import renderer_pb2 as r1
from docspasta.v2 import renderer_pb2 as r2, renderer_pb2_grpc as r2_grpc
from tests.renderer.conftest import StartRenderer
from tests.renderer.sites import SpaSite

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]


async def test_v2_render_is_the_v1_render(spa: SpaSite, start_renderer: StartRenderer) -> None:
    r = await start_renderer(spa.port)
    path = spa.paths()[0]
    async with insecure_channel(f"127.0.0.1:{r.port}") as channel:
        stub = r2_grpc.RendererServiceStub(channel)
        new = await stub.Render(r2.RenderRequest(url=spa.base + path, job_id="job-v2",
                                                 timeout=duration_pb2.Duration(seconds=40)), timeout=90)
        health = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service="docspasta.v2.RendererService"), timeout=10)
        # A deadline that leaves no time to render: refused at once, as in v1.
        with pytest.raises(grpc.aio.AioRpcError) as short:
            await stub.Render(r2.RenderRequest(url=spa.base + path), timeout=0.3)
        assert short.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        refusals = []
        for request in (r2.RenderRequest(url=spa.base + path, timeout=duration_pb2.Duration(seconds=7200)),
                        r2.RenderRequest(url=spa.base + path, timeout=duration_pb2.Duration(seconds=1, nanos=-5)),
                        r2.RenderRequest(url="ftp://example.com/")):
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.Render(request, timeout=30)
            refusals.append(caught.value)
    old = await r.stub.Render(r1.RenderRequest(url=spa.base + path, job_id="job-v1", timeout_seconds=40), timeout=90)
    assert health.status == health_pb2.HealthCheckResponse.SERVING
    assert new.page.error == 0 and new.page.status == 200 and new.page.final_url == spa.base + path
    assert new.page.title == old.page.title and list(new.page.links) == list(old.page.links)
    for line in spa.expected_text(path).splitlines():
        assert line.split()[0] in new.page.html
    assert new.page.fetch_duration.ToNanoseconds() > 0 and new.dom_elements > 10
    assert new.page.requests_sent == old.page.requests_sent
    for error, field in zip(refusals, ("timeout", "timeout", "url"), strict=True):
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        got = errors.details_of(error)
        assert got["domain"] == "docspasta.v2" and got["reason"] == errors.FIELD_INVALID
        assert got["violations"][0][0] == field and (error.details() or "").startswith(f"{field}: ")
