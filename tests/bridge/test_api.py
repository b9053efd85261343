"""The HTTP API against a real pipeline: status, Markdown, pages, cancel, errors."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import zipfile
from datetime import date

import aiohttp

from docspasta.local import LocalStack
from tests.bridge.conftest import BridgeFactory
from tests.bridge.support import create_job, read_all
from tests.support.site import FixtureSite, tree_site


async def test_job_lifecycle(stack: LocalStack, site: FixtureSite, make_bridge: BridgeFactory,
                             http: aiohttp.ClientSession) -> None:
    site.pages.update(tree_site(8))
    base = await make_bridge(stack)
    job = await create_job(http, base, site.url("/docs/"))
    assert set(job["urls"]) == {"status", "events", "markdown", "pages", "llms_txt", "llms_full_txt", "archive"}
    auth = {"Authorization": f"Bearer {job['token']}"}
    status, events = await read_all(http, base + job["urls"]["events"], headers=auth)
    assert status == 200 and events[0].event == "stream_connected" and events[-1].event == "job_completed"
    assert all(json.loads(e.data)["sequence"] == int(e.id or 0) for e in events)
    async with http.get(base + job["urls"]["status"], headers=auth) as resp:
        info = await resp.json()
        assert info["state"] == "completed" and info["totals"]["processed"] == 8
        assert info["buffered_sequence"] == len(events)
    async with http.get(base + job["urls"]["markdown"], headers=auth) as resp:
        assert resp.status == 200
        name = f"127.0.0.1_{site.port}-docs-{date.today().isoformat()}.md"  # named after the site
        assert resp.headers["Content-Disposition"] == f'attachment; filename="{name}"'
        text = await resp.text()
        assert "- Pages: 8" in text and "Text of page number 7 about widgets." in text
    async with http.get(base + job["urls"]["pages"], headers=auth) as resp:
        lines = [json.loads(line) for line in (await resp.text()).splitlines()]
        assert len(lines) == 8 and {"url", "title", "markdown"} <= set(lines[0])
    async with http.get(base + job["urls"]["llms_txt"], headers=auth) as resp:
        assert resp.status == 200 and (await resp.text()).startswith("# Page 0")
    async with http.get(base + job["urls"]["llms_full_txt"], headers=auth) as resp:
        assert "Text of page number 7 about widgets." in await resp.text()
    async with http.get(base + job["urls"]["archive"], headers=auth) as resp:
        assert resp.status == 200 and resp.content_type == "application/zip"
        with zipfile.ZipFile(io.BytesIO(await resp.read())) as archive:
            assert "docs/index.md" in archive.namelist() and len(archive.namelist()) == 8
    async with http.get(base + job["urls"]["archive"]) as resp:
        assert resp.status == 404  # no token
    async with http.get(f"{base}/healthz") as resp:
        assert (await resp.json())["status"] == "ok"


async def test_cancel_and_markdown_while_running(stack: LocalStack, site: FixtureSite, make_bridge: BridgeFactory,
                                                 http: aiohttp.ClientSession) -> None:
    site.pages.update(tree_site(40))
    site.delay = 0.2
    base = await make_bridge(stack)
    job = await create_job(http, base, site.url("/docs/"), concurrency=1)
    auth = {"Authorization": f"Bearer {job['token']}"}
    async with http.get(base + job["urls"]["events"], headers=auth) as resp:
        async for line in resp.content:
            if line.startswith(b"event: url_processed"):
                break
    async with http.get(base + job["urls"]["markdown"], headers=auth) as resp:
        assert resp.status == 200 and "Pages: " in await resp.text()  # partial document while running
    async with http.delete(base + job["urls"]["status"], headers=auth) as resp:
        assert resp.status == 200
    status, events = await read_all(http, base + job["urls"]["events"], headers=auth)
    assert events[-1].event == "job_cancelled"


async def test_backend_down_maps_to_503(make_bridge: BridgeFactory, http: aiohttp.ClientSession) -> None:
    base = await make_bridge(rpc_timeout=2.0)  # orchestrator target 127.0.0.1:9: nothing listens
    async with http.post(f"{base}/api/jobs", json={"url": "https://example.com/docs/"}) as resp:
        assert resp.status == 503
        assert (await resp.json())["error"]["code"] == "unavailable"
    async with http.get(f"{base}/") as resp:
        assert resp.status == 200 and "Content-Security-Policy" in resp.headers
    async with http.get(f"{base}/static/app.js") as resp:
        assert resp.status == 200


async def test_metrics_and_draining_health(stack: LocalStack, site: FixtureSite, make_bridge: BridgeFactory,
                                           http: aiohttp.ClientSession) -> None:
    site.pages.update(tree_site(3))
    base = await make_bridge(stack)
    job = await create_job(http, base, site.url("/docs/"))
    await read_all(http, base + job["urls"]["events"], headers={"Authorization": f"Bearer {job['token']}"})
    async with http.get(f"{base}/metrics") as resp:
        text = await resp.text()
        assert resp.status == 200
        assert "docspasta_sse_clients" in text and "docspasta_buffer_lag_seconds_count" in text
    # A real `python -m bridge` answers 503 on /healthz between SIGTERM and exit.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # A drain window long enough to be seen on a loaded machine.
    env = {**os.environ, "BRIDGE_PORT": str(port), "BRIDGE_GRACE_SECONDS": "8", "BRIDGE_DRAIN_SECONDS": "8"}
    proc = subprocess.Popen([sys.executable, "-m", "bridge"], env=env, stderr=subprocess.DEVNULL)
    health = f"http://127.0.0.1:{port}/healthz"

    async def status_of_health() -> int | None:
        try:
            async with http.get(health, timeout=aiohttp.ClientTimeout(total=5)) as resp:
                return resp.status
        except (aiohttp.ClientError, TimeoutError):
            return None

    try:
        deadline = time.monotonic() + 60  # a cold interpreter start on a busy machine
        while (got := await status_of_health()) != 200:
            assert time.monotonic() < deadline and proc.poll() is None, f"bridge never healthy (last {got})"
            await asyncio.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 30
        while (got := await status_of_health()) == 200:
            assert time.monotonic() < deadline, "still healthy 30 s after SIGTERM"
            await asyncio.sleep(0.05)
        async with http.get(health) as resp:
            assert resp.status == 503 and (await resp.json())["status"] == "draining"
        assert proc.wait(timeout=60) == 0
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
