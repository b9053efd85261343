"""Crawl and Process calls on one stream (docspasta/call_streams.py), against real
crawler and processor servers: each answer reaches its own call, a failed call raises
what its unary call raises, deadlines and cancellation are per call, the server bounds
and drains its streams, and a call whose stream breaks is sent again on a new one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import grpc
import pytest
from grpc_status import rpc_status

from crawler.fetch import FetchResult
from crawler.server import create_server as create_crawler
from crawler.service import CrawlerService
from docspasta.call_streams import CallStream, StreamServer
from docspasta.rpc import ServiceHost
from docspasta.v1 import crawler_pb2, crawler_pb2_grpc, processor_pb2, processor_pb2_grpc
from processor.server import create_server as create_processor
from processor.settings import ProcessorSettings
from tests.conftest import local_crawler_settings
from tests.support.site import FixtureSite, page

DEADLINE = 30.0  # generous: a loaded two-core machine


class GatedFetcher:
    """A fetcher whose fetches wait for `gate`, noting which were cancelled."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.started: list[str] = []
        self.cancelled: list[str] = []

    async def fetch(self, url: str, *, allow_non_html: bool = False, max_requests: int = 0) -> FetchResult:
        self.started.append(url)
        try:
            await self.gate.wait()
        except asyncio.CancelledError:
            self.cancelled.append(url)
            raise
        text = f"<html><title>{url}</title><p>x</p></html>"
        return FetchResult(url=url, final_url=url, status=200, content_type="text/html", text=text,
                           body_bytes=len(text), seconds=0.0)

    async def close(self) -> None:
        return None


async def wait_until(condition: Any, what: str) -> None:
    async with asyncio.timeout(DEADLINE):
        while not condition():
            await asyncio.sleep(0.01)


@asynccontextmanager
async def gated_crawler(**options: Any) -> AsyncIterator[tuple[GatedFetcher, ServiceHost, CallStream[Any, Any]]]:
    """A crawler server whose fetches wait for the fetcher's gate, and a CallStream to it."""
    fetcher = GatedFetcher()
    host, port = await create_crawler(local_crawler_settings(bind="127.0.0.1:0"), fetcher=fetcher)
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    stub = crawler_pb2_grpc.CrawlerStub(channel)
    calls: CallStream[Any, Any] = CallStream(stub.CrawlStream, message=crawler_pb2.CrawlStreamRequest,
                                             unary=stub.Crawl, **options)
    try:
        yield fetcher, host, calls
    finally:
        await calls.close()
        await channel.close()
        await host.stop(grace=0)


@asynccontextmanager
async def processor_calls(tmp_path: Any, **settings: Any) -> AsyncIterator[tuple[Any, CallStream[Any, Any]]]:
    """A processor server (one worker, SQLite in tmp_path), its stub and a CallStream to it."""
    host, port = await create_processor(replace(ProcessorSettings(), bind="127.0.0.1:0", workers=1,
                                                database_url=f"sqlite:///{tmp_path / 'pages.db'}", **settings))
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    stub = processor_pb2_grpc.ProcessorStub(channel)
    calls: CallStream[Any, Any] = CallStream(stub.ProcessStream, message=processor_pb2.ProcessStreamRequest,
                                             unary=stub.Process)
    try:
        yield stub, calls
    finally:
        await calls.close()
        await channel.close()
        await host.stop(grace=0)


@pytest.fixture
async def crawler(site: FixtureSite) -> AsyncIterator[tuple[ServiceHost, grpc.aio.Channel]]:
    host, port = await create_crawler(local_crawler_settings(bind="127.0.0.1:0"))
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    yield host, channel
    await channel.close()
    await host.stop(grace=0)


def crawl_stream(channel: grpc.aio.Channel) -> CallStream[crawler_pb2.CrawlRequest, crawler_pb2.CrawlResponse]:
    return CallStream(crawler_pb2_grpc.CrawlerStub(channel).CrawlStream, message=crawler_pb2.CrawlStreamRequest)


