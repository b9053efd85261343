"""Outputs built from a job's pages: the combined Markdown document and JSONL.

The combined document is a header, a table of contents nested by the site's path
structure (each entry with its page's token count), then one section per page in the
contents' order. Inside a section the page's headings are re-levelled so the outline
never jumps (the page title is the section's ``##``, its top heading ``###``, and each
heading at most one level below the one before). Links between bundled pages point at
the linked page's section, and at the heading or API entry their fragment named when
the page has it (``api.html#flask.Flask.route`` -> that entry's anchor in the document).

Writers stream: a caller gives the page index first (URL, title, token count and the
page's anchors, no Markdown) and then adds the pages one at a time, so only one page's
Markdown is held at once."""

from __future__ import annotations

import io
import json
import marshal
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TextIO
from urllib.parse import unquote, urlsplit

from docspasta.urls import InvalidURL, directory_prefix, normalize

_HEADING = re.compile(r"^(#{1,6})(\s+)(.*)$")
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
_LINK = re.compile(r"\]\((https?://[^)\s]+)\)")
# Anchors a converter may have kept in the Markdown: <a id="x"></a>, <span id="x">, {#x}.
_EXPLICIT_ID = re.compile(r"""<(?:a|span)\s+(?:name|id)=["']([^"']+)["']|\{#([^}\s]+)\}""")
# An API entry's full name in a signature line (Sphinx ids are these: flask.Flask.route).
# Possessive, and never starting right after a letter: the same first match as
# [A-Za-z_][\w$]*(?:(?:\.|::)[A-Za-z_][\w$]*)+ (a match starting there would start one
# character earlier too; a shorter run is followed by a word character, never a '.' or
# ':'), without trying every position of every word (3-4x faster on long lines).
_DOTTED = re.compile(r"(?<![A-Za-z_])[A-Za-z_][\w$]*+(?:\.|::)[A-Za-z_][\w$]*+(?:(?:\.|::)[A-Za-z_][\w$]*+)*+")
_SLUG_DROP = re.compile(r"[^\w\s.-]", re.U)
_SLUG_MARKUP = re.compile(r"`|\*\*|__|\[([^\]]*)\]\([^)]*\)")
_SPACES = re.compile(r"\s+")
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
MAX_HEADING = 6
# The page title is the section heading (##); the page's own headings start below it.
SECTION_LEVEL = 2
DEFAULT_NAME_PATH_CHARS = 60


@dataclass(frozen=True, slots=True, kw_only=True)
class PageDoc:
    url: str
    title: str
    markdown: str
    word_count: int = 0
    token_estimate: int = 0
    description: str = ""
    depth: int = 0
    # Fragments this page can be linked to (lower case), from page_anchors(); filled by
    # index_entry() so a writer resolves links into pages it has not seen yet.
    anchors: frozenset[str] = frozenset()
    # (page key, lower-case fragment) of this page's links that name a fragment.
    fragment_links: frozenset[tuple[str, str]] = frozenset()


def default_filename(url: str, day: date | None = None, suffix: str = ".md") -> str:
    """``https://docs.python.org/3/tutorial/`` -> ``docs.python.org-3-tutorial-<date>.md``;
    a port is part of the name (``127.0.0.1_8001-<date>.md``): two sites, two files."""
    parts = urlsplit(url)
    host = parts.hostname or "docs"
    try:
        port = parts.port
    except ValueError:
        port = None
    name = host + (f"_{port}" if port else "")
    segments = [s for s in parts.path.split("/") if s]
    if segments and not parts.path.endswith("/") and "." in segments[-1]:
        segments.pop()  # /docs/index.html -> docs
    path = re.sub(r"[^A-Za-z0-9._-]+", "-", "-".join(unquote(s) for s in segments)).strip("-.")
    if path:
        name += "-" + path[:DEFAULT_NAME_PATH_CHARS].rstrip("-.")
    return f"{name}-{(day or date.today()).isoformat()}{suffix}"


def jsonl_line(page: PageDoc) -> str:
    return json.dumps({"url": page.url, "title": page.title, "markdown": page.markdown,
                       "word_count": page.word_count, "token_estimate": page.token_estimate,
                       "description": page.description}, ensure_ascii=False) + "\n"


