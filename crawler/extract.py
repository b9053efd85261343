"""The extract step: title, links, canonical URL and robots meta of an HTML page.

An ordinary page (under ``TREE_BYTES`` and ``TREE_TAGS`` tags) is parsed
into a tree and its few interesting elements are found by one XPath query, in C:
that is several times cheaper than a Python call per element. Any other page is
streamed through lxml's HTML parser with a parser *target*: no tree is built, so
memory stays constant whatever the page (a tree of 4 million ``<br>`` took a
gigabyte), and parsing stops after ``max_elements`` elements, so time is bounded too.
That page is fed in slices, never copied whole. Both paths give the same result.

Relative links are joined against the page's directory through a bounded cache: a
site's navigation repeats the same hrefs on every page of a directory."""

from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Callable
from functools import lru_cache
from urllib.parse import urljoin

import lxml.etree

from docspasta.texthash import html_parser, tree_text_hash

_SKIP_SCHEMES = ("javascript:", "mailto:", "tel:", "data:", "ftp:", "file:", "about:", "blob:")
DEFAULT_MAX_ELEMENTS = 1_000_000
_SLICE = 256 * 1024
_MAX_TITLE = 1000
# Pages up to this size and tag count get the tree path: its memory (~200 bytes per
# element, a few MB at most) stays small at any concurrency, and a hostile page of
# millions of elements is streamed.
TREE_BYTES = 2 * 1024 * 1024
TREE_TAGS = 30_000
_INTERESTING = ("a", "area", "base", "title", "link", "meta")
# Compiled once; smart_strings=False: plain str values, not ones that keep their element
# alive. Under the root element only, as root.iter() walks: "//" would also reach what
# libxml2 leaves beside the root (markup after </html>).
_HAS_BASE = lxml.etree.XPath("boolean(descendant-or-self::base)")
_HEAD_ELEMENTS = lxml.etree.XPath("descendant-or-self::title | descendant-or-self::link[@rel]"
                                  " | descendant-or-self::meta[@name]")
_HREFS = lxml.etree.XPath("descendant-or-self::a/@href | descendant-or-self::area/@href", smart_strings=False)


@dataclass(slots=True)
class Extracted:
    title: str = ""
    links: list[str] = field(default_factory=list)
    canonical: str = ""
    nofollow: bool = False
    # True when parsing stopped at the element limit (links after it are not seen).
    truncated: bool = False
    # The main-text hash of a page that names a canonical URL, from the tree the links
    # came from (the orchestrator's canonical rules need it; a streamed page has none).
    text_hash: bytes = b""


def _resolver(base: str) -> Callable[[str], str | None]:
    """The joiner of one page's hrefs against ``base``: absolute and fragment-free, or
    None for a fragment, an empty href or a scheme that is not a page."""
    # A reference with a path resolves against the base's directory alone (RFC 3986
    # 5.2.2-5.2.3), so pages of one directory share the cache entries; worked out
    # once per page, not per link.
    directory = base
    path = base.find("/", base.find("//") + 2)
    end = min((i for i in (base.find("?"), base.find("#")) if i >= 0), default=len(base))
    if 0 <= path < end:
        directory = base[:base.rfind("/", path, end) + 1]

    def join(href: str) -> str | None:
        href = href.strip()
        if not href or href[0] == "#" or href[:11].lower().startswith(_SKIP_SCHEMES):
            return None
        return _join_cached(base if href[0] in "?;" else directory, href)

    return join


def _join(base: str, href: str) -> str | None:
    return _resolver(base)(href)


@lru_cache(maxsize=16384)
def _join_cached(base: str, href: str) -> str | None:
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
        self.join = _resolver(url)
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
                link = self.join(attrib.get("href") or "")
                if link and link not in self.seen:
                    self.seen.add(link)
                    self.out.links.append(link)
        elif tag == "base":
            if not self.based and attrib.get("href"):
                self.based = True
                self.base = _join(self.url, attrib.get("href") or "") or self.url
                self.join = _resolver(self.base)
        elif tag == "title":
            self.in_title = not self.out.title and not self.title
        elif tag == "link":
            rel = (attrib.get("rel") or "").lower().split()
            if "canonical" in rel and not self.out.canonical:
                self.out.canonical = self.join(attrib.get("href") or "") or ""
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


def _from_tree(html: str, url: str, max_links: int, *, by_element: bool = False) -> Extracted | None:
    """The tree path; None when lxml refuses the text (then the page is streamed).
    ``by_element``: the element-by-element walk (what a page with <base> gets), which
    the XPath walk must equal (tests/crawler/test_extract.py)."""
    # As bytes in a declared encoding (texthash.html_parser); strictly encoded: a lone
    # surrogate makes the page streamed.
    try:
        root = lxml.etree.fromstring(html.encode("utf-8"), html_parser())
    except (lxml.etree.LxmlError, ValueError, UnicodeError):
        return None
    if root is None:
        return Extracted()
    target = _Target(url, max_links, max_elements=len(html) + 1)
    if by_element or _HAS_BASE(root):
        # <base> changes how the links after it resolve: element by element, as streamed.
        for el in root.iter(*_INTERESTING):
            if el.tag == "title":
                _title(target, el)
            else:
                target.start(el.tag, el.attrib)
        return _hashed(target.out, root)
    # No <base>: the hrefs come out of one XPath call as plain strings, and each distinct
    # one (its fragment cut: that never changes what the rest resolves to) is joined
    # once; a reference page repeats its links many times (sidebar, cross-references,
    # anchors into the same pages).
    out = target.out
    for el in _HEAD_ELEMENTS(root):
        if el.tag == "title":
            _title(target, el)
        else:
            target.start(el.tag, el.attrib)
    join = target.join
    seen = target.seen
    links = out.links
    for href in dict.fromkeys(map(_defragment, _HREFS(root))):
        if len(links) >= max_links:
            break
        link = join(href)
        if link and link not in seen:
            seen.add(link)
            links.append(link)
    return _hashed(out, root)


def _hashed(out: Extracted, root: lxml.etree._Element) -> Extracted:
    # Parsed as texthash.parse parses (the same bytes and options): the same hash the
    # orchestrator would make, without the orchestrator parsing the page again.
    if out.canonical:
        out.text_hash = tree_text_hash(root)
    return out


def _defragment(href: str) -> str:
    """The href without its fragment where that cannot change the joined link: not when
    whitespace precedes the '#' (the join strips the href's ends, and "a #x" joins to a
    URL ending in a space)."""
    i = href.find("#")
    return href[:i] if i > 0 and not href[i - 1].isspace() else href


def _title(target: _Target, el: lxml.etree._Element) -> None:
    # The target path's rule: the first <title> that had any text at all.
    if not target.out.title and not target.title:
        text = "".join(el.itertext())
        if text:
            target.title.append(text[:4 * _MAX_TITLE])
            target.out.title = " ".join(target.title[0].split())[:_MAX_TITLE]


def extract(html: str, url: str, *, max_links: int, max_elements: int = DEFAULT_MAX_ELEMENTS) -> Extracted:
    """Never raises: a page lxml cannot parse yields what was found before the error."""
    if not html.strip():
        return Extracted()
    if len(html) <= TREE_BYTES and html.count("<") < min(TREE_TAGS, max_elements):
        # Fewer tags than the element limit: the stream would not have stopped early either.
        found = _from_tree(html, url, max_links)
        if found is not None:
            return found
    return _streamed(html, url, max_links, max_elements)


def _streamed(html: str, url: str, max_links: int, max_elements: int) -> Extracted:
    """The stream path: no tree, constant memory, stops after ``max_elements``."""
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
