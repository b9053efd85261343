"""Parsing, cleaning and main-content detection.

Pipeline (each step is one pass over the tree, no Python recursion):
  1. decode and parse (lxml, huge_tree so big text nodes survive; libxml2 caps depth),
  2. drop junk (script, style, svg, form controls...) and hidden elements,
  3. drop chrome (nav, sidebars, header/footer bars, breadcrumbs, TOCs, permalinks...),
     never an element that holds most of the page's text or a semantic main region,
  4. pick the main content: semantic regions first (main, article, [role=main],
     itemprop=articleBody), narrowed to a nested one holding nearly all of its text,
     then descend while one child holds the text and its siblings are only links or
     empty; finally widen to include the page's h1 when it sits just outside.
"""

from __future__ import annotations

import codecs
import re
from typing import Any
from html import escape as html_escape
from html import unescape as html_unescape
from urllib.parse import urljoin

import lxml.etree as etree

Element = Any  # lxml.etree._Element (lxml has no bundled type stubs)

_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_XML_ENC = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""", re.I)


def decode(data: str | bytes) -> str:
    """Bytes -> str: BOM, then <meta charset>/XML declaration, else UTF-8 (invalid bytes replaced)."""
    if isinstance(data, str):
        return data
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", "replace")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", "replace")
    head = data[:4096]
    m = _CHARSET.search(head) or _XML_ENC.search(head)
    enc = "utf-8"
    if m:
        try:
            enc = codecs.lookup(m.group(1).decode("ascii")).name
        except (LookupError, UnicodeDecodeError):
            enc = "utf-8"
        if enc in ("utf-16", "utf-16-le", "utf-16-be", "utf-32"):  # meta in an ASCII page lies
            enc = "utf-8"
    if enc == "utf-8":
        return data.decode("utf-8", "replace")
    try:
        return data.decode(enc, "replace")
    except Exception:  # noqa: BLE001 - exotic codecs
        return data.decode("utf-8", "replace")


_TAG = re.compile(r"<[^<>]*>")


def _parser() -> Any:
    # One parser per call: lxml parsers are not safe to share between threads.
    return etree.HTMLParser(encoding="utf-8", huge_tree=True, remove_comments=True, remove_pis=True,
                                default_doctype=False)


def parse(data: str | bytes) -> Element | None:
    text = decode(data)
    if "\x00" in text:
        text = text.replace("\x00", "")
    raw = text.encode("utf-8", "replace")
    if not raw.strip():
        return None
    parser = _parser()
    try:
        root = etree.fromstring(raw, parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        return None
    if any("depth" in (e.message or "") for e in parser.error_log if e.type_name == "ERR_RESOURCE_LIMIT"):
        # Absurdly deep nesting (libxml2 stops at 2048 levels and drops the rest):
        # keep the text, flattened to one paragraph per line of source.
        plain = html_unescape(_TAG.sub(" ", text))
        paras = "".join("<p>" + html_escape(ln) + "</p>" for ln in plain.splitlines() if ln.strip())
        try:
            root = etree.fromstring(("<html><body>" + paras + "</body></html>").encode("utf-8", "replace"),
                                    _parser())
        except (etree.ParserError, etree.XMLSyntaxError, ValueError):
            return None
    return root


# ---------------------------------------------------------------------------
# Class/id vocabulary

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SPLIT = re.compile(r"[-_\s:.]+")


def words_of(el: Element) -> set[str]:
    """Lower-case words of the class attribute ("md-sidebar--primary" ->
    {"md", "sidebar", "primary", "md-sidebar--primary"}; camelCase is split too).
    Ids are not split: on doc pages they are mostly slugs of headings."""
    cls = el.get("class")
    if not cls:
        return set()
    out: set[str] = set()
    for tok in cls.split():
        out.add(tok.lower())
        for w in _SPLIT.split(_CAMEL.sub("-", tok)):
            if w:
                out.add(w.lower())
    return out


def classes_of(el: Element) -> list[str]:
    return (el.get("class") or "").split()


JUNK_TAGS = frozenset(
    "script style noscript template svg button input select textarea option datalist iframe object "
    "embed canvas video audio source track map area link meta dialog head title base".split()
)

# Whole class/id words that mark page chrome.
CHROME_WORDS = frozenset(
    """sidebar sidebars sphinxsidebar sidebarwrapper sidenav side-nav leftnav left-nav
    nav navbar navigation navlinks nav-links topnav subnav menu menubar breadcrumb breadcrumbs
    footer related relbar relbar1 relbar2 pagination pager paginator prevnext prev-next
    searchbox search-box searchform search-form search cookie cookies consent cookiebanner
    skiplink skip-link skipnav announcement announcementbar headerlink headerlinks
    linenos lineno linenodiv lnt ln line-numbers line-numbers-rows gutter hljs-ln-numbers
    toc toctree-sidebar tocs localtoc page-toc pagetoc on-this-page onthispage tocnav
    table-of-contents tableofcontents toc-drawer tocsidebar copybtn copybutton clipboard
    modal sr-only visually-hidden screen-reader-text screenreader feedback rating share social
    versions version-switcher switcher editthispage edit-this-page edit-page editpage
    edit-link editlink edit_on_github edit-on-github edit-button backtotop back-to-top
    scroll-to-top banner-ad advert advertisement ads ethical-ads carbonads rst-versions
    navpath lastmod last-modified last-updated lastupdated page-meta md-source-file
    navheader navfooter
    """.split()
)

CHROME_IDS = frozenset(
    """sidebar sidebar-wrapper leftsidebar left-sidebar rightsidebar right-sidebar sidenav nav navbar
    navigation menu topnav breadcrumbs breadcrumb footer site-footer page-footer searchbox search-box
    search searchform search-form cookie-banner cookies consent toc table-of-contents on-this-page
    page-toc skip-link skiplink relbar related pagination pager announcement editlink
    edit-this-page back-to-top titlearea main-nav main-menu nav-path site-header site-nav
    TableOfContents top""".lower().split()
)

ADMONITION_KINDS = (
    "note warning tip important caution danger error hint attention seealso todo info success "
    "question failure bug example abstract summary tldr quote callout alert notice admonition "
    "admonitionblock versionadded versionchanged deprecated"
).split()
ADMONITION_WORDS = frozenset(ADMONITION_KINDS)

GLYPHS = frozenset({"¶", "#", "🔗", "§", "⚓", "🔗︎", "⚓︎", "permalink", "∞", "¤"})
PERMALINK_WORDS = frozenset(
    "headerlink anchor anchorjs-link anchor-link hash-link header-anchor permalink heading-anchor "
    "anchorlink mark".split()
)

LINENO_WORDS = frozenset({"linenos", "lineno", "linenodiv", "lnt", "ln", "gutter", "hljs-ln-numbers",
                          "line-numbers-rows", "line-number", "linenumber", "hljs-ln-n"})
CONTAINER_TAGS = frozenset({"div", "section", "article", "main", "td", "body", "center", "span", "font", "form"})
_EDIT_LABEL = re.compile(r"\bedit (this|the) page\b|\bview (page )?source\b|\bedit on github\b")
SEMANTIC_TAGS = frozenset({"main", "article"})
HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")


def _is_hidden(el: Element) -> bool:
    if el.get("hidden") is not None:
        role = el.get("role") or ""
        # Inactive tab panels are hidden but are content.
        if role == "tabpanel" or words_of(el) & {"tab", "tabpanel", "tab-pane", "tabitem", "tabbed", "panel"}:
            return False
        return True
    style = el.get("style")
    if style:
        s = style.replace(" ", "").lower()
        if "display:none" in s or "visibility:hidden" in s:
            return True
    if el.get("aria-hidden") == "true":
        # aria-hidden is also used on content (e.g. a wrapper of a live demo);
        # drop it unless it holds real block content.
        if el.tag in ("div", "section", "article", "main") and next(
            el.iter("p", "pre", "table", "li", *HEADINGS), None
        ) is not None:
            return False
        return True
    return False


def _mathjax_script(el: Element) -> None:
    """<script type="math/tex"> (MathJax 2) -> span.math holding \\(tex\\)."""
    mode = el.get("type") or ""
    tex = el.text or ""
    el.attrib.clear()
    if "display" in mode:
        el.tag = "div"
        el.set("class", "math")
        el.text = "\\[" + tex + "\\]"
    else:
        el.tag = "span"
        el.set("class", "math")
        el.text = "\\(" + tex + "\\)"


def clean(root: Element) -> None:
    """Remove junk and hidden elements in place."""
    drop = []
    for el in root.iter():
        tag = el.tag
        if not isinstance(tag, str):
            drop.append(el)
            continue
        if tag == "script" and (el.get("type") or "").startswith("math/tex"):
            _mathjax_script(el)
            continue
        if tag in JUNK_TAGS:
            if tag == "input" and (el.get("type") or "").lower() == "checkbox":
                # GFM task list item marker
                el.tag = "span"
                checked = el.get("checked") is not None
                el.attrib.clear()
                el.text = "[x] " if checked else "[ ] "
                el.set("class", "task-marker")
                continue
            drop.append(el)
        elif tag == "math":
            continue
        elif _is_hidden(el):
            drop.append(el)
    for el in drop:
        _drop(el)


def _drop(el: Element) -> None:
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail
    if tail:
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)


# ---------------------------------------------------------------------------
# Text-length bookkeeping


class Lengths:
    """Per-element text length (non-whitespace-stripped chars) and link-text length."""

    __slots__ = ("text", "link", "order")

    def __init__(self, root: Element) -> None:
        order = list(root.iter())
        self.order = {el: i for i, el in enumerate(order)}
        text: dict[Element, int] = {}
        link: dict[Element, int] = {}
        for el in reversed(order):
            t = len(el.text.strip()) if el.text else 0
            lk = 0
            for c in el:
                ct = text.get(c, 0)
                t += ct + (len(c.tail.strip()) if c.tail else 0)
                lk += link.get(c, 0)
            if el.tag == "a" and el.get("href") is not None:
                lk = t
            text[el] = t
            link[el] = lk
        self.text = text
        self.link = link

    def nonlink(self, el: Element) -> int:
        return self.text.get(el, 0) - self.link.get(el, 0)

    def density(self, el: Element) -> float:
        t = self.text.get(el, 0)
        return self.link.get(el, 0) / t if t else 0.0


def _inside_semantic(el: Element) -> bool:
    for a in el.iterancestors():
        if a.tag in SEMANTIC_TAGS or a.get("role") == "main" or a.get("itemprop") == "articleBody":
            return True
    return False


def _is_docbook_toc(el: Element) -> bool:
    """DocBook's in-page table of contents (div.toc > dl.toc) is part of the book."""
    if el.tag == "dl" and (el.get("class") or "") == "toc":
        el = el.getparent()
        if el is None:
            return False
    return el.tag == "div" and (el.get("class") or "") == "toc" and el.find("dl") is not None