# Control characters json.dumps writes as \b, \f or \u00XX (all but tab, newline, CR).
_JSON_RARE = bytes(c for c in range(32) if c not in (9, 10, 13))
_JSON_NOT_RARE = bytes(c for c in range(256) if c not in _JSON_RARE)


def jsonl_bytes(page: PageDoc, markdown: bytes) -> bytes:
    """``jsonl_line(page)`` in UTF-8, given the page's Markdown in UTF-8: the Markdown
    (nearly all of the line) is escaped as json.dumps escapes it (ensure_ascii=False) by
    bytes.replace, ~4x faster than json's escaping of the text (UTF-8 holds '\\', '"'
    and control characters only as themselves). A page with a rarer control character
    takes json.dumps."""
    if markdown.translate(None, _JSON_NOT_RARE):
        return jsonl_line(page).encode("utf-8")
    body = (markdown.replace(b"\\", b"\\\\").replace(b'"', b'\\"').replace(b"\n", b"\\n").replace(b"\r", b"\\r")
            .replace(b"\t", b"\\t"))
    head = json.dumps({"url": page.url, "title": page.title}, ensure_ascii=False)[:-1]
    tail = json.dumps({"word_count": page.word_count, "token_estimate": page.token_estimate,
                       "description": page.description}, ensure_ascii=False)[1:]
    return b"".join((head.encode("utf-8"), b', "markdown": "', body, b'", ', tail.encode("utf-8"), b"\n"))


def joined(lines: Iterable[str]) -> str:
    """``"\n".join(lines).rstrip() + "\n"``."""
    return "\n".join(lines).rstrip() + "\n"


def write_joined(write: Callable[[str], object], lines: Iterable[str]) -> None:
    """Writes ``joined(lines)`` a line at a time (a document's contents can be long):
    blank lines are held back until a line with text follows, the last line with text
    until the end (where its trailing whitespace goes)."""
    pending: list[str] = []
    started = False
    for line in lines:
        if not line.strip():
            pending.append(line)
            continue
        for held in pending:
            write(f"\n{held}" if started else held)
            started = True
        pending = [line]
    if pending and pending[0].strip():
        write(f"\n{pending[0].rstrip()}" if started else pending[0].rstrip())
    write("\n")


# -- headings -------------------------------------------------------------------------

# These passes see every line of every page in the output step, so they work on the
# page's text by offsets and never split it into lines: the lines that can matter (a
# fence, a heading, a signature line, an explicit id's line) are found by regexes that
# begin with a newline (sre skips to a literal first character in C; the text is
# searched as "\n" + text, so a match's start is its line's start in the text) and by
# str.find of one character; only those lines are sliced out. A line is what
# str.split("\n") gives.

# _FENCE at a line's start ([^\S\n] is \s without the newline that ends the line).
_FENCE_LINE = re.compile(r"\n[^\S\n]*(`{3,}|~{3,})")
_HEADING_LINE = re.compile(r"\n#")


def _line_end(text: str, start: int) -> int:
    end = text.find("\n", start)
    return len(text) if end < 0 else end


def _code_ranges(text: str) -> list[tuple[int, int]]:
    """(first, last) line start offset of each fenced code block, its fence lines
    included (an unclosed fence runs to the end)."""
    ranges: list[tuple[int, int]] = []
    fence = ""
    first = 0
    for m in _FENCE_LINE.finditer("\n" + text):
        run = m.group(1)
        if not fence:
            fence, first = run, m.start()
        elif run[0] == fence[0] and len(run) >= len(fence):
            ranges.append((first, m.start()))
            fence = ""
    if fence:
        ranges.append((first, len(text)))
    return ranges


def _outside_code(candidates: list[int], text: str) -> list[int]:
    """The line start offsets of ``candidates`` (ascending) that are not in fenced code."""
    if "```" not in text and "~~~" not in text:
        return candidates
    ranges = _code_ranges(text)
    if not ranges:
        return candidates
    out: list[int] = []
    r = 0
    for i in candidates:
        while r < len(ranges) and ranges[r][1] < i:
            r += 1
        if r == len(ranges) or i < ranges[r][0]:
            out.append(i)
    return out


def relevel(markdown: str, top: int) -> str:
    """The page's headings shifted so its highest heading is ``top``, and each heading at
    most one level deeper than the one before it (``##`` then ``####`` becomes ``##``
    then ``###``); capped at ``######``. Code fences are left alone."""
    return edited(markdown, marks(markdown, anchors=False), top=top)


