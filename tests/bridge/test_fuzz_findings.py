"""What Schemathesis found in the bridge, pinned (tests/bridge/test_schemathesis.py)."""

from __future__ import annotations

import json
from typing import cast

import aiohttp
import grpc

from bridge.errors import grpc_error
from docspasta.local import LocalStack
from tests.bridge.conftest import BridgeFactory
from tests.bridge.support import create_job
from tests.support.site import FixtureSite, tree_site


async def test_an_unsupported_method_is_a_json_405_with_allow(make_bridge: BridgeFactory,
                                                              http: aiohttp.ClientSession) -> None:
    # It used to reach aiohttp as a returned HTTPException: deprecated, no JSON body, no Allow.
    base = await make_bridge(cors_origins=("https://app.example",))
    async with http.request("TRACE", f"{base}/api/jobs/j-1", headers={"Origin": "https://app.example"}) as resp:
        assert resp.status == 405
        assert (await resp.json())["error"]["code"] == "method_not_allowed"
        assert set(resp.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "DELETE"}
        assert resp.headers["Access-Control-Allow-Origin"] == "https://app.example"
    async with http.request("PUT", f"{base}/healthz") as resp:
        assert resp.status == 405 and "GET" in resp.headers["Allow"]


async def test_a_bad_last_event_id_query_is_refused_even_with_a_good_header(
        stack: LocalStack, site: FixtureSite, make_bridge: BridgeFactory, http: aiohttp.ClientSession) -> None:
    site.pages.update(tree_site(1))
    base = await make_bridge(stack)
    job = await create_job(http, base, site.url("/docs/"))
    url = f"{base}/api/jobs/{job['job_id']}/events?last_event_id=-4"
    async with http.get(url, headers={"Authorization": f"Bearer {job['token']}", "Last-Event-ID": "3"}) as resp:
        assert resp.status == 400
        assert (await resp.json())["error"]["field"] == "last_event_id"


def test_a_refusal_of_a_nested_field_names_it() -> None:
    # The orchestrator's "webhook.url: ..." came back without a field (the pattern took
    # only a top-level name).
    exc = grpc.aio.AioRpcError(grpc.StatusCode.INVALID_ARGUMENT, grpc.aio.Metadata(), grpc.aio.Metadata(),
                               details="webhook.url: private or local network receivers are refused")
    body = json.loads(cast(bytes, grpc_error(exc).body))
    assert body["error"]["field"] == "webhook.url"
    exc = grpc.aio.AioRpcError(grpc.StatusCode.INVALID_ARGUMENT, grpc.aio.Metadata(), grpc.aio.Metadata(),
                               details="options.max_pages: must be at most 10")
    assert json.loads(cast(bytes, grpc_error(exc).body))["error"]["field"] == "max_pages"
