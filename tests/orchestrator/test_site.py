"""Scope, robots, sitemaps, traps and duplicates on one documentation site spread over
subdomains (issue 5, "done when" 1): each rule doing its part, and a crawl with
patterns taking exactly the intended pages."""

from __future__ import annotations

import gzip
from itertools import pairwise

import pytest
from aiohttp import web

import orchestrator.job
from docspasta import texthash
from docspasta.local import LocalStack
from tests.orchestrator.vhosts import VirtualHosts
from tests.support.jobs import by_type, check_contract, names, run_job, stored_pages
from tests.support.site import FixtureSite

DOCS = "docs.example.localhost"
API = "api.example.localhost"
WWW = "www.example.localhost"
CRAWL_DELAY = 0.1


def html(title: str, links: list[str] | tuple[str, ...] = (), *, canonical: str = "", nav: str = "",
         body: str = "") -> str:
    anchors = "".join(f'<li><a href="{href}">{href}</a></li>' for href in links)
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    return (f"<!doctype html><html><head><title>{title}</title>{link}</head><body>"
            f"<nav>Site navigation {nav}</nav><main><h1>{title}</h1>"
            f"<p>{body or 'The text of ' + title + ', about widgets and gadgets.'}</p><ul>{anchors}</ul></main>"
            f"<footer>Footer</footer></body></html>")


def build(v: VirtualHosts) -> None:
    d, a, w = v.host(DOCS), v.host(API), v.host(WWW)
    docs = lambda path: v.url(DOCS, path)  # noqa: E731
    d.texts["/robots.txt"] = ("text/plain", "User-agent: *\nDisallow: /docs/private/\n"
                              f"Crawl-delay: {CRAWL_DELAY}\nSitemap: {docs('/sitemap_index.xml')}\n")
    d.pages["/docs/"] = html("Docs home", [
        "intro", "intro?ref=nav", "intro-copy", "guide/", "private/secret", "calendar?month=2024-01", "loop/",
        "/api/", "/api/v1/users", "/api/v2/users", "/blog/", "/changelog/",
        v.url(API, "/reference/"), v.url(API, "/internal/status"), v.url(WWW, "/"), "logo.png"])
    intro_text = "Install the widget, then configure it."
    d.pages["/docs/intro"] = html("Intro", ["/docs/"], canonical=docs("/docs/intro"), body=intro_text)
    # The same page under a tracking-free query and under a copy path: other nav, same text.
    d.pages["/docs/intro?ref=nav"] = html("Intro", ["/docs/"], canonical=docs("/docs/intro"), nav="(from nav)",
                                          body=intro_text)
    d.pages["/docs/intro-copy"] = html("Intro", ["/docs/"], canonical=docs("/docs/intro"), nav="(copy)",
                                       body=intro_text)
    d.pages["/docs/guide/"] = html("Guide", ["install", "setup-old"])
    d.pages["/docs/guide/install"] = html("Install")
    d.pages["/docs/guide/setup-old"] = html("Old setup")
    d.pages["/docs/private/secret"] = html("Secret")
    d.pages["/docs/orphan"] = html("Only in the sitemap")
    d.pages["/api/"] = html("API index", ["v1/users", "v2/users"])
    d.pages["/api/v1/users"] = html("Users v1")
    d.pages["/api/v2/users"] = html("Users v2")
    d.pages["/api/v2/orphan-endpoint"] = html("Only in the gzip sitemap")
    d.pages["/blog/"] = html("Blog", ["post-1"])
    d.pages["/blog/post-1"] = d.pages["/blog/post-2"] = html("Post")
    d.pages["/changelog/"] = html("Changelog")

    async def calendar(request: web.Request) -> web.StreamResponse:
        year, month = map(int, request.query.get("month", "2024-01").split("-"))
        nxt = f"{year + month // 12}-{month % 12 + 1:02d}"
        prv = f"{year - (month == 1)}-{(month - 2) % 12 + 1:02d}"
        return web.Response(text=html(f"Calendar {year}-{month:02d}", [f"calendar?month={nxt}",
                                                                     f"calendar?month={prv}"]),
                            content_type="text/html")

    async def loop(request: web.Request) -> web.StreamResponse:  # every /docs/loop/... links one deeper
        return web.Response(text=html(f"Loop {request.path}", ["loop/"]), content_type="text/html")

    d.handlers["/docs/calendar"] = calendar
    d.handlers["*"] = loop
    d.texts["/sitemap_index.xml"] = ("application/xml", (
        '<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f'<sitemap><loc>{docs("/sitemaps/docs.xml")}</loc></sitemap>'
        f'<sitemap><loc>{docs("/sitemaps/api.xml.gz")}</loc></sitemap></sitemapindex>'))
    d.texts["/sitemaps/docs.xml"] = ("application/xml", (
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + "".join(f"<url><loc>{docs(p)}</loc></url>" for p in ("/docs/", "/docs/orphan", "/blog/post-2"))
        + "</urlset>"))
    gz = gzip.compress((
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f'<url><loc>{docs("/api/v2/orphan-endpoint")}</loc></url></urlset>').encode())

    async def gz_sitemap(request: web.Request) -> web.StreamResponse:
        # Served pre-compressed with Content-Encoding, as object stores and CDNs do.
        return web.Response(body=gz, headers={"Content-Type": "application/xml", "Content-Encoding": "gzip"})

    d.handlers["/sitemaps/api.xml.gz"] = gz_sitemap
    d.handlers["/docs/loop/"] = loop
    a.pages["/reference/"] = html("Reference", ["widgets", "/internal/status"])
    a.pages["/reference/widgets"] = html("Widgets reference")
    a.pages["/internal/status"] = html("Status")
    w.pages["/"] = html("Marketing")


