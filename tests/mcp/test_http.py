"""MCP over streamable HTTP on the bridge (``/mcp``), driven by the SDK's own client:
the same tools as ``docspasta mcp`` over stdio, behind the bridge's API keys, against
the real services and a local fixture site."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import httpx2
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client

from docspasta.local import LocalStack
from tests.bridge.conftest import BridgeFactory
from tests.cli_support import ctrl_c, kill_session, start_cli
from tests.mcp.drive import CALL_TIMEOUT, drive_a_crawl, result_of
from tests.support.site import FixtureSite, tree_site

API_KEY = "mcp-http-key-3f9a"
OTHER_KEY = "mcp-http-other-71c2"


@asynccontextmanager
async def mcp_session(base: str, headers: dict[str, str]) -> AsyncIterator[ClientSession]:
    timeout = httpx2.Timeout(30.0, read=CALL_TIMEOUT)
    async with httpx2.AsyncClient(headers=headers, timeout=timeout) as http, \
            streamable_http_client(f"{base}/mcp", http_client=http) as (read, write), \
            ClientSession(read, write, read_timeout_seconds=CALL_TIMEOUT) as session:
        await session.initialize()
        yield session


async def test_an_mcp_client_crawls_and_reads_a_site_over_http(stack: LocalStack, site: FixtureSite,
                                                                 make_bridge: BridgeFactory) -> None:
    site.pages.update(tree_site(12))
    site.delay = 0.1
    base = await make_bridge(stack, api_keys=(API_KEY, OTHER_KEY))
    async with mcp_session(base, {"X-API-Key": API_KEY}) as session:
        job_id, _ = await drive_a_crawl(session, site)
        cancelled = result_of(await session.call_tool("cancel", {"job_id": job_id}))
        assert cancelled["state"] == "completed"  # a finished job stays as it was

    # Another key (sent the way most MCP clients send one: a bearer token) sees none of it.
    async with mcp_session(base, {"Authorization": f"Bearer {OTHER_KEY}"}) as session:
        hidden = await session.call_tool("list_pages", {"job_id": job_id})
        assert hidden.is_error and "not_found" in str(hidden.content)
        bad = await session.call_tool("crawl", {"url": "ftp://example.com/"})
        assert bad.is_error and "invalid_argument" in str(bad.content)


async def test_the_same_against_docspasta_serve(site: FixtureSite, tmp_path: Path) -> None:
    # `docspasta serve` as a user runs it (its own processes, embedded Redis, SQLite), with a key.
    site.pages.update(tree_site(12))
    site.delay = 0.1
    proc = await start_cli("serve", "--port", "0", "--allow-private-network", cwd=tmp_path,
                           env={"PROCESSOR_WORKERS": "1", "REDIS_URL": "", "BRIDGE_API_KEYS": API_KEY})
    try:
        assert proc.stdout is not None
        async with asyncio.timeout(120):
            while "open http://" not in (line := (await proc.stdout.readline()).decode()):
                assert line, "docspasta serve exited before printing its address"
        base = line.split("open ", 1)[1].split()[0].rstrip("/")
        async with mcp_session(base, {"Authorization": f"Bearer {API_KEY}"}) as session:
            await drive_a_crawl(session, site)
        async with httpx2.AsyncClient() as http:
            refused = await http.post(f"{base}/mcp", json={}, headers={"Accept": "application/json"})
            assert refused.status_code == 401
        ctrl_c(proc)
        async with asyncio.timeout(90):
            await proc.communicate()
        assert proc.returncode == 130
    finally:
        kill_session(proc.pid)


async def test_mcp_without_a_valid_api_key_is_401(stack: LocalStack, make_bridge: BridgeFactory,
                                                  http: aiohttp.ClientSession) -> None:
    base = await make_bridge(stack, api_keys=(API_KEY,))
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                       "clientInfo": {"name": "t", "version": "1"}}}
    accept = {"Accept": "application/json, text/event-stream"}
    for headers in ({}, {"X-API-Key": "wrong"}, {"Authorization": "Bearer wrong"}):
        async with http.post(f"{base}/mcp", json=init, headers={**accept, **headers}) as resp:
            assert resp.status == 401, headers
            assert (await resp.json())["error"]["code"] == "unauthenticated"
            assert "WWW-Authenticate" in resp.headers
    async with http.post(f"{base}/mcp", json=init, headers={**accept, "X-API-Key": API_KEY}) as resp:
        assert resp.status == 200, await resp.text()



def test_a_bridge_without_the_sdk_says_so_at_mcp() -> None:
    # The SDK is an optional extra: a fresh interpreter where "import mcp" fails builds
    # the whole app, with a clear 501 at /mcp.
    script = textwrap.dedent("""
        import asyncio, json, sys
        sys.modules["mcp"] = None
        from bridge.app import create_app
        from bridge.settings import BridgeSettings
        app = create_app(BridgeSettings(), redis_url="redis://127.0.0.1:9")
        [route] = [r for r in app.router.routes() if r.resource and r.resource.canonical == "/mcp"]
        resp = asyncio.run(route.handler(None))
        print(resp.status, json.loads(resp.body)["error"]["message"])
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("501 ") and "docspasta[mcp]" in done.stdout, done.stdout