async def test_each_answer_reaches_its_own_call(crawler: tuple[ServiceHost, grpc.aio.Channel],
                                                site: FixtureSite) -> None:
    site.delay = 0.01  # answers finish out of order
    for i in range(40):
        site.pages[f"/p{i}"] = page(f"Page {i}")
    calls = crawl_stream(crawler[1])
    try:
        answers = await asyncio.gather(*(calls.call(crawler_pb2.CrawlRequest(url=site.url(f"/p{i}")), timeout=DEADLINE)
                                         for i in range(40)))
    finally:
        await calls.close()
    assert [a.title.split(" - ")[0] for a in answers] == [f"Page {i}" for i in range(40)]
    assert [a.url for a in answers] == [site.url(f"/p{i}") for i in range(40)]


async def test_a_refused_call_raises_what_the_unary_call_raises(
        crawler: tuple[ServiceHost, grpc.aio.Channel], site: FixtureSite) -> None:
    site.pages["/ok"] = page("Fine")
    request = crawler_pb2.CrawlRequest(url="ftp://docs.test/", job_id="job 1")
    with pytest.raises(grpc.aio.AioRpcError) as unary:
        await crawler_pb2_grpc.CrawlerStub(crawler[1]).Crawl(request, timeout=DEADLINE)
    calls = crawl_stream(crawler[1])
    try:
        with pytest.raises(grpc.aio.AioRpcError) as streamed:
            await calls.call(request, timeout=DEADLINE)
        assert streamed.value.code() == unary.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert streamed.value.details() == unary.value.details()
        assert rpc_status.from_call(streamed.value) == rpc_status.from_call(unary.value)  # BadRequest, ErrorInfo
        # The stream is still open for the next call.
        assert (await calls.call(crawler_pb2.CrawlRequest(url=site.url("/ok")), timeout=DEADLINE)).title.startswith("Fine")
    finally:
        await calls.close()


async def test_deadline_and_cancel_end_the_call_on_the_server_too() -> None:
    async with gated_crawler() as (fetcher, host, calls):
        with pytest.raises(grpc.aio.AioRpcError) as late:
            await calls.call(crawler_pb2.CrawlRequest(url="http://docs.test/slow"), timeout=0.3)
        assert late.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        waiting = asyncio.create_task(calls.call(crawler_pb2.CrawlRequest(url="http://docs.test/given-up"),
                                                 timeout=DEADLINE))
        await wait_until(lambda: "http://docs.test/given-up" in fetcher.started, "the call reached the fetcher")
        waiting.cancel()
        await wait_until(lambda: set(fetcher.cancelled) == {"http://docs.test/slow", "http://docs.test/given-up"},
                         "both fetches cancelled on the server")
        fetcher.gate.set()
        answer = await calls.call(crawler_pb2.CrawlRequest(url="http://docs.test/after"), timeout=DEADLINE)
        assert answer.title == "http://docs.test/after"


async def test_calls_in_flight_on_one_stream_are_bounded() -> None:
    fetcher = GatedFetcher()
    service = CrawlerService(settings=local_crawler_settings(), fetcher=fetcher)
    service.streams = StreamServer(service.Crawl, answer=crawler_pb2.CrawlStreamResponse, service="crawler",
                                   method="Crawl", max_in_flight=2)
    host = ServiceHost(service_names=["docspasta.v1.Crawler"], bind="127.0.0.1:0")
    crawler_pb2_grpc.add_CrawlerServicer_to_server(service, host.server)
    await host.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{host.port}")
    calls = crawl_stream(channel)
    try:
        held = [asyncio.create_task(calls.call(crawler_pb2.CrawlRequest(url=f"http://docs.test/{i}"), timeout=DEADLINE))
                for i in range(2)]
        await wait_until(lambda: len(fetcher.started) == 2, "two calls in flight")
        with pytest.raises(grpc.aio.AioRpcError) as third:
            await calls.call(crawler_pb2.CrawlRequest(url="http://docs.test/2"), timeout=DEADLINE)
        assert third.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        fetcher.gate.set()
        assert [a.title for a in await asyncio.gather(*held)] == ["http://docs.test/0", "http://docs.test/1"]
    finally:
        await calls.close()
        await channel.close()
        await host.stop(grace=0)