def paths(vhosts: VirtualHosts, urls: list[str]) -> set[str]:
    prefix = {vhosts.url(DOCS, ""): "", vhosts.url(API, ""): "api:", vhosts.url(WWW, ""): "www:"}
    out = set()
    for url in urls:
        for base, tag in prefix.items():
            if url.startswith(base):
                out.add(tag + url.removeprefix(base))
    return out


async def test_crawl_with_patterns_takes_exactly_the_intended_pages(small_stack: LocalStack,
                                                                     vhosts: VirtualHosts) -> None:
    build(vhosts)
    job_id, events = await run_job(
        small_stack, vhosts.url(DOCS, "/docs/"),
        include_patterns=["/docs/**", "/api/v?/**", f"{API}/reference/**"], exclude_patterns=["**/*-old"],
        allowed_domains=["*.example.localhost"])
    check_contract(events)
    assert names(events)[-1] == "job_completed"
    assert events[0].stream_connected.scope == [
        f"hosts: {DOCS}, *.example.localhost", f"include: /docs/**, /api/v?/**, {API}/reference/**",
        "exclude: **/*-old"]
    stored = paths(vhosts, [p.url for p in await stored_pages(small_stack, job_id)])
    calendar = {p for p in stored if p.startswith("/docs/calendar")}
    intro = {p for p in stored if p.startswith("/docs/intro")}
    assert len(calendar) == 3  # the query-variant cap of this stack
    assert intro in ({"/docs/intro"}, {"/docs/intro-copy"})  # canonical duplicates collapse
    assert stored - calendar - intro == {
        "/docs/", "/docs/guide/", "/docs/guide/install", "/docs/orphan", "/docs/loop/", "/docs/loop/loop/",
        "/api/v1/users", "/api/v2/users", "/api/v2/orphan-endpoint", "api:/reference/", "api:/reference/widgets"}
    skipped = events[-1].job_completed.totals.skipped
    # /api/, /blog/, /changelog/, /blog/post-2 (sitemap), api /internal/status, www /.
    assert skipped["out_of_scope"] == 6
    assert skipped["excluded"] == 1  # /docs/guide/setup-old
    assert skipped["robots"] == 1  # /docs/private/secret, reported
    assert skipped["non_page"] == 1
    assert skipped["trap"] >= 2  # more calendar months, /docs/loop/loop/loop/
    assert skipped["duplicate"] >= 2  # intro?ref=nav and the intro pair
    reasons = {(s.url.removeprefix(vhosts.url(DOCS, "")), s.reason) for s in by_type(events, "url_skipped")}
    assert ("/docs/private/secret", "robots") in reasons and ("/docs/intro?ref=nav", "duplicate") in reasons
    docs_host, api_host = vhosts.hosts[DOCS], vhosts.hosts[API]
    assert "/docs/private/secret" not in docs_host.paths()
    assert docs_host.paths().count("/robots.txt") == 1 and api_host.paths().count("/robots.txt") == 1
    assert not vhosts.hosts[WWW].log  # never allowed by the patterns: never fetched
    # Crawl-delay: the docs host got one request at a time, spaced by the delay.
    assert docs_host.max_in_flight == 1
    gaps = [b - a for (a, _), (b, _) in pairwise(docs_host.log)]
    assert min(gaps) >= CRAWL_DELAY * 0.7, gaps
    assert api_host.max_in_flight >= 1


