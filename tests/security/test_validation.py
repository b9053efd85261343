"""Every RPC rejects bad input with INVALID_ARGUMENT and a message that names the field."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import grpc
import pytest

from docspasta.local import LocalStack
from docspasta.rpc import insecure_channel
from docspasta.v1 import crawler_pb2, crawler_pb2_grpc, orchestrator_pb2 as pb, processor_pb2
from orchestrator.settings import OrchestratorSettings
from processor.settings import ProcessorSettings
from tests.conftest import local_crawler_settings

pytestmark = pytest.mark.timeout(120)

GOOD_URL = "http://127.0.0.1:9/docs/"  # never fetched: every request here is refused first


@pytest.fixture
async def vstack() -> AsyncIterator[LocalStack]:
    async with LocalStack(crawler=local_crawler_settings(),
                          processor=replace(ProcessorSettings(), workers=1, max_html_bytes=1024),
                          orchestrator=replace(OrchestratorSettings(), instance_id="test")) as s:
        yield s


async def invalid(call: Any, field: str) -> str:
    """Awaits a unary call or drains a streaming one; it must fail with INVALID_ARGUMENT
    and a message starting with the field name."""
    with pytest.raises(grpc.aio.AioRpcError) as info:
        if hasattr(call, "__aiter__"):
            async for _ in call:
                pass
        else:
            await call
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT, (field, info.value.code(), info.value.details())
    details = info.value.details() or ""
    assert details.startswith(f"{field}:"), (field, details)
    return details


async def test_crawler_crawl_validates(vstack: LocalStack) -> None:
    channel = insecure_channel(f"127.0.0.1:{vstack.hosts[0].port}")
    try:
        crawl = crawler_pb2_grpc.CrawlerStub(channel).Crawl
        cases = [
            (crawler_pb2.CrawlRequest(url=""), "url"),
            (crawler_pb2.CrawlRequest(url="   "), "url"),
            (crawler_pb2.CrawlRequest(url="ftp://example.com/"), "url"),
            (crawler_pb2.CrawlRequest(url="/relative/path"), "url"),
            (crawler_pb2.CrawlRequest(url="http://example.com/" + "a" * 5000), "url"),
            (crawler_pb2.CrawlRequest(url="http://example.com/\r\nHost: evil"), "url"),
            (crawler_pb2.CrawlRequest(url=GOOD_URL, job_id="x" * 200), "job_id"),
            (crawler_pb2.CrawlRequest(url=GOOD_URL, job_id="bad id\n"), "job_id"),
        ]
        for request, field in cases:
            await invalid(crawl(request, timeout=10), field)
    finally:
        await channel.close(None)


async def test_processor_process_and_list_pages_validate(vstack: LocalStack) -> None:
    stub = vstack.processor_stub()
    ok = {"job_id": "job-1", "url": "https://docs.example.com/", "html": "<p>x</p>", "order": 1, "depth": 0}
    cases: list[tuple[dict[str, Any], str]] = [
        ({"job_id": ""}, "job_id"),
        ({"job_id": "a b"}, "job_id"),
        ({"job_id": "j" * 129}, "job_id"),
        ({"url": ""}, "url"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"url": "https://x.example/" + "a" * 9000}, "url"),
        ({"order": -1}, "order"),
        ({"depth": -3}, "depth"),
        ({"html": "<p>" + "x" * 2000 + "</p>"}, "html"),
    ]
    for change, field in cases:
        await invalid(stub.Process(processor_pb2.ProcessRequest(**{**ok, **change}), timeout=10), field)
    for request, field in [
        (processor_pb2.ListPagesRequest(job_id=""), "job_id"),
        (processor_pb2.ListPagesRequest(job_id="../etc"), "job_id"),
        (processor_pb2.ListPagesRequest(job_id="job-1", after_order=-1), "after_order"),
        (processor_pb2.ListPagesRequest(job_id="job-1", limit=-5), "limit"),
    ]:
        await invalid(stub.ListPages(request, timeout=10), field)


async def test_orchestrator_start_job_validates_url_and_bounds_options(vstack: LocalStack) -> None:
    stub = vstack.orchestrator_stub()
    limits = OrchestratorSettings()
    cases: list[tuple[pb.StartJobRequest, str]] = [
        (pb.StartJobRequest(url=""), "url"),
        (pb.StartJobRequest(url="file:///etc/passwd"), "url"),
        (pb.StartJobRequest(url="notaurl"), "url"),
        (pb.StartJobRequest(url="http://"), "url"),
        (pb.StartJobRequest(url="http://example.com/" + "a" * 5000), "url"),
    ]
    option_cases: list[tuple[dict[str, Any], str]] = [
        ({"max_pages": -1}, "options.max_pages"),
        ({"max_pages": limits.limit_max_pages + 1}, "options.max_pages"),
        ({"max_depth": -1}, "options.max_depth"),
        ({"max_depth": limits.limit_max_depth + 1}, "options.max_depth"),
        ({"concurrency": -2}, "options.concurrency"),
        ({"concurrency": limits.limit_concurrency + 1}, "options.concurrency"),
        ({"timeout_seconds": -1.0}, "options.timeout_seconds"),
        ({"timeout_seconds": limits.limit_timeout_seconds + 1}, "options.timeout_seconds"),
        ({"timeout_seconds": math.inf}, "options.timeout_seconds"),
        ({"timeout_seconds": math.nan}, "options.timeout_seconds"),
        ({"include_patterns": ["/docs/**"] * 101}, "options.include_patterns"),
        ({"include_patterns": [" "]}, "options.include_patterns"),
        ({"include_patterns": ["/" + "a" * 600]}, "options.include_patterns"),
        ({"include_patterns": ["/*(a|aa|aaa)*(a|aa)c"]}, "options.include_patterns"),
        ({"exclude_patterns": ["/{1..100000}"]}, "options.exclude_patterns"),
        ({"exclude_patterns": ["+(x)"]}, "options.exclude_patterns"),
        ({"allowed_domains": ["example.com/path"]}, "options.allowed_domains"),
        ({"allowed_domains": ["*"]}, "options.allowed_domains"),
        ({"allowed_domains": ["a b.example"]}, "options.allowed_domains"),
    ]
    cases += [(pb.StartJobRequest(url=GOOD_URL, options=pb.JobOptions(**o)), f) for o, f in option_cases]
    for request, field in cases:
        await invalid(stub.StartJob(request, timeout=10), field)


async def test_orchestrator_job_calls_validate_job_id(vstack: LocalStack) -> None:
    stub = vstack.orchestrator_stub()
    for job_id in ("", "x" * 129, "a/b", "job id", "\x00"):
        await invalid(stub.GetJob(pb.GetJobRequest(job_id=job_id), timeout=10), "job_id")
        await invalid(stub.CancelJob(pb.CancelJobRequest(job_id=job_id), timeout=10), "job_id")
        await invalid(stub.JobEvents(pb.JobEventsRequest(job_id=job_id), timeout=10), "job_id")
    await invalid(stub.JobEvents(pb.JobEventsRequest(job_id="test-1", after_sequence=-1), timeout=10),
                  "after_sequence")
    # A well-formed id of a job that does not exist is NOT_FOUND, not INVALID_ARGUMENT.
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.GetJob(pb.GetJobRequest(job_id="test-nope"), timeout=10)
    assert info.value.code() == grpc.StatusCode.NOT_FOUND
