"""The Crawler servicer: a page that cannot fit in one gRPC message fails that page."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from crawler.fetch import FetchResult
from crawler.service import CrawlerService, url_problem
from crawler.settings import CrawlerSettings
from docspasta.v1 import common_pb2, crawler_pb2


class BigPageFetcher:
    def __init__(self, size: int) -> None:
        self.size = size

    async def fetch(self, url: str, *, allow_non_html: bool = False, max_requests: int = 0) -> FetchResult:
        text = "<html><title>Big</title><p>" + "x" * self.size + "</p></html>"
        return FetchResult(url=url, final_url=url, status=200, content_type="text/html", text=text,
                           body_bytes=len(text), seconds=0.01)

    async def close(self) -> None:
        return None


async def crawl(service: CrawlerService, url: str) -> crawler_pb2.CrawlResponse:
    context: Any = None  # valid requests never touch the context
    return await service.Crawl(crawler_pb2.CrawlRequest(url=url), context)


async def test_page_over_the_message_limit_is_too_large() -> None:
    settings = replace(CrawlerSettings(), max_body_bytes=8 << 20)
    service = CrawlerService(settings=settings, fetcher=BigPageFetcher(2 << 20), max_message_bytes=1 << 20)
    response = await crawl(service, "https://docs.example.com/big")
    assert response.error == common_pb2.ERROR_CATEGORY_TOO_LARGE
    assert not response.html and "message" in response.error_message
    assert response.content_length > 2 << 20


async def test_page_under_the_message_limit_is_returned() -> None:
    service = CrawlerService(settings=CrawlerSettings(), fetcher=BigPageFetcher(1000), max_message_bytes=1 << 20)
    response = await crawl(service, "https://docs.example.com/small")
    assert response.error == common_pb2.ERROR_CATEGORY_UNSPECIFIED and response.title == "Big"


def test_url_problem_refuses_control_characters_and_other_schemes_only() -> None:
    for url in ("http://docs.test/a\x00", "http://docs.test/\x1fb", "http://docs.test/a\tb", "http://docs.test/\x7f"):
        assert url_problem(url, max_length=100) == "must not contain control characters", repr(url)
    for url in ("http://docs.test/é", "HTTPS://docs.test/a b", "http://docs.test/\x80\xa0"):
        assert url_problem(url, max_length=100) is None, repr(url)
    assert url_problem("ftp://docs.test/", max_length=100) == "must be an absolute http(s) URL"
    assert url_problem("http://docs.test/" + "a" * 100, max_length=100) == "longer than 100 characters"
    assert url_problem("", max_length=100) == "required"
