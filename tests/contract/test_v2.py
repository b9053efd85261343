"""docspasta.v2 served beside v1 on the same real in-process servers (port 0): every v2
RPC, one job seen identically through both APIs, AIP-158 page tokens (and their
tampering), a page over 4 MiB read in chunks by a client with gRPC's default receive
limit, and v2 refusals (domain docspasta.v2, v2 field names, same reasons).

The v1 -> v2 expectations here are written independently of orchestrator/v2/convert.py:
from v1's JSON form, by the migration table in docs/contract.md."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import duration_pb2, json_format
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2

from docspasta import errors
from docspasta.local import LocalStack
from docspasta.rpc import ServiceHost, insecure_channel
from docspasta.v1 import (crawler_pb2 as c1, orchestrator_pb2 as o1, orchestrator_pb2_grpc as o1_grpc, processor_pb2 as p1,
                          processor_pb2_grpc as p1_grpc)
from docspasta.v2 import (common_pb2 as common2, crawler_pb2 as c2, crawler_pb2_grpc as c2_grpc,
                          orchestrator_pb2 as o2, orchestrator_pb2_grpc as o2_grpc, processor_pb2 as p2,
                          processor_pb2_grpc as p2_grpc)
from processor.server import create_server as create_processor
from processor.settings import DEFAULT_MAX_MARKDOWN_BYTES, ProcessorSettings
from processor.v2 import page_token
from tests.support.jobs import check_contract
from tests.support.site import FixtureSite, page, tree_site

DEFAULT_LIMIT = 4 * 1024 * 1024  # what grpc-js, grpcio, grpc-go and grpc-java receive by default
TIMEOUT = 120.0

# v1 JSON name -> v2 JSON name (docs/contract.md, the migration table).
RENAMED = {"timestamp": "eventTime", "createdAt": "createTime", "elapsedSeconds": "elapsed",
           "fetchSeconds": "fetchDuration", "retryInSeconds": "retryDelay", "timeoutSeconds": "timeout",
           "retryAfterSeconds": "retryDelay", "progressEverySeconds": "progressInterval"}
DURATIONS = {"elapsed", "fetchDuration", "retryDelay", "timeout", "progressInterval"}


def _v1_json_as_v2(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for name, item in value.items():
            if name == "formatted":  # TimeUpdate.formatted: gone in v2
                continue
            new = RENAMED.get(name, name)
            if name == "skipped" and isinstance(item, dict):
                out[new] = sorted(({"reason": f"SKIP_REASON_{reason.upper()}", "count": count}
                                   for reason, count in item.items() if count),
                                  key=lambda entry: common2.SkipReason.Value(entry["reason"]))
            elif name == "reason" and key == "urlSkipped":
                out[new] = f"SKIP_REASON_{item.upper()}"
            elif new in DURATIONS and isinstance(item, (int, float)):
                if item:
                    out[new] = f"{item:.9f}s"
            else:
                out[new] = _v1_json_as_v2(item, name)
        return out
    if isinstance(value, list):
        return [_v1_json_as_v2(item, key) for item in value]
    return value


def expected_v2(message: Any, v2_type: type[Any]) -> Any:
    """A v1 message as the v2 message the migration table says it becomes."""
    return json_format.ParseDict(_v1_json_as_v2(json_format.MessageToDict(message)), v2_type())


def v2_stub(stack: LocalStack) -> o2_grpc.OrchestratorServiceAsyncStub:
    return o2_grpc.OrchestratorServiceStub(insecure_channel(stack.orchestrator_target))


async def v2_events(stack: LocalStack, job_id: str, after: int = 0) -> list[o2.JobEvent]:
    async with grpc.aio.insecure_channel(stack.orchestrator_target) as channel:
        call = o2_grpc.OrchestratorServiceStub(channel).JobEvents(
            o2.JobEventsRequest(job_id=job_id, after_sequence=after), timeout=TIMEOUT)
        return [response.event async for response in call]


async def v1_events(stack: LocalStack, job_id: str, after: int = 0) -> list[o1.JobEvent]:
    call = stack.orchestrator_stub().JobEvents(o1.JobEventsRequest(job_id=job_id, after_sequence=after),
                                               timeout=TIMEOUT)
    return [event async for event in call]


async def refusal(call: Any) -> tuple[grpc.StatusCode, dict[str, Any], str]:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        result = call()
        if hasattr(result, "__aiter__"):
            async for _ in result:
                pass
        else:
            await result
    return caught.value.code(), errors.details_of(caught.value), caught.value.details() or ""


async def start_v2_job(stack: LocalStack, url: str, **options: Any) -> str:
    async with grpc.aio.insecure_channel(stack.orchestrator_target) as channel:
        started = await o2_grpc.OrchestratorServiceStub(channel).StartJob(
            o2.StartJobRequest(url=url, options=o2.JobOptions(**options)), timeout=30)
    assert started.job.job_id == started.job_id and started.job.create_time.seconds > 0
    return started.job_id


# -- the orchestrator ----------------------------------------------------------------------

async def test_a_v2_job_is_the_same_job_through_v1(stack: LocalStack) -> None:
    site = await FixtureSite(pages=tree_site(12)).start()
    try:
        job_id = await start_v2_job(stack, site.url("/docs/"), max_pages=50,
                                    timeout=duration_pb2.Duration(seconds=90))
        events = await v2_events(stack, job_id)
        old = await v1_events(stack, job_id)
    finally:
        await site.stop()
    check_contract(old)
    assert [e.sequence for e in events] == list(range(1, len(events) + 1))
    assert events[-1].WhichOneof("event") == "job_completed"
    # Identical in content, event by event, as the migration table maps v1 onto v2.
    assert len(events) == len(old)
    for new, before in zip(events, old, strict=True):
        assert new == expected_v2(before, o2.JobEvent), (new, before)
    assert any(e.WhichOneof("event") == "time_update" or e.WhichOneof("event") == "url_crawled" for e in events)
    crawled = [e.url_crawled for e in events if e.HasField("url_crawled")]
    assert crawled and all(c.fetch_duration.ToNanoseconds() > 0 for c in crawled)
    assert events[0].stream_connected.options.timeout.seconds == 90

    async with grpc.aio.insecure_channel(stack.orchestrator_target) as channel:
        stub = o2_grpc.OrchestratorServiceStub(channel)
        job = await stub.GetJob(o2.GetJobRequest(job_id=job_id), timeout=30)
        cancelled = await stub.CancelJob(o2.CancelJobRequest(job_id=job_id), timeout=30)
    # v1 may answer from the owner's memory, which can lag the final commit for a moment
    # (v2 answers an ended job from its stored row): wait until it has caught up.
    loop = asyncio.get_running_loop()
    give_up = loop.time() + 60
    while True:
        before_job = await stack.orchestrator_stub().GetJob(o1.GetJobRequest(job_id=job_id), timeout=30)
        if before_job.last_sequence == len(events) or loop.time() > give_up:
            break
        await asyncio.sleep(0.05)
    assert job.state == o2.JOB_STATE_COMPLETED and job.last_sequence == len(events)
    # finish_time: when the store ended the job, after it was created, by the last event.
    assert job.HasField("finish_time")
    assert job.create_time.ToNanoseconds() <= job.finish_time.ToNanoseconds()
    assert abs(job.finish_time.ToNanoseconds() - events[-1].event_time.ToNanoseconds()) < 5 * 10**9
    without_finish = o2.Job()
    without_finish.CopyFrom(job)
    without_finish.ClearField("finish_time")
    assert without_finish == expected_v2(before_job, o2.Job)
    assert job.totals.processed >= 11 and job.totals.elapsed.ToNanoseconds() > 0
    # Cancelling a finished job changes nothing and returns it.
    assert cancelled == job

    # Replay from the middle: exactly the tail, through either API.
    middle = len(events) // 2
    assert await v2_events(stack, job_id, after=middle) == events[middle:]
    assert [e.sequence for e in await v1_events(stack, job_id, after=middle)] == [e.sequence for e in events[middle:]]


async def test_skip_reasons_are_enums_and_counts(stack: LocalStack) -> None:
    pages = tree_site(3)
    pages["/docs/"] = page("Home", links=["page-1.html", "page-2.html", "/elsewhere/x", "a.zip"])
    site = await FixtureSite(pages=pages).start()
    try:
        job_id = await start_v2_job(stack, site.url("/docs/"), use_sitemaps=False)
        events = await v2_events(stack, job_id)
    finally:
        await site.stop()
    totals = events[-1].job_completed.totals
    reasons = {entry.reason: entry.count for entry in totals.skipped}
    assert common2.SKIP_REASON_OUT_OF_SCOPE in reasons and all(count > 0 for count in reasons.values())
    assert list(reasons) == sorted(reasons), "SkipCount entries are in SkipReason order"
    assert common2.SKIP_REASON_UNSPECIFIED not in reasons


def test_every_skip_reason_the_orchestrator_uses_has_an_enum_value() -> None:
    from docspasta.v2convert import SKIP_REASONS

    used = set()
    for path in (Path(__file__).resolve().parents[2] / "orchestrator").glob("*.py"):
        text = path.read_text()
        used |= set(re.findall(r'(?:_skip|_reject)\([^)]*?"([a-z_]+)"', text))
        used |= set(re.findall(r'skipped\["([a-z_]+)"', text))
        used |= set(re.findall(r'reason(?:: str \| None)? = "([a-z_]+)"', text))
    from orchestrator import budget, dedup, robots, scope, traps
    from processor.service import SKIPPED_NOT_HTML
    used |= {budget.BUDGET, dedup.DUPLICATE, robots.ROBOTS, scope.OUT_OF_SCOPE, scope.EXCLUDED, traps.TRAP,
             SKIPPED_NOT_HTML, "max_pages"}
    assert used and used <= set(SKIP_REASONS), used - set(SKIP_REASONS)


async def test_v2_refusals_name_v2_fields_in_the_v2_domain(stack: LocalStack) -> None:
    stub = v2_stub(stack)
    code, got, message = await refusal(lambda: stub.StartJob(o2.StartJobRequest(
        url="https://example.com/", options=o2.JobOptions(timeout=duration_pb2.Duration(seconds=-5))), timeout=30))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and got["domain"] == "docspasta.v2"
    assert got["reason"] == errors.FIELD_INVALID and [f for f, _ in got["violations"]] == ["options.timeout"]
    assert message.startswith("options.timeout: ") and "seconds" not in message.split(":")[0]

    code, got, _ = await refusal(lambda: stub.StartJob(o2.StartJobRequest(
        url="https://example.com/", options=o2.JobOptions(timeout=duration_pb2.Duration(seconds=1, nanos=-1))),
        timeout=30))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and got["violations"][0][0] == "options.timeout"

    code, got, _ = await refusal(lambda: stub.StartJob(o2.StartJobRequest(
        url="https://example.com/", options=o2.JobOptions(max_pages=2**40)), timeout=30))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and got["violations"][0][0] == "options.max_pages"

    code, got, _ = await refusal(lambda: stub.StartJob(o2.StartJobRequest(url="ftp://example.com/"), timeout=30))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and got["domain"] == "docspasta.v2"

    code, got, _ = await refusal(lambda: stub.GetJob(o2.GetJobRequest(job_id="test-nosuchjob"), timeout=30))
    assert code == grpc.StatusCode.NOT_FOUND and got["reason"] == errors.JOB_NOT_FOUND
    assert got["domain"] == "docspasta.v2" and got["metadata"]["job_id"] == "test-nosuchjob"

    code, got, _ = await refusal(lambda: stub.CancelJob(o2.CancelJobRequest(job_id="bad id!"), timeout=30))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and got["domain"] == "docspasta.v2"

    code, got, _ = await refusal(lambda: stub.JobEvents(o2.JobEventsRequest(job_id="x", after_sequence=-1),
                                                        timeout=30))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and got["violations"][0][0] == "after_sequence"


async def test_after_sequence_beyond_a_finished_job_is_out_of_range(stack: LocalStack) -> None:
    site = await FixtureSite(pages=tree_site(2)).start()
    try:
        job_id = await start_v2_job(stack, site.url("/docs/"))
        events = await v2_events(stack, job_id)
    finally:
        await site.stop()
    stub = v2_stub(stack)
    code, got, _ = await refusal(lambda: stub.JobEvents(
        o2.JobEventsRequest(job_id=job_id, after_sequence=len(events) + 3), timeout=30))
    assert code == grpc.StatusCode.OUT_OF_RANGE and got["reason"] == errors.SEQUENCE_OUT_OF_RANGE
    assert got["domain"] == "docspasta.v2" and got["metadata"]["last_sequence"] == str(len(events))
    assert await v2_events(stack, job_id, after=len(events)) == []


@pytest.mark.parametrize("method, streaming", [
    ("/docspasta.v2.CrawlerService/Crawl", False),
    ("/docspasta.v2.ProcessorService/Process", False),
    ("/docspasta.v2.ProcessorService/ListPages", True),
    ("/docspasta.v2.OrchestratorService/StartJob", False),
    ("/docspasta.v2.OrchestratorService/GetJob", False),
    ("/docspasta.v2.OrchestratorService/CancelJob", False),
    ("/docspasta.v2.OrchestratorService/JobEvents", True),
])
async def test_bytes_that_are_not_protobuf_are_invalid_argument_in_v2(stack: LocalStack, method: str,
                                                                      streaming: bool) -> None:
    service = method.split("/")[1].rsplit(".", 1)[-1]
    target = {"CrawlerService": stack._crawler_target, "ProcessorService": stack.processor_target,
              "OrchestratorService": stack.orchestrator_target}[service]
    async with grpc.aio.insecure_channel(target) as channel:
        if streaming:
            code, got, _ = await refusal(lambda: channel.unary_stream(method)(b"\xff\xff\xff\xff", timeout=10))
        else:
            code, got, _ = await refusal(lambda: channel.unary_unary(method)(b"\xff\xff\xff\xff", timeout=10))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert got["reason"] == errors.MALFORMED_REQUEST and got["domain"] == "docspasta.v2"


async def test_v2_services_have_health_and_reflection(stack: LocalStack) -> None:
    from tests.contract.test_errors import _reflect

    for target, name in ((stack.orchestrator_target, "docspasta.v2.OrchestratorService"),
                         (stack.processor_target, "docspasta.v2.ProcessorService"),
                         (stack._crawler_target, "docspasta.v2.CrawlerService")):
        async with grpc.aio.insecure_channel(target) as channel:
            health = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=name), timeout=10)
        assert health.status == health_pb2.HealthCheckResponse.SERVING
        for version in ("v1", "v1alpha"):
            listed = await _reflect(target, f"grpc.reflection.{version}.ServerReflection",
                                    reflection_pb2.ServerReflectionRequest(list_services=""))
            names = {s.name for s in listed.list_services_response.service}
            assert name in names and name.replace("v2.", "v1.").removesuffix("Service") in names
    found = await _reflect(stack.orchestrator_target, "grpc.reflection.v1.ServerReflection",
                           reflection_pb2.ServerReflectionRequest(
                               file_containing_symbol="docspasta.v2.OrchestratorService"))
    from google.protobuf import descriptor_pb2
    files = {f.name: f for f in (descriptor_pb2.FileDescriptorProto.FromString(b)
                                 for b in found.file_descriptor_response.file_descriptor_proto)}
    comments = [loc.leading_comments for loc in files["docspasta/v2/orchestrator.proto"].source_code_info.location
                if loc.leading_comments]
    assert any("finish" in c.lower() for c in comments) and len(comments) > 100


# -- the crawler and the processor ---------------------------------------------------------

async def test_v2_crawl_is_v1_crawl(stack: LocalStack) -> None:
    site = await FixtureSite(pages=tree_site(3)).start()
    try:
        async with grpc.aio.insecure_channel(stack._crawler_target) as channel:
            new = await c2_grpc.CrawlerServiceStub(channel).Crawl(c2.CrawlRequest(url=site.url("/docs/")), timeout=30)
        old = await __import__("docspasta.v1.crawler_pb2_grpc", fromlist=["x"]).CrawlerStub(
            insecure_channel(stack._crawler_target)).Crawl(c1.CrawlRequest(url=site.url("/docs/")), timeout=30)
        async with grpc.aio.insecure_channel(stack._crawler_target) as channel:
            code, got, message = await refusal(lambda: c2_grpc.CrawlerServiceStub(channel).Crawl(
                c2.CrawlRequest(url="ftp://x/"), timeout=30))
    finally:
        await site.stop()
    assert new.status == 200 and new.html == old.html and list(new.links) == list(old.links) and new.links
    assert new.fetch_duration.ToNanoseconds() > 0 and new.requests_sent == old.requests_sent == 1
    assert code == grpc.StatusCode.INVALID_ARGUMENT and got["domain"] == "docspasta.v2"
    assert got["violations"] == [("url", "must be an absolute http(s) URL")] and message.startswith("url: ")


def _html(size: int, word: str = "x") -> str:
    line = (word * 99)[:99] + "\n"
    return f"<html><body><main><h1>Big</h1><pre>{line * (size // 100)}</pre></main></body></html>"


async def _list_v2(target: str, job_id: str, *, page_size: int = 0, token: str = "",
                   ) -> list[p2.ListPagesResponse]:
    async with grpc.aio.insecure_channel(target) as channel:  # default options: the 4 MiB receive limit
        call = p2_grpc.ProcessorServiceStub(channel).ListPages(
            p2.ListPagesRequest(job_id=job_id, page_size=page_size, page_token=token), timeout=TIMEOUT)
        return [message async for message in call]


def _assemble(messages: list[p2.ListPagesResponse]) -> list[tuple[p2.Page, str, str]]:
    """(page, whole Markdown, the token on its completing message) per page."""
    out: list[tuple[p2.Page, str, str]] = []
    current: p2.Page | None = None
    parts: list[bytes] = []
    for message in messages:
        if message.HasField("page"):
            assert current is None, "a page began before the last one was complete"
            current, parts = message.page, [message.page.markdown.encode()]
        else:
            assert current is not None and message.chunk.url == current.url
            assert message.chunk.offset == sum(len(p) for p in parts), "chunks are gapless and in order"
            parts.append(message.chunk.markdown.encode())
        complete = sum(len(p) for p in parts) == current.markdown_size
        if message.HasField("chunk"):
            assert complete == message.chunk.last
        if not complete:
            assert message.next_page_token == ""
            continue
        out.append((current, b"".join(parts).decode(), message.next_page_token))
        current = None
    assert current is None, "the stream ended inside a page"
    return out


async def test_list_pages_paginates_with_opaque_tokens(stack: LocalStack) -> None:
    site = await FixtureSite(pages=tree_site(11)).start()
    try:
        job_id = await start_v2_job(stack, site.url("/docs/"))
        await v2_events(stack, job_id)
        other = await start_v2_job(stack, site.url("/docs/p1"), max_depth=0)
        await v2_events(stack, other)
    finally:
        await site.stop()
    old = [p async for p in stack.processor_stub().ListPages(p1.ListPagesRequest(job_id=job_id), timeout=TIMEOUT)]
    assert len(old) == 11

    everything = _assemble(await _list_v2(stack.processor_target, job_id))
    assert [p.url for p, _, _ in everything] == [p.url for p in old]
    for (new, markdown, _), before in zip(everything, old, strict=True):
        assert markdown == before.markdown and new.markdown_size == len(before.markdown.encode())
        assert (new.order, new.depth, new.title, new.word_count, new.token_estimate) == (
            before.order, before.depth, before.title, before.word_count, before.token_estimate)
    assert everything[-1][2] == "" and all(token for _, _, token in everything[:-1])

    # Pages of 4: 4 + 4 + 3, each call resuming from the last token.
    seen: list[str] = []
    token = ""
    calls = 0
    while True:
        got = _assemble(await _list_v2(stack.processor_target, job_id, page_size=4, token=token))
        calls += 1
        assert len(got) == (4 if calls < 3 else 3)
        seen += [p.url for p, _, _ in got]
        token = got[-1][2]
        if not token:
            break
    assert calls == 3 and seen == [p.url for p in old]
    # A stream cut after any page resumes from that page's token.
    third = everything[2][2]
    assert [p.url for p, _, _ in _assemble(await _list_v2(stack.processor_target, job_id, token=third))] == [
        p.url for p in old[3:]]

    processor = p2_grpc.ProcessorServiceStub(insecure_channel(stack.processor_target))
    tampered = third[:-2] + ("A" if third[-2] != "A" else "B") + third[-1]
    for bad in (tampered, third + "x", "not-a-token", page_token.encode(job_id, 3)[:-1] + "!"):
        code, got_details, _ = await refusal(lambda bad=bad: processor.ListPages(
            p2.ListPagesRequest(job_id=job_id, page_token=bad), timeout=30))
        assert code == grpc.StatusCode.INVALID_ARGUMENT, bad
        assert got_details["violations"][0][0] == "page_token" and got_details["domain"] == "docspasta.v2"
    # A token of one job is not a token of another.
    code, got_details, _ = await refusal(lambda: processor.ListPages(
        p2.ListPagesRequest(job_id=other, page_token=third), timeout=30))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and got_details["violations"][0][0] == "page_token"
    code, got_details, _ = await refusal(lambda: processor.ListPages(
        p2.ListPagesRequest(job_id=job_id, page_size=-1), timeout=30))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and got_details["violations"][0][0] == "page_size"
    # Above the maximum is the maximum, not an error.
    assert len(_assemble(await _list_v2(stack.processor_target, job_id, page_size=10**6))) == 11


@pytest.fixture
async def roomy_processor(tmp_path: Path) -> AsyncIterator[tuple[ServiceHost, str]]:
    """A processor whose operator raised PROCESSOR_MAX_MARKDOWN_BYTES (as one whose
    readers use v2 may): pages over 4 MiB are stored."""
    settings = replace(ProcessorSettings(), bind="127.0.0.1:0", workers=1, database_url=f"sqlite:///{tmp_path}/p.db",
                       max_markdown_bytes=16 * 1024 * 1024)
    host, port = await create_processor(settings)
    yield host, f"127.0.0.1:{port}"
    await host.stop(grace=1.0)


async def test_a_page_over_4_mib_reaches_a_default_client_in_chunks(
        roomy_processor: tuple[ServiceHost, str]) -> None:
    _, target = roomy_processor
    big = 6 * 1024 * 1024
    # The internal caller (the orchestrator) sends whole pages with a 64 MiB limit.
    async with insecure_channel(target) as channel:
        stub = p2_grpc.ProcessorServiceStub(channel)
        stored = await stub.Process(p2.ProcessRequest(job_id="big-2", url="https://example.com/big", order=1,
                                                       html=_html(big, "é-"), omit_markdown=True), timeout=TIMEOUT)
        small = await stub.Process(p2.ProcessRequest(job_id="big-2", url="https://example.com/small", order=2,
                                                     html=_html(2000)), timeout=TIMEOUT)
        skipped = await stub.Process(p2.ProcessRequest(job_id="big-2", url="https://example.com/x.rst", order=3,
                                                       html="Title\n=====\n\nplain text"), timeout=TIMEOUT)
        whole = [p async for p in p1_grpc.ProcessorStub(channel).ListPages(
            p1.ListPagesRequest(job_id="big-2"), timeout=TIMEOUT)]
    assert stored.word_count > 0 and stored.markdown == "" and stored.skip_reason == common2.SKIP_REASON_UNSPECIFIED
    assert small.markdown and small.token_estimate > 0
    assert skipped.skip_reason == common2.SKIP_REASON_NOT_HTML
    assert len(whole[0].markdown.encode()) > DEFAULT_LIMIT

    # v1 sends the page as one message: a default client cannot read it.
    async with grpc.aio.insecure_channel(target) as channel:
        code, _, _ = await refusal(lambda: p1_grpc.ProcessorStub(channel).ListPages(
            p1.ListPagesRequest(job_id="big-2"), timeout=TIMEOUT))
    assert code == grpc.StatusCode.RESOURCE_EXHAUSTED

    # v2, default client: the page arrives in chunks, each message under the limit.
    messages = await _list_v2(target, "big-2")
    assert all(m.ByteSize() < DEFAULT_LIMIT for m in messages)
    assert sum(m.HasField("chunk") for m in messages) >= 5
    pages = _assemble(messages)
    assert [p.url for p, _, _ in pages] == ["https://example.com/big", "https://example.com/small"]
    assert pages[0][1] == whole[0].markdown and pages[1][1] == whole[1].markdown
    assert pages[0][0].markdown_size == len(whole[0].markdown.encode()) > DEFAULT_LIMIT
    assert pages[0][2] and pages[1][2] == ""
    # Resume after the large page.
    assert [p.url for p, _, _ in _assemble(await _list_v2(target, "big-2", token=pages[0][2]))] == [
        "https://example.com/small"]
    assert DEFAULT_MAX_MARKDOWN_BYTES < DEFAULT_LIMIT  # the v1 default still fits v1 readers


def test_split_utf8_cuts_at_character_boundaries() -> None:
    from processor.v2.convert import split_utf8

    text = "aé€😀" * 1000
    data = text.encode()
    for size in (4, 5, 7, 1024):
        parts = list(split_utf8(data, size))
        assert "".join(part for _, part in parts) == text
        assert all(len(part.encode()) <= size for _, part in parts)
        assert [offset for offset, _ in parts] == [sum(len(p.encode()) for _, p in parts[:i]) for i in range(len(parts))]


@pytest.fixture(scope="module")
def pg_server() -> Iterator[Any]:
    from tests.store.postgres_server import PostgresServer

    # No skip: PostgreSQL comes from scripts/system-deps.sh, and a missing one fails.
    with PostgresServer.start() as server:
        yield server


async def test_v2_on_postgresql_stores_finish_time(pg_server: Any) -> None:
    """The deployed backend: both stores on PostgreSQL, finish_time from its finished_at."""
    from orchestrator.settings import OrchestratorSettings
    from tests.conftest import local_crawler_settings

    site = await FixtureSite(pages=tree_site(4)).start()
    try:
        async with pg_server.database() as dsn:
            async with LocalStack(crawler=local_crawler_settings(), database_url=dsn,
                                  processor=replace(ProcessorSettings(), workers=1),
                                  orchestrator=replace(OrchestratorSettings(), instance_id="test")) as stack:
                job_id = await start_v2_job(stack, site.url("/docs/"))
                events = await v2_events(stack, job_id)
                async with grpc.aio.insecure_channel(stack.orchestrator_target) as channel:
                    job = await o2_grpc.OrchestratorServiceStub(channel).GetJob(o2.GetJobRequest(job_id=job_id),
                                                                               timeout=30)
                    # v1 too, right after the terminal event: the final commit's snapshot.
                    v1_job = await o1_grpc.OrchestratorStub(channel).GetJob(o1.GetJobRequest(job_id=job_id),
                                                                          timeout=30)
                pages = _assemble(await _list_v2(stack.processor_target, job_id, page_size=2))
    finally:
        await site.stop()
    assert job.state == o2.JOB_STATE_COMPLETED and job.last_sequence == len(events), (job, events[-3:])
    assert v1_job.state == o1.JOB_STATE_COMPLETED and v1_job.last_sequence == len(events), v1_job
    assert job.create_time.ToNanoseconds() < job.finish_time.ToNanoseconds()
    assert abs(job.finish_time.ToNanoseconds() - events[-1].event_time.ToNanoseconds()) < 5 * 10**9
    assert len(pages) == 2 and pages[-1][2]  # page_size 2 of 4: a token to go on
