"""Pass 3, site template: blocks that repeat across most pages of a site are chrome.

We crawl whole sites, so a block that sits at the same place in the DOM with the same
text on most pages (a site-title banner, a "Home | Contents | Index" bar, a "Last
update:" footer, a sidebar) is the site's template, whatever its classes are called.
Each page yields a key per block element, computed on the whole page before anything
is removed: a hash of its path of block ancestors (tag and first class) and of its
text with dates and times folded (so "Last update: 2026-12-01" matches across pages). A
`SiteTemplate` counts on how many pages of a job each key occurs; keys on at least
half of the pages (and on `DEFAULT_MIN_PAGES` or more) form the template.

`strip` runs once the main content is chosen (main.py) and removes template blocks at
its edges: before the page's first text of its own and after its last, looking
through wrappers. What is left around the content by the per-page rules is chrome
when the whole site repeats it there; a repeated block *between* pieces of a page's
own text ("Stability: 2 - Stable" under a heading, "Added in: v12.17.0") is content.
Guards, so repeated *content* is never mistaken for chrome: code (`pre`) is never a
template block; a short block of plain text ("Parameters", "Returns") is stripped only
when it is an `h1` outside any `<article>` beside another h1 (a site title; a banner heading
every document of the site starts with is the documents' own) or mostly links; a block of the
page's own heading group is never (an h1 side by side with the page's h1, the label lines just
before the page's only h1 in its wrapper: Javadoc's "Module java.base"); a table, a section heading (h2-h6)
or a block holding one (a man page's closing "GIT - Part of the git suite" section)
only when mostly links (a navigation box), and then none of its parts either; a block
holding a semantic main region never. Text identical on half of a site's pages cannot be a page's
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
from bisect import bisect_left
from collections import Counter, OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from hashlib import blake2b
from zlib import crc32

import lxml.etree as etree

from .junk import drop
from .main import Lengths
from .parse import Element, text_of
from .vocab import SEMANTIC_TAGS

__all__ = ["DEFAULT_LEARN_PAGES", "DEFAULT_MIN_PAGES", "DEFAULT_SHARE", "SiteTemplate", "TemplateRegistry",
           "changes", "keys_of", "strip"]

DEFAULT_LEARN_PAGES = 8      # pages seen before the template is used
DEFAULT_MIN_PAGES = 4        # a template block occurs on at least this many pages...
DEFAULT_SHARE = 0.5          # ...and on at least this share of the pages seen
DEFAULT_HOLD_BYTES = 16 << 20  # HTML held for re-conversion, per job
DEFAULT_MAX_JOBS = 256       # templates kept at once (least recently used evicted)
DEFAULT_MAX_KEYS = 200_000   # distinct keys counted per job (a runaway site stops learning new ones)

BLOCK_TAGS = frozenset(
    "div section nav header footer aside ul ol dl table p h1 h2 h3 h4 h5 h6 form center blockquote address "
    "figure details menu".split())
# Dates and times fold to zeros ("Last update: Dec 01, 2026, 10:42" matches across
# pages); other numbers stay, so pages that differ only by a number stay different.
_MONTH3 = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_MONTH = _MONTH3 + r"[a-z]*\.?"
# Written to open with a digit (a month name), so the regex engine skips ahead to
# the next one instead of trying every position; the look-behind right after it says
# what `\b` before it would (nothing of a word precedes). Same matches as
#   \b(?:19|20)\d\d(?:[-/.]\d{1,2}(?:[-/.]\d{1,2})?)?\b | \b\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b
#   | \b\d{1,2}:\d\d(?::\d\d)?\b | \b\d{1,2}(?=(?:st|nd|rd|th)?\.? MONTH)
# and (\bMONTH )\d{1,2}\b, in a third of the time.
_DATES = re.compile(
    rf"\d(?<!\w\d)(?:(?:(?<=1)9|(?<=2)0)\d\d(?:[-/.]\d{{1,2}}(?:[-/.]\d{{1,2}})?)?\b"
    rf"|\d?[/.]\d{{1,2}}[/.]\d{{2,4}}\b|\d?:\d\d(?::\d\d)?\b|\d?(?=(?:st|nd|rd|th)?\.? {_MONTH}))")
_MONTH_DAY = re.compile(rf"({_MONTH3}(?<!\w{_MONTH3})[a-z]*\.? )\d{{1,2}}\b")


def _fold(text: str) -> str:
    return _MONTH_DAY.sub(r"\g<1>0", _DATES.sub("0", text))


# What every match of _DATES and _MONTH_DAY contains (a date's digits with what
# follows them, or a month name and the day after it), found in the page's whole text
# once: a block holding none of them cannot change by folding, so most blocks with
# digits (version numbers, counts) skip the two regexes. The digit's part consumes
# the digit only (its look-ahead the rest), so overlapping occurrences are all found.
_DATE_DIGIT = re.compile(rf"\d(?=(?<=[12])[90]\d\d|[/.]\d\d?[/.]\d\d|:\d\d|(?:st|nd|rd|th)?\.? {_MONTH3})")
_DATE_MONTH = re.compile(rf"{_MONTH3}[a-z]*\.? \d")
_DATE_MIN = 4  # the shortest of those ("20dd", "d:dd")
_MAX_BLOCK = 16384
_FOLD_MAX = 1024
_SECTION_HEADINGS = ("h2", "h3", "h4", "h5", "h6")
_MIN_TEXT = 20


def _date_starts(text: str) -> list[int]:
    """Where in `text` something _fold may change starts (sorted)."""
    out = [m.start() for m in _DATE_DIGIT.finditer(text)]
    months = [m.start() for m in _DATE_MONTH.finditer(text)]
    if months:
        out = sorted(out + months)
    return out


def _key(chunk: str, path: int, dated: bool) -> tuple[int, int]:
    """A block's key and the length of its normalised text; `dated`: the block may
    hold a date (false only when folding cannot change it, so the result is the same
    either way). Not memoised: most blocks are a page's own text, and an LRU cache's
    lookup and upkeep on every miss cost more than hashing again (keys_of 5-16 %
    slower with a 4096-entry cache on the corpora, hit rates 15-44 %)."""
    # Whitespace as the generator wrote it (the same on every page); dates folded.
    # (a long block is not a dated footer: it is hashed as it is)
    norm = _fold(chunk) if dated and len(chunk) <= _FOLD_MAX else chunk
    digest = _hasher(path).copy()
    digest.update(norm.encode("utf-8", "replace"))
    return int.from_bytes(digest.digest(), "little") >> 1, len(norm)  # fits a signed 64-bit field


_HASHERS: dict[int, blake2b] = {}
_MAX_HASHERS = 4096


def _hasher(path: int) -> blake2b:
    """The empty hash salted with a block path, copied for each block on it: a copy costs
    a third of setting up blake2b with its salt and size (a page has a few dozen
    distinct paths, a site not many more)."""
    h = _HASHERS.get(path)
    if h is None:
        if len(_HASHERS) >= _MAX_HASHERS:
            _HASHERS.clear()
        h = _HASHERS[path] = blake2b(digest_size=8, salt=path.to_bytes(4, "little"))
    return h


def keys_of(body: Element, landmarks: set[Element] | None = None
            ) -> tuple[dict[Element, int], dict[Element, tuple[int, int]], Lengths]:
    """Per block element its template key and its (text length, link-text length), and
    the text lengths of every element and the semantic regions (main.Lengths, found in
    the same walk; elements without text have no entry). One walk collects the page's text once with each
    block's span in it; a block's key hashes its span of text and its path of block
    ancestors. `landmarks`: the elements that are main regions by an attribute
    (junk.Marks, noted as clean read the attributes; found here when not given)."""
    if landmarks is None:
        landmarks = {el for el in body.iter() if el.get("role") == "main" or el.get("itemprop") == "articleBody"}
    parts: list[str] = []
    add = parts.append
    pos = 0
    in_link = 0
    link_chars = 0
    stack: list[tuple[int, int, int]] = []  # open blocks: (text start, link chars at start, path)
    spans: list[tuple[Element, int, int, int, int]] = []
    up: list[tuple[int, int]] = []  # per open element, its parent's (text length, link length) so far
    n = lk = 0  # the current element's stripped text length and link text length so far
    text_len: dict[Element, int] = {}
    link_len: dict[Element, int] = {}
    blocks = BLOCK_TAGS
    semantic: list[Element] = []  # main.Lengths.semantic, in document order
    semantic_tags = SEMANTIC_TAGS
    walker = etree.iterwalk(body, events=("start", "end"))
    for event, el in walker:
        tag = el.tag
        if event == "start":
            up.append((n, lk))
            lk = 0
            if tag == "pre":
                # Code is never a template block and no pass looks inside it for text
                # lengths: its text is taken whole (highlighted code is half the elements).
                walker.skip_subtree()
                t = text_of(el)
                n = len(t.strip())
                add(t)
                pos += len(t)
                if landmarks:
                    semantic.extend(d for d in el.iter() if d.tag in semantic_tags or d in landmarks)
                else:
                    semantic.extend(el.iter(*semantic_tags))  # (main.is_semantic)
                continue
            t = el.text
            if tag in semantic_tags or (landmarks and el in landmarks):
                semantic.append(el)  # (main.is_semantic)
            if tag == "a":
                in_link += 1
            if tag in blocks:
                cls = el.get("class")
                step = tag + "." + cls.split()[0] if cls and not cls.isspace() else tag
                stack.append((pos, link_chars, crc32(step.encode("utf-8", "replace"), stack[-1][2] if stack else 0)))
            if t:
                n = len(t.strip())
                add(t)
                pos += len(t)
                if in_link:
                    link_chars += len(t)
            else:
                n = 0
            continue
        if tag == "a":
            in_link -= 1
            if el.get("href") is not None:
                lk = n
        if n:
            text_len[el] = n
            if lk:
                link_len[el] = lk
        if tag in blocks:
            start, links0, path = stack.pop()
            if pos > start:
                spans.append((el, start, pos, link_chars - links0, path))
        t = el.tail
        parent_n, parent_lk = up.pop()
        lk += parent_lk
        if t:
            n += parent_n + len(t.strip())
            if el is not body:
                add(t)
                pos += len(t)
                if in_link:
                    link_chars += len(t)
        else:
            n += parent_n
    text = "".join(parts)
    dates = _date_starts(text)
    keys: dict[Element, int] = {}
    sizes: dict[Element, tuple[int, int]] = {}
    for el, start, end, links, path in spans:
        if end - start > _MAX_BLOCK:
            continue  # a template block is not this long (its parts still get keys)
        chunk = text[start:end].strip()
        if not chunk:
            continue
        if len(chunk) <= _FOLD_MAX:
            i = bisect_left(dates, start) if dates else 0
            key, size = _key(chunk, path, i < len(dates) and dates[i] <= end - _DATE_MIN)
        else:
            key, size = _key(chunk, path, False)  # too long to fold
        keys[el] = key
        sizes[el] = (size, links)
    return keys, sizes, Lengths(body, text_len, link_len, semantic)


_WRAPPERS = frozenset({"div", "section", "article", "main", "body", "center", "span", "font", "td", "tr", "tbody",
                       "table"})


def _in_article(el: Element) -> bool:
    """Inside an <article>: its headings are the article's own (a site title sits in the
    page's header, not in the article a generator renders the document into)."""
    return any(a.tag == "article" for a in el.iterancestors())


