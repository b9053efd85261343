"""Pass 5, classify: say once what each element of the main content is.

The renderer walks the tree by tag and asks this table, never the class words again.
`classify(main)` returns a `Kinds` map (element -> (kind, detail)) for the elements
that are more than their tag says:

  skip            drop it: tab labels, toggle labels of <details>, rules next to dropped bars
  source_link     a "[source]" link in a signature: kept as a link beside the signature,
                  never glued into its code
  code            a <pre>: detail = its language ("" when unknown)
  line_code       code shown as one element per line (Doxygen div.fragment > div.line):
                  detail = the line elements
  math            TeX (MathML annotation, MathJax/KaTeX/arithmatex spans): detail = (tex,
                  equation number or "", shown as display math)
  admonition      detail = (label kind, title element or None, AsciiDoc icon td, content td)
  signature       an API signature box with no blocks (rendered as inline code)
  api_dl          a Sphinx-style API description list (dt = signature)
  footnote_dl / footnote_table / footnote_aside (detail = the label element)
  footnote_ref    an in-text footnote reference link: detail = its label
  tabpanel        a tab's panel: detail = its label's text (tabs become labelled sections)
  summary_heading a <summary> that holds a heading: the heading stays a heading
  layout_list     a classed <ul> whose items are sections (Javadoc blockList), not bullets,
                  or whose only item holds a table (Javadoc 17's ul.summary-list of a package)
  task            a GFM task-list checkbox marker
  grid_table      a table drawn without <table>: ARIA rows and cells (role=table/grid, row,
                  cell...) or a CSS grid of cell divs led by its header cells (Javadoc 17's
                  div.summary-table: div.table-header x N, then N cells a row); detail = its
                  rows of cell elements, the first the header
"""

from __future__ import annotations

import re
from typing import Any

import lxml.etree as etree

from .parse import Element, text_of
from .vocab import ADMONITION_WORDS, HEADINGS, words_of

__all__ = ["Kinds", "classify"]

Kinds = dict[Element, tuple[str, Any]]

ADMON_MARKERS = frozenset(
    {"admonition", "admonitionblock", "theme-admonition", "custom-block", "callout", "alert", "aside",
     "starlight-aside", "notice"}
)
STRONG_ADMON = frozenset(
    {"note", "warning", "tip", "important", "caution", "danger", "hint", "attention", "seealso", "todo"}
)
_ADMON_ORDER = ("danger", "error", "warning", "caution", "attention", "important", "tip", "hint", "note",
                "seealso", "todo", "info", "success", "question", "failure", "bug", "example", "abstract",
                "summary", "tldr", "quote", "callout", "alert", "notice", "admonition", "admonitionblock")
_ADMON_PARTS = frozenset({"content", "body", "heading", "title", "icon", "label", "container"})
_TITLE_WORDS = frozenset({"title", "heading", "admonition-title", "admonition-heading", "custom-block-title"})
API_DL_WORDS = frozenset(
    """py c cpp js rst std function class method attribute data exception describe object property
    classmethod staticmethod decorator member type var macro enum enumerator struct union envvar
    cmdoption option directive role""".split()
)
KNOWN_LANGS = frozenset(
    """rust python py javascript js typescript ts java c cpp go ruby bash sh shell console json yaml yml
    toml html xml css sql kotlin swift php perl haskell scala csharp diff ini dockerfile makefile jsx tsx zsh
    powershell lua graphql""".split()
)
LANG_ALIASES = {"python3": "python", "py3": "python", "default": "", "none": "", "plain": "text",
                "plaintext": "text", "nohighlight": ""}