_NAV_RELS = frozenset({"next", "prev", "previous", "up", "contents", "index", "home", "start", "first", "last"})
_NAV_KEYS = frozenset({"n", "p", "u", "h"})


def pager_bars(body: Element, lengths: Lengths) -> set[Element]:
    """Next/Previous/Up bars (Texinfo node headers, DocBook navheader/navfooter):
    the outermost div/table/p (up to 5 levels above the links) holding two or more
    links marked rel=next/prev/up or accesskey n/p/u, and little else."""
    counts: dict[Element, int] = {}
    for a in body.iter("a"):
        rel = (a.get("rel") or "").lower().split()
        if not (_NAV_RELS.intersection(rel) or (a.get("accesskey") or "").lower() in _NAV_KEYS):
            continue
        for i, anc in enumerate(a.iterancestors()):
            if i >= 5 or anc is body:
                break
            if anc.tag in ("div", "table", "p"):
                counts[anc] = counts.get(anc, 0) + 1
    return {el for el, n in counts.items()
            if n >= 2 and (lengths.nonlink(el) <= 60 or (lengths.nonlink(el) <= 160 and lengths.density(el) >= 0.4))
            and not _has(el, "pre", *HEADINGS)}


_SEPARATORS = re.compile(r"^[\s|·•/,;:\[\]()\-–—]*$")


