"""Ctrl-C in the middle of a real ``docspasta crawl``, then ``--resume``: the job
continues from its stores in the state directory, every page ends up once, and no page
finished before the interruption is fetched again."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path

from tests.cli_support import ctrl_c, kill_session, run_cli, start_cli, wait_gone
from tests.support.site import FixtureSite, tree_site

PAGES = 1000


def _events(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


async def test_interrupted_crawl_resumes_without_fetching_finished_pages(site: FixtureSite, tmp_path: Path) -> None:
    site.pages.update(tree_site(PAGES, fanout=8))
    site.delay = 0.01
    env = {"DOCSPASTA_STATE_DIR": str(tmp_path / "state")}
    args = ["crawl", site.url("/docs/"), "--allow-private-network", "-q", "--concurrency", "4", "--no-sitemaps",
            "-o", "out.md", "--jsonl", "pages.jsonl"]
    proc = await start_cli(*args, "--events", "first.jsonl", cwd=tmp_path, env=env)
    try:
        async with asyncio.timeout(180):
            while sum(n for p, n in site.requests.items() if p.startswith("/docs/")) < PAGES // 2:
                await asyncio.sleep(0.02)
        ctrl_c(proc)
        async with asyncio.timeout(120):
            _, err = await proc.communicate()
        assert proc.returncode == 130, err.decode()
        assert await wait_gone(proc.pid) == []
    finally:
        kill_session(proc.pid)
    assert "--resume" in err.decode()
    fetched_before = Counter(site.requests)
    first = _events(tmp_path / "first.jsonl")
    done_first = {e["url"] for e in first if e["type"] == "url_processed"}
    assert 0 < len(done_first) < PAGES
    assert not any(e["type"] in ("job_completed", "job_failed", "job_cancelled", "job_timeout") for e in first)
    # The outputs hold what is stored: every page the events said was processed.
    partial = {json.loads(line)["url"] for line in (tmp_path / "pages.jsonl").read_text().splitlines()}
    assert done_first <= partial

    ran = await run_cli(*args, "--events", "second.jsonl", "--resume", cwd=tmp_path, env=env, timeout=300)
    assert ran.code == 0, ran.err
    pages = [json.loads(line)["url"] for line in (tmp_path / "pages.jsonl").read_text().splitlines()]
    assert len(pages) == len(set(pages)) == PAGES
    # Pages done before Ctrl-C were not fetched again.
    base = site.url("")
    for url in done_first:
        path = str(url).removeprefix(base)
        assert site.requests[path] == fetched_before[path], path
    # The resumed run replays the whole job: gapless, one job_resumed, one terminal event.
    second = _events(tmp_path / "second.jsonl")
    assert [e["sequence"] for e in second] == list(range(1, len(second) + 1))
    assert [e["type"] for e in second].count("job_resumed") == 1 and second[-1]["type"] == "job_completed"
    assert second[:len(first)] == first
    processed = [e["url"] for e in second if e["type"] == "url_processed"]
    assert len(processed) == len(set(processed)) == PAGES
    # The crawl ended and its outputs are written: nothing is left to resume.
    assert list((tmp_path / "state" / "crawls").iterdir()) == []


async def test_resume_with_nothing_to_resume_starts_a_new_crawl(site: FixtureSite, tmp_path: Path) -> None:
    site.pages.update(tree_site(5))
    ran = await run_cli("crawl", site.url("/docs/"), "--allow-private-network", "-q", "-o", "out.md", "--resume",
                        "--state-dir", str(tmp_path / "st"), cwd=tmp_path)
    assert ran.code == 0, ran.err
    assert "nothing to resume" in ran.err
    assert (tmp_path / "out.md").read_text().count("Text of page number") == 5