_LANG_PREFIX = re.compile(r"^(?:language|lang|highlight|brush|sourcecode)-([\w+#.-]+)$", re.I)
_BRUSH = re.compile(r"brush:\s*([\w+#.-]+)", re.I)
_LANG_OK = re.compile(r"[\w+#.-]{1,30}")
_FN_LABEL = re.compile(r"^\[?([\w*†‡§¶#.-]{1,12})\]?$")
_MATH_WORDS = frozenset({"math", "katex", "katex-display", "arithmatex", "mathjax", "math-display", "math-inline"})
_TEX_DELIMS = re.compile(r"^\s*(?:\\\(|\\\[|\$\$?)(.*?)(?:\\\)|\\\]|\$\$?)\s*$", re.S)
_EQNO = re.compile(r"^\s*\(\s*[\w.-]{1,12}\s*\)\s*$")
_SOURCE_TEXT = frozenset({"source", "[source]", "src", "[src]", "view source", "[view source]", "code"})
_SOURCE_WORDS = frozenset({"src", "srclink", "viewcode-link", "source-link", "sourcelink", "reference-source"})
_TOGGLE = re.compile(r"^(?:show|hide|expand|collapse|toggle|click to (?:show|hide|expand|collapse))\b", re.I)
_TAB_LABEL_WORDS = frozenset({"tabbed-labels", "tabs", "tab-list", "tablist", "sd-tab-set", "tabbed-set",
                              "code-group", "vp-code-group", "tab-set"})
_TAB_PANEL_WORDS = frozenset({"tabbed-block", "tab-pane", "tabpanel", "tab-panel", "sd-tab-content", "tabitem",
                              "tab-item"})
_SIG_TAGS = frozenset({"dt", *HEADINGS, "summary"})
_ARIA_TABLES = frozenset({"table", "grid", "treegrid"})
_ARIA_CELLS = frozenset({"cell", "gridcell", "columnheader", "rowheader"})
_MAX_GRID_COLUMNS = 16


def _text(el: Element) -> str:
    return " ".join(text_of(el).split())


def language_of(pre: Element, words: dict[Element, set[str]]) -> str:
    cands = [pre]
    # the language may sit on an inner <code> or a nested <pre> (mdBook playgrounds)
    cands.extend(c for c in pre.iterdescendants("code", "pre"))
    del cands[6:]
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
                return _lang(v.strip())
        cls = el.get("class") or ""
        if not cls:
            continue
        m = _BRUSH.search(cls)
        if m:
            return _lang(m.group(1))
        toks = cls.split()
        for t in toks:
            m = _LANG_PREFIX.match(t)
            if m:
                return _lang(m.group(1))
        if "sourceCode" in toks:
            for t in toks:
                if t != "sourceCode":
                    return _lang(t)
        if el.tag == "pre" or (el.tag == "code" and el.getparent() is pre):
            # a bare language name as the class: on the <pre>, or on its <code> (highlight.js's
            # and markdown-it's plain form, TypeDoc's `<pre><code class="ts">`)
            for t in toks:
                if t.lower() in KNOWN_LANGS:
                    return _lang(t)
    return ""


def _lang(v: str) -> str:
    v = v.strip().lower()
    v = LANG_ALIASES.get(v, v)
    return v if _LANG_OK.fullmatch(v) else ""


def tex_of(el: Element) -> str:
    for ann in el.iter("annotation"):
        if (ann.get("encoding") or "").lower() == "application/x-tex":
            return (ann.text or "").strip()
    parts = [el.text or ""]
    for c in el:
        if _is_eqno(c):  # printed beside the math, not TeX
            parts.append(c.tail or "")
            continue
        parts.append("".join(c.itertext()) if isinstance(c.tag, str) else "")
        parts.append(c.tail or "")
    raw = "".join(parts).strip()
    m = _TEX_DELIMS.match(raw)
    return (m.group(1) if m else raw).strip()


def display_math(el: Element) -> bool:
    """Math shown as a block of its own (MathML display=block, KaTeX/arithmatex display
    classes, a div, TeX opened by \\[)."""
    if el.tag == "math":
        return (el.get("display") or "") == "block"
    cls = el.get("class") or ""
    return "katex-display" in cls or "math-display" in cls or (
        el.tag == "div") or "\\[" in (el.text or "")[:4]


def code_lines(el: Element) -> list[Element]:
    """The line elements of code drawn one element per line: the children marked "line"
    when some are (others, e.g. hover tooltips placed after the lines, are not code)."""
    kids = [c for c in el if isinstance(c.tag, str)]
    marked = [c for c in kids if "line" in (c.get("class") or "").split()]
    return marked or kids


