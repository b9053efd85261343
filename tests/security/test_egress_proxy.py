"""CRAWLER_PROXY: every fetch goes through an egress proxy that enforces, and the
crawler's own checks still refuse what they can see (scheme, port, IP literals,
credentials) before the proxy is asked anything."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from crawler.fetch import FetchError, HttpFetcher
from crawler.settings import CrawlerSettings
from docspasta.settings import SettingsError
from tests.security.egress_proxy import EgressProxy
from tests.security.hostile_site import HostileSite, html_page

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def proxy(hostile: HostileSite) -> AsyncIterator[EgressProxy]:
    p = await EgressProxy(routes={f"docs.test:{hostile.port}": ("127.0.0.1", hostile.port)}).start()
    yield p
    await p.stop()


@pytest.fixture
async def fetcher(proxy: EgressProxy) -> AsyncIterator[HttpFetcher]:
    # The default policy: private networks refused. The proxy itself is on loopback.
    f = HttpFetcher(settings=replace(CrawlerSettings(), proxy=proxy.url, allowed_ports=None, fetch_timeout=10))
    yield f
    await f.close()


async def test_pages_are_fetched_through_the_proxy(hostile: HostileSite, proxy: EgressProxy,
                                                   fetcher: HttpFetcher) -> None:
    hostile.html("/docs/", html_page("Docs"))
    hostile.redirect("/old", f"http://docs.test:{hostile.port}/docs/")
    result = await fetcher.fetch(f"http://docs.test:{hostile.port}/old")
    assert "<title>Docs</title>" in result.text and result.requests == 2
    # Both hops went through the proxy; the crawler resolved neither name itself.
    assert proxy.seen == [f"GET http://docs.test:{hostile.port}/old", f"GET http://docs.test:{hostile.port}/docs/"]


async def test_a_destination_the_proxy_refuses_is_blocked(hostile: HostileSite, proxy: EgressProxy,
                                                          fetcher: HttpFetcher) -> None:
    hostile.redirect("/away", "http://metadata.internal/latest/meta-data/")
    with pytest.raises(FetchError) as info:
        await fetcher.fetch(f"http://docs.test:{hostile.port}/away")
    assert info.value.category == "blocked"
    assert "egress proxy refused" in info.value.message and "metadata.internal" in info.value.message
    assert proxy.refused == ["metadata.internal"]
    with pytest.raises(FetchError) as info:  # https: the proxy refuses the CONNECT
        await fetcher.fetch("https://metadata.internal/")
    assert info.value.category == "blocked" and "egress proxy refused" in info.value.message


async def test_the_crawlers_own_checks_run_before_the_proxy(proxy: EgressProxy, fetcher: HttpFetcher) -> None:
    for url, category in [("http://169.254.169.254/latest/", "blocked"), ("http://[::1]/", "blocked"),
                          ("http://2130706433/", "blocked"), ("ftp://docs.test/", "blocked"),
                          ("http://user:pw@docs.test/", "blocked"), ("http://%31%32%37.0.0.1/", "invalid")]:
        with pytest.raises(FetchError) as info:
            await fetcher.fetch(url)
        assert info.value.category == category, (url, info.value.message)
        assert info.value.requests == 0
    assert proxy.seen == []  # never asked


async def test_an_unreachable_proxy_is_a_connect_error() -> None:
    f = HttpFetcher(settings=replace(CrawlerSettings(), proxy="http://127.0.0.1:9", connect_timeout=2))
    try:
        with pytest.raises(FetchError) as info:
            await f.fetch("http://docs.test/")
        assert info.value.category == "connect" and "CRAWLER_PROXY" in info.value.message
    finally:
        await f.close()


def test_the_proxy_setting_is_checked() -> None:
    assert CrawlerSettings.from_env({"CRAWLER_PROXY": "http://smokescreen.egress:4750"}).proxy
    assert CrawlerSettings.from_env({}).proxy == ""
    for bad in ("socks5://p:1080", "smokescreen:4750", "http://p:4750/path"):
        with pytest.raises(SettingsError, match="CRAWLER_PROXY"):
            CrawlerSettings.from_env({"CRAWLER_PROXY": bad})