async def test_a_draining_server_answers_its_calls_in_flight_then_ends_the_stream() -> None:
    async with gated_crawler() as (fetcher, host, calls):
        in_flight = asyncio.create_task(calls.call(crawler_pb2.CrawlRequest(url="http://docs.test/a"),
                                                   timeout=DEADLINE))
        await wait_until(lambda: fetcher.started, "the call reached the fetcher")
        stopping = asyncio.create_task(host.stop(grace=DEADLINE))
        await asyncio.sleep(0.2)
        assert not stopping.done()  # it waits for the call in flight ...
        fetcher.gate.set()
        assert (await in_flight).title == "http://docs.test/a"  # ... which is answered, not cut
        async with asyncio.timeout(DEADLINE):
            await stopping  # and the stream ended by itself: the stop did not wait out its grace


async def test_a_call_whose_stream_breaks_is_sent_again_on_a_new_stream() -> None:
    first = GatedFetcher()
    host, port = await create_crawler(local_crawler_settings(bind="127.0.0.1:0"), fetcher=first)
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    calls = crawl_stream(channel)
    second: ServiceHost | None = None
    try:
        call = asyncio.create_task(calls.call(crawler_pb2.CrawlRequest(url="http://docs.test/p"), timeout=DEADLINE))
        await wait_until(lambda: first.started, "the call reached the first server")
        await host.stop(grace=0)  # the server goes away mid-call (a crash, a rollout past its grace)
        replacement = GatedFetcher()
        replacement.gate.set()
        second, _ = await create_crawler(local_crawler_settings(bind=f"127.0.0.1:{port}"), fetcher=replacement)
        assert (await call).title == "http://docs.test/p"
        assert replacement.started == ["http://docs.test/p"]
    finally:
        await calls.close()
        await channel.close()
        await host.stop(grace=0)
        if second is not None:
            await second.stop(grace=0)


async def test_process_on_a_stream_refuses_as_the_unary_call_does(tmp_path: Any) -> None:
    async with processor_calls(tmp_path, max_html_bytes=1000) as (stub, calls):
        big = processor_pb2.ProcessRequest(job_id="j", url="http://docs.test/big", html="<p>" + "x" * 2000, order=1)
        with pytest.raises(grpc.aio.AioRpcError) as unary:
            await stub.Process(big, timeout=DEADLINE)
        with pytest.raises(grpc.aio.AioRpcError) as streamed:
            await calls.call(big, timeout=DEADLINE)
        assert streamed.value.code() == unary.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert rpc_status.from_call(streamed.value) == rpc_status.from_call(unary.value)
        ok = processor_pb2.ProcessRequest(job_id="j", url="http://docs.test/a", order=2,
                                          html=page("Alpha", "<p>The first page of the manual.</p>"))
        answer = await calls.call(ok, timeout=DEADLINE)
        assert answer.title.startswith("Alpha") and "The first page of the manual." in answer.markdown


async def test_the_v2_twin_answers_and_refuses_in_v2_terms(crawler: tuple[ServiceHost, grpc.aio.Channel],
                                                          site: FixtureSite) -> None:
    from google.protobuf.duration_pb2 import Duration

    from docspasta.v2 import crawler_pb2 as v2, crawler_pb2_grpc as v2_grpc

    site.pages["/v2"] = page("Second")
    call = v2_grpc.CrawlerServiceStub(crawler[1]).CrawlStream()
    await call.write(v2.CrawlStreamRequest(tag=7, request=v2.CrawlRequest(url=site.url("/v2")),
                                           timeout=Duration(seconds=30)))
    await call.write(v2.CrawlStreamRequest(tag=8, request=v2.CrawlRequest(url="ftp://docs.test/")))
    await call.done_writing()
    answers = {a.tag: a async for a in call}
    assert answers[7].response.title.startswith("Second") and answers[7].response.fetch_duration.ToNanoseconds() > 0
    refused = answers[8].status
    assert refused.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    from google.rpc import error_details_pb2
    infos = [d for d in refused.details if d.Is(error_details_pb2.ErrorInfo.DESCRIPTOR)]
    info = error_details_pb2.ErrorInfo()
    infos[0].Unpack(info)
    assert info.domain == "docspasta.v2"


async def test_bytes_that_are_not_a_stream_request_end_the_stream_as_invalid_argument(
        crawler: tuple[ServiceHost, grpc.aio.Channel]) -> None:
    raw = crawler[1].stream_stream("/docspasta.v1.Crawler/CrawlStream")  # bytes in, bytes out
    call = raw()
    await call.write(b"\xff\xff\xff not protobuf")
    with pytest.raises(grpc.aio.AioRpcError) as info:
        async for _ in call:
            pass
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "CrawlStreamRequest" in (info.value.details() or "")


