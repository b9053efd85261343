"""Pass 6, render: a classified main-content tree as CommonMark/GFM Markdown.

A block renderer (`blocks`/`block`) walks block-level elements and collects inline
pieces into paragraphs; an inline renderer (`inline`/`inlines`) produces text for
phrasing content. Decisions come from the element's tag and from the `Kinds` table of
classify.py; this module never looks at class names. The output is meant to render
in CommonMark/GFM as the page showed: ordered lists numbered as on the page, adjacent
lists kept apart, definition lists as a bold term and plain paragraphs, table column
alignment, link and image titles, code-span edge spaces, emphasis across line breaks.
Recursion is bounded: below MAX_DEPTH levels a subtree is flattened to its plain text
(the parser already caps nesting at 2047 levels).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin

from .classify import Kinds
from .parse import holds, text_of
from .text import code_span, collapse, is_collapsed, escape_line_start, escape_text, fence_for
from .vocab import HEADINGS

Element = Any

MAX_DEPTH = 120
HB = "\ue000"  # hard line break inside inline text
HB_MD = "\\\n"

BLOCK_TAGS = frozenset(
    """address article aside blockquote body center dd details dialog dir div dl dt fieldset figcaption
    figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr html li listing main menu nav ol p plaintext
    pre section summary table tbody td tfoot th thead tr ul xmp caption legend search""".split()
)
BLOCK_LIST = tuple(BLOCK_TAGS)
CODE_TAGS = frozenset({"code", "tt", "kbd", "samp"})
COMPLEX_CELL = ("ul", "ol", "dl", "pre", "table", "blockquote", *HEADINGS)
_LIST_START = re.compile(r"^(?:[-*+] |\d{1,9}[.)] |[-*+]$|\d{1,9}[.)]$)")
# blocks that may start right after a paragraph line (CommonMark: they interrupt it)
_INTERRUPTS = re.compile(r"^(?:[-*+] \S|1[.)] \S|>|```|~~~|#{1,6}(?: |$)|\*\*\*$)")
_ALIGN = re.compile(r"text-align\s*:\s*(left|right|center)", re.I)
_NO_KIND: tuple[str, Any] = ("", None)
_LISTS = frozenset({"ul", "ol", "menu", "dir"})
# The tags block() and inline() do more for than rendering their content.
_BLOCK_SPECIAL = frozenset({*HEADINGS, "pre", "listing", "xmp", "plaintext", *_LISTS, "dl", "table", "blockquote",
                            "hr", "br", "img", "math", "details", "summary"})
_INLINE_SPECIAL = frozenset({*CODE_TAGS, "a", "img", "br", "strong", "b", "em", "i", "cite", "dfn", "var", "del", "s",
                             "strike", "q", *BLOCK_TAGS})
# A page links the same targets again and again (the API index, the section's pages).
_join = lru_cache(maxsize=4096)(urljoin)
_MEMO_HREF = 512


def _int(v: str | None, default: int, lo: int, hi: int) -> int:
    if not v:  # most cells have no colspan (int("") raising costs more than the rest)
        return default
    try:
        n = int((v or "").strip())
    except ValueError:
        return default
    return max(lo, min(hi, n))


def _holds_block(el: Element) -> bool:
    """Whether a descendant of `el` is a block (a tag of BLOCK_TAGS)."""
    return holds(el, BLOCK_TAGS, BLOCK_LIST)


_COMPLEX_SET = frozenset(COMPLEX_CELL)


def _complex_cell(c: Element) -> bool:
    """A table cell holding a block a pipe table's cell cannot show (next(c.iter(*COMPLEX_CELL)))."""
    return c.tag in _COMPLEX_SET or holds(c, _COMPLEX_SET, COMPLEX_CELL)


def fmt_url(u: str) -> str:
    u = u.replace("<", "%3C").replace(">", "%3E")
    if " " in u or "(" in u or ")" in u or "\t" in u or "\n" in u:
        return "<" + u.replace("\n", "").replace("\t", "") + ">"
    return u


def _text(s: str) -> str:
    """A text node as inline Markdown: whitespace collapsed, specials escaped."""
    if s.isspace():  # between elements, most text nodes
        return " "
    return escape_text(collapse(s))


def indent_lines(text: str, first: str, rest: str) -> str:
    lines = text.split("\n")
    out = [first + lines[0] if lines[0] else first.rstrip()]
    out.extend(rest + ln if ln else "" for ln in lines[1:])
    return "\n".join(out)


def quote(blocks: list[str]) -> list[str]:
    text = "\n\n".join(b for b in blocks if b)
    if not text:
        return []
    return ["\n".join("> " + ln if ln else ">" for ln in text.split("\n"))]