def _title_group(el: Element, main: Element, h1s: list[Element]) -> bool:
    """`el` belongs to the page's own title: it is an h1 side by side with another h1 (a
    banner the documents start with, right above their title: fastify's docs rendered by
    pandoc), or a line just before the page's only h1 inside the wrapper that holds
    that h1 (a heading group: Javadoc's "Module java.base" / "Package java.util" lines
    above "Interface Supplier<T>"). A site's title or bar sits in a container of its
    own, apart from the document's heading."""
    parent = el.getparent()
    if parent is None:
        return False
    if el.tag == "h1":
        return any(h is not el and h.getparent() is parent for h in h1s)
    if len(h1s) != 1 or parent is main:
        return False
    h1 = h1s[0]
    return h1.getparent() is parent and any(s is el for s in h1.itersiblings(preceding=True))


def _strippable(el: Element, sizes: dict[Element, tuple[int, int]], main: Element, h1s: list[Element]) -> bool:
    """The guards: repeated content that is not chrome (`h1s`: the main content's h1s)."""
    if el.tag == "pre" or next(el.iterdescendants("pre"), None) is not None:
        return False
    if h1s and _title_group(el, main, h1s):
        return False
    n, links = sizes[el]
    linky = links * 2 >= n
    # A repeated h1 is the site's title beside the page's own h1; the page's only h1
    # is its title even when every page has the same one (a banner each document of
    # the site starts with: fastify's Markdown, rendered by pandoc into a bare <body>).
    if n < _MIN_TEXT and not linky and (el.tag != "h1" or _in_article(el) or len(h1s) < 2):
        return False
    if not linky and (el.tag == "table" or el.tag in _SECTION_HEADINGS
                      or next(el.iterdescendants(*_SECTION_HEADINGS), None) is not None):
        return False
    if el.tag in SEMANTIC_TAGS or next(el.iterdescendants(*SEMANTIC_TAGS), None) is not None:
        return False
    return True


