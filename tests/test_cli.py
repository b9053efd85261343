"""`docspasta crawl` as a user runs it: a subprocess against the local fixture site."""

from __future__ import annotations

import json
import re
import socket
from datetime import date
from pathlib import Path

from tests.cli_support import run_cli
from tests.support.site import FixtureSite, page, tree_site

TODAY = date.today().isoformat()


def docs_tree(site: FixtureSite) -> None:
    """/docs/ with a guide/ and a tutorial/ (with adv/) directory and an API page whose
    entries other pages link to by fragment."""
    links = ["/docs/", "/docs/guide/a.html", "/docs/guide/b.html#usage", "/docs/tutorial/",
             "/docs/tutorial/t1.html", "/docs/tutorial/adv/x.html", "/docs/api.html#pkg.Thing.run"]
    for path, title in [("/docs/", "Home"), ("/docs/guide/a.html", "Guide A"), ("/docs/guide/b.html", "Guide B"),
                        ("/docs/tutorial/", "Tutorial"), ("/docs/tutorial/t1.html", "Step one"),
                        ("/docs/tutorial/adv/x.html", "Advanced")]:
        site.pages[path] = page(title, f"Words about {title}.", links).replace(
            "</main>", f"<h2>Usage</h2><p>How to use {title}.</p><h4>Details</h4><p>More.</p></main>")
    site.pages["/docs/api.html"] = page("API", "The API.", links).replace(
        "</main>", '<dl><dt id="pkg.Thing.run"><code>pkg.Thing.run(x)</code></dt><dd>Runs.</dd></dl></main>')


async def test_crawl_writes_every_output(site: FixtureSite, tmp_path: Path) -> None:
    docs_tree(site)
    ran = await run_cli("crawl", site.url("/docs/"), "--allow-private-network", "-q", "-o", "all.md",
                        "--jsonl", "pages.jsonl", "--events", "events.jsonl", "--dir", "mirror",
                        "--llms", "llms", "--stats", "stats.json", cwd=tmp_path)
    assert ran.code == 0, ran.both
    assert "completed: 7 pages, 0 failed" in ran.err
    records = [json.loads(line) for line in (tmp_path / "pages.jsonl").read_text().splitlines()]
    assert len(records) == 7 and records[0]["url"] == site.url("/docs/")
    assert {"url", "title", "markdown", "token_estimate"} <= set(records[0])
    events = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert [e["sequence"] for e in events] == list(range(1, len(events) + 1))
    assert events[0]["type"] == "stream_connected" and events[-1]["type"] == "job_completed"
    combined = (tmp_path / "all.md").read_text()
    assert "- Pages: 7" in combined and "## Contents" in combined
    # The contents nest by path, with each page's tokens.
    tokens = {r["title"]: r["token_estimate"] for r in records}
    assert f"- [Home](#page-1) · {tokens['Home']:,} tokens" in combined
    assert re.search(r"^  - guide/ · 2 pages, [\d,]+ tokens$", combined, re.M)
    assert f"    - [Guide A](#page-2) · {tokens['Guide A']:,} tokens" in combined
    assert re.search(r"^  - \[Tutorial\]\(#page-\d\) · [\d,]+ tokens$", combined, re.M)
    assert re.search(r"^    - \[Advanced\]\(#page-\d\)", combined, re.M)
    # Links keep their fragment: they point at the heading or API entry's own anchor.
    assert "(#page-3-usage)" in combined and '<a id="page-3-usage"></a>' in combined
    api = re.search(r"\[[^]]*\]\((#page-\d-pkg\.thing\.run)\)", combined)
    assert api and f'<a id="{api.group(1)[1:]}"></a>' in combined
    assert f"]({site.url('/docs/guide/a.html')})" not in combined
    # Heading levels never jump: page h2 -> ###, the h4 under it -> ####.
    assert "### Usage" in combined and "#### Details" in combined and "##### Details" not in combined
    assert (tmp_path / "mirror" / "docs" / "index.md").exists()
    assert (tmp_path / "mirror" / "docs" / "tutorial" / "adv" / "x.md").exists()
    llms = (tmp_path / "llms" / "llms.txt").read_text()
    assert llms.startswith("# Home") and f"]({site.url('/docs/guide/a.html')})" in llms
    assert "Words about Advanced." in (tmp_path / "llms" / "llms-full.txt").read_text()
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert stats["pages"] == 7 and stats["state"] == "completed" and stats["failed"] == 0
    assert isinstance(stats["tokens"], int) and stats["tokens"] == sum(tokens.values())
    assert isinstance(stats["bytes"], int) and stats["bytes"] == len(combined.encode())
    assert isinstance(stats["elapsed_seconds"], float) and isinstance(stats["pages_per_second"], float)
    assert not [p for p in tmp_path.iterdir() if ".docspasta-" in p.name], "temporary files left behind"