def _is_eqno(c: Element) -> bool:
    """An equation number printed beside display math ("(1)" and a permalink)."""
    return isinstance(c.tag, str) and ("eqno" in (c.get("class") or "") or bool(_EQNO.match("".join(c.itertext()))))


def _eqno(el: Element) -> str:
    for c in el:
        if _is_eqno(c):
            m = re.search(r"\(\s*([\w.-]{1,12})\s*\)", "".join(c.itertext()))
            return m.group(1) if m else ""
    return ""


class _Classifier:
    def __init__(self, words: dict[Element, set[str]] | None) -> None:
        self.kinds: Kinds = {}
        self.words: dict[Element, set[str]] = words if words is not None else {}

    def w(self, el: Element) -> set[str]:
        got = self.words.get(el)
        if got is None:
            got = self.words[el] = words_of(el)
        return got

    def title_of(self, el: Element) -> Element | None:
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
            w = self.w(cand)
            if w & _TITLE_WORDS:
                return cand
            if cand.tag in HEADINGS and cand is first and "title" in w:
                return cand
        return None

    def admonition(self, el: Element, words: set[str]) -> tuple[str, Any] | None:
        kinds = words & ADMONITION_WORDS
        if not kinds or words & _ADMON_PARTS:
            return None
        if next(el.iter("h1", "h2"), None) is not None:
            return None
        title = self.title_of(el)
        if not (words & ADMON_MARKERS or kinds & STRONG_ADMON or title is not None):
            return None
        kind = next((k for k in _ADMON_ORDER if k in kinds), "note")
        icon = content = None
        for td in el.iter("td"):
            cls = (td.get("class") or "").split()
            if "icon" in cls:
                icon = td
            elif "content" in cls:
                content = td
        return "admonition", (kind, title, icon, content)

    def run(self, main: Element) -> Kinds:
        kinds = self.kinds
        tab_lists: list[Element] = []
        boxes: list[Element] = []  # classed one-item lists, layout boxes if the item holds a table
        dls: list[Element] = []  # (collected here: a second walk for them cost as much as this one's tests)
        walker = etree.iterwalk(main, events=("start",))
        for _, el in walker:
            tag = el.tag
            if not isinstance(tag, str):
                continue
            if tag == "hr":
                if el.get("data-dp-chrome"):
                    kinds[el] = ("skip", None)
                continue
            if tag == "pre":
                kinds[el] = ("code", language_of(el, self.words))
                walker.skip_subtree()  # a nested <pre> is part of this block
                continue
            if tag == "dl":
                dls.append(el)
            role = el.get("role")
            if role is not None:
                if role in _ARIA_TABLES and tag != "table":
                    rows = aria_rows(el)
                    if rows:
                        kinds[el] = ("grid_table", rows)
                        continue
                if role == "tablist":
                    tab_lists.append(el)
                elif role == "tab" and el.getparent() is not None and el.getparent().get("role") != "tablist":
                    tab_lists.append(el.getparent())
            if tag == "summary":
                self.summary(el)
            if tag == "a":
                self.link(el)
                continue
            if tag == "math":
                kinds[el] = ("math", (tex_of(el), "", display_math(el)))
                continue
            if not el.get("class"):
                continue
            words = self.w(el)
            if words & _MATH_WORDS and tag in ("span", "div", "p", "code", "section"):
                kinds[el] = ("math", (tex_of(el), _eqno(el), display_math(el)))
                continue
            if "task-marker" in words:
                kinds[el] = ("task", None)
                continue
            if tag == "label" or (tag == "div" and words & _TAB_LABEL_WORDS):
                if words & _TAB_LABEL_WORDS or (el.getparent() is not None
                                                 and self.w(el.getparent()) & _TAB_LABEL_WORDS):
                    tab_lists.append(el if tag != "label" else el.getparent())
            if tag in ("div", "section", "aside", "details", "span", "p", "figure", "blockquote"):
                got = self.admonition(el, words)
                if got is not None:
                    kinds[el] = got
                    continue
                if tag == "div" and "table" in words:
                    rows = self.grid_rows(el)
                    if rows:
                        kinds[el] = ("grid_table", rows)
                        continue
                if "fragment" in words and el.find("div") is not None:
                    kinds[el] = ("line_code", code_lines(el))
                    continue
                if words & {"signature", "member-signature"} and tag in ("div", "p"):
                    kinds[el] = ("signature", None)
                    continue
                if "footnote" in words and tag in ("aside", "div"):
                    lab = next((c for c in el if isinstance(c.tag, str) and "label" in self.w(c)), None)
                    kinds[el] = ("footnote_aside", lab)
                    continue
            elif tag == "dl":
                if words & {"footnote", "citation"}:
                    kinds[el] = ("footnote_dl", None)
                elif words & API_DL_WORDS:
                    kinds[el] = ("api_dl", None)
            elif tag == "table":
                if words & {"footnote", "citation"}:
                    kinds[el] = ("footnote_table", None)
            elif tag == "ul":
                if self.layout_list(el):
                    kinds[el] = ("layout_list", None)
                elif len(el) == 1 and el[0].tag == "li":
                    boxes.append(el)
        for dl in dls:  # (a <dl> inside a <pre> is code text: the renderer never asks about it)
            if dl not in kinds:
                first = next((c for c in dl if isinstance(c.tag, str)), None)
                if first is not None and first.tag == "dt" and "sig" in (first.get("class") or "").split():
                    kinds[dl] = ("api_dl", None)
        for ul in boxes:
            if next(ul.iter("table"), None) is not None or any(
                    kinds.get(d, ("", None))[0] == "grid_table" for d in ul.iter("div")):
                kinds[ul] = ("layout_list", None)
        self.tabs(main, tab_lists)
        return kinds

    def link(self, a: Element) -> None:
        text = _text(a)
        low = text.lower()
        if low in _SOURCE_TEXT or self.w(a) & _SOURCE_WORDS:
            # "[source]" / "Source" links beside a signature are navigation, not the signature
            for anc in a.iterancestors():
                if anc.tag in _SIG_TAGS or self.w(anc) & {"sig", "rightside", "signature", "code-header",
                                                           "out-of-band"}:
                    self.kinds[a] = ("source_link", None)
                    return
                if anc.tag in ("p", "li", "td", "div", "section", "body"):
                    break
        href = (a.get("href") or "").strip()
        if href.startswith("#"):
            cls = (a.get("class") or "").split()
            force = False
            parent = a.getparent()
            if parent is not None and parent.tag == "sup" and len(parent) == 1 and not (parent.text or "").strip():
                force = True
            if force or "footnote-reference" in cls or a.get("role") == "doc-noteref":
                m = _FN_LABEL.match(text)
                if m:
                    self.kinds[a] = ("footnote_ref", m.group(1))

    def summary(self, el: Element) -> None:
        if next(el.iterdescendants(*HEADINGS), None) is not None:
            self.kinds[el] = ("summary_heading", None)
            return
        text = _text(el)
        if text and _TOGGLE.match(text):
            self.kinds[el] = ("skip", None)  # a "Show code / Hide code" control, not content

    def grid_rows(self, el: Element) -> list[list[Element]] | None:
        """A classed table box whose children are its cells, laid out by CSS: the first N
        (2 <= N <= 16) are header cells (class word "header"), the rest N to a row."""
        kids = [c for c in el if isinstance(c.tag, str)]
        if any(c.tag != "div" or (c.tail or "").strip() for c in kids) or (el.text or "").strip():
            return None  # text between the cells would be lost from the rows
        n = 0
        while n < len(kids) and "header" in self.w(kids[n]):
            n += 1
        if not 2 <= n <= _MAX_GRID_COLUMNS or len(kids) == n or len(kids) % n:
            return None
        if any("header" in self.w(c) for c in kids[n:]):
            return None  # header cells further down: not one table of N columns
        return [kids[i:i + n] for i in range(0, len(kids), n)]

    def layout_list(self, el: Element) -> bool:
        """A classed <ul> used as a layout box (Javadoc ul.blockList > li.blockList): every
        item holds a section heading, or its only item holds a heading or a rule."""
        items = [c for c in el if isinstance(c.tag, str)]
        if not items or any(c.tag != "li" for c in items):
            return False
        if len(items) == 1 and next(items[0].iter("hr", *HEADINGS), None) is not None:
            return True
        return all(next(li.iter(*HEADINGS), None) is not None for li in items)

    def tabs(self, main: Element, tab_lists: list[Element]) -> None:
        """Each tab set: its labels are skipped, each panel is labelled with its tab's text
        (by aria-controls / aria-labelledby / label[for] ids when given, else by order)."""
        seen: set[Element] = set()
        for tl in tab_lists:
            if tl is None or tl in seen:
                continue
            seen.add(tl)
            labels = [c for c in tl.iter() if isinstance(c.tag, str) and c is not tl
                      and (c.get("role") == "tab" or c.tag == "label")]
            if not labels and tl.get("role") == "tablist":
                labels = [c for c in tl if isinstance(c.tag, str)]
            labels = [lb for lb in labels if next(lb.iterdescendants("p", "pre", "div", "table"), None) is None]
            if not labels:
                continue
            own = self.panels(tl, None)
            if own:  # labels and panels side by side in one set (sphinx-design, Material)
                tab_set, panels = tl, own
            else:
                tab_set = tl.getparent()
                panels = []
                for _ in range(3):
                    if tab_set is None:
                        break
                    panels = self.panels(tab_set, tl)
                    if panels:
                        break
                    tab_set = tab_set.getparent()
            if not panels:
                continue
            by_id = {p.get("id"): p for p in panels if p.get("id")}
            texts = [_text(lb) for lb in labels]
            assigned: dict[Element, str] = {}
            for lb, t in zip(labels, texts):
                target = by_id.get(lb.get("aria-controls") or "")
                if target is not None:
                    assigned[target] = t
            for p in panels:
                ref = p.get("aria-labelledby")
                if ref and p not in assigned:
                    for lb, t in zip(labels, texts):
                        if lb.get("id") == ref:
                            assigned[p] = t
            if not assigned and len(panels) == len(labels):
                assigned = dict(zip(panels, texts))
            if not assigned:
                continue
            for lb in (labels if tab_set is tl else [tl]):
                self.kinds[lb] = ("skip", None)
            for p, t in assigned.items():
                if t:
                    self.kinds[p] = ("tabpanel", t)

    def panels(self, tab_set: Element, tl: Element | None) -> list[Element]:
        out = []
        for c in tab_set.iterdescendants():
            if not isinstance(c.tag, str) or c is tl:
                continue
            if c.get("role") == "tabpanel" or (c.get("class") and self.w(c) & _TAB_PANEL_WORDS):
                if not any(p in out for p in c.iterancestors()):
                    out.append(c)
        if not out:  # VitePress code groups: .tabs + .blocks > div per tab
            blocks = next((c for c in tab_set if isinstance(c.tag, str) and c is not tl
                           and "blocks" in (c.get("class") or "").split()), None)
            if blocks is not None:
                out = [c for c in blocks if isinstance(c.tag, str)]
        return out


def aria_rows(el: Element) -> list[list[Element]] | None:
    """The rows of an ARIA table (role=row, directly or in a role=rowgroup), each its
    cells (role=cell/gridcell/columnheader/rowheader), when the box holds nothing else."""
    rows: list[list[Element]] = []
    for c in el:
        if not isinstance(c.tag, str):
            continue
        role = c.get("role")
        if role not in ("row", "rowgroup"):
            return None  # anything else in the box (a caption...) would be lost from the rows
        for r in ([c] if role == "row" else [r for r in c if isinstance(r.tag, str)]):
            if r.get("role") != "row":
                return None
            cells = [x for x in r if isinstance(x.tag, str)]
            if not cells or len(cells) > _MAX_GRID_COLUMNS or any(x.get("role") not in _ARIA_CELLS for x in cells):
                return None
            rows.append(cells)
    return rows if len(rows) >= 2 else None


def classify(main: Element, words: dict[Element, set[str]] | None = None) -> Kinds:
    """The kinds of main's elements; `words` may hold class words already split."""
    return _Classifier(words).run(main)
