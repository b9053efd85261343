"""The extract step: title, links, canonical URL and robots meta of an HTML page.

The page is streamed through lxml's HTML parser with a parser *target*: no tree is
built, so memory stays constant whatever the page (a tree of 4 million ``<br>`` took a
gigabyte), and parsing stops after ``max_elements`` elements, so time is bounded too.
The page is fed in slices, never copied whole."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urljoin

import lxml.etree

_SKIP_SCHEMES = ("javascript:", "mailto:", "tel:", "data:", "ftp:", "file:", "about:", "blob:")
DEFAULT_MAX_ELEMENTS = 1_000_000
_SLICE = 256 * 1024
_MAX_TITLE = 1000


@dataclass(slots=True)
class Extracted:
    title: str = ""
    links: list[str] = field(default_factory=list)
    canonical: str = ""
    nofollow: bool = False
    # True when parsing stopped at the element limit (links after it are not seen).
    truncated: bool = False


def _join(base: str, href: str) -> str | None:
    href = href.strip()
    if not href or href.startswith("#") or href.lower().startswith(_SKIP_SCHEMES):
        return None
    try:
        absolute = urljoin(base, href)
    except ValueError:
        return None
    absolute = absolute.split("#", 1)[0]
    return absolute if absolute.startswith(("http://", "https://")) else None


class _Enough(Exception):
    """Raised from the target to stop the parser at the element limit."""


class _Target:
    """Collects what ``extract`` returns as the parser streams events."""

    def __init__(self, url: str, max_links: int, max_elements: int) -> None:
        self.out = Extracted()
        self.url = url
        self.base = url
        self.based = False
        self.max_links = max_links
        self.max_elements = max_elements
        self.elements = 0
        self.seen: set[str] = set()
        self.in_title = False
        self.title: list[str] = []
        self.title_chars = 0

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        self.elements += 1
        if self.elements > self.max_elements:
            raise _Enough
        if tag == "a" or tag == "area":
            if len(self.out.links) < self.max_links:
                link = _join(self.base, attrib.get("href") or "")
                if link and link not in self.seen:
                    self.seen.add(link)
                    self.out.links.append(link)
        elif tag == "base":
            if not self.based and attrib.get("href"):
                self.based = True
                self.base = _join(self.url, attrib.get("href") or "") or self.url
        elif tag == "title":
            self.in_title = not self.out.title and not self.title
        elif tag == "link":
            rel = (attrib.get("rel") or "").lower().split()
            if "canonical" in rel and not self.out.canonical:
                self.out.canonical = _join(self.base, attrib.get("href") or "") or ""
        elif tag == "meta":
            if (attrib.get("name") or "").lower() == "robots" and "nofollow" in (attrib.get("content") or "").lower():
                self.out.nofollow = True

    def end(self, tag: str) -> None:
        if tag == "title" and self.in_title:
            self.in_title = False
            self.out.title = " ".join("".join(self.title).split())[:_MAX_TITLE]

    def data(self, data: str) -> None:
        if self.in_title and self.title_chars < 4 * _MAX_TITLE:
            self.title.append(data[:4 * _MAX_TITLE])
            self.title_chars += len(data)

    def close(self) -> None:
        if self.in_title:  # an unclosed <title>
            self.end("title")


def extract(html: str, url: str, *, max_links: int, max_elements: int = DEFAULT_MAX_ELEMENTS) -> Extracted:
    """Never raises: a page lxml cannot parse yields what was found before the error."""
    if not html.strip():
        return Extracted()
    target = _Target(url, max_links, max_elements)
    # huge_tree lifts libxml2's 10 MB text-node limit (a page with one huge text node
    # keeps the links after it).
    parser = lxml.etree.HTMLParser(target=target, recover=True, no_network=True, huge_tree=True)
    try:
        for i in range(0, len(html), _SLICE):
            parser.feed(html[i:i + _SLICE])
        parser.close()
    except _Enough:
        target.out.truncated = True
        target.close()
    except (lxml.etree.LxmlError, ValueError):
        target.close()
    return target.out