async def test_bad_url_is_rejected_at_once_with_a_hint(tmp_path: Path) -> None:
    ran = await run_cli("crawl", "127.0.0.1:8001", cwd=tmp_path)
    assert ran.code == 2 and "add http:// or https://" in ran.err, ran.both
    assert "https://127.0.0.1:8001" in ran.err
    # Checked before any process starts or heavy module loads: CPU time, not wall time
    # (wall time on a loaded machine says nothing about the command).
    assert ran.cpu_seconds < 0.5, ran.cpu_seconds
    ran = await run_cli("crawl", "ftp://example.com/", cwd=tmp_path)
    assert ran.code == 2 and "only http and https" in ran.err
    assert list(tmp_path.iterdir()) == []


async def test_option_errors_name_the_option_and_the_limit(tmp_path: Path) -> None:
    ran = await run_cli("crawl", "https://example.com/", "--max-pages", "0", cwd=tmp_path)
    assert ran.code == 2 and "--max-pages: must be at least 1" in ran.err
    ran = await run_cli("crawl", "https://example.com/", "--max-pages", "1000000", cwd=tmp_path)
    assert ran.code == 2 and "at most 100000" in ran.err and "1e+06" not in ran.err
    ran = await run_cli("crawl", "https://example.com/", "--max-depth", "-1", cwd=tmp_path)
    assert ran.code == 2 and "--max-depth: must be at least 0" in ran.err
    ran = await run_cli("crawl", "https://example.com/", "--include", "+(a|aa)", cwd=tmp_path)
    assert ran.code == 2 and "--include: extended globs" in ran.err
    ran = await run_cli("crawl", "https://example.com/", "--split-tokens", "100", cwd=tmp_path)
    assert ran.code == 2 and "--split-tokens: must be at least 500" in ran.err
    ran = await run_cli("--version", cwd=tmp_path)
    assert ran.code == 0 and re.fullmatch(r"docspasta \d+\.\d+\.\d+\S*\n", ran.out)
    ran = await run_cli("crawl", "--help", cwd=tmp_path)
    assert "default 5000, at most 100000" in ran.out and "0 = the start page only" in ran.out


async def test_output_paths_are_checked_before_crawling(site: FixtureSite, tmp_path: Path) -> None:
    site.pages.update(tree_site(3))
    for args, message in [
        (["-o", "/nonexistent/dir/x.md"], "the directory /nonexistent/dir does not exist"),
        (["-o", str(tmp_path)], "is a directory"),
        (["--jsonl", "-"], "only -o can write to standard output"),
        (["-o", "same.md", "--jsonl", "same.md"], "name the same path"),
        (["-o", "-", "--split-tokens", "1000"], "give -o FILE"),
    ]:
        ran = await run_cli("crawl", site.url("/docs/"), "--allow-private-network", *args, cwd=tmp_path)
        assert ran.code == 2 and message in ran.err, (args, ran.both)
        assert "Traceback" not in ran.both
    assert site.requests.total() == 0


async def test_private_target_without_flag_names_the_flag(site: FixtureSite, tmp_path: Path) -> None:
    site.pages.update(tree_site(2))
    ran = await run_cli("crawl", site.url("/docs/"), "-q", cwd=tmp_path)
    assert ran.code == 2 and "--allow-private-network" in ran.err
    assert site.requests.total() == 0


