"""What Schemathesis found in the bridge, pinned (tests/bridge/test_schemathesis.py)."""

from __future__ import annotations

import aiohttp

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
