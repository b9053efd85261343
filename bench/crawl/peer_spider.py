"""The peer: a plain Scrapy crawl that converts every page to Markdown and writes JSONL.

  bench/.venv/bin/python bench/crawl/peer_spider.py URL OUT.jsonl --converter html2text|trafilatura \
      --concurrency 16 [--max-pages 20000] [--max-depth 50]

Made to be a fair, efficient peer: same concurrency as docspasta, no delay, no robots.txt,
no autothrottle, no HTTP cache, no cookies, ERROR logging. It follows <a href> links that
stay under the start URL's directory (like docspasta's default scope), skips obvious
non-pages, relies on Scrapy's duplicate filter (fragments dropped), and converts each
HTML page in the callback, the way a Scrapy user would.
"""

from __future__ import annotations

import argparse
import json
import re
from typing import Any
from urllib.parse import urldefrag

import scrapy
from scrapy.crawler import CrawlerProcess

NON_PAGE = re.compile(r"\.(png|jpe?g|gif|svg|ico|css|js|pdf|zip|gz|tgz|bz2|xz|tar|woff2?|ttf|eot|txt|json|xml)$",
                      re.I)


def make_converter(name: str) -> Any:
    if name == "html2text":
        import html2text

        def convert(html: str, url: str) -> str:
            h = html2text.HTML2Text(baseurl=url)
            h.body_width = 0
            return str(h.handle(html))
        return convert
    if name == "trafilatura":
        import trafilatura

        def convert(html: str, url: str) -> str:
            return trafilatura.extract(html, url=url, output_format="markdown", include_links=True,
                                       include_tables=True, include_formatting=True) or ""
        return convert
    raise SystemExit(f"unknown converter {name}")


class DocsSpider(scrapy.Spider):
    name = "docs"

    def __init__(self, start: str, out: str, converter: str, max_pages: int, **kw: Any) -> None:
        super().__init__(**kw)
        self.start_urls = [start]
        self.prefix = start.rsplit("/", 1)[0] + "/"
        self.out = open(out, "w", encoding="utf-8")
        self.convert = make_converter(converter)
        self.max_pages = max_pages
        self.count = 0

    def parse(self, response: scrapy.http.Response) -> Any:
        if not isinstance(response, scrapy.http.HtmlResponse):
            return
        self.count += 1
        if self.count > self.max_pages:
            return
        markdown = self.convert(response.text, response.url)
        title = response.css("title::text").get(default="").strip()
        self.out.write(json.dumps({"url": response.url, "title": title, "markdown": markdown}) + "\n")
        for href in response.css("a::attr(href)").getall():
            url = urldefrag(response.urljoin(href))[0]
            if url.startswith(self.prefix) and not NON_PAGE.search(url):
                yield scrapy.Request(url, callback=self.parse)

    def closed(self, reason: str) -> None:
        self.out.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("out")
    ap.add_argument("--converter", default="html2text")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--max-pages", type=int, default=20000)
    ap.add_argument("--max-depth", type=int, default=50)
    args = ap.parse_args()
    process = CrawlerProcess(settings={
        "CONCURRENT_REQUESTS": args.concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": args.concurrency,
        "DOWNLOAD_DELAY": 0,
        "ROBOTSTXT_OBEY": False,
        "AUTOTHROTTLE_ENABLED": False,
        "HTTPCACHE_ENABLED": False,
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "ERROR",
        "DEPTH_LIMIT": args.max_depth,
        "RETRY_ENABLED": True,
        "USER_AGENT": "bench-peer",
        "REQUEST_FINGERPRINTER_IMPLEMENTATION": "2.7",
    })
    process.crawl(DocsSpider, start=args.url, out=args.out, converter=args.converter, max_pages=args.max_pages)
    process.start()


if __name__ == "__main__":
    main()