def strip(main: Element, keys: dict[Element, int], sizes: dict[Element, tuple[int, int]],
          template: frozenset[int] | None, lengths: Lengths, probe: list[int] | None = None) -> int:
    """Remove the template blocks at the edges of the main content - before its first
    and after its last text of its own, at any depth of wrappers; the number removed.
    A repeated block between two pieces of the page's own text is content.

    `probe` collects the keys the walk asked the template about, in order: the walk
    (and so the page) comes out the same under any template that answers each of
    them as this one did (see `changes`), so a page converted before its site's
    template was ready needs converting again only when the template holds one."""
    if not template:
        if probe is None:
            return 0
        template = frozenset()
    remove: list[Element] = []
    chosen: set[Element] = set()
    h1s = list(main.iter("h1"))

    def edge(node: Element, depth: int, leading: bool) -> None:
        if leading and node.text and node.text.strip():
            return
        kids = [c for c in node if isinstance(c.tag, str)]
        if not leading:
            kids.reverse()
        for c in kids:
            if not leading and c.tail and c.tail.strip():
                return
            if c in chosen:
                return  # the other edge got here
            key = keys.get(c)
            if key is not None and probe is not None:
                probe.append(key)
            if key is not None and key in template:
                if not _strippable(c, sizes, main, h1s):
                    return  # repeated content (a standard closing section): the text starts here
                remove.append(c)
                chosen.add(c)
                if leading and c.tail and c.tail.strip():
                    return
                continue
            if c not in sizes and next(c.iter("img", "pre", "table", "math"), None) is None:
                if leading and c.tail and c.tail.strip():
                    return
                continue  # nothing to read (an empty anchor, a rule): look further
            if depth < 12 and c.tag in _WRAPPERS:
                edge(c, depth + 1, leading)
            return

    edge(main, 0, True)
    edge(main, 0, False)
    # A recursive closure is a reference cycle (edge -> its cell -> edge) holding the
    # page's dicts and through them its whole tree: freed only by the cyclic GC, whose
    # collections then walk every element proxy of every such page.
    del edge
    total = lengths.text.get(main, 0)
    if not remove or sum(lengths.text.get(el, 0) for el in remove) >= 0.9 * total:
        return 0  # never the whole page
    for el in remove:
        for sib in (el.getprevious(), el.getnext()):
            if sib is not None and sib.tag == "hr":
                sib.set("data-dp-chrome", "1")
        drop(el)
    return len(remove)