async def test_a_caller_cancelled_while_its_large_request_is_written_fails_no_other_call(tmp_path: Any) -> None:
    async with processor_calls(tmp_path) as (_, calls):
        others = [asyncio.create_task(calls.call(processor_pb2.ProcessRequest(
            job_id="j", url=f"http://docs.test/{i}", order=i + 1, html=page(f"Page {i}", "<p>Some text.</p>")),
            timeout=DEADLINE)) for i in range(4)]
        for i in range(20):  # ~900 KB each: written in many frames, cancelled at once
            big = processor_pb2.ProcessRequest(job_id="j", url=f"http://docs.test/big{i}", order=10 + i,
                                               html=page("Big", "<p>" + "word " * 180_000 + "</p>"))
            given_up = asyncio.create_task(calls.call(big, timeout=DEADLINE))
            await asyncio.sleep(0)
            given_up.cancel()
        answers = await asyncio.gather(*others)
        assert [a.title.split(" - ")[0] for a in answers] == [f"Page {i}" for i in range(4)]


async def test_calls_past_the_clients_bound_wait_and_oversized_ones_go_unary() -> None:
    async with gated_crawler(max_in_flight=2, max_message_bytes=500) as (fetcher, _, calls):
        tasks = [asyncio.create_task(calls.call(crawler_pb2.CrawlRequest(url=f"http://docs.test/{i}"),
                                                timeout=DEADLINE)) for i in range(3)]
        await wait_until(lambda: len(fetcher.started) == 2, "two calls in flight")
        await asyncio.sleep(0.2)
        assert len(fetcher.started) == 2  # the third waits on the client, it is not refused
        long_url = "http://docs.test/" + "a" * 600
        unary = asyncio.create_task(calls.call(crawler_pb2.CrawlRequest(url=long_url), timeout=DEADLINE))
        await wait_until(lambda: long_url in fetcher.started, "the oversized call reached the server")
        fetcher.gate.set()
        assert [a.title for a in await asyncio.gather(*tasks)] == [f"http://docs.test/{i}" for i in range(3)]
        assert (await unary).title == long_url


async def test_a_stream_is_retired_after_a_while_and_ends_once_answered(
        crawler: tuple[ServiceHost, grpc.aio.Channel], site: FixtureSite) -> None:
    site.pages["/a"] = page("A")
    stub = crawler_pb2_grpc.CrawlerStub(crawler[1])
    calls: CallStream[crawler_pb2.CrawlRequest, crawler_pb2.CrawlResponse] = CallStream(
        stub.CrawlStream, message=crawler_pb2.CrawlStreamRequest, rotate_seconds=0.0)
    try:
        assert (await calls.call(crawler_pb2.CrawlRequest(url=site.url("/a")), timeout=DEADLINE)).title.startswith("A")
        first = calls._stream
        assert (await calls.call(crawler_pb2.CrawlRequest(url=site.url("/a")), timeout=DEADLINE)).title.startswith("A")
        assert first is not None and calls._stream is not first
        await wait_until(lambda: first.ended is not None, "the retired stream ended")
        assert first.ended.code() == grpc.StatusCode.UNAVAILABLE and "before the call" in (first.ended.details() or "")
    finally:
        await calls.close()


async def test_a_negative_or_endless_timeout_is_refused(crawler: tuple[ServiceHost, grpc.aio.Channel],
                                                        site: FixtureSite) -> None:
    call = crawler_pb2_grpc.CrawlerStub(crawler[1]).CrawlStream()
    for tag, seconds in ((1, -1.0), (2, float("inf")), (3, float("nan"))):
        await call.write(crawler_pb2.CrawlStreamRequest(tag=tag, request=crawler_pb2.CrawlRequest(url=site.url("/")),
                                                        timeout_seconds=seconds))
    await call.done_writing()
    answers = {a.tag: a async for a in call}
    assert all(answers[t].status.code == grpc.StatusCode.INVALID_ARGUMENT.value[0] for t in (1, 2, 3)), answers
