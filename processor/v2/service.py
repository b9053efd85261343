"""docspasta.v2.ProcessorService: the v1 processor's Process and ListPages, in v2
messages; ListPages paginated by opaque tokens (AIP-158) and streamed in chunks."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import grpc

from docspasta import errors
from docspasta.call_streams import StreamServer
from docspasta.ids import JOB_ID_RULE, valid_job_id
from docspasta.v1 import processor_pb2 as v1
from docspasta.v2 import processor_pb2 as v2, processor_pb2_grpc as v2_grpc
from docspasta.v2convert import clamp_int32
from docspasta.v2errors import V2Context
from processor.service import ProcessorService
from processor.v2 import convert, page_token

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


class ProcessorServiceV2(v2_grpc.ProcessorServiceServicer):
    def __init__(self, *, v1: ProcessorService) -> None:
        self._v1 = v1
        self.streams: StreamServer[v2.ProcessStreamRequest, v2.ProcessStreamResponse] = StreamServer(
            self.Process, answer=v2.ProcessStreamResponse, service="processor", method="Process",
            timeout_of=lambda message: message.timeout.ToNanoseconds() / 1e9)

    async def ProcessStream(self, request_iterator: AsyncIterator[v2.ProcessStreamRequest],
                            context: grpc.aio.ServicerContext[v2.ProcessStreamRequest, v2.ProcessStreamResponse],
                            ) -> AsyncIterator[v2.ProcessStreamResponse]:
        """Process calls on one stream (docspasta/call_streams.py), each run by Process above."""
        async for answer in self.streams.serve(request_iterator, context):
            yield answer

    async def Process(self, request: v2.ProcessRequest,
                      context: grpc.aio.ServicerContext[v2.ProcessRequest, v2.ProcessResponse],
                      ) -> v2.ProcessResponse:
        # Validation, the per-page budget, the caller's deadline and the Markdown limit
        # are the v1 servicer's (one store of pages for both APIs).
        ctx = V2Context(context, fields=convert.FIELDS).as_context()
        return convert.process_response(await self._v1.Process(convert.process_request(request), ctx))

    async def ListPages(self, request: v2.ListPagesRequest,
                        context: grpc.aio.ServicerContext[v2.ListPagesRequest, v2.ListPagesResponse],
                        ) -> AsyncIterator[v2.ListPagesResponse]:
        ctx = V2Context(context, fields=convert.FIELDS).as_context()
        if not valid_job_id(request.job_id):
            await errors.abort_invalid_message(ctx, JOB_ID_RULE)
        if request.page_size < 0:
            await errors.abort_invalid(ctx, "page_size", "must not be negative")
        size = min(request.page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        after = 0
        if request.page_token:
            try:
                after = page_token.decode(request.job_id, request.page_token)
            except page_token.BadPageToken as exc:
                await errors.abort_invalid(ctx, "page_token", str(exc))
        # One page more than asked for tells whether a token goes on the last one.
        pages = self._v1.ListPages(
            v1.ListPagesRequest(job_id=request.job_id, after_order=clamp_int32(after), limit=size + 1), ctx)
        pending: v1.Page | None = None
        sent = 0
        async with contextlib.aclosing(pages):  # type: ignore[type-var]
            async for page in pages:
                if pending is not None:
                    for message in convert.page_messages(pending, page_token.encode(request.job_id, pending.order)):
                        yield message
                    sent += 1
                    if sent == size:
                        pending = None  # `page` only said that more follow
                        break
                pending = page
        if pending is not None:
            for message in convert.page_messages(pending, ""):
                yield message
