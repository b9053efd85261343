"""Pass 3, site template: blocks that repeat across most pages of a site are chrome.

We crawl whole sites, so a block that sits at the same place in the DOM with the same
text on most pages (a site-title banner, a "Home | Contents | Index" bar, a "Last
update:" footer, a sidebar) is the site's template, whatever its classes are called.
Each page yields a key per block element: a hash of its DOM path (tag and first class
of every ancestor) and of its whitespace-collapsed text with digits folded (so
"Last update: 2026-12-01" matches across pages). A `SiteTemplate` counts on how many
pages of a job each key occurs; keys on at least half of the pages (and on
`DEFAULT_MIN_PAGES` or more) form the template, and `strip` removes the outermost
blocks of a page whose key is in it. What stays is what is unique to the page.

Guards, so repeated *content* is never mistaken for chrome: code (`pre`) is never a
template block; a short block of plain text ("Parameters", "Returns") is stripped only
when it is an `h1` (a site title) or mostly links; a block holding a semantic main
region is never stripped. Text identical on half of a site's pages cannot be a page's
own main text, so this pass cannot delete a page - unlike a word list.

Streaming design (pages are converted as they arrive, in worker processes):
  - Workers are stateless. `convert(html, url, template=keys)` strips the given keys and
    always returns the page's own keys (`Converted.template_keys`, computed before
    stripping).
  - The processor service keeps one `SiteTemplate` per job in its own process (the
    single writer: asyncio, no locks), adds every page's keys to it and hands the
    current template to the worker with each page.
  - Until `DEFAULT_LEARN_PAGES` pages have been seen the template is not trusted: those
    pages are converted with the per-page rules only and held (HTML, bounded by count
    and bytes). Once it is ready the held pages are converted again with it and stored
    again (the store's put replaces a page), so the first pages end up as clean as the
    rest. A page whose conversion began before and ended after that moment is
    re-converted at once.
  - The table is derived data: it is rebuilt from the pages that arrive if the process
    restarts (pages converted meanwhile keep the per-page rules), and each processor
    replica learns from the pages it converts. It is small (ints) and bounded per job;
    jobs are evicted least-recently-used.
"""

from __future__ import annotations

import re
from collections import Counter, OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from hashlib import blake2b
from zlib import crc32

import lxml.etree as etree

from .junk import drop
from .main import Lengths
from .parse import Element
from .vocab import SEMANTIC_TAGS

__all__ = ["DEFAULT_LEARN_PAGES", "DEFAULT_MIN_PAGES", "DEFAULT_SHARE", "SiteTemplate", "TemplateRegistry",
           "keys_of", "strip"]

DEFAULT_LEARN_PAGES = 8      # pages seen before the template is used
DEFAULT_MIN_PAGES = 4        # a template block occurs on at least this many pages...
DEFAULT_SHARE = 0.5          # ...and on at least this share of the pages seen
DEFAULT_HOLD_BYTES = 16 << 20  # HTML held for re-conversion, per job
DEFAULT_MAX_JOBS = 256       # templates kept at once (least recently used evicted)
DEFAULT_MAX_KEYS = 200_000   # distinct keys counted per job (a runaway site stops learning new ones)

BLOCK_TAGS = frozenset(
    "div section nav header footer aside ul ol dl table p h1 h2 h3 h4 h5 h6 form center blockquote address "
    "figure details menu".split())
_DIGITS = re.compile(r"\d+")
_HAS_DIGIT = re.compile(r"\d")
_MAX_BLOCK = 16384
_MIN_TEXT = 20


def keys_of(body: Element) -> tuple[dict[Element, int], dict[Element, tuple[int, int]], Lengths]:
    """Per block element its template key and its (text length, link-text length), and
    the text lengths of every element (main.Lengths, counted in the same walk). One
    walk collects the page's text once with each block's span in it; a block's key
    hashes its span of text and its path of block ancestors."""
    parts: list[str] = []
    pos = 0
    in_link = 0
    link_chars = 0
    stack: list[tuple[int, int, int]] = []  # (text start, link chars at start, path)
    spans: list[tuple[Element, int, int, int, int]] = []
    acc: list[list[int]] = []  # per open element: [stripped text length, link text length]
    text_len: dict[Element, int] = {}
    link_len: dict[Element, int] = {}
    for event, el in etree.iterwalk(body, events=("start", "end")):
        tag = el.tag
        if event == "start":
            t = el.text
            acc.append([len(t.strip()) if t else 0, 0])
            if tag == "a":
                in_link += 1
            if tag in BLOCK_TAGS:
                cls = el.get("class")
                step = tag + "." + cls.split()[0] if cls and not cls.isspace() else tag
                stack.append((pos, link_chars, crc32(step.encode("utf-8", "replace"), stack[-1][2] if stack else 0)))
            if t:
                parts.append(t)
                pos += len(t)
                if in_link:
                    link_chars += len(t)
            continue
        own = acc.pop()
        n, lk = own
        if tag == "a" and el.get("href") is not None:
            lk = n
        text_len[el] = n
        link_len[el] = lk
        if tag in BLOCK_TAGS:
            start, links0, path = stack.pop()
            if pos > start:
                spans.append((el, start, pos, link_chars - links0, path))
        if tag == "a":
            in_link -= 1
        t = el.tail
        if acc:
            up = acc[-1]
            up[0] += n + (len(t.strip()) if t else 0)
            up[1] += lk
        if t and el is not body:
            parts.append(t)
            pos += len(t)
            if in_link:
                link_chars += len(t)
    text = "".join(parts)
    keys: dict[Element, int] = {}
    sizes: dict[Element, tuple[int, int]] = {}
    for el, start, end, links, path in spans:
        if end - start > _MAX_BLOCK:
            continue  # a template block is not this long (its parts still get keys)
        chunk = text[start:end].strip()
        if not chunk:
            continue
        # Whitespace as the generator wrote it (the same on every page); digits folded.
        norm = _DIGITS.sub("0", chunk) if _HAS_DIGIT.search(chunk) else chunk
        digest = blake2b(norm.encode("utf-8", "replace"), digest_size=8, salt=path.to_bytes(4, "little"))
        keys[el] = int.from_bytes(digest.digest(), "little") >> 1  # fits a signed 64-bit field
        sizes[el] = (len(norm), links)
    return keys, sizes, Lengths(body, text_len, link_len)


