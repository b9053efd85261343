"""The gRPC contract's error behaviour, against the real in-process services: canonical
codes with google.rpc details (docspasta/errors.py), garbage bytes answered with
INVALID_ARGUMENT, and server reflection under v1 and v1alpha (docspasta/reflection.py)."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import descriptor_pb2
from grpc_reflection.v1alpha import reflection_pb2

from docspasta import errors
from docspasta.local import LocalStack
from docspasta.v1 import crawler_pb2, crawler_pb2_grpc, orchestrator_pb2, processor_pb2, processor_pb2_grpc

GARBAGE = b"\xff\xff\xff\xff"  # field 31 with an invalid wire type: never a valid message


def crawler_target(stack: LocalStack) -> str:
    return stack._crawler_target


async def test_validation_errors_carry_bad_request_and_error_info(stack: LocalStack) -> None:
    async with grpc.aio.insecure_channel(crawler_target(stack)) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await crawler_pb2_grpc.CrawlerStub(channel).Crawl(crawler_pb2.CrawlRequest(url="ftp://x/"), timeout=10)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details() == "url: must be an absolute http(s) URL"
    got = errors.details_of(caught.value)
    assert got["reason"] == errors.FIELD_INVALID and got["domain"] == errors.DOMAIN
    assert got["violations"] == [("url", "must be an absolute http(s) URL")]
    assert got["retry_after"] is None

    async with grpc.aio.insecure_channel(stack.processor_target) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            stream = processor_pb2_grpc.ProcessorStub(channel).ListPages(
                processor_pb2.ListPagesRequest(job_id="j1", limit=-1), timeout=10)
            async for _ in stream:
                pass
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert errors.details_of(caught.value)["violations"] == [("limit", "must not be negative")]


@pytest.mark.parametrize("method, streaming", [
    ("/docspasta.v1.Crawler/Crawl", False),
    ("/docspasta.v1.Processor/Process", False),
    ("/docspasta.v1.Processor/ListPages", True),
    ("/docspasta.v1.Orchestrator/StartJob", False),
    ("/docspasta.v1.Orchestrator/GetJob", False),
    ("/docspasta.v1.Orchestrator/JobEvents", True),
])
async def test_bytes_that_are_not_protobuf_are_invalid_argument(stack: LocalStack, method: str,
                                                                streaming: bool) -> None:
    service = method.split("/")[1].rsplit(".", 1)[-1]
    target = {"Crawler": crawler_target(stack), "Processor": stack.processor_target,
              "Orchestrator": stack.orchestrator_target}[service]
    async with grpc.aio.insecure_channel(target) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            if streaming:
                async for _ in channel.unary_stream(method)(GARBAGE, timeout=10):
                    pass
            else:
                await channel.unary_unary(method)(GARBAGE, timeout=10)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT, caught.value
    assert "DecodeError" not in (caught.value.details() or "")
    got = errors.details_of(caught.value)
    assert got["reason"] == errors.MALFORMED_REQUEST and got["metadata"]["method"] == method


def test_retryable_codes_carry_retry_info() -> None:
    for code in (grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.UNAVAILABLE):
        value = errors.status(code, "busy", reason=errors.TOO_MANY_JOBS)
        kinds = [d.type_url.rsplit("/", 1)[-1] for d in value.details]
        assert kinds == ["google.rpc.ErrorInfo", "google.rpc.RetryInfo"]
    value = errors.status(grpc.StatusCode.RESOURCE_EXHAUSTED, "busy", reason=errors.TOO_MANY_JOBS, retry_after=2.5)
    assert errors.to_grpc(value).code == grpc.StatusCode.RESOURCE_EXHAUSTED
    plain = errors.status(grpc.StatusCode.NOT_FOUND, "no job", reason=errors.JOB_NOT_FOUND)
    assert [d.type_url.rsplit("/", 1)[-1] for d in plain.details] == ["google.rpc.ErrorInfo"]


async def _reflect(target: str, service: str, request: reflection_pb2.ServerReflectionRequest,
                   ) -> reflection_pb2.ServerReflectionResponse:
    async with grpc.aio.insecure_channel(target) as channel:
        call = channel.stream_stream(
            f"/{service}/ServerReflectionInfo",
            request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
            response_deserializer=reflection_pb2.ServerReflectionResponse.FromString)(iter([request]), timeout=10)
        async for response in call:
            return response
    raise AssertionError("no reflection response")


@pytest.mark.parametrize("version", ["v1", "v1alpha"])
async def test_reflection_v1_and_v1alpha(stack: LocalStack, version: str) -> None:
    service = f"grpc.reflection.{version}.ServerReflection"
    listed = await _reflect(stack.orchestrator_target, service,
                            reflection_pb2.ServerReflectionRequest(list_services=""))
    names = {s.name for s in listed.list_services_response.service}
    assert {"docspasta.v1.Orchestrator", "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection",
            "grpc.reflection.v1alpha.ServerReflection"} <= names
    for symbol in ("docspasta.v1.Orchestrator", "grpc.reflection.v1.ServerReflection"):
        found = await _reflect(stack.orchestrator_target, service,
                               reflection_pb2.ServerReflectionRequest(file_containing_symbol=symbol))
        assert not found.HasField("error_response"), found.error_response
        files = [descriptor_pb2.FileDescriptorProto.FromString(b)
                 for b in found.file_descriptor_response.file_descriptor_proto]
        assert any(symbol.rsplit(".", 1)[-1] in {s.name for s in f.service} for f in files), symbol
    assert orchestrator_pb2.DESCRIPTOR.services_by_name["Orchestrator"]


async def test_every_stored_page_fits_a_default_4_mib_client(stack: LocalStack) -> None:
    """PROCESSOR_MAX_MARKDOWN_BYTES keeps each Page under gRPC's default 4 MiB receive
    limit; a page over it is refused (RESOURCE_EXHAUSTED, PAGE_TOO_LARGE, not retryable)."""
    from processor.settings import DEFAULT_MAX_MARKDOWN_BYTES

    def page(size: int) -> str:
        line = "x" * 99 + "\n"
        return f"<html><body><main><h1>Big</h1><pre>{line * (size // 100)}</pre></main></body></html>"

    # Default channel options: the 4 MiB receive limit every gRPC library starts with.
    async with grpc.aio.insecure_channel(stack.processor_target) as channel:
        stub = processor_pb2_grpc.ProcessorStub(channel)
        fits = await stub.Process(processor_pb2.ProcessRequest(
            job_id="big-1", url="https://example.com/fits", html=page(DEFAULT_MAX_MARKDOWN_BYTES - 20_000), order=1,
            omit_markdown=True), timeout=120)
        assert fits.word_count > 0
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.Process(processor_pb2.ProcessRequest(
                job_id="big-1", url="https://example.com/over", html=page(DEFAULT_MAX_MARKDOWN_BYTES + 1000),
                order=2, omit_markdown=True), timeout=120)
        assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        got = errors.details_of(caught.value)
        assert got["reason"] == errors.PAGE_TOO_LARGE and got["retry_after"] is None
        assert int(got["metadata"]["markdown_bytes"]) > DEFAULT_MAX_MARKDOWN_BYTES
        pages = [p async for p in stub.ListPages(processor_pb2.ListPagesRequest(job_id="big-1"), timeout=120)]
    assert [p.url for p in pages] == ["https://example.com/fits"]
    assert 4 * 1024 * 1024 - 64 * 1024 < pages[0].ByteSize() + 200_000 and pages[0].ByteSize() < 4 * 1024 * 1024


async def test_reflection_serves_the_proto_comments(stack: LocalStack) -> None:
    """`grpcurl describe` shows documentation: the served descriptors carry source info."""
    found = await _reflect(stack.orchestrator_target, "grpc.reflection.v1.ServerReflection",
                           reflection_pb2.ServerReflectionRequest(file_containing_symbol="docspasta.v1.Orchestrator"))
    files = {f.name: f for f in (descriptor_pb2.FileDescriptorProto.FromString(b)
                                 for b in found.file_descriptor_response.file_descriptor_proto)}
    orchestrator = files["docspasta/v1/orchestrator.proto"]
    comments = [loc.leading_comments for loc in orchestrator.source_code_info.location if loc.leading_comments]
    assert any("after_sequence" in c and "UNAVAILABLE" in c for c in comments), "JobEvents' documentation"
    assert len(comments) > 100
    assert "docspasta/v1/common.proto" in files and files["docspasta/v1/common.proto"].source_code_info.location
