"""Generated pages written straight into a processor page store (no crawl): nested
paths whose crawl order differs from the contents' order, headings, code, links
between pages (some to a heading's fragment). For the download tests and the
download memory bench (bench/downloads)."""

from __future__ import annotations

import hashlib
import random
import sqlite3
from collections.abc import Iterator

from processor.store import open_store
from processor.store.base import StoredPage

SECTIONS = ("guide", "api", "howto", "reference/core", "reference/extra")


def page_url(base: str, i: int) -> str:
    if i == 0:
        return f"{base}/docs/"
    section = SECTIONS[i % len(SECTIONS)]
    return f"{base}/docs/{section}/page-{i // len(SECTIONS)}.html"


def page(job_id: str, base: str, i: int, n: int, *, order: int | None = None, paragraphs: int = 6) -> StoredPage:
    rng = random.Random(i)
    title = f"Page {i} of {SECTIONS[i % len(SECTIONS)]}"
    parts = [f"# {title}", "", f"Intro of page {i}. See [the next]({page_url(base, (i + 1) % n)}) and "
             f"[a heading]({page_url(base, (i * 7) % n)}#usage-{(i * 7) % n})."]
    for p in range(paragraphs):
        parts += ["", f"## Section {p}" if p else f"## Usage {i}", ""]
        parts.append(" ".join(rng.choice(("widget", "gadget", "frobnicate", "the", "a", "of", "config"))
                              for _ in range(120)))
        if p % 2:
            parts += ["", "```python", f"def f_{i}_{p}(x):", "    return x * 2", "```"]
    markdown = "\n".join(parts) + "\n"
    words = len(markdown.split())
    return StoredPage(job_id=job_id, url=page_url(base, i), order=order if order is not None else i + 1, depth=1,
                      title=title, markdown=markdown, word_count=words, token_estimate=words * 4 // 3,
                      description=f"What page {i} explains.", content_hash=hashlib.sha256(markdown.encode()).hexdigest())


def pages(job_id: str, base: str, n: int, **kw: int) -> Iterator[StoredPage]:
    for i in range(n):
        yield page(job_id, base, i, n, **kw)


async def fill_sqlite(path: str, job_id: str, base: str, n: int, *, extra: list[StoredPage] | None = None) -> None:
    """Creates the store's schema (its own migrations), then inserts ``n`` pages in one
    transaction (the store's put() commits each page: minutes for 20k)."""
    store = open_store(f"sqlite:///{path}")
    await store.open()
    await store.close()
    columns = ("job_id, url, ord, depth, title, markdown, word_count, token_estimate, description, content_hash")
    with sqlite3.connect(path) as db:
        db.executemany(f"INSERT INTO pages ({columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       ((p.job_id, p.url, p.order, p.depth, p.title, p.markdown, p.word_count, p.token_estimate,
                         p.description, p.content_hash) for p in [*pages(job_id, base, n), *(extra or [])]))
    db.close()
