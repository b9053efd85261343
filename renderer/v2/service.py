"""docspasta.v2.RendererService: the v1 renderer's Render, in v2 messages."""

from __future__ import annotations

import grpc

from docspasta import errors
from docspasta.v2 import renderer_pb2 as v2, renderer_pb2_grpc as v2_grpc
from docspasta.v2convert import duration_problem
from docspasta.v2errors import V2Context
from renderer.service import RendererService
from renderer.v2 import convert


class RendererServiceV2(v2_grpc.RendererServiceServicer):
    def __init__(self, *, v1: RendererService) -> None:
        self._v1 = v1

    async def Render(self, request: v2.RenderRequest,
                     context: grpc.aio.ServicerContext[v2.RenderRequest, v2.RenderResponse]) -> v2.RenderResponse:
        ctx = V2Context(context, fields=convert.FIELDS).as_context()
        if request.HasField("timeout") and (problem := duration_problem(request.timeout)):
            await errors.abort_invalid(ctx, "timeout", problem)
        # The rest (url, job_id, wait_selector, timeout bounds, max_requests, the call's
        # deadline) is checked by the v1 servicer, refused in v2 terms.
        return convert.render_response(await self._v1.Render(convert.render_request(request), ctx))
