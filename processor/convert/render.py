"""Render a cleaned lxml subtree as GitHub-flavoured Markdown.

A block renderer (`blocks`/`block`) walks block-level elements and collects inline
pieces into paragraphs; an inline renderer (`inline`/`inlines`) produces text for
phrasing content. Recursion is bounded: below MAX_DEPTH levels a subtree is
flattened to its plain text (the parser already caps nesting at 2047 levels).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin

from .extract import ADMONITION_WORDS, HEADINGS, classes_of, words_of
from .text import code_span, collapse, escape_line_start, escape_text, fence_for

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
API_DL_WORDS = frozenset(
    """py c cpp js rst std function class method attribute data exception describe object property
    classmethod staticmethod decorator member type var macro enum enumerator struct union envvar
    cmdoption option directive role""".split()
)
ADMON_MARKERS = frozenset(
    {"admonition", "admonitionblock", "theme-admonition", "custom-block", "callout", "alert", "aside",
     "starlight-aside", "notice"}
)
STRONG_ADMON = frozenset(
    {"note", "warning", "tip", "important", "caution", "danger", "hint", "attention", "seealso", "todo"}
)
KNOWN_LANGS = frozenset(
    """rust python py javascript js typescript ts java c cpp go ruby bash sh shell console json yaml yml
    toml html xml css sql kotlin swift php perl haskell scala csharp diff ini dockerfile makefile""".split()
)
LANG_ALIASES = {"python3": "python", "py3": "python", "default": "", "none": "", "plain": "text",
                "plaintext": "text", "nohighlight": ""}
_LANG_PREFIX = re.compile(r"^(?:language|lang|highlight|brush|sourcecode)-([\w+#.-]+)$", re.I)
_BRUSH = re.compile(r"brush:\s*([\w+#.-]+)", re.I)
_LIST_START = re.compile(r"^(?:[-*+] |\d{1,9}[.)] |[-*+]$|\d{1,9}[.)]$)")
_FN_LABEL = re.compile(r"^\[?([\w*†‡§¶#.-]{1,12})\]?$")
_MATH_DELIMS = re.compile(r"^\s*(?:\\\(|\\\[|\$\$?)(.*?)(?:\\\)|\\\]|\$\$?)\s*$", re.S)


def _int(v: str | None, default: int, lo: int, hi: int) -> int:
    try:
        n = int((v or "").strip())
    except ValueError:
        return default
    return max(lo, min(hi, n))


def fmt_url(u: str) -> str:
    u = u.replace("<", "%3C").replace(">", "%3E")
    if any(c in u for c in " ()\t\n"):
        return "<" + u.replace("\n", "").replace("\t", "") + ">"
    return u


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
    def __init__(self, base: str) -> None:
        self.base = base
        self.skip: set[Element] = set()
        self.in_heading = 0
        self.in_code = 0

    # -- helpers ------------------------------------------------------------
    def url(self, href: str) -> str | None:
        href = href.strip().replace("\n", "").replace("\r", "").replace("\t", "")
        if not href:
            return None
        try:
            return urljoin(self.base, href)
        except ValueError:
            return None

    def text(self, s: str) -> str:
        return escape_text(collapse(s))

    def flush(self, pieces: list[str], out: list[str]) -> None:
        if not pieces:
            return
        s = "".join(pieces)
        pieces.clear()
        lines = []
        for ln in s.split(HB):
            ln = " ".join(ln.split())
            if ln:
                lines.append(escape_line_start(ln))
        if lines:
            out.append(HB_MD.join(lines))

    def has_block(self, el: Element) -> bool:
        return next(el.iterdescendants(*BLOCK_LIST), None) is not None

    def flat(self, el: Element) -> list[str]:
        t = " ".join(" ".join(el.itertext()).split())
        return [escape_text(t)] if t else []

    # -- blocks -------------------------------------------------------------
    def blocks(self, el: Element, depth: int) -> list[str]:
        if depth > MAX_DEPTH:
            return self.flat(el)
        out: list[str] = []
        pieces: list[str] = []
        if el.text:
            pieces.append(self.text(el.text))
        skip = self.skip
        for child in el:
            tag = child.tag
            if isinstance(tag, str) and not (skip and child in skip):
                if tag in BLOCK_TAGS or (tag not in CODE_TAGS and tag != "a" and self.has_block(child)) or (
                    tag == "a" and self.has_block(child)
                ) or (tag in CODE_TAGS and next(child.iterdescendants("pre"), None) is not None):
                    self.flush(pieces, out)
                    out.extend(self.block(child, depth + 1))
                else:
                    pieces.append(self.inline(child, depth + 1))
            if child.tail:
                pieces.append(self.text(child.tail))
        self.flush(pieces, out)
        return out

    def block(self, el: Element, depth: int, root: bool = False) -> list[str]:
        if depth > MAX_DEPTH:
            return self.flat(el)
        tag = el.tag
        if tag in HEADINGS:
            return self.heading(el, depth)
        if tag == "pre" or tag in ("listing", "xmp", "plaintext"):
            return self.code_block(el)
        if tag in ("ul", "ol", "menu", "dir"):
            return self.list_block(el, depth)
        if tag == "dl":
            words = words_of(el)
            if words & {"footnote", "citation"}:
                return self.footnote_dl(el, depth)
            return self.dl_block(el, depth, words)
        if tag == "table":
            words = words_of(el)
            if "footnote" in words or "citation" in words:
                return self.footnote_table(el, depth)
            return self.table_block(el, depth)
        if tag == "blockquote":
            if not root:
                kind = self.admonition_kind(el)
                if kind:
                    return self.admonition(el, depth, kind)
            return quote(self.blocks(el, depth))
        if tag == "hr":
            return ["---"]
        if tag == "br":
            return []
        if tag in ("img", "math"):
            s = self.inline(el, depth)
            return [s] if s else []
        if tag in ("div", "section", "aside", "details", "span", "p", "figure"):
            words = words_of(el)
            if words:
                if "math" in words or "katex-display" in words:
                    m = self.math_block(el)
                    if m is not None:
                        return m
                if not root:
                    kind = self.admonition_kind(el, words)
                    if kind:
                        return self.admonition(el, depth, kind)
                if "fragment" in words and el.find("div") is not None:
                    return self.line_code(el)
                if words & {"signature", "member-signature"} and tag in ("div", "p") and not self.has_block(el):
                    sig = " ".join("".join(el.itertext()).split())
                    return [code_span(sig)] if sig else []
                if "footnote" in words and tag in ("aside", "div"):
                    return self.footnote_aside(el, depth)
            if tag == "details":
                return self.details(el, depth)
        return self.blocks(el, depth)

    def heading(self, el: Element, depth: int) -> list[str]:
        self.in_heading += 1
        try:
            t = self.inlines(el, depth)
        finally:
            self.in_heading -= 1
        t = " ".join(t.replace(HB, " ").split())
        if not t:
            return []
        if t.endswith("#"):
            t = t[:-1] + "\\#"
        return ["#" * int(el.tag[1]) + " " + t]

    # -- code ---------------------------------------------------------------
    def code_text(self, el: Element) -> str:
        for br in el.iter("br"):
            br.tail = "\n" + (br.tail or "")
            br.tag = "span"  # only once
        text = "".join(el.itertext())
        return text

    def code_block(self, el: Element) -> list[str]:
        text = self.code_text(el).replace("\r\n", "\n").replace("\r", "\n")
        lines = [ln.rstrip() for ln in text.split("\n")]
        while lines and not lines[0].strip():
            lines.pop(0)
        return self.fenced(el, lines)

    def fenced(self, el: Element, lines: list[str]) -> list[str]:
        """The code lines (trailing blank ones dropped) as a fenced block, or nothing."""
        while lines and not lines[-1].strip():
            lines.pop()
        if not lines:
            return []
        code = "\n".join(lines)
        fence = fence_for(code)
        return [f"{fence}{self.language(el)}\n{code}\n{fence}"]

    def line_code(self, el: Element) -> list[str]:
        """Code shown as one element per line (e.g. Doxygen div.fragment > div.line)."""
        kids = [c for c in el if isinstance(c.tag, str)]
        marked = [c for c in kids if "line" in classes_of(c)]
        if marked:  # other children (e.g. hover tooltips placed after the lines) are not code
            kids = marked
        return self.fenced(el, [self.code_text(line).replace("\n", "").rstrip() for line in kids])

    def language(self, pre: Element) -> str:
        cands = [pre]
        cands.extend(c for c in pre if c.tag == "code")
        p = pre.getparent()
        for _ in range(3):
            if p is None:
                break
            cands.append(p)
            p = p.getparent()
        for el in cands:
            for attr in ("data-lang", "data-language"):
                v = el.get(attr)
                if v and v.strip():
                    return self._lang(v.strip())
            cls = el.get("class") or ""
            if not cls:
                continue
            m = _BRUSH.search(cls)
            if m:
                return self._lang(m.group(1))
            toks = cls.split()
            for t in toks:
                m = _LANG_PREFIX.match(t)
                if m:
                    return self._lang(m.group(1))
            if "sourceCode" in toks:
                for t in toks:
                    if t != "sourceCode":
                        return self._lang(t)
            if el is pre:
                for t in toks:
                    if t.lower() in KNOWN_LANGS:
                        return self._lang(t)
        return ""

    @staticmethod
    def _lang(v: str) -> str:
        v = v.strip().lower()
        v = LANG_ALIASES.get(v, v)
        return v if re.fullmatch(r"[\w+#.-]{1,30}", v) else ""

    # -- lists --------------------------------------------------------------
    def item(self, marker: str, blocks: list[str]) -> str:
        blocks = [b for b in blocks if b]
        if not blocks:
            return marker.rstrip()
        parts = [blocks[0]]
        for prev, b in zip(blocks, blocks[1:]):
            parts.append("\n" if _LIST_START.match(b) and not prev.startswith("`") else "\n\n")
            parts.append(b)
        text = "".join(parts)
        pad = " " * len(marker)
        if text.startswith("#"):
            return marker.rstrip() + "\n" + indent_lines(text, pad, pad)
        return indent_lines(text, marker, pad)

    def is_layout_list(self, el: Element) -> bool:
        """A <ul> used as a layout box (Javadoc ul.blockList > li.blockList): every item
        holds a section heading, or its only item holds a heading or a horizontal rule.
        Its items are sections, not bullets."""
        if el.tag != "ul":
            return False
        items = [c for c in el if isinstance(c.tag, str)]
        if not items or any(c.tag != "li" for c in items):
            return False
        if len(items) == 1 and next(items[0].iter("hr", *HEADINGS), None) is not None:
            return True
        return all(next(li.iter(*HEADINGS), None) is not None for li in items)

    def list_block(self, el: Element, depth: int) -> list[str]:
        if self.is_layout_list(el):
            out: list[str] = []
            for li in el:
                if li not in self.skip:
                    out.extend(self.blocks(li, depth + 1))
            return out
        ordered = el.tag == "ol"
        n = _int(el.get("start"), 1, -(10**8), 10**8) if ordered else 0
        first = n
        items: list[str] = []
        extra: list[str] = []

        def attach(blocks: list[str]) -> None:
            blocks = [b for b in blocks if b]
            if not blocks:
                return
            if items:
                pad = " " * (len(str(first)) + 2 if ordered else 2)
                items[-1] += "\n\n" + indent_lines("\n\n".join(blocks), pad, pad)
            else:
                extra.extend(blocks)

        if el.text and el.text.strip():
            attach([self.text(el.text).strip()])
        for child in el:
            tag = child.tag
            if isinstance(tag, str) and child not in self.skip:
                if tag == "li":
                    if ordered and child.get("value") and not items:
                        n = _int(child.get("value"), n, -(10**8), 10**8)
                    if not items:
                        first = n
                    # Every item repeats the first number (CommonMark numbers them in
                    # order): list numbers are not page text, so none is invented.
                    marker = f"{first}. " if ordered else "- "
                    items.append(self.item(marker, self.blocks(child, depth + 1)))
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
            out.append("\n".join(items))
        return out

    # -- definition lists ---------------------------------------------------
    def dl_entries(self, el: Element) -> list[Element]:
        out: list[Element] = []
        for c in el:
            if not isinstance(c.tag, str) or c in self.skip:
                continue
            if c.tag == "div" and (c.find("dt") is not None or c.find("dd") is not None):
                out.extend(x for x in c if isinstance(x.tag, str))
            else:
                out.append(c)
        return out

    def dl_block(self, el: Element, depth: int, words: set[str]) -> list[str]:
        entries = self.dl_entries(el)
        api = bool(words & API_DL_WORDS) or any(
            e.tag == "dt" and ("sig" in (e.get("class") or "").split()) for e in entries[:1]
        )
        out: list[str] = []
        terms: list[str] = []
        for e in entries:
            if e.tag == "dt":
                if api:
                    sig = " ".join("".join(e.itertext()).split())
                    sig = re.sub(r"\s+([(),\]])", r"\1", sig).replace("( ", "(").replace("[ ", "[")
                    if sig:
                        out.append("**" + code_span(sig) + "**")
                    continue
                t = " ".join(self.inlines(e, depth + 1).replace(HB, " ").split())
                if t:
                    if not (t.startswith("**") and t.endswith("**")):
                        t = f"**{t}**"
                    terms.append(escape_line_start(t))
            elif e.tag == "dd":
                body = [b for b in self.blocks(e, depth + 1) if b]
                if api:
                    out.extend(body)
                    continue
                head = "\n".join(terms)
                terms = []
                if body:
                    d = indent_lines("\n\n".join(body), ":   ", "    ")
                    out.append(head + "\n" + d if head else d)
                elif head:
                    out.append(head)
            else:
                if terms:
                    out.append("\n".join(terms))
                    terms = []
                out.extend(self.block(e, depth + 1) if e.tag in BLOCK_TAGS or self.has_block(e)
                           else [s for s in [self.inline(e, depth + 1).strip()] if s])
        if terms:
            out.append("\n".join(terms))
        return out

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

    def footnote_aside(self, el: Element, depth: int) -> list[str]:
        lab = None
        for c in el:
            if isinstance(c.tag, str) and "label" in (c.get("class") or "").split():
                lab = c
                break
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
    def admonition_kind(self, el: Element, words: set[str] | None = None) -> str:
        if words is None:
            words = words_of(el)
        kinds = words & ADMONITION_WORDS
        if not kinds or words & {"content", "body", "heading", "title", "icon", "label", "container"}:
            return ""
        if next(el.iter("h1", "h2"), None) is not None:
            return ""
        marked = bool(words & ADMON_MARKERS) or bool(kinds & STRONG_ADMON) or self._title_of(el) is not None
        if not marked:
            return ""
        for k in ("danger", "error", "warning", "caution", "attention", "important", "tip", "hint", "note",
                  "seealso", "todo", "info", "success", "question", "failure", "bug", "example", "abstract",
                  "summary", "tldr", "quote", "callout", "alert", "notice", "admonition", "admonitionblock"):
            if k in kinds:
                return k
        return "note"

    def _title_of(self, el: Element) -> Element | None:
        first = None
        for c in el:
            if isinstance(c.tag, str):
                first = c
                break
        if first is None:
            return None
        for cand in (first, first[0] if len(first) and isinstance(first[0].tag, str) else None):
            if cand is None:
                continue
            if cand.tag == "summary":
                return cand
            w = words_of(cand)
            if w & {"title", "heading", "admonition-title", "admonition-heading", "custom-block-title"}:
                return cand
            if cand.tag in HEADINGS and cand is first and w & {"title"}:
                return cand
        return None

    def admonition(self, el: Element, depth: int, kind: str) -> list[str]:
        # AsciiDoc: table > tr > td.icon (label) + td.content
        icon = None
        content = None
        for td in el.iter("td"):
            cls = (td.get("class") or "").split()
            if "icon" in cls:
                icon = td
            elif "content" in cls:
                content = td
        if icon is not None and content is not None:
            table = next(content.iterancestors("table"), None)
            if table is not None and next(content.iter(*COMPLEX_CELL), None) is None:
                # The page lays the admonition out as a (label | text) table: keep it a table.
                return self.table_block(table, depth + 1)
            label = " ".join(" ".join(icon.itertext()).split())
            body = self.blocks(content, depth + 1)
            head_line = f"**{escape_text(label or kind.capitalize())}**"
        else:
            t = self._title_of(el)
            label = ""
            head_line = ""
            if t is not None:
                label = " ".join(" ".join(t.itertext()).split())
                if t.tag in HEADINGS and label:
                    head_line = self.heading(t, depth + 1)[0]
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
    def tex(self, el: Element) -> str | None:
        for ann in el.iter("annotation"):
            if (ann.get("encoding") or "").lower() == "application/x-tex":
                return (ann.text or "").strip()
        return None

    def math_block(self, el: Element) -> list[str] | None:
        tex = self.tex(el)
        if tex is None:
            raw = "".join(el.itertext()).strip()
            m = _MATH_DELIMS.match(raw)
            tex = m.group(1).strip() if m else raw
        if not tex:
            return []
        return [f"$$\n{tex}\n$$"]

    def math_inline(self, el: Element) -> str:
        tex = self.tex(el)
        if tex is None:
            raw = " ".join("".join(el.itertext()).split())
            m = _MATH_DELIMS.match(raw)
            tex = m.group(1).strip() if m else raw
        return f"${tex}$" if tex else ""

    # -- tables -------------------------------------------------------------
    def cell(self, c: Element, depth: int) -> str:
        blocks = self.blocks(c, depth + 1)
        s = "<br>".join(b.replace(HB_MD, "<br>").replace("\n", " ") for b in blocks if b)
        return s.replace("|", "\\|")

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
            next(c.iter(*COMPLEX_CELL), None) is not None for r in cells for c in r
        )
        if complex_:
            for child in el:  # keep everything readable, in order
                if child is caption or not isinstance(child.tag, str):
                    continue
                out.extend(self._flat_rows(child, depth))
            return out
        grid: list[list[str]] = []
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
            if any(x.strip() for x in row):
                grid.append(row)
        if not grid:
            return out
        out.extend(self._pipe(grid))
        return out

    def heading_rows(self, cells: list[list[Element]]) -> set[int]:
        """Rows that only hold a section heading (Doxygen member tables:
        tr.heading > td > h2 "Public Member Functions"), when headings are the only
        thing that keeps the table from being a pipe table."""
        rows: set[int] = set()
        for i, r in enumerate(cells):
            for c in r:
                if next(c.iter(*COMPLEX_CELL), None) is None:
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
    def _pipe(grid: list[list[str]]) -> list[str]:
        width = max(len(r) for r in grid)
        lines = []
        for i, r in enumerate(grid):
            r = r + [""] * (width - len(r))
            lines.append("| " + " | ".join(r) + " |")
            if i == 0:
                lines.append("|" + "|".join([" --- "] * width) + "|")
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
        parts = []
        if el.text:
            parts.append(self.text(el.text))
        skip = self.skip
        for c in el:
            if isinstance(c.tag, str) and not (skip and c in skip):
                parts.append(self.inline(c, depth + 1))
            if c.tail:
                parts.append(self.text(c.tail))
        return "".join(parts)

    def inline(self, el: Element, depth: int) -> str:
        tag = el.tag
        if tag in CODE_TAGS:
            if "math" in (el.get("class") or "").split():
                return self.math_inline(el)
            if tag == "code" and el.getparent() is not None and el.getparent().tag == "pre":
                pass
            t = " ".join(self.code_text(el).split())
            return code_span(t)
        if tag == "a":
            return self.link(el, depth)
        if tag == "img":
            return self.image(el)
        if tag == "br":
            return HB
        if tag == "math":
            return self.math_inline(el)
        cls = el.get("class")
        if cls:
            toks = cls.split()
            if "task-marker" in toks:
                return el.text or ""
            if "math" in toks or "katex" in toks or "katex-display" in toks:
                return self.math_inline(el)
        if tag in ("strong", "b"):
            return self._wrap(self.inlines(el, depth), "**")
        if tag in ("em", "i", "cite", "dfn", "var"):
            return self._wrap(self.inlines(el, depth), "*")
        if tag in ("del", "s", "strike"):
            return self._wrap(self.inlines(el, depth), "~~")
        if tag == "sup":
            a = el.find("a")
            if a is not None and len(el) == 1 and not (el.text or "").strip():
                fn = self.footnote_ref(a, force=True)
                if fn:
                    return fn
        if tag == "q":
            inner = self.inlines(el, depth)
            return f'"{inner}"' if inner.strip() else inner
        return self.inlines(el, depth)

    @staticmethod
    def _wrap(inner: str, mark: str) -> str:
        s = inner.strip()
        if not s or HB in s:
            return inner
        if s.startswith(mark) and s.endswith(mark):
            return inner
        lead = " " if inner[:1].isspace() else ""
        trail = " " if inner[-1:].isspace() else ""
        return f"{lead}{mark}{s}{mark}{trail}"

    def footnote_ref(self, a: Element, force: bool = False) -> str | None:
        href = (a.get("href") or "").strip()
        if not href.startswith("#"):
            return None
        cls = (a.get("class") or "").split()
        if not (force or "footnote-reference" in cls or a.get("role") == "doc-noteref"):
            return None
        label = " ".join("".join(a.itertext()).split())
        m = _FN_LABEL.match(label)
        if not m:
            return None
        return f"[{m.group(1)}]"

    def link(self, el: Element, depth: int) -> str:
        href = el.get("href")
        if href is not None and not self.in_heading:
            fn = self.footnote_ref(el)
            if fn:
                return fn
        inner = self.inlines(el, depth).replace(HB, " ")
        text = inner.strip()
        if not text:
            return ""
        if href is None or self.in_heading:
            return inner
        h = href.strip()
        low = h.lower()
        if low.startswith(("javascript:", "vbscript:", "data:")):
            return inner
        u = self.url(h)
        if u is None:
            return inner
        lead = " " if inner[:1].isspace() else ""
        trail = " " if inner[-1:].isspace() else ""
        return f"{lead}[{text}]({fmt_url(u)}){trail}"

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
        return f"![{alt_md}]({fmt_url(u)})"