async def test_a_failed_crawl_never_replaces_an_earlier_file(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/docs/"
    default = tmp_path / f"127.0.0.1_{port}-docs-{TODAY}.md"  # the port and path are in the name
    default.write_text("yesterday's good crawl\n")
    (tmp_path / "p.jsonl").write_text("old\n")
    ran = await run_cli("crawl", url, "--allow-private-network", "-q", "--jsonl", "p.jsonl", "--stats", "s.json",
                        cwd=tmp_path)
    assert ran.code == 1, ran.both
    assert default.read_text() == "yesterday's good crawl\n" and (tmp_path / "p.jsonl").read_text() == "old\n"
    assert "nothing written" in ran.err and "could not connect" in ran.err
    assert "ClientConnectorError" not in ran.err
    stats = json.loads((tmp_path / "s.json").read_text())
    assert stats["state"] == "failed" and stats["pages"] == 0 and stats["failed_by_reason"] == {"connect": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([default.name, "p.jsonl", "s.json"])


async def test_stdout_gets_the_document_and_stderr_the_progress(site: FixtureSite, tmp_path: Path) -> None:
    site.pages.update(tree_site(4))
    ran = await run_cli("crawl", site.url("/docs/"), "--allow-private-network", "-o", "-", cwd=tmp_path)
    assert ran.code == 0, ran.err
    assert ran.out.startswith("# 127.0.0.1 documentation\n") and "- Pages: 4" in ran.out
    assert "completed: 4 pages" in ran.err and "completed" not in ran.out
    # The progress display ends at its total.
    finals = re.findall(r"pages .*? (\d+)/(\d+) ", ran.err)
    assert finals and finals[-1][0] == finals[-1][1] == "4", ran.err
    assert list(tmp_path.iterdir()) == []


async def test_max_depth_zero_is_the_start_page_only(site: FixtureSite, tmp_path: Path) -> None:
    site.pages.update(tree_site(6))
    ran = await run_cli("crawl", site.url("/docs/"), "--allow-private-network", "-q", "--max-depth", "0",
                        "--stats", "s.json", cwd=tmp_path)
    assert ran.code == 0, ran.both
    stats = json.loads((tmp_path / "s.json").read_text())
    assert stats["pages"] == 1 and stats["skipped"]["max_depth"] == 5


async def test_globs_do_what_the_docs_show_and_warn_when_they_match_nothing(site: FixtureSite,
                                                                           tmp_path: Path) -> None:
    docs_tree(site)
    ran = await run_cli("crawl", site.url("/docs/"), "--allow-private-network", "-q", "--exclude", "*/tutorial/*",
                        "--exclude", "*/nothing-here/*", "--stats", "s.json", cwd=tmp_path)
    assert ran.code == 0, ran.both
    stats = json.loads((tmp_path / "s.json").read_text())
    assert stats["pages"] == 4 and stats["skipped"]["excluded"] == 3
    ran = await run_cli("crawl", site.url("/docs/"), "--allow-private-network", "-q", "--include", "*/tutorial/*",
                        "--include", "/nowhere/**", "--stats", "s.json", cwd=tmp_path)
    assert ran.code == 0, ran.both
    stats = json.loads((tmp_path / "s.json").read_text())
    assert stats["pages"] == 4  # the start page and the three tutorial pages, at any depth
    assert "warning: --include '/nowhere/**' matched no URL" in ran.err
    assert "'*/tutorial/*' matched no URL" not in ran.err
    ran = await run_cli("crawl", site.url("/docs/"), "--allow-private-network", "-q", "--exclude", "/other/**",
                        cwd=tmp_path)
    assert "warning: --exclude '/other/**' matched no URL" in ran.err


async def test_split_and_cap_by_tokens(site: FixtureSite, tmp_path: Path) -> None:
    from processor.tokens import token_estimate

    words = " ".join(f"word{i}" for i in range(300))
    site.pages.update({path: html.replace("about widgets.", f"about widgets. {words}")
                       for path, html in tree_site(12).items()})
    ran = await run_cli("crawl", site.url("/docs/"), "--allow-private-network", "-q", "-o", "d.md",
                        "--split-tokens", "1500", "--stats", "s.json", cwd=tmp_path)
    assert ran.code == 0, ran.both
    parts = sorted(tmp_path.glob("d.part-*.md"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
    assert len(parts) >= 3 and not (tmp_path / "d.md").exists()
    texts = [p.read_text() for p in parts]
    assert all(token_estimate(t) <= 1500 for t in texts), [token_estimate(t) for t in texts]
    sections = [t.count('\n<a id="page-') for t in texts]
    assert sum(sections) == 12  # every page once, none cut (each is smaller than a part)
    assert "(part 1 of" in texts[0] and f"next: [{parts[1].name}]({parts[1].name})" in texts[0]
    assert json.loads((tmp_path / "s.json").read_text())["parts"] == len(parts)
    # Run again with larger parts: fewer files, and none of the earlier run's extra parts stay.
    ran = await run_cli("crawl", site.url("/docs/"), "--allow-private-network", "-q", "-o", "d.md",
                        "--split-tokens", "5000", "--stats", "s.json", cwd=tmp_path)
    count = json.loads((tmp_path / "s.json").read_text())["parts"]
    assert ran.code == 0 and 1 < count < len(parts)
    assert len(list(tmp_path.glob("d.part-*.md"))) == count
    ran = await run_cli("crawl", site.url("/docs/"), "--allow-private-network", "-q", "-o", "cap.md",
                        "--max-tokens", "2000", "--stats", "s.json", cwd=tmp_path)
    assert ran.code == 0, ran.both
    capped = (tmp_path / "cap.md").read_text()
    assert token_estimate(capped) <= 2000
    stats = json.loads((tmp_path / "s.json").read_text())
    assert 0 < stats["pages_in_document"] < 12 and stats["pages_left_out"] == 12 - stats["pages_in_document"]
    assert "more pages are not included" in capped