def _is_jump_bar(el: Element) -> bool:
    """A bar of in-page jump links separated by "|" or dots ("Public Member Functions |
    List of all members"): two or more links, most to anchors of this page, and no
    other text than separators."""
    links = [c for c in el if c.tag == "a" and c.get("href") is not None]
    if len(links) < 2 or len(links) != sum(1 for c in el if isinstance(c.tag, str)):
        return False
    loose = (el.text or "") + "".join(c.tail or "" for c in el)
    if not _SEPARATORS.match(loose):
        return False
    local = sum(1 for a in links if (a.get("href") or "").strip().startswith("#"))
    return local * 2 >= len(links)


_TOC_WORDS = frozenset({"toc", "section-toc", "mini-toc", "minitoc", "chapter-toc"})


def _is_section_menu(el: Element, words: set[str]) -> bool:
    """A list of the current section's sub-pages placed in the text flow after the
    section's heading or introduction (Texinfo ul.section-toc, "mini-TOCs"): content,
    like a Sphinx toctree. An "on this page" TOC links to anchors of the same page."""
    if el.tag not in ("ul", "ol") or (words & CHROME_WORDS) - _TOC_WORDS - {"section"}:
        return False
    prev = el.getprevious()
    if prev is None or prev.tag not in ("p", *HEADINGS):
        return False
    hrefs = [(a.get("href") or "").strip() for a in el.iter("a")]
    return bool(hrefs) and all(h and not h.startswith("#") for h in hrefs)


