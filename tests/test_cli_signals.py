"""Ctrl-C as a terminal sends it (SIGINT to the whole process group) to a real
``docspasta crawl`` and ``docspasta serve``: outputs for what is done, exit 130, no
traceback and no process left behind."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp

from tests.cli_support import ctrl_c, kill_session, start_cli, wait_gone
from tests.support.site import FixtureSite, tree_site

PAGES = 80


async def _until(condition: object, timeout: float = 90) -> None:
    async with asyncio.timeout(timeout):
        while not condition():  # type: ignore[operator]
            await asyncio.sleep(0.05)


async def test_ctrl_c_of_crawl_writes_what_is_done_and_says_how_to_continue(site: FixtureSite,
                                                                           tmp_path: Path) -> None:
    site.pages.update(tree_site(PAGES))
    site.delay = 0.3
    (tmp_path / "out.md").write_text("an older crawl\n")
    proc = await start_cli("crawl", site.url("/docs/"), "--allow-private-network", "-q", "--concurrency", "2",
                           "-o", "out.md", "--jsonl", "pages.jsonl", "--stats", "s.json", cwd=tmp_path)
    try:
        await _until(lambda: site.requests.total() >= 8)
        ctrl_c(proc)
        async with asyncio.timeout(120):
            out, err = await proc.communicate()
        text = err.decode()
        assert proc.returncode == 130, text
        assert "Traceback" not in text
        assert await wait_gone(proc.pid) == []
    finally:
        kill_session(proc.pid)
    stats = json.loads((tmp_path / "s.json").read_text())
    assert stats["state"] == "interrupted" and stats["partial"] is True
    assert 0 < stats["pages"] < PAGES
    document = (tmp_path / "out.md").read_text()
    assert "partial crawl" in document and f"- Pages: {stats['pages']}" in document
    assert len((tmp_path / "pages.jsonl").read_text().splitlines()) == stats["pages"]
    assert "partial crawl" in text and "--resume" in text and site.url("/docs/") in text
    assert not [p for p in tmp_path.iterdir() if ".docspasta-" in p.name]


async def _serve(tmp_path: Path) -> tuple[asyncio.subprocess.Process, str]:
    proc = await start_cli("serve", "--port", "0", "--allow-private-network", cwd=tmp_path,
                           env={"PROCESSOR_WORKERS": "1", "REDIS_URL": ""})
    assert proc.stdout is not None
    async with asyncio.timeout(90):
        while True:
            line = (await proc.stdout.readline()).decode()
            assert line, "docspasta serve exited before printing its address"
            if "open http://" in line:
                return proc, line.split("open ", 1)[1].split()[0].rstrip("/")


async def test_ctrl_c_of_serve_stops_in_order_during_a_crawl(site: FixtureSite, tmp_path: Path) -> None:
    site.pages.update(tree_site(PAGES))
    site.delay = 0.3
    proc, url = await _serve(tmp_path)
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{url}/api/jobs", json={"url": site.url("/docs/"), "concurrency": 4}) as resp:
                assert resp.status == 201, await resp.text()
        await _until(lambda: site.requests.total() >= 6)
        ctrl_c(proc)
        async with asyncio.timeout(90):
            _, err = await proc.communicate()
        text = err.decode()
        assert proc.returncode == 130, text
        assert "Traceback" not in text and "BrokenProcessPool" not in text, text
        assert await wait_gone(proc.pid) == []
    finally:
        kill_session(proc.pid)


async def test_ctrl_c_of_idle_serve_is_quiet(tmp_path: Path) -> None:
    proc, _url = await _serve(tmp_path)
    try:
        ctrl_c(proc)
        async with asyncio.timeout(60):
            _, err = await proc.communicate()
        assert proc.returncode == 130
        assert "Traceback" not in err.decode(), err.decode()
        assert await wait_gone(proc.pid) == []
    finally:
        kill_session(proc.pid)
