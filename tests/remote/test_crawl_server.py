"""``docspasta crawl URL --server BRIDGE``: a real subprocess against a real deployment
(crawler, processor, orchestrator, Redis and the bridge, on port 0). Its outputs are
byte for byte those of a local crawl of the same site; a cut event stream is resumed
with no gap; Ctrl-C leaves the job running and ``--resume`` re-attaches to it."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from urllib.parse import urlsplit

from docspasta.local import LocalStack
from tests.bridge.conftest import BridgeFactory
from tests.cli_support import interrupt_when, kill_session, run_cli, start_cli, wait_gone
from tests.support.cutting_proxy import CuttingProxy
from tests.support.site import FixtureSite, page, tree_site
from tests.test_cli import docs_tree

API_KEY = "remote-cli-key-8c41d2e9"
# One page at a time: crawl order (the JSONL's order, the contents' sibling order) is then
# the same on every run, local or remote; with more, two local crawls may differ too.
SAME_ORDER = ("--concurrency", "1", "--no-sitemaps")
OUTPUTS = ("-o", "all.md", "--jsonl", "pages.jsonl", "--dir", "mirror", "--llms", "llms")


def files_of(root: Path) -> dict[str, bytes]:
    """Every output file under ``root`` (the --events / --stats files aside): path -> bytes."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.name not in ("events.jsonl", "stats.json")}