def changes(probe: Iterable[int], before: frozenset[int] | None, after: frozenset[int] | None) -> bool:
    """Whether a page converted under the template `before` (None: none), whose strip
    walk asked about the keys `probe` (`Converted.template_probe`), may convert
    differently under `after`: only when the two templates answer one of those keys
    differently. Otherwise the walk takes the same steps and removes the same blocks."""
    if not after:
        after = frozenset()
    if not before:
        return not after.isdisjoint(probe)
    return any((k in before) != (k in after) for k in probe)


@dataclass
class Held:
    """A page converted before its job's template was ready: (order, depth, url), HTML,
    and the keys its template strip asked about (Converted.template_probe)."""
    key: tuple[int, int, str]
    html: str
    probe: tuple[int, ...] = ()


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
    # The keys counted on at least min_pages pages (at least one): the only ones the
    # template can hold, a few thousand of a big site's hundreds of thousands of keys
    # (most blocks are one page's own text), so `template` looks at these alone.
    frequent: set[int] = field(default_factory=set)
    held: list[Held] = field(default_factory=list)
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
        page = set(keys)
        if len(counts) + len(page) <= self.max_keys:
            counts.update(page)  # (counted in C: no key can pass the cap)
        else:
            for k in page:
                if k in counts or len(counts) < self.max_keys:
                    counts[k] += 1
        # A key joins `frequent` on the page that brings it to min_pages (a key past the
        # cap was not counted: its count stays 0).
        at = max(1, self.min_pages)
        self.frequent.update(k for k in page if counts.get(k) == at)
        self.pages += 1
        return self.ready and not was

    def template(self) -> frozenset[int] | None:
        """The keys on enough pages, or None while still learning."""
        if not self.ready:
            return None
        # Recomputed as the site grows, but not for every page of a big site.
        if self._cache is None or self.pages >= self._cache_pages * 1.1 + 1:
            need = max(self.min_pages, int(self.pages * self.share + 0.999))
            counts = self.counts  # (need >= min_pages: every key with n >= need is frequent)
            self._cache = frozenset(k for k in self.frequent if counts[k] >= need)
            self._cache_pages = self.pages
        return self._cache

    def hold(self, key: tuple[int, int, str], html: str, probe: tuple[int, ...] = ()) -> bool:
        """Keep a page converted before the template was ready; False when over budget."""
        if self.held_bytes + len(html) > self.hold_bytes:
            return False
        self.held.append(Held(key, html, probe))
        self.held_bytes += len(html)
        return True

    def take_held(self) -> list[Held]:
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