class Renderer:
    def __init__(self, base: str, kinds: Kinds | None = None) -> None:
        self.base = base
        self.kinds: Kinds = kinds if kinds is not None else {}
        self.skip: set[Element] = set()
        self.in_heading = 0

    def kind(self, el: Element) -> tuple[str, Any]:
        return self.kinds.get(el, _NO_KIND)

    # -- helpers ------------------------------------------------------------
    def url(self, href: str) -> str | None:
        href = href.strip().replace("\n", "").replace("\r", "").replace("\t", "")
        if not href:
            return None
        try:
            return _join(self.base, href) if len(href) <= _MEMO_HREF else urljoin(self.base, href)
        except ValueError:
            return None

    def text(self, s: str) -> str:
        return _text(s)

    def flush(self, pieces: list[str], out: list[str]) -> None:
        if not pieces:
            return
        s = "".join(pieces)
        pieces.clear()
        if HB not in s:  # one line (most paragraphs)
            s = s.strip(" ") if is_collapsed(s) else " ".join(s.split())
            if s:
                out.append(escape_line_start(s))
            return
        lines = []
        for ln in s.split(HB):
            ln = " ".join(ln.split())
            if ln:
                lines.append(escape_line_start(ln))
        if lines:
            out.append(HB_MD.join(lines))

    def has_block(self, el: Element) -> bool:
        # (most inline children are leaves: no descendant walk for them)
        return len(el) > 0 and _holds_block(el)

    def flat(self, el: Element) -> list[str]:
        t = " ".join(" ".join(el.itertext()).split())
        return [escape_text(t)] if t else []

    def skipped(self, el: Element) -> bool:
        return el in self.skip or self.kinds.get(el, _NO_KIND)[0] == "skip"

    # -- blocks -------------------------------------------------------------
    def blocks(self, el: Element, depth: int) -> list[str]:
        if depth > MAX_DEPTH:
            return self.flat(el)
        out: list[str] = []
        pieces: list[str] = []
        text = el.text
        if text and not text.isspace():  # (flush drops the paragraph's edge spaces)
            pieces.append(_text(text))
        kinds = self.kinds
        skip = self.skip
        last_list = ""  # the marker style of a list just emitted, so the next one differs
        for child in el:
            tag = child.tag
            if isinstance(tag, str) and child not in skip:
                kind = kinds.get(child, _NO_KIND)[0]
                if kind == "skip":
                    pass
                elif tag in BLOCK_TAGS or (
                    len(child) and (next(child.iterdescendants("pre"), None) is not None if tag in CODE_TAGS
                                    else _holds_block(child))
                ) or (tag == "span" and kind == "math" and kinds[child][1][2]):
                    if pieces:
                        self.flush(pieces, out)
                    n = len(out)
                    if tag in _LISTS and kind != "layout_list":
                        style = ("-" if last_list != "-" else "*") if tag != "ol" else (
                            "." if last_list != "." else ")")
                        out.extend(self.list_block(child, depth + 1, style))
                        last_list = style if len(out) > n else last_list
                        tail = child.tail
                        if tail and not tail.isspace():
                            last_list = ""
                    else:
                        out.extend(self.block(child, depth + 1))
                        if len(out) > n:
                            last_list = ""
                else:
                    piece = self.inline(child, depth + 1)
                    pieces.append(piece)
                    if piece.strip():
                        last_list = ""
            tail = child.tail
            if tail:
                if tail.isspace():
                    if pieces:
                        pieces.append(" ")
                else:
                    pieces.append(_text(tail))
                    last_list = ""
        self.flush(pieces, out)
        return out

    def block(self, el: Element, depth: int, root: bool = False) -> list[str]:
        if depth > MAX_DEPTH:
            return self.flat(el)
        tag = el.tag
        kind, detail = self.kinds.get(el, _NO_KIND)
        if kind:
            if kind == "skip":
                return []
            if kind == "admonition" and not root:
                return self.admonition(el, depth, detail)
            if kind == "math":
                return self.math_block(detail, el)
            if kind == "line_code":
                return self.line_code(el, detail)
            if kind == "signature" and not self.has_block(el):
                sig = " ".join("".join(el.itertext()).split())
                return [code_span(sig)] if sig else []
            if kind == "footnote_aside":
                return self.footnote_aside(el, depth, detail)
            if kind == "footnote_dl":
                return self.footnote_dl(el, depth)
            if kind == "footnote_table":
                return self.footnote_table(el, depth)
            if kind == "grid_table":
                return self.grid_table(el, depth, detail)
            if kind == "tabpanel":
                body = self.blocks(el, depth)
                return [f"**{escape_text(detail)}**", *body] if body else []
        if tag not in _BLOCK_SPECIAL:  # p, div, section...: their blocks
            return self.blocks(el, depth)
        if tag in HEADINGS:
            return self.heading(el, depth)
        if tag == "pre" or tag in ("listing", "xmp", "plaintext"):
            return self.code_block(el)
        if tag in ("ul", "ol", "menu", "dir"):
            return self.list_block(el, depth)
        if tag == "dl":
            return self.dl_block(el, depth, kind == "api_dl")
        if tag == "table":
            return self.table_block(el, depth)
        if tag == "blockquote":
            return quote(self.blocks(el, depth)) or [">"]
        if tag == "hr":
            return ["---"]
        if tag == "br":
            return []
        if tag in ("img", "math"):
            s = self.inline(el, depth)
            return [s] if s else []
        if tag == "details":
            return self.details(el, depth)
        if tag == "summary" and kind == "summary_heading":
            return self.blocks(el, depth)
        return self.blocks(el, depth)

    def heading(self, el: Element, depth: int) -> list[str]:
        self.in_heading += 1
        try:
            t = self.inlines(el, depth)
        finally:
            self.in_heading -= 1
        t = " ".join(t.replace(HB, " ").split())
        if not t:
            # an empty heading is shown as one (a heading left empty by a dropped permalink is not)
            return ["#" * int(el.tag[1])] if not len(el) else []
        if t.endswith("#"):
            t = t[:-1] + "\\#"
        return ["#" * int(el.tag[1]) + " " + t]

    # -- code ---------------------------------------------------------------
    def code_text(self, el: Element) -> str:
        if len(el) or el.tag == "br":  # (a leaf holds no <br> but itself)
            for br in el.iter("br"):
                br.tail = "\n" + (br.tail or "")
                br.tag = "span"  # only once
        return text_of(el)

    def line_wrappers(self, el: Element) -> list[Element] | None:
        """Code drawn as one block element per line (Expressive Code div.ec-line,
        Shiki/Prism line divs): the children, when they hold all of the code's text and
        at least one is a block, else None."""
        node = el
        if len(node) == 1 and node[0].tag == "code" and not (node.text or "").strip() \
                and not (node[0].tail or "").strip():
            node = node[0]
        if (node.text or "").strip():
            return None
        kids = []
        for c in node:  # (highlighted code has many spans: the first one answers)
            tag = c.tag
            if not isinstance(tag, str):
                continue
            if tag != "div":  # Sphinx viewcode mixes spans and divs: not lines
                return None
            kids.append(c)
        if len(kids) < 2 or any((c.tail or "").strip() for c in kids):
            return None
        return kids

    def code_block(self, el: Element) -> list[str]:
        lines_of = self.line_wrappers(el)
        if lines_of is not None:
            lines: list[str] = []
            for line in lines_of:
                t = self.code_text(line).replace("\r\n", "\n").replace("\r", "\n")
                if t.endswith("\n"):
                    t = t[:-1]
                lines.extend(t.split("\n"))
            return self.fenced(el, lines)
        text = self.code_text(el).replace("\r\n", "\n").replace("\r", "\n")
        if text.startswith("\n"):  # browsers drop a newline right after <pre>
            text = text[1:]
        last = text.rfind("\n")
        if last >= 0 and not text[last + 1:].strip():
            text = text[:last]  # the final line break, or indentation before </pre>
        return self.fenced(el, text.split("\n") if text.strip() else [])

    def fenced(self, el: Element, lines: list[str]) -> list[str]:
        """The code lines as a fenced block (an empty block when there are none)."""
        code = "\n".join(lines)
        fence = fence_for(code)
        kind, lang = self.kinds.get(el, _NO_KIND)
        info = lang if kind == "code" and lang else ""
        return [f"{fence}{info}\n{code}\n{fence}" if lines else f"{fence}{info}\n{fence}"]

    def line_code(self, el: Element, lines: list[Element]) -> list[str]:
        """Code shown as one element per line (e.g. Doxygen div.fragment > div.line)."""
        return self.fenced(el, [self.code_text(line).replace("\n", "").rstrip() for line in lines])

    # -- lists --------------------------------------------------------------
    def item(self, marker: str, blocks: list[str], loose: bool) -> str:
        """One list item. In a tight list (no paragraphs of their own in its items) the
        blocks of an item follow each other without a blank line where CommonMark lets
        them interrupt a paragraph, so the list stays tight."""
        blocks = [b for b in blocks if b]
        if not blocks:
            return marker.rstrip()
        if blocks[0] == "---":
            blocks[0] = "***"  # "- ---" would read as one thematic break
        parts = [blocks[0]]
        for prev, b in zip(blocks, blocks[1:]):
            tight = not loose and _INTERRUPTS.match(b) is not None and not prev.startswith(("```", "~~~", "|"))
            parts.append("\n" if tight else "\n\n")
            parts.append(b)
        text = "".join(parts)
        pad = " " * len(marker)
        if text.startswith("#"):  # the heading on a line of its own, as tools look for headings
            return marker.rstrip() + "\n" + indent_lines(text, pad, pad)
        return indent_lines(text, marker, pad)

    def list_block(self, el: Element, depth: int, style: str = "") -> list[str]:
        if self.kinds.get(el, _NO_KIND)[0] == "layout_list":
            out: list[str] = []
            for li in el:
                if isinstance(li.tag, str) and not self.skipped(li):
                    out.extend(self.blocks(li, depth + 1))
            return out
        ordered = el.tag == "ol"
        if not style:
            style = "." if ordered else "-"
        n = _int(el.get("start"), 1, 0, 999_999_999) if ordered else 0
        items: list[str] = []
        extra: list[str] = []
        pad_now = 2
        # A list whose items hold paragraphs of their own is loose (blank lines between items).
        loose = any(c.tag == "li" and any(x.tag == "p" for x in c) for c in el)

        def attach(blocks: list[str]) -> None:
            blocks = [b for b in blocks if b]
            if not blocks:
                return
            if items:
                pad = " " * pad_now
                items[-1] += "\n\n" + indent_lines("\n\n".join(blocks), pad, pad)
            else:
                extra.extend(blocks)

        if el.text and el.text.strip():
            attach([self.text(el.text).strip()])
        for child in el:
            tag = child.tag
            if isinstance(tag, str) and not self.skipped(child):
                if tag == "li":
                    if ordered and child.get("value"):
                        n = _int(child.get("value"), n, 0, 999_999_999)
                    # numbered as the page numbers them: start, then counting
                    marker = f"{n}{style} " if ordered else f"{style} "
                    pad_now = len(marker)
                    items.append(self.item(marker, self.blocks(child, depth + 1), loose))
                    n += 1
                elif tag in BLOCK_TAGS or self.has_block(child):
                    attach(self.block(child, depth + 1))
                else:
                    s = self.inline(child, depth + 1).strip()
                    if s:
                        attach([s])
            if child.tail and child.tail.strip():
                attach([self.text(child.tail).strip()])
        out = extra
        if items:
            out.append(("\n\n" if loose else "\n").join(items))
        return out

    # -- definition lists ---------------------------------------------------
    def dl_entries(self, el: Element) -> list[Element]:
        out: list[Element] = []
        for c in el:
            if not isinstance(c.tag, str) or self.skipped(c):
                continue
            if c.tag == "div" and (c.find("dt") is not None or c.find("dd") is not None):
                out.extend(x for x in c if isinstance(x.tag, str) and not self.skipped(x))
            else:
                out.append(c)
        return out

    def dl_block(self, el: Element, depth: int, api: bool) -> list[str]:
        """Terms in bold, each definition's blocks as plain blocks after them: GFM has no
        definition lists, and the "Term / :   text" form shows its continuation
        paragraphs as code blocks there."""
        entries = self.dl_entries(el)
        out: list[str] = []
        terms: list[str] = []
        for e in entries:
            if e.tag == "dt":
                if api:
                    sources: list[Element] = []
                    sig = self.signature_text(e, sources)
                    if sig:
                        links = "".join(" " + self.link(a, depth + 1) for a in sources)
                        out.append("**" + code_span(sig) + "**" + links.rstrip())
                    continue
                t = " ".join(self.inlines(e, depth + 1).replace(HB, " ").split())
                if t:
                    if not (t.startswith("**") and t.endswith("**")):
                        t = f"**{t}**"
                    terms.append(escape_line_start(t))
            elif e.tag == "dd":
                body = [b for b in self.blocks(e, depth + 1) if b]
                if terms:
                    out.append(HB_MD.join(terms))
                    terms = []
                out.extend(body)
            else:
                if terms:
                    out.append(HB_MD.join(terms))
                    terms = []
                out.extend(self.block(e, depth + 1) if e.tag in BLOCK_TAGS or self.has_block(e)
                           else [s for s in [self.inline(e, depth + 1).strip()] if s])
        if terms:
            out.append(HB_MD.join(terms))
        return out

    def signature_text(self, el: Element, sources: list[Element]) -> str:
        """The signature's text, without its "[source]" links (collected in `sources`)."""
        parts: list[str] = []

        def walk(node: Element) -> None:
            if node.text:
                parts.append(node.text)
            for c in node:
                if isinstance(c.tag, str) and not self.skipped(c):
                    if self.kinds.get(c, _NO_KIND)[0] == "source_link":
                        sources.append(c)
                    else:
                        walk(c)
                if c.tail:
                    parts.append(c.tail)

        walk(el)
        del walk  # (a recursive closure is a reference cycle: see template.strip)
        sig = " ".join("".join(parts).split())
        return re.sub(r"\s+([(),\]])", r"\1", sig).replace("( ", "(").replace("[ ", "[")

    # -- footnotes ----------------------------------------------------------
    def _fn(self, label: str, blocks: list[str]) -> list[str]:
        label = label.strip().strip("[]").strip()
        blocks = [b for b in blocks if b]
        if not label:
            return blocks
        # "**[1]** text", as the page shows it: a GFM definition "[^1]: text" reads as a
        # link reference definition to Markdown tools that know no footnotes, and its
        # text is lost to them.
        if not blocks:
            return [f"**[{label}]**"]
        return [indent_lines("\n\n".join(blocks), f"**[{label}]** ", "")]

    def footnote_table(self, el: Element, depth: int) -> list[str]:
        out: list[str] = []
        for tr in el.iter("tr"):
            cells = [c for c in tr if c.tag in ("td", "th")]
            if len(cells) >= 2:
                label = " ".join(" ".join(cells[0].itertext()).split())
                body: list[str] = []
                for c in cells[1:]:
                    body.extend(self.blocks(c, depth + 1))
                out.extend(self._fn(label, body))
            elif cells:
                out.extend(self.blocks(cells[0], depth + 1))
        return out

    def footnote_dl(self, el: Element, depth: int) -> list[str]:
        out: list[str] = []
        label = ""
        for e in self.dl_entries(el):
            if e.tag == "dt":
                label = " ".join(" ".join(e.itertext()).split())
            elif e.tag == "dd":
                out.extend(self._fn(label, self.blocks(e, depth + 1)))
                label = ""
        return out

    def footnote_aside(self, el: Element, depth: int, lab: Element | None) -> list[str]:
        if lab is None:
            return self.blocks(el, depth)
        label = " ".join(" ".join(lab.itertext()).split())
        self.skip.add(lab)
        try:
            body = self.blocks(el, depth)
        finally:
            self.skip.discard(lab)
        return self._fn(label, body)

    # -- admonitions --------------------------------------------------------
    def admonition(self, el: Element, depth: int, detail: tuple[str, Element | None, Any, Any]) -> list[str]:
        kind, t, icon, content = detail
        # AsciiDoc: table > tr > td.icon (label) + td.content
        if icon is not None and content is not None:
            table = next(content.iterancestors("table"), None)
            if table is not None and next(content.iter(*COMPLEX_CELL), None) is None:
                # The page lays the admonition out as a (label | text) table: keep it a table.
                return self.table_block(table, depth + 1)
            label = " ".join(" ".join(icon.itertext()).split())
            body = self.blocks(content, depth + 1)
            head_line = f"**{escape_text(label or kind.capitalize())}**"
        else:
            label = ""
            head_line = ""
            if t is not None:
                label = " ".join(" ".join(t.itertext()).split())
                # a title that is a heading (or a <summary> holding one) stays a heading
                h = t if t.tag in HEADINGS else next(t.iterdescendants(*HEADINGS), None)
                if h is not None and label and " ".join(" ".join(h.itertext()).split()) == label:
                    head_line = (self.heading(h, depth + 1) or [""])[0]
                self.skip.add(t)
            try:
                body = self.blocks(el, depth + 1)
            finally:
                if t is not None:
                    self.skip.discard(t)
            if not head_line:
                if not label:
                    label = {"seealso": "See also", "admonition": "Note", "admonitionblock": "Note"}.get(
                        kind, kind.capitalize())
                elif label.islower():
                    label = label.capitalize()
                head_line = f"**{escape_text(label)}**"
        return quote([head_line, *body])

    def details(self, el: Element, depth: int) -> list[str]:
        summary = el.find("summary")
        out: list[str] = []
        if summary is not None:
            kind = self.kinds.get(summary, _NO_KIND)[0]
            if kind == "summary_heading":
                out.extend(self.blocks(summary, depth + 1))
            elif kind != "skip":
                s = " ".join(self.inlines(summary, depth + 1).replace(HB, " ").split())
                if s:
                    out.append(f"**{s}**" if not s.startswith("**") else s)
            self.skip.add(summary)
        try:
            out.extend(self.blocks(el, depth))
        finally:
            if summary is not None:
                self.skip.discard(summary)
        return out

    # -- math ---------------------------------------------------------------
    def math_block(self, detail: tuple[str, str, bool], el: Element) -> list[str]:
        tex, eqno, _ = detail
        if not tex:
            return []
        if eqno and "\\tag" not in tex:
            tex = f"{tex} \\tag{{{eqno}}}"
        return [f"$$\n{tex}\n$$"]

    def math_inline(self, el: Element) -> str:
        tex, _, display = self.kinds[el][1]
        if not tex:
            return ""
        tex = " ".join(tex.split())
        if display:
            return f"$${tex}$$"
        return f"${tex}$"

    # -- tables -------------------------------------------------------------
    def cell(self, c: Element, depth: int) -> str:
        blocks = self.blocks(c, depth + 1)
        s = "<br>".join(b.replace(HB_MD, "<br>").replace("\n", " ") for b in blocks if b)
        return s.replace("|", "\\|")

    @staticmethod
    def align(c: Element) -> str:
        a = (c.get("align") or "").strip().lower()
        if not a:
            m = _ALIGN.search(c.get("style") or "")
            a = m.group(1).lower() if m else ""
        return a if a in ("left", "right", "center") else ""

    def table_block(self, el: Element, depth: int) -> list[str]:
        rows: list[Element] = []
        caption = None
        for child in el:
            tag = child.tag
            if tag in ("thead", "tbody", "tfoot"):
                rows.extend(r for r in child if r.tag == "tr")
            elif tag == "tr":
                rows.append(child)
            elif tag == "caption":
                caption = child
        out: list[str] = []
        if caption is not None:
            out.extend(self.blocks(caption, depth + 1))
        cells = [[c for c in r if c.tag in ("td", "th")] for r in rows]
        n_cells = sum(len(r) for r in cells)
        if n_cells > 1 and caption is None and self.heading_rows(cells):
            return self.sectioned_table(rows, cells, depth)
        single = False
        if n_cells == 1:  # a one-cell table of short inline text (e.g. a signature box) stays a table
            only = next(c for r in cells for c in r)
            single = 0 < len("".join(only.itertext()).strip()) <= 300 and not self.has_block(only)
        complex_ = (n_cells <= 1 and not single) or any(
            _complex_cell(c) for r in cells for c in r
        )
        if complex_:
            for child in el:  # keep everything readable, in order
                if child is caption or not isinstance(child.tag, str):
                    continue
                out.extend(self._flat_rows(child, depth))
            return out
        grid: list[list[str]] = []
        aligns: list[str] = []
        carry: dict[int, int] = {}
        for row_cells in cells:
            row: list[str] = []
            col = 0
            for c in row_cells:
                while carry.get(col, 0) > 0:
                    row.append("")
                    carry[col] -= 1
                    col += 1
                text = self.cell(c, depth)
                span = _int(c.get("colspan"), 1, 1, 64)
                rs = _int(c.get("rowspan"), 1, 1, 1000)
                if not grid:
                    aligns.extend([self.align(c)] * span)
                for k in range(span):
                    row.append(text if k == 0 else "")
                    if rs > 1:
                        carry[col] = rs - 1
                    col += 1
            for k in sorted(k for k, v in carry.items() if k >= col and v > 0):
                while len(row) < k:
                    row.append("")
                row.append("")
                carry[k] -= 1
            if any(x.strip() for x in row) or not grid:
                grid.append(row)
        if not grid or not any(x.strip() for r in grid for x in r):
            return out
        out.extend(self._pipe(grid, aligns))
        return out

    def grid_table(self, el: Element, depth: int, rows: list[list[Element]]) -> list[str]:
        """A table drawn with cell elements (classify.py's grid_table) as a pipe table, the
        first row its header; with blocks a pipe row cannot hold (lists, code, headings)
        in a cell, its blocks in order, as before."""
        kinds = self.kinds
        if any(next(c.iter(*COMPLEX_CELL), None) is not None
               or any(kinds.get(d, _NO_KIND)[0] == "grid_table" for d in c.iterdescendants())
               for r in rows for c in r):
            return self.blocks(el, depth)
        grid = [[self.cell(c, depth) for c in r] for r in rows]
        if not any(x.strip() for r in grid for x in r):
            return []
        return self._pipe(grid)

    def heading_rows(self, cells: list[list[Element]]) -> set[int]:
        """Rows that only hold a section heading (Doxygen member tables:
        tr.heading > td > h2 "Public Member Functions"), when headings are the only
        thing that keeps the table from being a pipe table."""
        rows: set[int] = set()
        for i, r in enumerate(cells):
            for c in r:
                if not _complex_cell(c):
                    continue
                hs = [h for h in c.iter(*HEADINGS)]
                if len(hs) != 1 or next(c.iter(*COMPLEX_CELL[:-6]), None) is not None:
                    return set()
                row_text = "".join("".join(x.itertext()) for x in r).split()
                if row_text != "".join(hs[0].itertext()).split():
                    return set()
                rows.add(i)
        return rows

    def sectioned_table(self, rows: list[Element], cells: list[list[Element]], depth: int) -> list[str]:
        """A table cut by heading rows: each heading as a Markdown heading, then the rows
        up to the next one as a pipe table headed by the section's name."""
        heads = self.heading_rows(cells)
        out: list[str] = []
        section: list[list[Element]] = []
        label = ""

        def flush() -> None:
            body = [r for r in section if any("".join(c.itertext()).strip() for c in r)]
            if body:
                width = max(len(r) for r in body)
                grid = [[label] + [""] * (width - 1)] + [[self.cell(c, depth) for c in r] for r in body]
                out.extend(self._pipe(grid))
            section.clear()

        for i, r in enumerate(cells):
            if i in heads:
                flush()
                h = next(x for c in r for x in c.iter(*HEADINGS))
                out.extend(self.heading(h, depth + 1))
                label = " ".join(self.inlines(h, depth + 1).replace(HB, " ").split()).replace("|", "\\|")
            else:
                section.append(r)
        flush()
        return out

    @staticmethod
    def _pipe(grid: list[list[str]], aligns: list[str] | None = None) -> list[str]:
        width = max(len(r) for r in grid)
        marks = {"": " --- ", "left": " :--- ", "right": " ---: ", "center": " :---: "}
        aligns = (aligns or [])[:width]
        aligns += [""] * (width - len(aligns))
        lines = []
        for i, r in enumerate(grid):
            r = r + [""] * (width - len(r))
            lines.append("| " + " | ".join(r) + " |")
            if i == 0:
                lines.append("|" + "|".join(marks[a] for a in aligns) + "|")
        return ["\n".join(lines)]

    def _flat_rows(self, el: Element, depth: int) -> list[str]:
        if el.tag in ("thead", "tbody", "tfoot"):
            out: list[str] = []
            for r in el:
                if isinstance(r.tag, str):
                    out.extend(self._flat_rows(r, depth))
            return out
        if el.tag == "tr":
            out = []
            for c in el:
                if isinstance(c.tag, str):
                    out.extend(self.blocks(c, depth + 1))
            return out
        return self.block(el, depth + 1)

    # -- inline -------------------------------------------------------------
    def inlines(self, el: Element, depth: int) -> str:
        if depth > MAX_DEPTH:
            return escape_text(" ".join(" ".join(el.itertext()).split()))
        text = el.text
        if not len(el):  # a leaf: its text
            return _text(text) if text else ""
        parts = []
        if text:
            parts.append(_text(text))
        kinds = self.kinds
        skip = self.skip
        for c in el:
            if isinstance(c.tag, str) and c not in skip and kinds.get(c, _NO_KIND)[0] != "skip":
                parts.append(self.inline(c, depth + 1))
            tail = c.tail
            if tail:
                parts.append(_text(tail))
        return "".join(parts)

    def inline(self, el: Element, depth: int) -> str:
        tag = el.tag
        kind, detail = self.kinds.get(el, _NO_KIND)
        if kind:
            if kind == "skip":
                return ""
            if kind == "math":
                return self.math_inline(el)
            if kind == "task":
                return el.text or ""
        if tag not in _INLINE_SPECIAL:  # a <span> and the like: its content
            return self.inlines(el, depth)
        if tag in CODE_TAGS:
            if len(el) and any(a.get("href") is not None for a in el.iterdescendants("a")):
                return self.linked_code(el)
            return code_span(collapse(self.code_text(el)))
        if tag == "a":
            if kind == "footnote_ref" and not self.in_heading:
                return f"[{detail}]"
            return self.link(el, depth)
        if tag == "img":
            return self.image(el)
        if tag == "br":
            return HB
        if tag in ("strong", "b"):
            return self._wrap(self.inlines(el, depth), "**")
        if tag in ("em", "i", "cite", "dfn", "var"):
            return self._wrap(self.inlines(el, depth), "*")
        if tag in ("del", "s", "strike"):
            return self._wrap(self.inlines(el, depth), "~~")
        if tag == "q":
            inner = self.inlines(el, depth)
            return f'"{inner}"' if inner.strip() else inner
        if tag in BLOCK_TAGS:  # a block inside a heading or a link still starts apart
            return " " + self.inlines(el, depth) + " "
        return self.inlines(el, depth)

    def linked_code(self, el: Element) -> str:
        """Inline code holding links (Javadoc's `<code><a>List</a>&lt;T&gt;</code>`, Doxygen,
        rustdoc): a code span cannot hold a link, so each link becomes a link around its own
        code span and the text between them code spans of their own; the page's spaces
        between the pieces stay outside the spans."""
        pieces: list[tuple[str, Element | None]] = [("", None)]

        def walk(node: Element) -> None:
            if node.text:
                pieces[-1] = (pieces[-1][0] + node.text, pieces[-1][1])
            for c in node:
                if isinstance(c.tag, str):
                    if c.tag == "a" and c.get("href") is not None and pieces[-1][1] is None:
                        pieces.append((self.code_text(c), c))
                        pieces.append(("", None))
                    elif c.tag == "br":
                        pieces[-1] = (pieces[-1][0] + " ", pieces[-1][1])
                    else:
                        walk(c)
                if c.tail:
                    pieces[-1] = (pieces[-1][0] + c.tail, pieces[-1][1])

        walk(el)
        del walk  # (a recursive closure is a reference cycle: see template.strip)
        out = []
        for raw, a in pieces:
            text = collapse(raw)
            core = text.strip()
            if not core:
                out.append(" " if text else "")
                continue
            lead = " " if text[:1].isspace() else ""
            trail = " " if text[-1:].isspace() else ""
            span = code_span(core)
            u = self.target(a.get("href")) if a is not None else None
            if a is not None and u is not None:
                span = f"[{span}]({fmt_url(u)}{self.title(a)})"
            out.append(lead + span + trail)
        return "".join(out)

    @staticmethod
    def _wrap(inner: str, mark: str) -> str:
        s = inner.strip(" \t\n" + HB)  # emphasis may span a hard line break, not start with one
        if not s:
            return inner
        if s.startswith(mark) and s.endswith(mark) and len(s) > 2 * len(mark) and not (
                mark == "*" and s.startswith("**") and not s.startswith("***") and s.endswith("**")):
            return inner  # already wrapped the same way (<b><b>x</b></b>); em around strong is ***x***
        head = inner[:len(inner) - len(inner.lstrip(" \t\n" + HB))]
        tail = inner[len(inner.rstrip(" \t\n" + HB)):]
        lead = (" " if head.strip(HB) else "") + (HB if HB in head else "")
        trail = (HB if HB in tail else "") + (" " if tail.strip(HB) else "")
        return f"{lead}{mark}{s}{mark}{trail}"

    @staticmethod
    def title(el: Element) -> str:
        t = el.get("title")
        if not t:
            return ""
        t = " ".join(t.split())
        if not t:
            return ""
        return ' "' + t.replace("\\", "\\\\").replace('"', '\\"') + '"'

    def target(self, href: str | None) -> str | None:
        """The absolute URL a link goes to, or None when it is not kept as a link."""
        if href is None or (self.in_heading and href.strip().startswith("#")):
            return None  # a heading's link to itself is a permalink
        h = href.strip()
        if h.lower().startswith(("javascript:", "vbscript:", "data:")):
            return None
        return self.url(h) if h else self.base

    def link(self, el: Element, depth: int) -> str:
        href = el.get("href")
        inner = self.inlines(el, depth).replace(HB, " ")
        text = inner.strip()
        if not text:
            return ""
        u = self.target(href)
        if u is None:
            return inner
        lead = " " if inner[:1].isspace() else ""
        trail = " " if inner[-1:].isspace() else ""
        return f"{lead}[{text}]({fmt_url(u)}{self.title(el)}){trail}"

    def image(self, el: Element) -> str:
        src = el.get("src") or el.get("data-src") or ""
        if not src.strip() and el.get("srcset"):
            src = el.get("srcset").strip().split(",")[0].split()[0] if el.get("srcset").strip() else ""
        alt = " ".join((el.get("alt") or "").split())
        alt_md = alt.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
        src = src.strip()
        if not src or src.lower().startswith("data:"):
            return escape_text(alt)
        u = self.url(src)
        if u is None:
            return escape_text(alt)
        return f"![{alt_md}]({fmt_url(u)}{self.title(el)})"

