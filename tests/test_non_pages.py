"""Non-pages are not pages: a body that does not sniff as HTML (a Sphinx objects.inv, a
Markdown source served as a binary) or a response whose content type is not HTML (a reST
source as text/plain, a PDF) is skipped with the reason "not_html", counted as skipped,
never stored and never failed."""

from __future__ import annotations

import zlib

from aiohttp import web

from docspasta.local import LocalStack
from tests.support.jobs import by_type, check_contract, run_job, stored_pages
from tests.support.site import FixtureSite, page


async def test_inventory_and_raw_sources_are_skipped_not_pages(stack: LocalStack, site: FixtureSite) -> None:
    inventory = (b"# Sphinx inventory version 2\n# Project: Proj\n# Version: 1.0\n"
                 b"# The remainder of this file is compressed using zlib.\n"
                 + zlib.compress(b"proj.api py:module 0 api.html#module-$ -\n" * 50))

    async def objects_inv(request: web.Request) -> web.StreamResponse:
        return web.Response(body=inventory, content_type="application/octet-stream")

    async def source_md(request: web.Request) -> web.StreamResponse:
        return web.Response(body=b"# Guide\n\nThe *source* of the guide page.\n", content_type="application/octet-stream")

    # objects.inv is known by its extension (never fetched); the same bytes at a URL
    # without one are only known by their body.
    async def source_txt(request: web.Request) -> web.StreamResponse:
        return web.Response(text="Guide\n=====\n\nThe *source* of the guide page.\n", content_type="text/plain")

    async def manual(request: web.Request) -> web.StreamResponse:
        return web.Response(body=b"%PDF-1.4 binary", content_type="application/pdf")

    site.pages["/docs/"] = page("Home", links=["guide.html", "objects.inv", "inventory", "_sources/guide.md",
                                               "_sources/guide.rst", "manual"])
    site.pages["/docs/guide.html"] = page("Guide", "The guide page itself.")
    site.handlers["/docs/inventory"] = objects_inv
    site.handlers["/docs/_sources/guide.md"] = source_md
    site.handlers["/docs/_sources/guide.rst"] = source_txt
    site.handlers["/docs/manual"] = manual
    job_id, events = await run_job(stack, site.url("/docs/"))
    check_contract(events)
    skipped = {s.url.removeprefix(site.base): s.reason for s in by_type(events, "url_skipped")}
    failed = {f.url.removeprefix(site.base): f.message for f in by_type(events, "url_failed")}
    assert skipped.get("/docs/inventory") == "not_html", (skipped, failed)
    assert skipped.get("/docs/_sources/guide.md") == "not_html"
    # refused by the crawler for the content type: the same reason, with the type named
    assert skipped.get("/docs/_sources/guide.rst") == "not_html" and skipped.get("/docs/manual") == "not_html"
    detail = {s.url.removeprefix(site.base): s.detail for s in by_type(events, "url_skipped")}
    assert "application/pdf" in detail["/docs/manual"] and "text/plain" in detail["/docs/_sources/guide.rst"]
    assert not by_type(events, "url_failed")
    totals = events[-1].job_completed.totals
    assert totals.failed == 0 and totals.skipped.get("not_html") == 4 and totals.skipped.get("non_page") == 1
    urls = {p.url.removeprefix(site.base) for p in await stored_pages(stack, job_id)}
    assert urls == {"/docs/", "/docs/guide.html"}
