"""Every service: standard health, server reflection, RPC metrics, graceful stop."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from prometheus_client import generate_latest

from docspasta.local import LocalStack
from orchestrator.settings import OrchestratorSettings
from processor.settings import ProcessorSettings
from tests.conftest import local_crawler_settings
from tests.support.jobs import run_job
from tests.support.site import FixtureSite, tree_site


async def test_health_and_reflection_on_every_service(stack: LocalStack) -> None:
    expected = {"docspasta.v1.Crawler", "docspasta.v1.Processor", "docspasta.v1.Orchestrator"}
    found: set[str] = set()
    for host in stack.hosts:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{host.port}") as channel:
            health = health_pb2_grpc.HealthStub(channel)
            for name in ["", *host.service_names]:
                reply = await health.Check(health_pb2.HealthCheckRequest(service=name), timeout=5)
                assert reply.status == health_pb2.HealthCheckResponse.SERVING
            reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
            call = reflection.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]),
                                                   timeout=5)
            async for response in call:
                found |= {s.name for s in response.list_services_response.service}
    assert expected <= found
    assert "grpc.health.v1.Health" in found


async def test_stop_turns_health_not_serving_first(site: FixtureSite) -> None:
    from crawler.server import create_server
    from tests.conftest import local_crawler_settings

    host, port = await create_server(local_crawler_settings(bind="127.0.0.1:0"))
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        health = health_pb2_grpc.HealthStub(channel)
        watch = health.Watch(health_pb2.HealthCheckRequest(service="docspasta.v1.Crawler"), timeout=10)
        first = await watch.read()
        assert first.status == health_pb2.HealthCheckResponse.SERVING
        await host.stop(grace=1.0)
        statuses = []
        try:
            while (message := await watch.read()) is not grpc.aio.EOF:
                statuses.append(message.status)
        except grpc.aio.AioRpcError:
            pass  # the server went away after announcing NOT_SERVING
        assert statuses[:1] == [health_pb2.HealthCheckResponse.NOT_SERVING]


async def test_rpc_metrics_recorded(stack: LocalStack, site: FixtureSite) -> None:
    site.pages.update(tree_site(3))
    await run_job(stack, site.url("/docs/"))
    text = generate_latest().decode()
    assert 'docspasta_rpc_seconds_count{code="OK",method="Crawl",service="crawler"}' in text
    assert 'method="Process",service="processor"' in text


async def test_logs_carry_job_and_request_ids_across_services(stack: LocalStack, site: FixtureSite) -> None:
    import io
    import json
    import logging

    from docspasta.logs import JsonFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("crawler"))
    logger = logging.getLogger("crawler.service")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        site.pages.update(tree_site(2))
        job_id, _ = await run_job(stack, site.url("/docs/missing.html"))
    finally:
        logger.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    failed = [line for line in lines if line["msg"] == "fetch failed" and line["url"].endswith("missing.html")]
    assert failed, lines
    assert failed[0]["job_id"] == job_id
    assert failed[0]["request_id"].startswith(job_id + ".")
    assert failed[0]["url"] == site.url("/docs/missing.html")


async def test_process_stores_the_markdown_even_when_the_answer_omits_it(stack: LocalStack) -> None:
    from docspasta.v1 import processor_pb2

    html = "<html><head><title>T</title></head><body><main><h1>T</h1><p>Body words here.</p></main></body></html>"
    processor = stack.processor_stub()
    for omit, job in ((False, "j-full"), (True, "j-omit")):
        reply = await processor.Process(processor_pb2.ProcessRequest(
            job_id=job, url="https://d.example/p", html=html, order=1, omit_markdown=omit), timeout=30)
        assert reply.title == "T" and reply.word_count > 0
        assert ("Body words here." in reply.markdown) is not omit
        pages = [p async for p in processor.ListPages(processor_pb2.ListPagesRequest(job_id=job), timeout=10)]
        assert "Body words here." in pages[0].markdown


async def test_the_stacks_own_read_of_its_page_store_is_what_list_pages_answers(
        stack: LocalStack, site: FixtureSite) -> None:
    """docspasta crawl reads a finished job's pages from the store it gave the processor
    (LocalStack.stored_pages), not over ListPages: the same pages, fields and order."""
    from docspasta.v1 import processor_pb2

    site.pages.update(tree_site(6))
    job_id, _ = await run_job(stack, site.url("/docs/"))
    listed = [p async for p in stack.processor_stub().ListPages(processor_pb2.ListPagesRequest(job_id=job_id),
                                                                  timeout=10)]
    stored = [p async for p in stack.stored_pages(job_id)]
    assert len(listed) == 6
    fields = ("url", "title", "markdown", "word_count", "token_estimate", "description", "order", "depth")
    assert [tuple(getattr(p, f) for f in fields) for p in stored] == [tuple(getattr(p, f) for f in fields) for p in listed]
    assert [p async for p in stack.stored_pages("no-such-job")] == []


async def test_each_call_gets_its_own_correlation_ids_and_a_malformed_request_is_refused() -> None:
    # The interceptors build their wrapper once per method (docspasta/handler_cache.py):
    # what belongs to a call (its metadata) must still be read per call.
    from docspasta import logs
    from docspasta.errors import MALFORMED_REQUEST, details_of
    from docspasta.rpc import ServiceHost
    from docspasta.v1 import crawler_pb2, crawler_pb2_grpc

    seen: list[tuple[str, str]] = []

    class Crawler(crawler_pb2_grpc.CrawlerServicer):
        async def Crawl(self, request: crawler_pb2.CrawlRequest, context: object) -> crawler_pb2.CrawlResponse:  # noqa: N802
            seen.append((logs.request_id_var.get(), logs.job_id_var.get()))
            return crawler_pb2.CrawlResponse(url=request.url)

    host = ServiceHost(service_names=["docspasta.v1.Crawler"], bind="127.0.0.1:0")
    crawler_pb2_grpc.add_CrawlerServicer_to_server(Crawler(), host.server)
    await host.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{host.port}") as channel:
            stub = crawler_pb2_grpc.CrawlerStub(channel)
            request = crawler_pb2.CrawlRequest(url="http://example.test/")
            for metadata in ((("x-request-id", "job-a.1"), ("x-job-id", "job-a")),
                             (("x-request-id", "job-b.7"), ("x-job-id", "job-b")), ()):
                await stub.Crawl(request, metadata=metadata, timeout=10)
            raw = channel.unary_unary("/docspasta.v1.Crawler/Crawl")
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await raw(b"\xff\xff\xff", timeout=10)
    finally:
        await host.stop(grace=0)
    assert seen[:2] == [("job-a.1", "job-a"), ("job-b.7", "job-b")]
    assert len(seen) == 3 and len(seen[2][0]) == 16 and seen[2][0] not in ("job-a.1", "job-b.7")
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert details_of(refused.value).get("reason") == MALFORMED_REQUEST
    text = generate_latest().decode()
    assert 'docspasta_rpc_seconds_count{code="INVALID_ARGUMENT",method="Crawl",service="crawler"}' in text


async def test_a_stuck_or_failing_stop_step_is_abandoned_named_and_the_rest_still_run() -> None:
    """A drain that never ends must not hold the stop (SIGTERM would wait for SIGKILL and
    the store would stay open, its connection thread keeping the process alive)."""
    import asyncio

    from docspasta.rpc import ServiceHost, StopIncomplete

    closed: list[str] = []
    never = asyncio.Event()

    async def wait_for_ever() -> None:
        await never.wait()

    async def broken_cleanup() -> None:
        raise OSError("disk gone")

    async def close_store() -> None:
        closed.append("store")

    host = ServiceHost(service_names=["docspasta.v1.Crawler"], bind="127.0.0.1:0")
    host.on_drain.append(wait_for_ever)
    host.cleanups += [close_store, broken_cleanup]  # cleanups run in reverse: the broken one first
    await host.start()
    with pytest.raises(StopIncomplete) as incomplete:
        await asyncio.wait_for(host.stop(grace=0, step_seconds=0.5), timeout=30)
    message = str(incomplete.value)
    assert "wait_for_ever did not finish in 0.5 s" in message
    assert "never.wait()" in message  # the stack of what it waited on, taken before the cancel
    assert "broken_cleanup failed: OSError('disk gone')" in message
    assert closed == ["store"]
    async with grpc.aio.insecure_channel(f"127.0.0.1:{host.port}") as channel:
        with pytest.raises(grpc.aio.AioRpcError):  # the server did stop
            await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=2)


async def test_a_child_that_dies_while_the_orchestrator_starts_beside_it_leaves_nothing_running(
        tmp_path: Path) -> None:
    """With unix sockets the orchestrator starts while the children get ready; a child
    that dies then fails the stack's start only once the orchestrator's start is done,
    and the stack stops everything that did start."""
    stack = LocalStack(crawler=local_crawler_settings(), processor=replace(ProcessorSettings(), workers=1),
                       orchestrator=replace(OrchestratorSettings(), instance_id="test"), processes=True,
                       database_url=f"sqlite:///{tmp_path}/no-such-dir/pages.db",  # the processor cannot open it
                       jobs_url=f"sqlite:///{tmp_path}/jobs.db")
    with pytest.raises(RuntimeError, match="processor process .* while starting"):
        async with stack:
            pass
    assert stack._binds is not None  # the path that starts the orchestrator beside the children
    assert stack.hosts == [] and stack._children == []
