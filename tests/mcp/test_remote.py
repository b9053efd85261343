"""``docspasta mcp --server URL --api-key KEY``: the same tools against a running bridge
behind API keys (a real subprocess, the SDK's stdio client)."""

from __future__ import annotations

import os
import sys

from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from docspasta.local import LocalStack
from tests.bridge.conftest import BridgeFactory
from tests.mcp.drive import CALL_TIMEOUT, result_of
from tests.support.site import FixtureSite, tree_site

API_KEY = "mcp-test-key-5b1e0c7d"


def _params(base: str, key: str) -> StdioServerParameters:
    return StdioServerParameters(command=sys.executable, args=["-m", "docspasta.cli", "mcp", "--server", base,
                                                               "--api-key", key],
                                 env={"DOCSPASTA_STATE_DIR": os.environ["DOCSPASTA_STATE_DIR"]})


async def test_tools_against_a_remote_bridge(stack: LocalStack, site: FixtureSite,
                                             make_bridge: BridgeFactory) -> None:
    site.pages.update(tree_site(5))
    base = await make_bridge(stack, api_keys=(API_KEY,))
    with open(os.devnull, "w") as errlog:
        async with stdio_client(_params(base, API_KEY), errlog=errlog) as (read, write), \
                ClientSession(read, write, read_timeout_seconds=CALL_TIMEOUT) as session:
            await session.initialize()
            job_id = result_of(await session.call_tool("crawl", {"url": site.url("/docs/")}))["job_id"]
            status = result_of(await session.call_tool("job_status", {"job_id": job_id, "wait_seconds": 200}))
            assert status["state"] == "completed" and status["pages"] == 5, status
            pages = result_of(await session.call_tool("list_pages", {"job_id": job_id}))["pages"]
            document = result_of(await session.call_tool("read_document", {"job_id": job_id}))
            assert document["chunks"] == 1 and all(p["title"] in document["markdown"] for p in pages)
        async with stdio_client(_params(base, "wrong-key"), errlog=errlog) as (read, write), \
                ClientSession(read, write, read_timeout_seconds=CALL_TIMEOUT) as session:
            await session.initialize()
            refused = await session.call_tool("crawl", {"url": site.url("/docs/")})
            assert refused.is_error and "unauthenticated" in str(refused.content)
