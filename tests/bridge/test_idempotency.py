"""``POST /api/jobs`` and StartJob idempotency: an ``Idempotency-Key`` gives the same job
and token to every retry, StartJob always carries a request id (retried while the
orchestrator is unreachable without ever duplicating a job), and a full or unreachable
orchestrator is a 503 with Retry-After."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import aiohttp
import grpc
import pytest
from google.protobuf import duration_pb2

from bridge.errors import grpc_error
from docspasta import errors as rpc_errors
from docspasta.local import LocalStack
from tests.bridge.conftest import BridgeFactory
from orchestrator.settings import OrchestratorSettings
from processor.settings import ProcessorSettings
from tests.bridge.support import TcpProxy, read_all
from tests.conftest import local_crawler_settings
from tests.support.site import FixtureSite, tree_site


async def post(http: aiohttp.ClientSession, base: str, body: dict[str, Any], key: str | None = None,
               **headers: str) -> tuple[int, dict[str, Any], dict[str, str]]:
    if key is not None:
        headers["Idempotency-Key"] = key
    async with http.post(f"{base}/api/jobs", json=body, headers=headers) as resp:
        return resp.status, await resp.json(), dict(resp.headers)


async def test_same_key_same_job_and_token(stack: LocalStack, site: FixtureSite, make_bridge: BridgeFactory,
                                           http: aiohttp.ClientSession) -> None:
    site.pages.update(tree_site(3))
    base = await make_bridge(stack, rate_limit_burst=3, rate_limit_per_minute=0.01)
    body = {"url": site.url("/docs/"), "max_pages": 3}
    status, first, headers = await post(http, base, body, "5f0c2a4e-1b7d-4c8e-9a51-3d2e0f6b7c18")
    assert status == 201 and "Idempotent-Replayed" not in headers
    assert first["state"] in ("running", "queued", "completed")
    for _ in range(5):  # replays cost no rate-limit tokens (burst 3)
        status, again, headers = await post(http, base, body, "5f0c2a4e-1b7d-4c8e-9a51-3d2e0f6b7c18")
        assert status == 201 and headers["Idempotent-Replayed"] == "true"
        assert (again["job_id"], again["token"]) == (first["job_id"], first["token"])
    # The token works (it was not replaced by the replays).
    async with http.get(f"{base}{first['urls']['status']}", params={"token": first["token"]}) as resp:
        assert resp.status == 200
    # Without a key every request is a new job.
    _, one, _ = await post(http, base, body)
    _, two, _ = await post(http, base, body)
    assert len({first["job_id"], one["job_id"], two["job_id"]}) == 3
    # The same key with another body is refused; nothing is started.
    status, err, _ = await post(http, base, {**body, "max_pages": 2}, "5f0c2a4e-1b7d-4c8e-9a51-3d2e0f6b7c18")
    assert status == 422 and err["error"]["field"] == "Idempotency-Key"


@pytest.mark.parametrize("key", ["", "x" * 256, "caf\u00e9", "a b", "tab\there"])
async def test_bad_idempotency_key_is_400(make_bridge: BridgeFactory, http: aiohttp.ClientSession,
                                          key: str) -> None:
    base = await make_bridge()
    async with http.post(f"{base}/api/jobs", json={"url": "https://example.com/"},
                         headers={"Idempotency-Key": key.encode("utf-8").decode("latin-1")}) as resp:
        assert resp.status == 400
        err = (await resp.json())["error"]
        assert err["field"] == "Idempotency-Key" and err["message"].startswith("Idempotency-Key")


async def test_keys_are_scoped_by_api_key(stack: LocalStack, site: FixtureSite, make_bridge: BridgeFactory,
                                          http: aiohttp.ClientSession) -> None:
    site.pages.update(tree_site(2))
    base = await make_bridge(stack, api_keys=("key-one", "key-two"))
    body = {"url": site.url("/docs/"), "max_pages": 2}
    _, one, _ = await post(http, base, body, "shared-key-0001", **{"X-API-Key": "key-one"})
    _, two, _ = await post(http, base, body, "shared-key-0001", **{"X-API-Key": "key-two"})
    _, again, _ = await post(http, base, body, "shared-key-0001", **{"X-API-Key": "key-one"})
    assert one["job_id"] != two["job_id"] and one["token"] != two["token"]
    assert (again["job_id"], again["token"]) == (one["job_id"], one["token"])


async def test_start_retried_while_orchestrator_unreachable(
        stack: LocalStack, site: FixtureSite, make_bridge: BridgeFactory, http: aiohttp.ClientSession) -> None:
    """The orchestrator is down when the request comes and back a second later: the
    bridge retries StartJob (safe: one request id) and answers 201."""
    site.pages.update(tree_site(2))
    proxy = await TcpProxy(stack.orchestrator_target).start()
    await proxy.cut()
    try:
        base = await make_bridge(stack, orchestrator_target=proxy.target, rpc_timeout=15.0)

        async def come_back() -> None:
            await asyncio.sleep(1.0)
            await proxy.start()

        back = asyncio.create_task(come_back())
        status, job, _ = await post(http, base, {"url": site.url("/docs/"), "max_pages": 2})
        await back
        assert status == 201, job
        assert proxy.connections >= 1
    finally:
        await proxy.close()


def rpc_error(code: grpc.StatusCode, retry_seconds: float | None) -> grpc.aio.AioRpcError:
    trailing: tuple[tuple[str, str | bytes], ...] = ()
    if retry_seconds is not None:
        status = rpc_errors.status(code, "busy", reason=rpc_errors.TOO_MANY_JOBS, retry_after=retry_seconds)
        trailing = ((rpc_errors.DETAILS_METADATA_KEY, status.SerializeToString()),)
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(*trailing), details="busy")


def test_full_or_unreachable_orchestrator_is_503_with_retry_after() -> None:
    assert duration_pb2.Duration  # the RetryInfo delay travels as a Duration
    full = grpc_error(rpc_error(grpc.StatusCode.RESOURCE_EXHAUSTED, 6.2))
    assert full.status == 503 and full.headers["Retry-After"] == "7"
    assert grpc_error(rpc_error(grpc.StatusCode.RESOURCE_EXHAUSTED, None)).headers["Retry-After"] == "10"
    down = grpc_error(rpc_error(grpc.StatusCode.UNAVAILABLE, 0.2))
    assert down.status == 503 and down.headers["Retry-After"] == "1"


async def test_concurrent_requests_with_one_key_start_one_job(
        stack: LocalStack, site: FixtureSite, make_bridge: BridgeFactory, http: aiohttp.ClientSession) -> None:
    """Ten simultaneous POSTs with one key (a client retrying on a timeout): the request
    id makes the orchestrator start one job, and every answer carries it and one token."""
    site.pages.update(tree_site(2))
    base = await make_bridge(stack)
    body = {"url": site.url("/docs/"), "max_pages": 2}
    answers = await asyncio.gather(*(post(http, base, body, "c0ncurrent-key-7d1f") for _ in range(10)))
    assert {status for status, _, _ in answers} == {201}
    assert len({(job["job_id"], job["token"]) for _, job, _ in answers}) == 1


@pytest.fixture
async def small_stack() -> AsyncIterator[LocalStack]:
    """A pipeline whose orchestrator runs one job at a time: the next one queues."""
    async with LocalStack(crawler=local_crawler_settings(), processor=replace(ProcessorSettings(), workers=1),
                          orchestrator=replace(OrchestratorSettings(), instance_id="test", max_active_jobs=1)) as s:
        yield s


async def test_job_beyond_capacity_is_201_queued(
        small_stack: LocalStack, site: FixtureSite, make_bridge: BridgeFactory, http: aiohttp.ClientSession) -> None:
    site.pages.update(tree_site(30))
    site.delay = 0.2
    base = await make_bridge(small_stack)
    status, first, _ = await post(http, base, {"url": site.url("/docs/"), "concurrency": 1})
    assert status == 201 and first["state"] == "running"
    status, second, _ = await post(http, base, {"url": site.url("/docs/"), "max_pages": 2})
    assert status == 201 and second["state"] == "queued", second
    async with http.delete(f"{base}{first['urls']['status']}", params={"token": first["token"]}) as resp:
        assert resp.status == 200
    status, events = await read_all(http, f"{base}{second['urls']['events']}", params={"token": second["token"]})
    names = [e.event for e in events]
    assert "job_queued" in names and events[names.index("job_queued")].json["position"] >= 1
    assert names[-1] == "job_completed"