def strip(body: Element, keys: dict[Element, int], sizes: dict[Element, tuple[int, int]],
          template: frozenset[int], lengths: Lengths | None = None) -> int:
    """Remove the outermost blocks whose key is in the template; the number removed
    (`lengths` is kept up to date)."""
    if not template:
        return 0
    remove: list[Element] = []
    skip: set[Element] = set()
    for el in body.iter():
        if el in skip or not isinstance(el.tag, str):
            continue
        parent = el.getparent()
        if parent is not None and parent in skip:
            skip.add(el)
            continue
        if el.tag == "pre":
            skip.add(el)
            continue
        key = keys.get(el)
        if key is None or key not in template:
            continue
        n, links = sizes[el]
        if n < _MIN_TEXT and el.tag != "h1" and links * 2 < n:
            continue
        if el.tag == "table" and links * 2 < n:
            continue
        if next((x for x in el.iter(*SEMANTIC_TAGS)), None) is not None or el.find(".//*[@role='main']") is not None:
            continue
        remove.append(el)
        skip.add(el)
    for el in remove:
        for sib in (el.getprevious(), el.getnext()):
            if sib is not None and sib.tag == "hr":
                sib.set("data-dp-chrome", "1")
        if lengths is not None:
            lengths.forget(el)
        drop(el)
    return len(remove)


@dataclass
class _Held:
    key: object
    html: str | bytes


@dataclass
class SiteTemplate:
    """The learning table of one job (lives in the processor service, see above)."""

    learn_pages: int = DEFAULT_LEARN_PAGES
    min_pages: int = DEFAULT_MIN_PAGES
    share: float = DEFAULT_SHARE
    hold_bytes: int = DEFAULT_HOLD_BYTES
    max_keys: int = DEFAULT_MAX_KEYS
    pages: int = 0
    counts: Counter[int] = field(default_factory=Counter)
    held: list[_Held] = field(default_factory=list)
    held_bytes: int = 0
    _cache: frozenset[int] | None = None
    _cache_pages: int = -1

    @property
    def ready(self) -> bool:
        return self.pages >= self.learn_pages

    def add(self, keys: Iterable[int]) -> bool:
        """Count one page's keys; True when this page made the template ready."""
        was = self.ready
        counts = self.counts
        for k in set(keys):
            if k in counts or len(counts) < self.max_keys:
                counts[k] += 1
        self.pages += 1
        return self.ready and not was

    def template(self) -> frozenset[int] | None:
        """The keys on enough pages, or None while still learning."""
        if not self.ready:
            return None
        # Recomputed as the site grows, but not for every page of a big site.
        if self._cache is None or self.pages >= self._cache_pages * 1.1 + 1:
            need = max(self.min_pages, int(self.pages * self.share + 0.999))
            self._cache = frozenset(k for k, n in self.counts.items() if n >= need)
            self._cache_pages = self.pages
        return self._cache

    def hold(self, key: object, html: str | bytes) -> bool:
        """Keep a page converted before the template was ready; False when over budget."""
        if self.held_bytes + len(html) > self.hold_bytes:
            return False
        self.held.append(_Held(key, html))
        self.held_bytes += len(html)
        return True

    def take_held(self) -> list[_Held]:
        out, self.held, self.held_bytes = self.held, [], 0
        return out


class TemplateRegistry:
    """The `SiteTemplate` of every job a processor serves, least recently used evicted."""

    def __init__(self, *, max_jobs: int = DEFAULT_MAX_JOBS) -> None:
        self._max_jobs = max_jobs
        self._jobs: OrderedDict[str, SiteTemplate] = OrderedDict()

    def get(self, job_id: str) -> SiteTemplate:
        t = self._jobs.get(job_id)
        if t is None:
            t = self._jobs[job_id] = SiteTemplate()
            while len(self._jobs) > self._max_jobs:
                self._jobs.popitem(last=False)
        else:
            self._jobs.move_to_end(job_id)
        return t