def _drop_title_heading(markdown: str, title: str) -> str:
    first, _, rest = markdown.lstrip("\n").partition("\n")
    if first.startswith("# ") and first[2:].strip() == title.strip():
        return rest.lstrip("\n")
    return markdown


# -- anchors --------------------------------------------------------------------------

def slug(text: str) -> str:
    """The id most generators give a heading: lower case, punctuation dropped (dots,
    hyphens and underscores kept), spaces to hyphens. ``Getting Started!`` ->
    ``getting-started``."""
    text = _SLUG_MARKUP.sub(_link_text, text)
    return _SPACES.sub("-", _SLUG_DROP.sub("", text).strip().lower())


def _link_text(m: re.Match[str]) -> str:
    return m.group(1) or ""


def _line_anchors(line: str, heading: re.Match[str] | None) -> list[str]:
    # _EXPLICIT_ID needs a '<a', a '<span' or a '{#': most lines have none.
    ids = "<a" in line or "<span" in line or "{#" in line
    found = [a or b for a, b in _EXPLICIT_ID.findall(line)] if ids else []
    if heading is not None:
        text = (_EXPLICIT_ID.sub("", heading.group(3)) if ids else heading.group(3)).strip()
        found.append(slug(text))
        if _may_be_dotted(text) and (dotted := _DOTTED.search(text)):  # the first one
            found.append(dotted.group())
    elif line.startswith(_SIGNATURE_STARTS) and _may_be_dotted(line) and (dotted := _DOTTED.search(line)):
        found.append(dotted.group())  # a signature line: **`class flask.Flask(...)`**
    return [a.lower() for a in found if a]


_SIGNATURE_STARTS = ("**", "`", "- **", "- `")
# A line that starts as a heading, or as a signature line (_SIGNATURE_STARTS) with a '.'
# or ':' further on (a signature's anchor is a dotted name; most such lines have none).
_ANCHOR_LINE = re.compile(r"\n(?:#|(?:\*\*|`|- \*\*|- `)[^\n]*?[.:])")


def _may_be_dotted(text: str) -> bool:
    # _DOTTED needs a '.' or a '::', and tries every word of a line that has neither.
    return "." in text or "::" in text


def _id_lines(text: str) -> list[int]:
    """The start offsets of the lines holding '<a', '<span' or '{#' (_EXPLICIT_ID needs
    one), ascending."""
    starts: list[int] = []
    find, rfind, startswith = text.find, text.rfind, text.startswith
    for char, then in (("<", ("a", "span")), ("{", "#")):
        i = find(char)
        while i >= 0:
            if startswith(then, i + 1):
                starts.append(rfind("\n", 0, i) + 1)
                i = find("\n", i)
                if i < 0:
                    break
            i = find(char, i + 1)
    return sorted(set(starts))


@dataclass(frozen=True, slots=True)
class Marks:
    """Where a page's headings and anchor lines are (outside fenced code), found in one
    pass over the page (``marks``) and kept with it: the page index stores them, so the
    sections of the document and of llms-full.txt are edited without a pass of their own."""

    # (line start, line end, number of '#') of each heading, in order
    headings: tuple[tuple[int, int, int], ...]
    # (line start, its anchors) of each line with anchors, in order
    anchors: tuple[tuple[int, tuple[str, ...]], ...]

    def fragments(self) -> frozenset[str]:
        return frozenset(a for _, found in self.anchors for a in found)

    def dump(self) -> bytes:
        return marshal.dumps((self.headings, self.anchors))

    @classmethod
    def load(cls, data: bytes) -> Marks:
        headings, anchors = marshal.loads(data)
        return cls(headings, anchors)


def marks(text: str, *, anchors: bool = True) -> Marks:
    """The headings of ``text`` and (with ``anchors``) its lines with anchors: only a
    heading, a signature line or a line with an explicit id can have some; the others
    (most lines) are never looked at."""
    heading = _HEADING.match
    candidates = [m.start() for m in (_ANCHOR_LINE if anchors else _HEADING_LINE).finditer("\n" + text)]
    if anchors and (ids := _id_lines(text)):
        candidates = sorted(set(candidates).union(ids))
    headings: list[tuple[int, int, int]] = []
    found: list[tuple[int, tuple[str, ...]]] = []
    for start in _outside_code(candidates, text):
        end = _line_end(text, start)
        line = text[start:end]
        m = heading(line) if line[:1] == "#" else None
        if m is not None:
            headings.append((start, end, len(m.group(1))))
        if anchors and (names := _line_anchors(line, m)):
            found.append((start, tuple(names)))
    return Marks(tuple(headings), tuple(found))


