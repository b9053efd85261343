"""Pass 4, main content: drop the page's own chrome, then pick its main content.

Per-page rules (the site template pass has already removed what repeats across the
site; these catch what a single page shows):
  1. chrome by structure: nav/footer/form, navigation/search/banner landmarks, headers
     outside the article (not a section's own header: its heading and intro), Next/Previous/Up bars, bars of in-page jump links,
     permalink glyphs, edit links, code line-number gutters;
  2. chrome by class/id words (vocab.CHROME_WORDS/CHROME_IDS) - but a word never
     deletes an element that holds the page's main text: one holding most of the
     non-link text of the content region around it (the semantic region, else the
     body) stays, whatever its class says ("vp-doc _docs_api_Cookies" is a page about
     cookies, not a cookie banner); nor the largest semantic main region, nor an
     `<aside>` inside the article (a margin note or sidebar of the text);
  3. the main content: semantic regions first (main, article, [role=main],
     itemprop=articleBody), narrowed to a nested one holding nearly all of its text,
     then descend while one child holds the text and its siblings are only links or
     empty; finally widen to include the page's h1 when it sits just outside.
A horizontal rule that only separated a dropped bar from the text goes with it, and so
does the frame that only labelled a dropped navigation or jump bar: a section or
`<details>` left holding nothing but headings or a summary (TypeDoc's "Index" panel: a summary, then h3
"Constructors" / "Properties" over jump links to the page's own members).
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

import lxml.etree as etree

from .junk import Marks, drop
from .parse import Element, text_of
from .vocab import (ADMONITION_WORDS, CHROME_IDS, CHROME_WORDS, CONTAINER_TAGS, EDIT_LABEL, GLYPHS, HEADINGS,
                    LINENO_WORDS, PERMALINK_WORDS, SEMANTIC_TAGS, classes_of, words_of)

__all__ = ["Lengths", "find_main", "is_semantic", "page_meta", "promote_title", "prune_chrome"]



class Lengths:
    """Per-element text length (non-whitespace-stripped chars) and link-text length, and
    the semantic regions (main, article, role=main, itemprop=articleBody) in document
    order: measured once (template.keys_of walks the tree for all three), kept up to
    date as prune_chrome removes elements."""

    __slots__ = ("text", "link", "_root", "_semantic")

    def __init__(self, root: Element, text: dict[Element, int] | None = None,
                 link: dict[Element, int] | None = None, semantic: list[Element] | None = None) -> None:
        self._root = root
        self._semantic = semantic
        if text is not None and link is not None:
            self.text, self.link = text, link
            return
        text = {}
        link = {}
        for el in reversed(list(root.iter())):
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

    @property
    def semantic(self) -> list[Element]:
        if self._semantic is None:
            self._semantic = [el for el in self._root.iter() if isinstance(el.tag, str) and is_semantic(el)]
        return self._semantic

    def removed(self, gone: set[Element]) -> None:
        """The elements of `gone` (with everything inside them) left the tree."""
        if self._semantic and gone:
            self._semantic = [el for el in self._semantic
                              if el not in gone and gone.isdisjoint(el.iterancestors())]

    def forget(self, el: Element) -> None:
        """`el` is about to be removed (its tail stays): its text no longer counts for
        its ancestors."""
        t = self.text.get(el, 0)
        lk = self.link.get(el, 0)
        text, link = self.text, self.link
        for a in el.iterancestors():
            if a.tag == "a" and a.get("href") is not None:
                lk = t
            text[a] = text.get(a, 0) - t
            link[a] = link.get(a, 0) - lk

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


def pager_bars(body: Element, lengths: Lengths, links: list[Element] | None = None) -> set[Element]:
    """Next/Previous/Up bars (Texinfo node headers, DocBook navheader/navfooter):
    the outermost div/table/p (up to 5 levels above the links) holding two or more
    links marked rel=next/prev/up or accesskey n/p/u, and little else. `links`: the
    page's links with a rel or accesskey (junk.Marks), when known."""
    counts: dict[Element, int] = {}
    for a in body.iter("a") if links is None else links:
        rel = a.get("rel")
        if not (rel and not _NAV_RELS.isdisjoint(rel.lower().split())):
            key = a.get("accesskey")
            if not key or key.lower() not in _NAV_KEYS:
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
    other text than separators — or a div holding nothing but one jump link (Doxygen's
    summary bar of a page with one section: "Data Fields")."""
    links = [c for c in el if c.tag == "a" and c.get("href") is not None]
    if not links or len(links) != sum(1 for c in el if isinstance(c.tag, str)):
        return False
    loose = (el.text or "") + "".join(c.tail or "" for c in el)
    if not _SEPARATORS.match(loose):
        return False
    local = sum(1 for a in links if len(h := (a.get("href") or "").strip()) > 1 and h.startswith("#"))
    if len(links) == 1:
        return el.tag == "div" and local == 1 and not loose.strip()
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


_CURRENT = frozenset({"current", "active", "selected", "current-page", "is-active"})


def _is_page_menu(el: Element, lengths: Lengths) -> bool:
    """A list of links to other pages with one item marked as the page being read
    (`<li class="current">`, `aria-current`): a site's menu or tab bar (Doxygen's
    ul.tablist rows). A list in a document's text never marks "you are here"; in-page
    tab widgets link to #anchors and are not menus of pages. Items without text (a
    search box) may sit in the row.

    An item's text is all its link's (their stripped texts are equal) exactly when
    their text lengths are (the item's other text is whitespace), so the lengths
    answer without serialising the item - but for a link inside code (not counted)."""
    text_len = lengths.text
    links = 0
    current = False
    for li in el:
        if not isinstance(li.tag, str):
            continue
        if li.tag != "li":
            return False
        n = text_len.get(li, 0)
        if not n:
            continue  # no text
        anchors = li.iterdescendants("a")
        a = next(anchors, None)
        if a is None or next(anchors, None) is not None:
            return False
        if a in text_len:
            if text_len[a] != n:
                return False
        elif text_of(a).strip() != text_of(li).strip():
            return False
        href = (a.get("href") or "").strip()
        if not href or href.startswith("#"):
            return False
        links += 1
        if a.get("aria-current") or li.get("aria-current") or not _CURRENT.isdisjoint(classes_of(li)) \
                or not _CURRENT.isdisjoint(classes_of(a)):
            current = True
    return links >= 2 and current


NOT_CHROME, STRUCTURE, WORDS = 0, 1, 2


def is_chrome(el: Element, lengths: Lengths, pagers: frozenset[Element] | set[Element] = frozenset(),
              cache: dict[Element, set[str]] | None = None) -> int:
    """NOT_CHROME, or why the element is chrome: STRUCTURE (its tag, role or links say
    so) or WORDS (only its class/id words say so: main.py's guard may overrule)."""
    tag = el.tag
    role = el.get("role") or ""
    if pagers and el in pagers:
        return STRUCTURE
    if tag in ("div", "p") and len(el) >= (1 if tag == "div" else 2) and lengths.density(el) >= 0.6 \
            and _is_jump_bar(el):
        return STRUCTURE
    if tag == "a":
        text = text_of(el).strip()
        if text in GLYPHS or (not text and next(el.iterdescendants("img"), None) is None):
            href = el.get("href") or ""
            return STRUCTURE if href.startswith("#") or not text or bool(words_of(el) & PERMALINK_WORDS) else 0
        if len(text) <= 2 and words_of(el) & PERMALINK_WORDS:
            return STRUCTURE
        label = (el.get("title") or el.get("aria-label") or "").lower()
        if label and EDIT_LABEL.search(label) and len(text) < 40:
            return STRUCTURE
        return NOT_CHROME
    if tag in ("span", "div") and "lang" in (el.get("class") or "").split() and len(el) == 0:
        return STRUCTURE  # language label printed over a code block
    if tag in ("span", "i") and len(el) == 0 and "icon" in (el.get("class") or "").split() \
            and len((el.text or "").strip()) <= 2:
        return STRUCTURE  # a letter drawn as an icon badge (Doxygen's "C" before a class name)
    if tag == "nav" and "contents" in classes_of(el) and _inside_semantic(el):
        # docutils' `.. contents::` as its HTML5 writer writes it (Sphinx >= 4): a table of
        # contents the author put in the document, kept as its older div.topic form is
        return NOT_CHROME
    if tag == "nav" or role in ("navigation", "search", "banner", "contentinfo", "dialog", "alertdialog"):
        return STRUCTURE
    if tag == "ul" and _is_page_menu(el, lengths):
        return STRUCTURE
    if tag == "footer" or tag == "form":
        return STRUCTURE
    if tag == "header":
        if _inside_semantic(el):
            return NOT_CHROME
        parent = el.getparent()
        if parent is not None and parent.tag == "section" and lengths.density(el) <= 0.3 \
                and next(el.iter(*HEADINGS), None) is not None:
            # the header of a <section> (HTML's own reading: the page's banner is a header
            # of the body), its heading and intro: JSDoc's class header "WebSocket(address)"
            return NOT_CHROME
        chrome = (next(el.iterdescendants("h1"), None) is None or lengths.density(el) > 0.3
                  or next(el.iterdescendants("ul"), None) is not None)
        return STRUCTURE if chrome else NOT_CHROME
    if tag == "details":
        summary = el.find("summary")
        if summary is not None:
            s = " ".join("".join(summary.itertext()).split()).lower()
            if s in ("table of contents", "contents", "on this page", "in this article", "toc", "page contents"):
                return STRUCTURE
    if (tag == "aside" or role == "complementary") and _inside_semantic(el) and lengths.density(el) < 0.5:
        return NOT_CHROME  # a margin note or sidebar of the article's text (docutils, book themes)
    if cache is None:
        words = words_of(el)
    else:
        got = cache.get(el)
        if got is None:
            got = cache[el] = words_of(el)
        words = got
    ident = el.get("id")
    if ident and tag in ("div", "ul", "ol", "aside", "header", "footer", "form") and ident.lower() in CHROME_IDS:
        # whole-id match only (ids are often heading slugs: never split them)
        if not any(isinstance(c.tag, str) and c.tag in HEADINGS for c in el[:3]) and not _is_docbook_toc(el) \
                and not (ident.lower() == "top" and _has(el, "h1")):
            return WORDS
    if not words:
        return STRUCTURE if tag == "aside" or role == "complementary" else NOT_CHROME
    if tag == "aside" or role == "complementary":
        if words & ADMONITION_WORDS or "footnote" in words or "footnotes" in words or "topic" in words:
            return NOT_CHROME
        return STRUCTURE
    if not CHROME_WORDS.isdisjoint(words):  # (no set built for the answer)
        if _is_docbook_toc(el) or _is_section_menu(el, words):
            return NOT_CHROME
        if tag in ("code", "pre", "table", "tr", "td", "h1", "h2", "h3", "h4", "h5", "h6"):
            # e.g. <pre class="... search"> is content; line-number cells are chrome
            return WORDS if words & LINENO_WORDS else NOT_CHROME
        return WORDS
    return NOT_CHROME


def _inside_chrome_tag(el: Element) -> bool:
    """Inside a nav/footer/aside or a navigation/search/complementary landmark."""
    for a in el.iterancestors():
        if a.tag in ("nav", "footer", "aside") or (a.get("role") or "") in (
                "navigation", "search", "complementary", "contentinfo", "dialog"):
            return True
    return False


def _holds_main_text(el: Element, lengths: Lengths, regions: set[Element], body: Element) -> bool:
    """The element holds most of the non-link text of the content region around it
    (its nearest semantic region, else the body): it is the content."""
    scope = body
    for a in el.iterancestors():
        if a in regions:
            scope = a
            break
    whole = lengths.nonlink(scope)
    return whole > 0 and lengths.nonlink(el) > 0.5 * whole


def _drop_separator_rules(el: Element) -> None:
    """An <hr> right before or after a dropped bar only separated it from the text."""
    for sib in (el.getprevious(), el.getnext()):
        if sib is not None and sib.tag == "hr":
            if sib is el.getnext() and (el.tail or "").strip():
                continue
            if sib is el.getprevious() and (sib.tail or "").strip():
                continue
            sib.set("data-dp-chrome", "1")


# The tags is_chrome has a rule of its own for without a class (by tag, or by id: div
# ul ol aside header footer form; a <p> as a jump bar); any other element is chrome
# only by its class words or its role, or as a pager bar - without a class or role,
# and not a pager, it is never chrome. (Two thirds of a page's elements outside code
# are such: li, td, dt, em, span, h2...)
_CHROME_TAGS = frozenset({"div", "p", "a", "nav", "ul", "ol", "footer", "form", "header", "details", "aside"})
# Any other element with a class, without a role and not a pager bar, is chrome only by
# its class words (is_chrome's last rule), or as a leaf <span>/<i> labelled "lang" or
# "icon": when its words hold none of these, is_chrome's answer is NOT_CHROME. (Reference
# pages are mostly such elements: Sphinx's signature spans, 10,540 on Flask's API page.)
_CHROME_OR_LABEL_WORDS = CHROME_WORDS | {"lang", "icon"}


def prune_chrome(body: Element, words: dict[Element, set[str]] | None = None,
                 lengths: Lengths | None = None, marks: Marks | None = None) -> None:
    """Drop the page's chrome in place; `words` caches class words for later passes,
    `lengths` may be given when already counted for this tree, `marks` when clean noted
    them (then code is searched for line-number gutters only when a class names one,
    and the links are not all read for pager bars' rel and accesskey)."""
    gutters = marks is None or marks.gutters
    if lengths is None:
        lengths = Lengths(body)
    total = lengths.text.get(body, 0)
    protected: set[Element] = set()
    regions: set[Element] = set()
    largest: Element | None = None
    for el in lengths.semantic:  # in document order
        size = lengths.text.get(el, 0)
        if size:
            regions.add(el)
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
    pagers = pager_bars(body, lengths, None if marks is None else marks.navlinks)
    remove: list[Element] = []
    gutter_classes: dict[str, bool] = {}
    # Pre-order, the subtree of an element that goes (and of code) not walked: nothing
    # inside a removed element is asked about, and inside code only line-number
    # gutters are chrome (highlighted code is half of a page's elements).
    walker = etree.iterwalk(body, events=("start",))
    for _, el in walker:
        if el in protected:
            continue
        tag = el.tag
        if not isinstance(tag, str):
            continue
        if tag == "pre" or tag == "code":
            walker.skip_subtree()
            if gutters and len(el):
                _gutters(el, remove, gutter_classes)
            continue
        cls = el.get("class")
        if (tag not in _CHROME_TAGS or tag == "p") and not el.get("role") and not (pagers and el in pagers):
            if not cls:
                # is_chrome's answer for it is NOT_CHROME (see _CHROME_TAGS), or for a <p>
                # unless it is a bar of jump links
                if tag != "p" or len(el) < 2 or lengths.density(el) < 0.6:
                    continue
            elif tag != "p":
                found = words.get(el) if words is not None else None
                if found is None:
                    found = words_of(el)
                    if words is not None:
                        words[el] = found  # the cache is_chrome and the later passes read
                if found.isdisjoint(_CHROME_OR_LABEL_WORDS):
                    continue  # NOT_CHROME (see _CHROME_OR_LABEL_WORDS)
        why = is_chrome(el, lengths, pagers, words)
        if not why:
            continue
        if why == WORDS and _holds_main_text(el, lengths, regions, body):
            continue  # a class word never deletes the page's main text
        if (not protected and tag not in ("a", "nav") and el.get("role") != "navigation"
                and total > 0 and lengths.text.get(el, 0) > 0.5 * total):
            continue  # holds most of the page's text: it is the content, whatever its tag says
        remove.append(el)
        walker.skip_subtree()
    frames: dict[Element, None] = {}
    for el in remove:
        if el.tag != "a":
            _drop_separator_rules(el)
        if (el.tag == "nav" or el.get("role") == "navigation" or (el.tag in ("div", "p") and _is_jump_bar(el))) \
                and (parent := el.getparent()) is not None:
            frames[parent] = None  # a dropped bar of links: its frame may be left holding only its label
        lengths.forget(el)
        drop(el)
    gone = set(remove)
    if frames:
        _drop_label_frames(frames, protected, regions, lengths, gone)
    lengths.removed(gone)


def _gutters(code: Element, remove: list[Element], classes: dict[str, bool]) -> None:
    """Append to `remove` the line-number gutters inside a code element (pre/code
    themselves never are; nor anything inside a gutter already taken). `classes`: per
    class attribute whether it names a gutter (the page's code repeats a few)."""
    taken: set[Element] = set()
    for el in code.iterdescendants():
        cls = el.get("class")
        if not cls:
            continue
        gutter = classes.get(cls)
        if gutter is None:
            gutter = classes[cls] = not LINENO_WORDS.isdisjoint(cls.split())
        if not gutter or el.tag in ("pre", "code"):
            continue
        if taken:
            inside = False
            for a in el.iterancestors():
                if a is code:
                    break
                if a in taken:
                    inside = True
                    break
            if inside:
                continue
        remove.append(el)
        taken.add(el)


_LABELS = ("h2", "h3", "h4", "h5", "h6", "summary", "legend", "caption")
_FRAME_TEXT = 200  # a label frame is small once its block is gone


def _drop_label_frames(frames: dict[Element, None], protected: set[Element], regions: set[Element],
                       lengths: Lengths, gone: set[Element]) -> None:
    """From the parent of each dropped bar of links up: an element whose remaining text is all
    in headings (h2-h6), a summary, legend or caption only labelled what was dropped, and
    goes too; an empty one is passed through; the first holding other text (or an h1,
    or a main region) stops the walk."""
    done: set[Element] = set()
    for start in frames:
        node: Element | None = start
        top = None
        while node is not None and node not in done and node not in protected and node not in regions \
                and node.tag not in ("body", "html"):
            done.add(node)
            t = lengths.text.get(node, 0)
            if t > _FRAME_TEXT:
                break
            if t:
                if _has(node, "h1", "pre", "table"):
                    break
                outer = [h for h in node.iter(*_LABELS) if not any(a.tag in _LABELS for a in h.iterancestors())]
                if sum(lengths.text.get(h, 0) for h in outer) < t:
                    break
                top = node
            node = node.getparent()
        if top is not None and top.getparent() is not None:
            gone.add(top)
            lengths.forget(top)
            drop(top)


# ---------------------------------------------------------------------------
# Main content


def is_semantic(el: Element) -> bool:
    return el.tag in SEMANTIC_TAGS or el.get("role") == "main" or el.get("itemprop") == "articleBody"


def _has(el: Element, *tags: str) -> bool:
    return next(el.iter(*tags), None) is not None


def find_main(body: Element, lengths: Lengths | None = None) -> Element:
    if lengths is None:
        lengths = Lengths(body)

    def size(el: Element) -> float:  # links count a little (index pages are all links)
        return lengths.nonlink(el) + 0.25 * lengths.link.get(el, 0)

    total = size(body)
    sem = lengths.semantic
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
                node = inner[-1]  # deepest: the last in document order (so is `sem`)
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
        if next(el.iterdescendants("p", "table", "ul", "ol", "pre"), None) is not None:
            return
        # A div inside the title (Doxygen's div.ingroups: "member of group X" links) is
        # not part of the heading: it moves to just after it.
        after = el
        for d in [d for d in el if d.tag == "div"]:
            tail, d.tail = d.tail, None
            prev = d.getprevious()
            if prev is not None:
                prev.tail = (prev.tail or "") + (tail or "")
            else:
                el.text = (el.text or "") + (tail or "")
            after.addnext(d)
            after = d
        text = " ".join("".join(el.itertext()).split())
        if 0 < len(text) <= 200 and next(el.iterdescendants("div"), None) is None:
            el.tag = "h1"
        return


def _widen_for_h1(node: Element, body: Element, lengths: Lengths) -> Element:
    """If the main node has no h1 but the page has one before it (e.g. AsciiDoc
    #header + #content), widen to their lowest common ancestor."""
    if node is body:
        return node
    # The page's first h1 first: with none there is none in the node either, and one
    # inside or after the node answers without a walk of the node for another.
    h1 = next(body.iter("h1"), None)
    if h1 is None or h1 is node or node in h1.iterancestors():
        return node
    if not "".join(h1.itertext()).strip() or _after(h1, node) or _has(node, "h1"):
        return node
    anc = set(h1.iterancestors())
    for a in node.iterancestors():
        if a in anc:
            return a
    return node


def _after(a: Element, b: Element) -> bool:
    """Whether `a` comes after `b` in document order (pre-order: inside b is after it),
    from their paths to their lowest common ancestor rather than a walk of the tree."""
    child_b: dict[Element, Element] = {}  # each ancestor of b: its child on the way to b
    prev = b
    for x in b.iterancestors():
        child_b[x] = prev
        prev = x
    if a is b or a in child_b:
        return False  # b itself, or an ancestor of b: before it
    prev = a
    for x in a.iterancestors():
        if x is b:
            return True
        if x in child_b:
            return bool(x.index(prev) > x.index(child_b[x]))
        prev = x
    return False


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