def is_chrome(el: Element, lengths: Lengths, pagers: frozenset[Element] | set[Element] = frozenset()) -> bool:
    tag = el.tag
    role = el.get("role") or ""
    if pagers and el in pagers:
        return True
    if tag in ("div", "p") and len(el) >= 2 and lengths.density(el) >= 0.6 and _is_jump_bar(el):
        return True
    if tag == "a":
        text = "".join(el.itertext()).strip()
        if text in GLYPHS or (not text and el.find(".//img") is None):
            href = el.get("href") or ""
            return href.startswith("#") or not text or bool(words_of(el) & PERMALINK_WORDS)
        if len(text) <= 2 and words_of(el) & PERMALINK_WORDS:
            return True
        label = (el.get("title") or el.get("aria-label") or "").lower()
        if label and _EDIT_LABEL.search(label) and len(text) < 40:
            return True
        return False
    if tag in ("span", "div") and "lang" in (el.get("class") or "").split() and len(el) == 0:
        return True  # language label printed over a code block
    if tag == "nav" or role in ("navigation", "search", "banner", "contentinfo", "dialog", "alertdialog"):
        return True
    if tag == "footer":
        return True
    if tag == "form":
        return True
    if tag == "header":
        if _inside_semantic(el):
            return False
        return el.find(".//h1") is None or lengths.density(el) > 0.3 or el.find(".//ul") is not None
    if tag == "details":
        summary = el.find("summary")
        if summary is not None:
            s = " ".join("".join(summary.itertext()).split()).lower()
            if s in ("table of contents", "contents", "on this page", "in this article", "toc", "page contents"):
                return True
    words = words_of(el)
    ident = el.get("id")
    if ident and tag in ("div", "ul", "ol", "aside", "header", "footer", "form") and ident.lower() in CHROME_IDS:
        # whole-id match only (ids are often heading slugs: never split them)
        if not any(isinstance(c.tag, str) and c.tag in HEADINGS for c in el[:3]) and not _is_docbook_toc(el) \
                and not (ident.lower() == "top" and _has(el, "h1")):
            return True
    if not words:
        return tag == "aside" or role == "complementary"
    if tag == "aside" or role == "complementary":
        if words & ADMONITION_WORDS or "footnote" in words or "footnotes" in words or "topic" in words:
            return False
        return True
    if words & CHROME_WORDS:
        if _is_docbook_toc(el) or _is_section_menu(el, words):
            return False
        if tag in ("code", "pre", "table", "tr", "td", "h1", "h2", "h3", "h4", "h5", "h6"):
            # e.g. <pre class="... search"> is content; line-number cells are chrome
            return bool(words & LINENO_WORDS)
        return True
    return False


def _inside_chrome_tag(el: Element) -> bool:
    """Inside a nav/footer/aside or a navigation/search/complementary landmark."""
    for a in el.iterancestors():
        if a.tag in ("nav", "footer", "aside") or (a.get("role") or "") in (
                "navigation", "search", "complementary", "contentinfo", "dialog"):
            return True
    return False


def prune_chrome(body: Element) -> None:
    lengths = Lengths(body)
    total = lengths.text.get(body, 0)
    protected: set[Element] = set()
    largest: Element | None = None
    for el in body.iter():
        if el.tag in SEMANTIC_TAGS or el.get("role") == "main" or el.get("itemprop") == "articleBody":
            size = lengths.text.get(el, 0)
            if size > 0.2 * total or (size and _has(el, "h1")):
                protected.add(el)
                protected.update(el.iterancestors())
            if el.tag != "article" and size and (largest is None or size > lengths.text.get(largest, 0)):
                largest = el
    if largest is not None and not protected and not _inside_chrome_tag(largest):
        # A short page's main region can hold less text than the site menu: it is
        # still the main region, and a wrapper whose class merely mentions "nav"
        # (e.g. "wy-nav-content-wrap") must not take it away.
        protected.add(largest)
        protected.update(largest.iterancestors())
    pagers = pager_bars(body, lengths)
    drop = []
    dropped: set[Element] = set()
    in_code: set[Element] = set()
    for el in body.iter():
        if el in protected:
            continue
        if not isinstance(el.tag, str):
            continue
        parent = el.getparent()
        if parent is not None and parent in dropped:
            dropped.add(el)
            continue
        if el.tag in ("pre", "code") or (parent is not None and parent in in_code):
            in_code.add(el)
            # inside code only line-number gutters are chrome
            if el.tag not in ("pre", "code") and LINENO_WORDS.intersection(classes_of(el)):
                drop.append(el)
                dropped.add(el)
            continue
        if is_chrome(el, lengths, pagers):
            if (not protected and el.tag not in ("a", "nav") and el.get("role") != "navigation"
                    and total > 0 and lengths.text.get(el, 0) > 0.5 * total):
                continue  # holds most of the page's text: it is the content, whatever its class says
            drop.append(el)
            dropped.add(el)
    for el in drop:
        _drop(el)


