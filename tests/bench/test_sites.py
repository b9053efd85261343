"""bench/sites/generate.py: the generated benchmark sites are what the crawl benchmark
assumes (exact page counts, every page reachable, no broken links, deterministic bytes,
the sizes each kind promises)."""

from __future__ import annotations

import hashlib
import posixpath
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench" / "sites"))
import generate  # noqa: E402

HREF = re.compile(r'href="([^"#]*)(?:#[^"]*)?"')


def pages(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text() for p in root.rglob("*.html")}


def internal_links(path: str, html: str) -> set[str]:
    out = set()
    for href in HREF.findall(html):
        if href and not href.startswith(("http:", "https:")) and href.endswith(".html"):
            out.add(posixpath.normpath(posixpath.join(posixpath.dirname(path), href)))
    return out


def crawl(site: dict[str, str]) -> dict[str, int]:
    depth = {"index.html": 0}
    queue = ["index.html"]
    for path in queue:
        for link in internal_links(path, site[path]):
            assert link in site, f"{path} links to a missing page {link}"
            if link not in depth:
                depth[link] = depth[path] + 1
                queue.append(link)
    return depth


@pytest.mark.parametrize(("kind", "n"), [("sphinx", 400), ("heavy", 45), ("small", 140)])
def test_exact_count_reachable_no_broken_links_deterministic(kind: str, n: int, tmp_path: Path) -> None:
    assert generate.KINDS[kind](n, tmp_path / "a") == n
    generate.KINDS[kind](n, tmp_path / "b")
    site = pages(tmp_path / "a")
    assert len(site) == n
    depth = crawl(site)
    assert len(depth) == n and max(depth.values()) <= 6
    digest = {name: hashlib.sha256(p.read_bytes()).hexdigest() for name, p in
              ((p.relative_to(tmp_path / "b").as_posix(), p) for p in (tmp_path / "b").rglob("*.html"))}
    assert digest == {name: hashlib.sha256(text.encode()).hexdigest() for name, text in site.items()}


def sidebar_links(html: str) -> int:
    start = html.index('class="sphinxsidebarwrapper"')
    return html[start:html.index('id="searchbox"', start)].count("href=")


def test_sphinx_sidebar_is_bounded_not_sqrt_n(tmp_path: Path) -> None:
    # The local toctree: top-level sections, siblings, children; it must not grow with N
    # the way a sqrt(N) x sqrt(N) layout's does (more than 3 fan-outs would mean it does).
    # 1,100 pages: three levels below the index (1 + 32 + 1024 < 1100).
    generate.generate(1100, tmp_path)
    counts = [sidebar_links(html) for html in pages(tmp_path).values()]
    assert max(counts) <= 3 * generate.FANOUT + 1


def test_heavy_pages_are_long_reference_pages(tmp_path: Path) -> None:
    generate.generate_heavy(45, tmp_path)
    api = [text for name, text in pages(tmp_path).items() if "/mod_" in name]
    assert len(api) == 43
    for text in api:
        assert len(re.findall(r"href=", text)) >= 200
        assert text.count('<dl class="py ') >= 15 and text.count("<table") >= 1 and text.count("<pre>") >= 3


def test_small_pages_are_short_docbook_chunks(tmp_path: Path) -> None:
    generate.generate_small(140, tmp_path)
    site = pages(tmp_path)
    sections = [text for name, text in site.items() if re.fullmatch(r"ch\d+s\d+\.html", name)]
    assert len(sections) > 100
    for text in sections:
        assert 'class="navheader"' in text and 'class="navfooter"' in text and 'accesskey="u"' in text
        assert len(text) < 8000