def events_of(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


async def crawl_locally(site: FixtureSite, where: Path, *extra: str) -> dict[str, bytes]:
    where.mkdir()
    ran = await run_cli("crawl", site.url("/docs/"), "--allow-private-network", "-q", *SAME_ORDER, *extra,
                        cwd=where, timeout=300)
    assert ran.code == 0, ran.both
    return files_of(where)


async def test_remote_outputs_are_byte_identical_to_a_local_crawl(stack: LocalStack, site: FixtureSite,
                                                                  make_bridge: BridgeFactory,
                                                                  tmp_path: Path) -> None:
    docs_tree(site)
    # A page far larger than a stream's buffer (one JSON line of /pages is its whole Markdown).
    site.pages["/docs/"] = site.pages["/docs/"].replace("<ul>", '<ul><li><a href="/docs/big.html">Big</a></li>', 1)
    site.pages["/docs/big.html"] = page("Big", " ".join(f"Sentence number {i} of the big page é." for i in range(20000)))
    base = await make_bridge(stack, api_keys=(API_KEY,))
    local = await crawl_locally(site, tmp_path / "local", *OUTPUTS, "--stats", "stats.json")
    remote = tmp_path / "remote"
    remote.mkdir()
    refused = await run_cli("crawl", site.url("/docs/"), "--server", base, "--api-key", "wrong", "-o", "all.md",
                            cwd=remote)
    assert refused.code == 2 and "refused the API key" in refused.err, refused.both
    assert not list(remote.iterdir()), "a refused crawl wrote something"
    ran = await run_cli("crawl", site.url("/docs/"), "--server", base, *SAME_ORDER, *OUTPUTS,
                        "--events", "events.jsonl", "--stats", "stats.json", cwd=remote, timeout=300,
                        env={"DOCSPASTA_API_KEY": API_KEY})
    assert ran.code == 0, ran.both
    assert "completed: 8 pages, 0 failed" in ran.err
    assert max(len(line) for line in (remote / "pages.jsonl").read_bytes().splitlines()) > 512 * 1024
    assert "wrote all.md" in ran.err and "wrote mirror/" in ran.err
    got = files_of(remote)
    assert sorted(got) == sorted(local) and len(local) >= 10, sorted(got)
    for name, data in local.items():
        assert got[name] == data, f"{name} differs from the local crawl's"
    # The same summary, and the events the bridge streamed, complete and in order.
    local_stats = json.loads((tmp_path / "local" / "stats.json").read_text())
    stats = json.loads((remote / "stats.json").read_text())
    for key in ("state", "pages", "failed", "tokens", "document_tokens", "bytes", "parts"):
        assert stats[key] == local_stats[key], key
    events = events_of(remote / "events.jsonl")
    assert [e["sequence"] for e in events] == list(range(1, len(events) + 1))
    assert events[0]["type"] == "stream_connected" and events[-1]["type"] == "job_completed"
    records = Path(os.environ["DOCSPASTA_STATE_DIR"]) / "remote"
    assert not list(records.glob("*.json")), "the re-attach record was left behind"


async def test_a_cut_event_stream_is_resumed_with_no_gap(stack: LocalStack, site: FixtureSite,
                                                         make_bridge: BridgeFactory, tmp_path: Path) -> None:
    site.pages.update(tree_site(40))
    site.delay = 0.02
    base = await make_bridge(stack)
    port = urlsplit(base).port
    assert port is not None
    local = await crawl_locally(site, tmp_path / "local", "-o", "all.md", "--jsonl", "pages.jsonl",
                                "--split-tokens", "500")
    # The first three event connections are cut (a reset, mid-event) after these many bytes.
    proxy = CuttingProxy(upstream=f"127.0.0.1:{port}", budgets=[900, 2500, 5200], per_request=b"/events")
    proxied = "http://" + await proxy.start()
    remote = tmp_path / "remote"
    remote.mkdir()
    try:
        ran = await run_cli("crawl", site.url("/docs/"), "--server", proxied, *SAME_ORDER, "-o", "all.md",
                            "--jsonl", "pages.jsonl", "--split-tokens", "500", "--events", "events.jsonl",
                            cwd=remote, timeout=300)
    finally:
        await proxy.stop()
    assert ran.code == 0, ran.both
    assert proxy.cuts == 3 and proxy.streams >= 4, (proxy.cuts, proxy.streams)
    events = events_of(remote / "events.jsonl")
    assert [e["sequence"] for e in events] == list(range(1, len(events) + 1)), "gap or repeat after a reconnect"
    assert sum(e["type"] in ("job_completed", "job_failed", "job_timeout", "job_cancelled") for e in events) == 1
    assert sum(e["type"] == "url_processed" for e in events) == 40
    got = files_of(remote)
    assert sorted(got) == sorted(local) and len(local) > 2, sorted(got)  # the document came in parts
    for name, data in local.items():
        assert got[name] == data, f"{name} differs from the local crawl's"


async def test_ctrl_c_leaves_the_job_running_and_resume_reattaches(stack: LocalStack, site: FixtureSite,
                                                                   make_bridge: BridgeFactory,
                                                                   tmp_path: Path) -> None:
    site.pages.update(tree_site(60))
    site.delay = 0.05
    base = await make_bridge(stack)
    local = await crawl_locally(site, tmp_path / "local", "-o", "all.md", "--jsonl", "pages.jsonl")
    for key in list(site.requests):
        site.requests[key] = 0
    remote = tmp_path / "remote"
    remote.mkdir()
    (remote / "all.md").write_text("an earlier result\n")
    args = ["crawl", site.url("/docs/"), "--server", base, *SAME_ORDER, "-o", "all.md", "--jsonl", "pages.jsonl"]
    proc = await start_cli(*args, cwd=remote)
    try:
        code, text = await interrupt_when(proc, lambda: sum(site.requests.values()) >= 10)
        assert code == 130, text
        assert await wait_gone(proc.pid) == []
    finally:
        kill_session(proc.pid)
    assert "keeps running" in text and "--resume" in text, text
    assert (remote / "all.md").read_text() == "an earlier result\n", "Ctrl-C replaced the earlier output"
    assert not (remote / "pages.jsonl").exists()
    # The job went on without the command: more pages were fetched after it left.
    fetched = sum(site.requests.values())
    async with asyncio.timeout(180):
        while sum(site.requests.values()) <= fetched:
            await asyncio.sleep(0.05)
    ran = await run_cli(*args, "--resume", cwd=remote, timeout=300)
    assert ran.code == 0, ran.both
    assert "re-attached to job" in ran.err
    got = files_of(remote)
    for name, data in local.items():
        assert got[name] == data, f"{name} differs from the local crawl's"
    # Every page was fetched once: re-attaching started no second crawl.
    assert max(n for p, n in site.requests.items() if p.startswith("/docs/page-")) == 1


async def test_options_that_make_no_sense_remotely_are_refused(make_bridge: BridgeFactory, tmp_path: Path) -> None:
    cases = [
        (["--server", "ftp://bridge.example"], "--server 'ftp://bridge.example': a bridge URL"),
        (["--server", "https://bridge.example/?x=1"], "without ?query"),
        (["--server", "https://user:pw@bridge.example"], "no credentials in the URL"),
        (["--api-key", "k"], "--api-key: only with --server"),
        (["--cancel"], "--cancel: only with --server"),
        (["--server", "https://bridge.example", "--allow-private-network"], "--allow-private-network: with --server"),
        (["--server", "https://bridge.example", "--api-key", " "], "--api-key: empty"),
        (["--server", "https://bridge.example", "--max-pages", "0"], "--max-pages"),
    ]
    for extra, message in cases:
        ran = await run_cli("crawl", "https://docs.example.com/", *extra, cwd=tmp_path)
        assert ran.code == 2 and message in ran.err, (extra, ran.err)
    unreachable = await run_cli("crawl", "https://docs.example.com/", "--server", "http://127.0.0.1:9", "-o", "x.md",
                                cwd=tmp_path, timeout=120)
    assert unreachable.code == 1 and "cannot reach http://127.0.0.1:9" in unreachable.err, unreachable.err
    assert not (tmp_path / "x.md").exists()
    # The server's own limits: its refusal names the option.
    small = await make_bridge(limit_max_pages=3)
    refused = await run_cli("crawl", "https://docs.example.com/", "--server", small, "--max-pages", "50",
                            "-o", "x.md", cwd=tmp_path)
    assert refused.code == 2 and "--max-pages: must be at most 3" in refused.err, refused.err
    assert not (tmp_path / "x.md").exists()


async def test_a_server_lost_for_good_is_reattached_with_resume(stack: LocalStack, site: FixtureSite,
                                                                make_bridge: BridgeFactory, tmp_path: Path) -> None:
    site.pages.update(tree_site(30))
    site.delay = 0.03
    base = await make_bridge(stack)
    port = urlsplit(base).port
    assert port is not None
    # The start page by its index name: the server keeps it as the CLI does (the source of the outputs).
    start = site.url("/docs/index.html")
    local = tmp_path / "local"
    local.mkdir()
    ran = await run_cli("crawl", start, "--allow-private-network", "-q", *SAME_ORDER, "-o", "all.md",
                        "--jsonl", "pages.jsonl", "--llms", "llms", cwd=local, timeout=300)
    assert ran.code == 0, ran.both
    expected = files_of(local)
    # Some events, then the server is gone: connections are cut, then refused.
    proxy = CuttingProxy(upstream=f"127.0.0.1:{port}", budgets=[2500] + [1] * 50, per_request=b"/events")
    proxied = "http://" + await proxy.start()
    proxy_port = urlsplit(proxied).port
    assert proxy_port is not None
    remote = tmp_path / "remote"
    remote.mkdir()
    args = ["crawl", start, "--server", proxied, "-q", *SAME_ORDER, "-o", "all.md",
            "--jsonl", "pages.jsonl", "--llms", "llms", "--events", "events.jsonl"]
    command = asyncio.create_task(run_cli(*args, cwd=remote, timeout=300))
    async with asyncio.timeout(120):
        while not proxy.cuts:
            await asyncio.sleep(0.01)
    await proxy.stop()
    lost = await command
    assert lost.code == 1, lost.both
    assert f"cannot reach {proxied}" in lost.err and "--resume" in lost.err, lost.err
    assert not (remote / "all.md").exists() and not (remote / "events.jsonl").exists()
    # The server is back at the same address (its first two event connections still fail).
    again = CuttingProxy(upstream=f"127.0.0.1:{port}", budgets=[1, 1], per_request=b"/events")
    await again.start(proxy_port)
    try:
        ran = await run_cli(*args, "--resume", cwd=remote, timeout=300)
    finally:
        await again.stop()
    assert ran.code == 0, ran.both
    assert "re-attached to job" in ran.err
    events = events_of(remote / "events.jsonl")
    assert [e["sequence"] for e in events] == list(range(1, len(events) + 1))
    assert events[-1]["type"] == "job_completed"
    got = files_of(remote)
    assert sorted(got) == sorted(expected)
    for name, data in expected.items():
        assert got[name] == data, f"{name} differs from the local crawl's"


async def test_cancel_stops_the_detached_job_and_writes_what_it_fetched(stack: LocalStack, site: FixtureSite,
                                                                         make_bridge: BridgeFactory,
                                                                         tmp_path: Path) -> None:
    site.pages.update(tree_site(300, fanout=8))
    site.delay = 0.05
    base = await make_bridge(stack)
    args = ["crawl", site.url("/docs/"), "--server", base, "-q", *SAME_ORDER, "-o", "all.md",
            "--jsonl", "pages.jsonl", "--stats", "stats.json"]
    nothing = await run_cli(*args, "--cancel", cwd=tmp_path)
    assert nothing.code == 2 and "--cancel: this command has no job" in nothing.err, nothing.both
    proc = await start_cli(*args, cwd=tmp_path)
    try:
        code, err = await interrupt_when(proc, lambda: sum(site.requests.values()) >= 10)
        assert code == 130 and "--cancel" in err, err
    finally:
        kill_session(proc.pid)
    ran = await run_cli(*args, "--cancel", cwd=tmp_path, timeout=300)
    assert ran.code == 0, ran.both
    assert "cancelled job" in ran.err and "cancelled:" in ran.err, ran.err
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert stats["state"] == "cancelled" and stats["partial"] and 0 < stats["pages"] < 300, stats
    assert len((tmp_path / "pages.jsonl").read_text().splitlines()) == stats["pages"]
    assert "partial crawl: the job was cancelled" in (tmp_path / "all.md").read_text()
    # The job is over and its outputs are written: nothing is left to cancel or re-attach to.
    again = await run_cli(*args, "--cancel", cwd=tmp_path)
    assert again.code == 2 and "no job" in again.err
