"""`docspasta crawl` as a user runs it: a subprocess against the local fixture site."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from tests.support.site import FixtureSite, page, tree_site

DOCSPASTA = str(Path(sys.executable).parent / "docspasta")


async def run_cli(*args: str, cwd: Path) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(DOCSPASTA, *args, cwd=cwd, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=120)
    return proc.returncode or 0, out.decode()


async def test_crawl_writes_every_output(site: FixtureSite, tmp_path: Path) -> None:
    site.pages.update(tree_site(12))
    site.pages["/docs/page-3.html"] = page("Page 3", "See <code>x | y</code>.", ["page-4.html", "index.html"])
    code, out = await run_cli("crawl", site.url("/docs/"), "--allow-private-network", "-q", "-o", "all.md",
                              "--jsonl", "pages.jsonl", "--events", "events.jsonl", "--dir", "mirror",
                              "--llms", "llms", cwd=tmp_path)
    assert code == 0, out
    assert "job_completed: 12 pages" in out
    records = [json.loads(line) for line in (tmp_path / "pages.jsonl").read_text().splitlines()]
    assert len(records) == 12 and records[0]["url"] == site.url("/docs/")
    assert {"url", "title", "markdown"} <= set(records[0])
    events = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert [e["sequence"] for e in events] == list(range(1, len(events) + 1))
    assert events[0]["type"] == "stream_connected" and events[-1]["type"] == "job_completed"
    combined = (tmp_path / "all.md").read_text()
    assert "- Pages: 12" in combined and "## Contents" in combined
    # Links between bundled pages point to their section.
    assert "(#page-" in combined and f"]({site.url('/docs/page-1.html')})" not in combined
    assert (tmp_path / "mirror" / "docs" / "index.md").exists()
    assert (tmp_path / "mirror" / "docs" / "page-11.md").exists()
    llms = (tmp_path / "llms" / "llms.txt").read_text()
    assert llms.startswith("# Page 0") and f"]({site.url('/docs/page-5.html')})" in llms
    assert "Text of page number 7" in (tmp_path / "llms" / "llms-full.txt").read_text()


async def test_private_target_without_flag_names_the_flag(site: FixtureSite, tmp_path: Path) -> None:
    site.pages.update(tree_site(2))
    code, out = await run_cli("crawl", site.url("/docs/"), "-q", cwd=tmp_path)
    assert code == 1
    assert "--allow-private-network" in out
    assert site.requests.total() == 0


async def test_bad_arguments_exit_2(tmp_path: Path) -> None:
    code, out = await run_cli("crawl", "ftp://example.com/", cwd=tmp_path)
    assert code == 2 and "only http and https" in out
    code, out = await run_cli("crawl", "https://example.com/", "--max-pages", "0", cwd=tmp_path)
    assert code == 2 and "greater than 0" in out
