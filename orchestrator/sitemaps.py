"""The sitemap step: page URLs from a host's sitemaps (robots.txt ``Sitemap:`` lines
and ``/sitemap.xml``), following nested sitemap indexes and gzip files.

Parsing is lxml ``iterparse`` with entity expansion, DTD loading and network access
off, so a hostile sitemap cannot expand or reach out. It runs in a thread, never on the
event loop that serves every job's stream, and incrementally: it stops at a limit on
entries *examined* (``<url>``/``<sitemap>`` elements, with or without a ``<loc>``: 3M
empty ``<url/>`` never reach a URL cap) and on time. Everything is bounded: bytes per
document (after gunzip), entries and seconds per document, documents per job, index
nesting, URLs per job. The URLs found go through the same admission steps as links
(scope, traps, robots...)."""

from __future__ import annotations

import asyncio
import io
import logging
import time
import zlib
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass

import lxml.etree

from docspasta.v1 import crawler_pb2

log = logging.getLogger(__name__)

MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # the sitemaps.org limit, uncompressed
MAX_DOCUMENTS = 100
MAX_NESTING = 3
MAX_URLS = 100_000
# The sitemaps.org limit per file is 50,000 URLs: no honest sitemap needs more entries.
MAX_ENTRIES = 50_000
MAX_PARSE_SECONDS = 10.0
_CLOCK_EVERY = 1024  # entries between looks at the clock

Fetch = Callable[[str], Awaitable[crawler_pb2.CrawlResponse]]
Seed = Callable[[str, list[str]], None]


class SitemapError(ValueError):
    pass


def _gunzip(data: bytes, limit: int) -> bytes:
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = inflater.decompress(data, limit + 1)
    if len(out) > limit:
        raise SitemapError(f"larger than {limit} bytes once decompressed")
    return out


def body_bytes(text: str, limit: int = MAX_SITEMAP_BYTES) -> bytes:
    """The document's bytes from the crawler's decoded text, gunzipped when it is a raw
    gzip file. A raw gzip body survives the crawler's decoding only when it was
    decoded as a single-byte charset; otherwise it is reported as unreadable."""
    if text.startswith("\x1f\x8b"):
        try:
            raw = text.encode("latin-1")
        except UnicodeEncodeError:
            raise SitemapError("a gzip sitemap arrived as text the crawler could not keep byte for byte") from None
        try:
            return _gunzip(raw, limit)
        except zlib.error as exc:
            raise SitemapError(f"bad gzip data: {exc}") from None
    data = text.encode("utf-8")
    if len(data) > limit:
        raise SitemapError(f"larger than {limit} bytes")
    return data


def parse(data: bytes, *, max_urls: int = MAX_URLS, max_entries: int = MAX_ENTRIES,
          max_seconds: float = MAX_PARSE_SECONDS) -> tuple[str, list[str]]:
    """(kind, locations): kind is "index" (locations are sitemaps) or "urlset" (pages).
    A plain-text sitemap (one URL per line) is a urlset. CPU-bound: call it in a
    thread (``parse_in_thread``)."""
    locations: list[str] = []
    stripped = data[:4096].lstrip()
    if not stripped.startswith(b"<"):
        for n, raw in enumerate(io.BytesIO(data)):
            if n >= max_entries or len(locations) >= max_urls:
                break
            line = raw.strip().decode("utf-8", "replace")
            if line.startswith(("http://", "https://")):
                locations.append(line)
        return "urlset", locations
    kind = ""
    entries = 0
    deadline = time.monotonic() + max_seconds
    try:
        for event, element in _iterparse(data):
            name = lxml.etree.QName(element).localname if isinstance(element.tag, str) else ""
            if event == "start":
                if not kind:
                    if name == "sitemapindex":
                        kind = "index"
                    elif name == "urlset":
                        kind = "urlset"
                    else:
                        raise SitemapError(f"not a sitemap: the root element is <{name}>")
                continue
            if name == "loc" and element.text and element.text.strip():
                locations.append(element.text.strip())
                if len(locations) >= max_urls:
                    break
            if name in ("url", "sitemap"):
                element.clear(keep_tail=False)
                # Siblings already seen go too, so the tree under the root stays small.
                parent = element.getparent()
                if parent is not None:
                    while element.getprevious() is not None:
                        del parent[0]
                entries += 1
                if entries >= max_entries:
                    log.info("sitemap cut at the entry limit", extra={"entries": entries})
                    break
                if entries % _CLOCK_EVERY == 0 and time.monotonic() > deadline:
                    log.info("sitemap cut at the time limit", extra={"entries": entries, "seconds": max_seconds})
                    break
    except lxml.etree.XMLSyntaxError as exc:
        if not locations:
            raise SitemapError(f"not well-formed XML: {exc}") from None
        log.info("sitemap cut short", extra={"reason": str(exc)})
    return kind or "urlset", locations


def _iterparse(data: bytes) -> Iterator[tuple[str, lxml.etree._Element]]:
    return lxml.etree.iterparse(  # type: ignore[no-any-return]
        io.BytesIO(data), events=("start", "end"), resolve_entities=False, no_network=True, load_dtd=False,
        dtd_validation=False, huge_tree=False, remove_comments=True, remove_pis=True)


async def parse_in_thread(response: crawler_pb2.CrawlResponse, *, max_urls: int, max_entries: int = MAX_ENTRIES,
                          max_seconds: float = MAX_PARSE_SECONDS) -> tuple[str, list[str]]:
    """``parse(body_bytes(response.html))`` off the event loop (the decoding and the
    encoding of an 18 MB document too)."""
    def work() -> tuple[str, list[str]]:
        return parse(body_bytes(response.html), max_urls=max_urls, max_entries=max_entries, max_seconds=max_seconds)
    return await asyncio.to_thread(work)


@dataclass(slots=True)
class SitemapStats:
    documents: int = 0
    urls: int = 0
    errors: int = 0


class SitemapReader:
    """Reads sitemaps breadth first and hands each document's page URLs to ``seed``.
    One reader per job: its bounds are per job."""

    def __init__(self, fetch: Fetch, seed: Seed, *, max_documents: int = MAX_DOCUMENTS,
                 max_urls: int = MAX_URLS) -> None:
        self._fetch = fetch
        self._seed = seed
        self._max_documents = max_documents
        self._max_urls = max_urls
        self._visited: set[str] = set()
        self.stats = SitemapStats()

    async def read(self, roots: list[str]) -> None:
        level = [u for u in dict.fromkeys(roots) if u not in self._visited]
        for _depth in range(MAX_NESTING + 1):
            children: list[str] = []
            for url in level:
                if url in self._visited or self.stats.documents >= self._max_documents:
                    continue
                if self.stats.urls >= self._max_urls:
                    return
                self._visited.add(url)
                self.stats.documents += 1
                children.extend(await self._read_one(url))
            level = children
            if not level:
                return

    async def _read_one(self, url: str) -> list[str]:
        response = await self._fetch(url)
        if response.error:
            self.stats.errors += 1
            log.info("sitemap not read", extra={"sitemap": url, "reason": response.error_message})
            return []
        try:
            kind, locations = await parse_in_thread(response, max_urls=self._max_urls - self.stats.urls)
        except SitemapError as exc:
            self.stats.errors += 1
            log.info("sitemap not read", extra={"sitemap": url, "reason": str(exc)})
            return []
        if kind == "index":
            return [loc for loc in locations if loc.startswith(("http://", "https://"))]
        self.stats.urls += len(locations)
        if locations:
            self._seed(url, locations)
        return []