def page_anchors(markdown: str) -> frozenset[str]:
    """The fragments a link into this page may name that the document can point at: its
    headings' slugs and API names, and ids the converter kept."""
    return marks(markdown).fragments()


def edited(text: str, found: Marks, *, top: int, offset: int = 0, number: int = 0,
           wanted: frozenset[str] = frozenset()) -> str:
    """``text`` with its headings re-levelled (see ``relevel``) and, with ``wanted``,
    ``<a id="page-N-frag"></a>`` before each heading or signature line that a link in the
    document names (``_anchored``), in one pass. ``found`` are the marks of a text that
    ``text`` is the end of, from ``offset`` on (a page whose title heading was dropped):
    a heading does not change the anchors of its line, so both edits use them."""
    headings = [(s - offset, e - offset, n) for s, e, n in found.headings if s >= offset]
    inserts: list[tuple[int, str]] = []
    if wanted:
        placed: set[str] = set()
        for start, names in found.anchors:
            if start < offset:
                continue
            for a in names:
                if a in wanted and a not in placed:
                    placed.add(a)
                    # Its own paragraph: an HTML line would swallow the next line.
                    inserts.append((start - offset, f'<a id="{_fragment_id(number, a)}"></a>\n\n'))
    if not headings and not inserts:
        return text
    levels: dict[int, tuple[int, int, int]] = {}  # line start -> (line end, its '#', new level)
    if headings:
        shift = top - min(n for _, _, n in headings)
        previous = top - 1
        for start, end, n in headings:
            level = max(min(n + shift, previous + 1, MAX_HEADING), top)
            levels[start] = (end, n, level)
            previous = level
    out: list[str] = []
    done = 0  # text[:done] is in `out`
    i = 0
    for start in sorted(set(levels).union(s for s, _ in inserts)):
        out.append(text[done:start])
        done = start
        while i < len(inserts) and inserts[i][0] == start:
            out.append(inserts[i][1])
            i += 1
        if start in levels:
            end, n, level = levels[start]
            out += ["#" * level, text[start + n:end]]
            done = end
    out.append(text[done:])
    return "".join(out)


def index_entry(page: PageDoc) -> PageDoc:
    """The page without its Markdown but with its anchors: what writers need up front."""
    return replace(page, markdown="", anchors=page_anchors(page.markdown),
                   fragment_links=frozenset(linked_fragments(page.markdown)))


def _key(url: str) -> str:
    try:
        return normalize(url)
    except InvalidURL:
        return url


def anchor(index: int) -> str:
    return f"page-{index}"


def _fragment_id(index: int, fragment: str) -> str:
    return f"{anchor(index)}-{_ID_UNSAFE.sub('-', fragment).strip('-')}"


# -- the table of contents ------------------------------------------------------------

@dataclass(slots=True)
class TocNode:
    """A path segment: the page at that path (if one was crawled) and the pages below."""

    name: str
    page: int | None = None  # position in the index
    children: dict[str, TocNode] = field(default_factory=dict)

    def pages(self) -> Iterator[int]:
        if self.page is not None:
            yield self.page
        for child in self.children.values():
            yield from child.pages()


def _segments(url: str, prefix: str, start_host: str) -> list[str]:
    parts = urlsplit(url)
    path = parts.path or "/"
    if (parts.hostname or "") != start_host:
        path = "/" + (parts.hostname or "other") + path
    elif prefix and path.startswith(prefix):
        path = path[len(prefix) - 1:]
    segments = [unquote(s) for s in path.split("/") if s]
    if segments and re.fullmatch(r"index\.[a-z]+", segments[-1], re.I):
        segments.pop()
    if segments and parts.query:
        segments[-1] += "?" + parts.query
    return segments


