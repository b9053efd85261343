"""A processor that goes away mid-call (a replica stopped past its drain grace answers
CANCELLED or ABORTED) does not cost the page: the orchestrator calls Process again, the
upsert being idempotent. A page the processor refuses for what it is is not retried."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator

import grpc
import pytest

from docspasta.rpc import insecure_channel
from docspasta.v1 import orchestrator_pb2 as pb, processor_pb2, processor_pb2_grpc
from tests.orchestrator.test_durable import Replicas, events_until, replicas
from tests.support.site import FixtureSite, tree_site

__all__ = ["replicas"]  # the fixture, shared with test_durable


class GoneOnce(processor_pb2_grpc.ProcessorServicer):
    """In front of the real processor: each URL's first Process call ends as if the
    replica had been stopped under it; every other call is forwarded."""

    def __init__(self, upstream: processor_pb2_grpc.ProcessorAsyncStub, code: grpc.StatusCode) -> None:
        self.upstream = upstream
        self.code = code
        self.calls: Counter[str] = Counter()

    async def Process(self, request: processor_pb2.ProcessRequest,  # type: ignore[override]
                      context: grpc.aio.ServicerContext) -> processor_pb2.ProcessResponse:
        self.calls[request.url] += 1
        if self.calls[request.url] == 1:
            await context.abort(self.code, "the replica stopped during the call")
        response: processor_pb2.ProcessResponse = await self.upstream.Process(request, timeout=60)
        return response


@pytest.fixture(params=[grpc.StatusCode.CANCELLED, grpc.StatusCode.ABORTED])
async def gone_once(request: pytest.FixtureRequest, replicas: Replicas) -> AsyncIterator[GoneOnce]:
    channel = insecure_channel(replicas.processor_target)
    relay = GoneOnce(processor_pb2_grpc.ProcessorStub(channel), request.param)
    server = grpc.aio.server()
    processor_pb2_grpc.add_ProcessorServicer_to_server(relay, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    replicas.processor_target = f"127.0.0.1:{port}"
    yield relay
    await server.stop(None)
    await channel.close(None)


async def test_a_process_call_cut_by_the_processor_is_made_again(replicas: Replicas, gone_once: GoneOnce,
                                                                 site: FixtureSite) -> None:
    site.pages.update(tree_site(12))
    _, stub = await replicas.orchestrator()
    started = await stub.StartJob(pb.StartJobRequest(url=site.url("/docs/"), options=pb.JobOptions(concurrency=3)),
                                  timeout=10)
    events = await events_until(stub, started.job_id)
    names = [e.WhichOneof("event") for e in events]
    assert "url_failed" not in names, [e for e in events if e.WhichOneof("event") == "url_failed"]
    assert names[-1] == "job_completed"
    assert names.count("url_processed") == 12
    assert len(gone_once.calls) == 12 and set(gone_once.calls.values()) == {2}, gone_once.calls
