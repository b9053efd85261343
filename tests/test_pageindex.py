"""The CLI's outputs written from the on-disk page index (docspasta/pageindex.py): the
same bytes as the in-memory writers, and memory that does not grow with the job."""

from __future__ import annotations

import random
import re
import tracemalloc
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest

from docspasta import bundle, pageindex
from docspasta.llmstxt import llms_full_head, llms_full_section, llms_txt
from docspasta.outputs import Outputs, PageTargets, write_pages
from docspasta.urls import normalize

BASE = "https://d.example/docs/"


def _pages(n: int, *, seed: int = 1) -> list[bundle.PageDoc]:
    """Pages with the shapes the contents tree and the links care about: nested
    directories, index files, queries (two URLs on one path), another host, the start
    page twice under one key, and links to headings, API entries and unknown fragments."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        kind = i % 11
        if kind == 3:
            url = f"{BASE}sec-{i % 5}/index.html"
        elif kind == 5:
            url = f"{BASE}sec-{i % 5}/p-{i % 7}.html?lang=en"
        elif kind == 7:
            url = f"https://other.example/x/{i}.html"
        elif kind == 9:
            url = BASE if i % 2 else f"{BASE}index.html"
        else:
            url = f"{BASE}sec-{i % 5}/sub-{i % 3}/p-{i % 7}-{i}.html"
        lines = [f"# Title {i}", ""]
        for h in range(rng.randrange(4)):
            j = rng.randrange(n)
            target = f"{BASE}sec-{j % 5}/sub-{j % 3}/p-{j % 7}-{j}.html#part-{rng.randrange(2)}-x{j % 3}"
            lines += [f"## Part {h} x{i % 3}", "", f"**`mod.Cls.m{h}(x)`** see [a]({target}) "
                      f"[b]({BASE}sec-{rng.randrange(5)}/index.html) [c]({BASE}#nowhere) [d](https://e.example/#x)", ""]
        lines += ["```", "# not a heading", "```"]
        out.append(bundle.PageDoc(url=url, title=f"T {i}" if i % 13 else "", markdown="\n".join(lines),
                                  word_count=i, token_estimate=rng.randrange(500), depth=i % 4,
                                  description="about " * (i % 9)))
    return out


async def _stream(pages: list[bundle.PageDoc]) -> AsyncIterator[bundle.PageDoc]:
    for page in pages:
        yield page


async def _write(tmp_path: Path, pages: list[bundle.PageDoc], **targets: object) -> Path:
    out = tmp_path / "out"
    out.mkdir(parents=True, exist_ok=True)
    outputs = Outputs()
    await write_pages(PageTargets(output=out / "docs.md", llms=out / "llms", **targets),  # type: ignore[arg-type]
                      _stream(pages), outputs, source_url=BASE, notes=["a note"])
    outputs.commit()
    return out


@pytest.mark.parametrize("cache", [pageindex.LOOKUP_CACHE, 16])
async def test_the_streamed_document_is_the_in_memory_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          cache: int) -> None:
    # With a cache smaller than the contents tree, nodes past it are looked up in the
    # index (while every node is cached, a node not in the cache is known to be new).
    monkeypatch.setattr(pageindex, "LOOKUP_CACHE", cache)
    # One page per key (the in-memory writer lists a key's every page in its counts).
    pages = list({bundle._key(p.url): p for p in _pages(400)}.values())
    out = await _write(tmp_path, pages)
    streamed = (out / "docs.md").read_text(encoding="utf-8")
    # The in-memory writer (CombinedWriter, the whole index in a Bundle), same pages.
    expected = bundle.combined_document(pages, source_url=BASE, day=date.today())
    expected = expected.replace("\n## Contents\n", "\n> **Note:** a note\n\n## Contents\n", 1)
    assert streamed == expected
    # It has what the comparison is about: fragment anchors, directories, lone pages.
    assert re.search(r'<a id="page-\d+-part-\d-x\d"></a>', streamed)
    assert "/ · " in streamed and "](#nowhere)" not in streamed


async def test_the_streamed_document_is_the_planned_one_without_a_cap(tmp_path: Path) -> None:
    pages = _pages(300, seed=2)  # one key twice too: the page listed once, both sections written
    whole = (await _write(tmp_path / "a", pages)).joinpath("docs.md").read_text(encoding="utf-8")
    capped = (await _write(tmp_path / "b", pages, max_tokens=10**9)).joinpath("docs.md").read_text(encoding="utf-8")
    assert whole == capped
    assert "- Pages: 300" not in whole and whole.count("\n## T 20\n") == 1


async def test_llms_files_from_the_index(tmp_path: Path) -> None:
    pages = _pages(250, seed=3)
    out = await _write(tmp_path, pages)
    assert (out / "llms" / "llms.txt").read_text(encoding="utf-8") == llms_txt(pages, source_url=BASE)
    index = [bundle.index_entry(p) for p in pages]
    full = llms_full_head(pages, source_url=BASE) + "".join(
        llms_full_section(pages[i]) for i in bundle.document_order(index, source_url=BASE))
    assert (out / "llms" / "llms-full.txt").read_text(encoding="utf-8") == full


async def test_no_pages_writes_the_empty_document(tmp_path: Path) -> None:
    out = await _write(tmp_path, [])
    text = (out / "docs.md").read_text(encoding="utf-8")
    assert text.endswith("## Contents\n\n(no pages)\n") and "- Pages: 0" in text


async def _peak(tmp_path: Path, n: int) -> int:
    """Peak traced memory of writing ``n`` pages' outputs, above what was there before."""
    pages = _pages(n, seed=4)
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    await _write(tmp_path / str(n), pages, jsonl=tmp_path / f"{n}.jsonl")
    return tracemalloc.get_traced_memory()[1] - base


async def test_memory_does_not_grow_with_the_pages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Caches and read batches smaller than the test's page counts, so both runs fill them.
    monkeypatch.setattr(pageindex, "LOOKUP_CACHE", 64)
    monkeypatch.setattr(pageindex, "CACHE_KIB", 256)
    monkeypatch.setattr(pageindex, "_BATCH", 50)
    tracemalloc.start()
    try:
        # The URL normalisation cache (bounded, shared by the process) full before both
        # runs, traced, so what it evicts counts as freed.
        normalize.cache_clear()
        for i in range(normalize.cache_info().maxsize or 0):
            normalize(f"https://fill.example/{i}")
        small, large = await _peak(tmp_path, 300), await _peak(tmp_path, 2000)
    finally:
        tracemalloc.stop()
    # An index entry per page in memory (as before) was ~2 KB per page here: 3+ MiB more.
    assert large - small < 1 << 19, (small, large)


async def test_the_mirror_keeps_two_urls_with_one_file_name(tmp_path: Path) -> None:
    # Which names are taken is read from the directory being written, not kept in a set.
    pages = [bundle.PageDoc(url=f"{BASE}a.{ext}", title=ext, markdown=f"# {ext}\n") for ext in ("html", "htm")]
    out = await _write(tmp_path, pages, mirror=tmp_path / "mirror")
    files = sorted(p.relative_to(tmp_path / "mirror").as_posix() for p in (tmp_path / "mirror").rglob("*.md"))
    assert files[0] == "docs/a.md" and len(files) == 2 and files[1].startswith("docs/a_")
    assert {p.read_text(encoding="utf-8").split("\n")[2] for p in (tmp_path / "mirror").rglob("*.md")} == {"# html", "# htm"}
    assert (out / "docs.md").exists()