def toc_tree(index: Sequence[PageDoc], *, source_url: str) -> TocNode:
    """Pages nested by URL path below the start URL's directory (other hosts under their
    name), in the order the crawl first reached each branch (shallow first)."""
    start_host = urlsplit(source_url).hostname or ""
    prefix = directory_prefix(source_url)
    root = TocNode("")
    for i, page in enumerate(index):
        node = root
        for segment in _segments(page.url, prefix, start_host):
            node = node.children.setdefault(segment, TocNode(segment))
        if node.page is None:
            node.page = i
        else:  # two URLs, one path (a query, an index file): a sibling entry
            node.children.setdefault(f"{node.name}#{i}", TocNode(node.name, page=i))
    return root


def document_order(index: Sequence[PageDoc], *, source_url: str) -> list[int]:
    """Positions in the index in the order of the table of contents: how the sections
    of the combined document follow each other."""
    return list(toc_tree(index, source_url=source_url).pages())


def _count(n: int) -> str:
    return f"{n:,}"


def toc_lines(index: Sequence[PageDoc], numbers: dict[int, int], *, source_url: str,
              href: dict[int, str] | None = None) -> list[str]:
    """The nested list: ``- [Title](#page-3) · 1,234 tokens``; a directory with no page
    of its own is a plain entry with its pages and tokens. ``numbers`` maps an index
    position to its section number; ``href`` optionally gives a link target per page
    (another part file)."""
    out: list[str] = []

    def walk(node: TocNode, depth: int) -> None:
        pad = "  " * depth
        if node.page is not None and node.page in numbers:
            p = index[node.page]
            target = (href or {}).get(node.page, f"#{anchor(numbers[node.page])}")
            out.append(f"{pad}- [{_escape(p.title or p.url)}]({target}) · {_count(p.token_estimate)} tokens")
            depth += 1
        elif node.name:
            below = [i for i in node.pages() if i in numbers]
            if not below:
                return
            if len(below) == 1:  # a lone page in a directory needs no directory entry
                walk(TocNode("", page=below[0]), depth)
                return
            tokens = sum(index[i].token_estimate for i in below)
            out.append(f"{pad}- {_escape(node.name)}/ · {len(below)} pages, {_count(tokens)} tokens")
            depth += 1
        for child in node.children.values():
            walk(child, depth)

    walk(toc_tree(index, source_url=source_url), 0)
    return out


# -- the document ---------------------------------------------------------------------

def header_lines(*, pages: int, tokens: int, source_url: str, day: date | None = None, title_suffix: str = "",
                 notes: Sequence[str] = ()) -> list[str]:
    """The document's title, source, date, page and token counts and notes, up to its
    contents' heading."""
    host = urlsplit(source_url).hostname or source_url
    lines = [f"# {host} documentation{title_suffix}", "",
             f"- Source: {source_url}",
             f"- Crawled: {(day or date.today()).isoformat()}",
             f"- Pages: {pages}",
             f"- Estimated tokens: {tokens}"]
    for note in notes:
        lines += ["", f"> **Note:** {note}"]
    return lines + ["", "## Contents", ""]


def document_header(index: Sequence[PageDoc], positions: Sequence[int], numbers: dict[int, int], *,
                    source_url: str, day: date | None = None, title_suffix: str = "",
                    notes: Sequence[str] = (), href: dict[int, str] | None = None) -> str:
    """Title, source, date, page and token counts, notes, then the contents of the
    pages at ``positions`` (``numbers``: their section numbers)."""
    lines = header_lines(pages=len(positions), tokens=sum(index[i].token_estimate for i in positions),
                         source_url=source_url, day=day, title_suffix=title_suffix, notes=notes)
    shown = {i: numbers[i] for i in positions}
    lines += toc_lines(index, shown, source_url=source_url, href=href) if positions else ["(no pages)"]
    return joined(lines)


