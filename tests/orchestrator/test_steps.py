"""Each crawl step on its own: traps, sitemaps, robots, politeness, frontier, dedup, retry."""

from __future__ import annotations

import asyncio
import gzip
import time

import grpc
import pytest

from docspasta.v1 import common_pb2, crawler_pb2
from orchestrator import robots, sitemaps
from docspasta.texthash import text_hash
from orchestrator.dedup import is_variant
from orchestrator.politeness import Politeness
from orchestrator.retry import is_retryable
from orchestrator.traps import TrapLimits, Traps, repeated_segments

H = common_pb2


def ok(text: str = "", seconds: float = 0.01) -> crawler_pb2.CrawlResponse:
    return crawler_pb2.CrawlResponse(status=200, html=text, fetch_seconds=seconds)


def err(category: int, status: int = 0, retry_after: float = 0.0) -> crawler_pb2.CrawlResponse:
    return crawler_pb2.CrawlResponse(error=category, status=status,  # type: ignore[arg-type]
                                     retry_after_seconds=retry_after, error_message="x")


# -- traps ---------------------------------------------------------------------

@pytest.mark.parametrize("path, trapped", [
    ("/docs/a/b/", False), ("/docs/a/b/a/b/", False), ("/docs/a/b/a/b/a/b/", True), ("/x/x/x/", True),
    ("/docs/api/api/", False), ("/a/b/c/a/b/c/a/b/c/", True), ("/a/1/a/2/a/3/a/4/a/5", True),
])
def test_repeated_segments(path: str, trapped: bool) -> None:
    assert repeated_segments(path) is trapped


def test_traps_length_and_query_variants() -> None:
    traps = Traps(TrapLimits(max_url_length=60, max_query_variants=2))
    assert traps.check("https://e.com/" + "a" * 60) is not None
    for month in ("01", "02"):
        key = f"https://e.com/cal?m={month}"
        assert traps.check(key) is None
        traps.admitted(key)
    assert "query-string variants" in (traps.check("https://e.com/cal?m=03") or "")
    assert traps.check("https://e.com/cal") is None  # the path itself is fine
    assert traps.check("https://e.com/other?m=03") is None


# -- sitemaps ------------------------------------------------------------------

URLSET = ('<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
          '<url><loc>https://e.com/a</loc></url><url><loc> https://e.com/b </loc></url></urlset>')


def test_sitemap_parse_urlset_index_and_text() -> None:
    assert sitemaps.parse(URLSET.encode()) == ("urlset", ["https://e.com/a", "https://e.com/b"])
    index = b"<sitemapindex><sitemap><loc>https://e.com/s1.xml</loc></sitemap></sitemapindex>"
    assert sitemaps.parse(index) == ("index", ["https://e.com/s1.xml"])
    assert sitemaps.parse(b"https://e.com/a\nnot a url\nhttps://e.com/b\n") == (
        "urlset", ["https://e.com/a", "https://e.com/b"])
    assert sitemaps.parse(URLSET.encode(), max_urls=1)[1] == ["https://e.com/a"]
    with pytest.raises(sitemaps.SitemapError):
        sitemaps.parse(b"<html><body>not a sitemap</body></html>")


