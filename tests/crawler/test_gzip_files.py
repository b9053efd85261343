"""A raw .gz file (a sitemap served without Content-Encoding) comes back as its text
when non-HTML is allowed, decompressed under the body cap."""

from __future__ import annotations

import gzip
from dataclasses import replace

import pytest
from aiohttp import web

from crawler.fetch import FetchError, HttpFetcher
from tests.conftest import local_crawler_settings
from tests.support.site import FixtureSite

SITEMAP = '<?xml version="1.0"?><urlset><url><loc>https://d.example/a.html</loc></url></urlset>'


async def test_raw_gzip_file_is_decompressed(site: FixtureSite) -> None:
    async def gz(request: web.Request) -> web.StreamResponse:
        return web.Response(body=gzip.compress(SITEMAP.encode()), content_type="application/x-gzip")

    site.handlers["/sitemap.xml.gz"] = gz
    fetcher = HttpFetcher(settings=local_crawler_settings())
    try:
        result = await fetcher.fetch(site.url("/sitemap.xml.gz"), allow_non_html=True)
        assert result.text == SITEMAP
        with pytest.raises(FetchError) as info:
            await fetcher.fetch(site.url("/sitemap.xml.gz"))
        assert info.value.category == "not_html"
    finally:
        await fetcher.close()


async def test_raw_gzip_bomb_stops_at_the_cap(site: FixtureSite) -> None:
    bomb = gzip.compress(b"<" * (8 << 20))

    async def gz(request: web.Request) -> web.StreamResponse:
        return web.Response(body=bomb, content_type="application/gzip")

    site.handlers["/bomb.xml.gz"] = gz
    fetcher = HttpFetcher(settings=replace(local_crawler_settings(), max_body_bytes=1 << 20))
    try:
        with pytest.raises(FetchError) as info:
            await fetcher.fetch(site.url("/bomb.xml.gz"), allow_non_html=True)
        assert info.value.category == "too_large"
    finally:
        await fetcher.close()