def section_text(page: PageDoc, number: int, wanted: frozenset[str],
                 relink: Callable[[re.Match[str]], str], found: Marks | None = None) -> str:
    """One page's section: a rule, its anchor, its title as ``##``, its source, then its
    Markdown re-levelled, with anchors for ``wanted`` fragments and links rewritten by
    ``relink`` (called with each absolute link's match, group 1 the URL). ``found``: the
    page's marks, if known."""
    body = _drop_title_heading(page.markdown, page.title)
    # The title dropped, the body is the end of the Markdown the marks were found in.
    offset = len(page.markdown) - len(body)
    if found is None:
        found, offset = marks(body, anchors=bool(wanted)), 0
    body = edited(body, found, top=SECTION_LEVEL + 1, offset=offset, number=number, wanted=wanted)
    body = _LINK.sub(relink, body).strip()
    section = ["", "---", "", f'<a id="{anchor(number)}"></a>', "",
               f"## {page.title or page.url}", "", f"Source: {page.url}", "", body]
    return "\n".join(section).rstrip() + "\n"


def _anchored(markdown: str, number: int, wanted: frozenset[str]) -> str:
    """``<a id="page-N-frag"></a>`` before each heading or signature line that a link in
    the document names."""
    if not wanted:
        return markdown
    found = marks(markdown)
    return edited(markdown, Marks((), found.anchors), top=SECTION_LEVEL + 1, number=number, wanted=wanted)


class Bundle:
    """What every section of one crawl needs to know about the others: section numbers
    (in ``document_order``), which page a link names, and the fragments links name in
    each page. Built from the index (pages without Markdown, see ``index_entry``)."""

    def __init__(self, index: Sequence[PageDoc], *, source_url: str) -> None:
        self.index = index
        self.source_url = source_url
        self.order = document_order(index, source_url=source_url)
        self.numbers = {i: n for n, i in enumerate(self.order, 1)}
        self.by_key = {_key(p.url): i for i, p in enumerate(index)}
        self.wanted: dict[int, set[str]] = {}
        for p in index:
            for key, fragment in p.fragment_links:
                if (target := self.by_key.get(key)) is not None and fragment in index[target].anchors:
                    self.wanted.setdefault(target, set()).add(fragment)

    def position(self, url: str) -> int | None:
        return self.by_key.get(_key(url))

    def target(self, url: str) -> tuple[int, str] | None:
        """(position, anchor id) a link to ``url`` points at in the document, or None
        when the page is not in the bundle."""
        base, _, fragment = url.partition("#")
        position = self.by_key.get(_key(base))
        if position is None:
            return None
        number = self.numbers[position]
        fragment = unquote(fragment).lower()
        if fragment and fragment in self.index[position].anchors:
            return position, _fragment_id(number, fragment)
        return position, anchor(number)

    def section(self, page: PageDoc, relink: Callable[[re.Match[str]], str]) -> str:
        position = self.position(page.url)
        number = self.numbers[position] if position is not None else len(self.numbers) + 1
        wanted = frozenset(self.wanted.get(position, ())) if position is not None else frozenset()
        return section_text(page, number, wanted, relink)


class CombinedWriter:
    """Writes the combined document: the header and table of contents at once, from
    ``index`` (every page, from ``index_entry``), then one section per ``add(page)``.
    Add the pages in ``document_order`` so the sections follow the contents."""

    def __init__(self, out: TextIO, index: Sequence[PageDoc], *, source_url: str, day: date | None = None) -> None:
        self._out = out
        self._bundle = Bundle(index, source_url=source_url)
        b = self._bundle
        out.write(document_header(index, b.order, b.numbers, source_url=source_url, day=day))

    def _relink(self, match: re.Match[str]) -> str:
        found = self._bundle.target(match.group(1))
        return f"](#{found[1]})" if found else match.group(0)

    def add(self, page: PageDoc) -> None:
        self._out.write(self._bundle.section(page, self._relink))


def linked_fragments(markdown: str) -> Iterator[tuple[str, str]]:
    """(page key, lower-case fragment) of every absolute link with a fragment."""
    for m in _LINK.finditer(markdown):
        base, sep, fragment = m.group(1).partition("#")
        if sep and fragment:
            yield _key(base), unquote(fragment).lower()


def combined_document(pages: Iterable[PageDoc], *, source_url: str, day: date | None = None) -> str:
    """The combined document as one string (for pages already in memory)."""
    pages = list(pages)
    index = [index_entry(p) for p in pages]
    buffer = io.StringIO()
    writer = CombinedWriter(buffer, index, source_url=source_url, day=day)
    for i in document_order(index, source_url=source_url):
        writer.add(pages[i])
    return buffer.getvalue()


def _escape(text: str) -> str:
    return text.replace("[", "\\[").replace("]", "\\]")