def test_sitemap_entities_are_not_expanded() -> None:
    bomb = ('<?xml version="1.0"?><!DOCTYPE u [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
            '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]><urlset><url><loc>https://e.com/&c;</loc></url></urlset>')
    _, locations = sitemaps.parse(bomb.encode())
    assert all("aaaa" not in loc for loc in locations)
    external = ('<?xml version="1.0"?><!DOCTYPE u [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                '<urlset><url><loc>https://e.com/&x;</loc></url></urlset>')
    assert all("root" not in loc for loc in sitemaps.parse(external.encode())[1])


def test_sitemap_gzip_bytes_and_bounds() -> None:
    raw = gzip.compress(URLSET.encode()).decode("latin-1")  # a raw .gz decoded byte for byte
    assert sitemaps.parse(sitemaps.body_bytes(raw))[1] == ["https://e.com/a", "https://e.com/b"]
    with pytest.raises(sitemaps.SitemapError):
        sitemaps.body_bytes(gzip.compress(b"x" * 5000).decode("latin-1"), limit=1000)
    with pytest.raises(sitemaps.SitemapError, match="byte for byte"):
        sitemaps.body_bytes("\x1f\x8b\ufffd\ufffd")


async def test_sitemap_reader_follows_indexes_within_bounds() -> None:
    docs = {
        "https://e.com/index.xml": "<sitemapindex>" + "".join(
            f"<sitemap><loc>https://e.com/s{i}.xml</loc></sitemap>" for i in range(3)) + "</sitemapindex>",
        "https://e.com/s0.xml": URLSET,
        "https://e.com/s1.xml": "<sitemapindex><sitemap><loc>https://e.com/index.xml</loc></sitemap></sitemapindex>",
    }
    fetched: list[str] = []

    async def fetch(url: str) -> crawler_pb2.CrawlResponse:
        fetched.append(url)
        return ok(docs[url]) if url in docs else err(H.ERROR_CATEGORY_HTTP_4XX, 404)

    seeded: list[tuple[str, list[str]]] = []
    reader = sitemaps.SitemapReader(fetch, lambda source, urls: seeded.append((source, urls)), max_documents=10)
    await reader.read(["https://e.com/index.xml", "https://e.com/index.xml"])
    assert seeded == [("https://e.com/s0.xml", ["https://e.com/a", "https://e.com/b"])]
    assert fetched.count("https://e.com/index.xml") == 1  # a loop back to the index is not followed
    assert reader.stats.errors == 1  # s2.xml
    small = sitemaps.SitemapReader(fetch, lambda s, u: None, max_documents=2)
    await small.read(["https://e.com/index.xml"])
    assert small.stats.documents == 2


# -- robots --------------------------------------------------------------------

def test_robots_answers() -> None:
    rules = robots.from_response(ok("User-agent: *\nDisallow: /private/\nCrawl-delay: 2\n"
                                    "Sitemap: https://e.com/s.xml\nUser-agent: Docspasta\nDisallow: /no-bots/\n"))
    assert not rules.allowed("https://e.com/no-bots/x")
    assert rules.allowed("https://e.com/private/x")  # the Docspasta group replaces the * group
    assert rules.sitemaps == ["https://e.com/s.xml"]
    star = robots.from_response(ok("User-agent: *\nDisallow: /private/\nCrawl-delay: 2\n"))
    assert not star.allowed("https://e.com/private/x") and star.delay == 2.0
    assert robots.from_response(ok("User-agent: *\nRequest-rate: 1/5\n")).delay == 5.0
    assert robots.from_response(err(H.ERROR_CATEGORY_HTTP_4XX, 404)).allowed("https://e.com/x")
    assert robots.from_response(err(H.ERROR_CATEGORY_HTTP_4XX, 403)).allowed("https://e.com/x")
    assert not robots.from_response(err(H.ERROR_CATEGORY_HTTP_5XX, 503)).allowed("https://e.com/x")
    assert not robots.from_response(err(H.ERROR_CATEGORY_HTTP_4XX, 429)).allowed("https://e.com/x")
    assert robots.from_response(err(H.ERROR_CATEGORY_CONNECT)).allowed("https://e.com/x")


async def test_robots_fetched_once_per_origin() -> None:
    calls: list[str] = []

    async def fetch(url: str) -> crawler_pb2.CrawlResponse:
        calls.append(url)
        await asyncio.sleep(0.01)
        return ok("User-agent: *\nDisallow: /x\n")

    cache = robots.RobotsCache(fetch)
    results = await asyncio.gather(*(cache.get("https://e.com") for _ in range(5)), cache.get("https://f.com"))
    assert calls == ["https://e.com/robots.txt", "https://f.com/robots.txt"]
    assert not results[0].allowed("https://e.com/x")


# -- politeness ----------------------------------------------------------------

async def test_aimd_opens_up_and_backs_off() -> None:
    polite = Politeness(host_concurrency=8)
    host = polite.host("h")
    assert host.slots == 4
    for _ in range(40):
        async with polite.request("h") as ticket:
            ticket.done(ok(), 0.01)
    assert host.slots == 8  # opened up to the cap
    async with polite.request("h") as ticket:
        ticket.done(err(H.ERROR_CATEGORY_HTTP_4XX, 429), 0.01)
    assert host.slots == 4 and host.pauses == 1
    async with polite.request("h") as ticket:  # waited for the 1 s pause without Retry-After
        ticket.done(err(H.ERROR_CATEGORY_HTTP_5XX, 503), 0.01)
    assert host.slots == 2
    for _ in range(10):
        async with polite.request("h") as ticket:
            ticket.done(err(H.ERROR_CATEGORY_HTTP_4XX, 404), 0.01)
    assert host.slots == 2  # a plain 404 is no signal either way


async def test_one_cut_per_round() -> None:
    polite = Politeness(host_concurrency=8)
    host = polite.host("h")
    host.limit = 8.0
    tickets = []
    for _ in range(4):
        cm = polite.request("h")
        tickets.append((cm, await cm.__aenter__()))
    for cm, ticket in tickets:  # four timeouts from one burst: one cut
        ticket.done(err(H.ERROR_CATEGORY_TIMEOUT), 1.0)
        await cm.__aexit__(None, None, None)
    assert host.slots == 4 and host.cuts == 1


async def test_latency_climb_cuts() -> None:
    polite = Politeness(host_concurrency=8)
    host = polite.host("h")
    host.limit = 8.0
    for _ in range(6):
        async with polite.request("h") as ticket:
            ticket.done(ok(), 0.01)
    for _ in range(6):
        async with polite.request("h") as ticket:
            ticket.done(ok(), 2.0)
    assert host.cuts >= 1 and host.slots < 8


async def test_retry_after_pauses_the_host() -> None:
    polite = Politeness()
    async with polite.request("h") as ticket:
        ticket.done(err(H.ERROR_CATEGORY_HTTP_4XX, 429, retry_after=0.3), 0.01)
    began = time.monotonic()
    async with polite.request("h"):
        waited = time.monotonic() - began
    assert waited >= 0.25
    async with polite.request("other"):  # another host is not paused
        pass


async def test_crawl_delay_serialises() -> None:
    polite = Politeness(host_concurrency=8, max_crawl_delay=0.5)
    polite.set_crawl_delay("h", 10.0)
    host = polite.host("h")
    assert host.cap == 1 and host.interval == 0.5


# -- dedup, retry (the store-backed frontier and dedup: test_frontier.py) ----------------------------------------------------

def test_canonical_variants_and_text_hash() -> None:
    assert is_variant("https://e.com/guide?lang=en", "https://e.com/guide")
    assert is_variant("http://www.e.com/guide/", "https://e.com/guide")
    assert not is_variant("https://e.com/guide/a", "https://e.com/")
    page = "<html><body><nav>{}</nav><main><p>Same text</p></main><footer>{}</footer></body></html>"
    assert text_hash(page.format("one", "2024")) == text_hash(page.format("two", "2025"))
    assert text_hash(page.format("a", "b")) != text_hash(page.replace("Same", "Other").format("a", "b"))


@pytest.mark.parametrize("response, retry", [
    (err(H.ERROR_CATEGORY_TIMEOUT), True), (err(H.ERROR_CATEGORY_CONNECT), True),
    (err(H.ERROR_CATEGORY_HTTP_5XX, 500), True), (err(H.ERROR_CATEGORY_HTTP_4XX, 429), True),
    (err(H.ERROR_CATEGORY_HTTP_4XX, 408), True), (err(H.ERROR_CATEGORY_HTTP_4XX, 404), False),
    (err(H.ERROR_CATEGORY_DNS), False), (err(H.ERROR_CATEGORY_BLOCKED), False),
    (err(H.ERROR_CATEGORY_NOT_HTML), False), (err(H.ERROR_CATEGORY_TOO_LARGE), False),
])
def test_retryable(response: crawler_pb2.CrawlResponse, retry: bool) -> None:
    assert is_retryable(response) is retry


def test_rpc_failures() -> None:
    from orchestrator.retry import rpc_failure

    class Fake(grpc.aio.AioRpcError):
        def __init__(self, code: grpc.StatusCode) -> None:
            super().__init__(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details="d")

    assert is_retryable(rpc_failure("u", Fake(grpc.StatusCode.UNAVAILABLE)))
    assert not is_retryable(rpc_failure("u", Fake(grpc.StatusCode.INVALID_ARGUMENT)))