# ---------------------------------------------------------------------------
# Main content


def _is_semantic(el: Element) -> bool:
    return el.tag in SEMANTIC_TAGS or el.get("role") == "main" or el.get("itemprop") == "articleBody"


def _has(el: Element, *tags: str) -> bool:
    return next(el.iter(*tags), None) is not None


def find_main(body: Element) -> Element:
    lengths = Lengths(body)

    def size(el: Element) -> float:  # links count a little (index pages are all links)
        return lengths.nonlink(el) + 0.25 * lengths.link.get(el, 0)

    total = size(body)
    sem = [el for el in body.iter() if isinstance(el.tag, str) and _is_semantic(el)]
    node = body
    if sem and total > 0:
        best = max(sem, key=size)
        if size(best) >= 0.35 * total:
            node = best
            while True:
                inner = [s for s in sem if s is not node and size(s) >= 0.9 * size(node)
                         and node in set(s.iterancestors())]
                if not inner:
                    break
                node = max(inner, key=lambda s: lengths.order[s])  # deepest (last in document order)
    node = _descend(node, lengths)
    return _widen_for_h1(node, body, lengths)


def _descend(node: Element, lengths: Lengths) -> Element:
    while True:
        total = lengths.nonlink(node)
        if total <= 0:
            return node
        kids = [c for c in node if isinstance(c.tag, str)]
        if not kids:
            return node
        best = max(kids, key=lengths.nonlink)
        if lengths.nonlink(best) < 0.5 * total or best.tag not in CONTAINER_TAGS:
            return node
        best_text = lengths.text.get(best, 0)
        for k in kids:
            if k is best:
                continue
            if _has(k, "pre", "table", "img", "h1"):
                return node
            kt = lengths.text.get(k, 0)
            if kt == 0:
                continue
            dens = lengths.density(k)
            if (dens >= 0.6 and (kt < 0.25 * best_text or dens >= 0.85)
                    and lengths.nonlink(k) < 0.1 * total and not _has(k, *HEADINGS)):
                continue
            return node
        loose = len((node.text or "").strip()) + sum(len((c.tail or "").strip()) for c in kids)
        if loose and (loose > 80 or loose > 0.02 * total):
            return node
        node = best


def promote_title(main: Element) -> None:
    """A page whose title is a styled div in its header (Doxygen div.header >
    div.headertitle > div.title) and that has no h1: make that div the h1."""
    if _has(main, "h1"):
        return
    for el in main.iter("div", "p", "span"):
        if el.tag in HEADINGS:
            return
        if "title" not in classes_of(el):
            continue
        up = [a for _, a in zip(range(2), el.iterancestors())]
        if not any("header" in words_of(a) or "headertitle" in words_of(a) for a in up):
            continue
        text = " ".join("".join(el.itertext()).split())
        if 0 < len(text) <= 200 and next(el.iterdescendants("div", "p", "table", "ul", "ol", "pre"), None) is None:
            el.tag = "h1"
        return


def _widen_for_h1(node: Element, body: Element, lengths: Lengths) -> Element:
    """If the main node has no h1 but the page has one before it (e.g. AsciiDoc
    #header + #content), widen to their lowest common ancestor."""
    if node is body or _has(node, "h1"):
        return node
    h1 = next(body.iter("h1"), None)
    if h1 is None or not "".join(h1.itertext()).strip():
        return node
    if lengths.order.get(h1, 0) > lengths.order.get(node, 0):
        return node
    anc = set(h1.iterancestors())
    for a in node.iterancestors():
        if a in anc:
            return a
    return node


def page_meta(root: Element, url: str) -> tuple[str, str, str]:
    """(<title> text, meta description, base URL) from the head."""
    title = ""
    desc = ""
    base = url
    head = root.find("head")
    scope = head if head is not None else root
    t = scope.find(".//title")
    if t is not None:
        title = " ".join("".join(t.itertext()).split())
    for m in scope.iter("meta"):
        name = (m.get("name") or m.get("property") or "").lower()
        if name in ("description", "og:description", "twitter:description") and not desc:
            desc = " ".join((m.get("content") or "").split())
    b = scope.find(".//base")
    if b is not None and b.get("href"):
        try:
            base = urljoin(url, b.get("href").strip())
        except ValueError:
            base = url
    return title, desc, base