async def test_default_scope_is_the_start_directory(small_stack: LocalStack, vhosts: VirtualHosts) -> None:
    build(vhosts)
    job_id, events = await run_job(small_stack, vhosts.url(DOCS, "/docs/intro"))
    check_contract(events)
    assert "path prefix on docs.example.localhost: /docs/" in events[0].stream_connected.scope
    stored = paths(vhosts, [p.url for p in await stored_pages(small_stack, job_id)])
    assert all(p.startswith("/docs/") for p in stored)
    assert {"/docs/", "/docs/guide/setup-old", "/docs/orphan"} <= stored
    assert "/docs/private/secret" not in stored
    assert not vhosts.hosts[API].log and not vhosts.hosts[WWW].log


async def test_sitemaps_and_robots_can_be_turned_off(small_stack: LocalStack, vhosts: VirtualHosts) -> None:
    build(vhosts)
    job_id, events = await run_job(small_stack, vhosts.url(DOCS, "/docs/"), use_sitemaps=False, obey_robots=False)
    check_contract(events)
    stored = paths(vhosts, [p.url for p in await stored_pages(small_stack, job_id)])
    assert "/docs/orphan" not in stored  # only the sitemap knows it
    assert "/docs/private/secret" in stored
    requested = vhosts.hosts[DOCS].paths()
    assert "/robots.txt" not in requested and not any("sitemap" in p for p in requested)
    assert "robots" not in events[-1].job_completed.totals.skipped


async def test_canonical_to_the_home_page_does_not_collapse_the_site(stack: LocalStack, site: FixtureSite) -> None:
    home = site.url("/")
    site.pages["/"] = html("Home", ["a", "b", "c"], canonical=home)
    for name in "abc":
        site.pages[f"/{name}"] = html(f"Page {name}", ["/"], canonical=home)
    job_id, events = await run_job(stack, home)
    check_contract(events)
    assert len(await stored_pages(stack, job_id)) == 4
    assert "duplicate" not in {s.reason for s in by_type(events, "url_skipped")}


async def test_canonical_duplicates_use_the_crawlers_text_hash(stack: LocalStack, site: FixtureSite,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # The crawler hashes a page naming a canonical URL from the tree it read the links
    # from: the orchestrator parses no page for it (only one without the hash).
    parsed: list[str] = []

    def parse_here(html: str) -> bytes:
        parsed.append(html)
        return texthash.text_hash(html)

    monkeypatch.setattr(orchestrator.job, "text_hash", parse_here)
    canonical = site.url("/docs/intro")
    site.pages["/docs/"] = html("Docs", ["intro", "intro-copy"], canonical=site.url("/docs/"))
    site.pages["/docs/intro"] = html("Intro", ["/docs/"], canonical=canonical, body="Install the widget.")
    site.pages["/docs/intro-copy"] = html("Intro", ["/docs/"], canonical=canonical, nav="(copy)",
                                          body="Install the widget.")
    job_id, events = await run_job(stack, site.url("/docs/"))
    check_contract(events)
    assert len(await stored_pages(stack, job_id)) == 2  # the copy collapsed into the page it names
    assert "was kept with the same text" in " ".join(s.detail for s in by_type(events, "url_skipped")) \
        or "names this URL canonical" in " ".join(s.detail for s in by_type(events, "url_skipped"))
    assert parsed == []


async def test_robots_unavailable_disallows_and_says_why(stack: LocalStack, site: FixtureSite) -> None:
    async def down(request: web.Request) -> web.StreamResponse:
        return web.Response(status=500, text="oops")

    site.handlers["/robots.txt"] = down
    site.pages["/docs/"] = html("Home")
    _, events = await run_job(stack, site.url("/docs/"))
    check_contract(events)
    assert names(events)[-1] == "job_failed"
    assert "robots.txt answered HTTP 500" in events[-1].job_failed.error
    assert site.requests["/robots.txt"] == 3 and site.requests["/docs/"] == 0


async def test_links_per_page_are_capped(small_stack: LocalStack, site: FixtureSite) -> None:
    site.pages["/docs/"] = html("Hub", [f"p{i}" for i in range(60)])
    for i in range(60):
        site.pages[f"/docs/p{i}"] = html(f"Page {i}")
    job_id, events = await run_job(small_stack, site.url("/docs/"))
    check_contract(events)
    assert len(await stored_pages(small_stack, job_id)) == 1 + 40  # this stack takes 40 links a page
    assert events[-1].job_completed.totals.skipped["trap"] == 20
    assert site.requests["/docs/p45"] == 0
