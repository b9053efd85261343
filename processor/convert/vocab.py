"""The class/id vocabulary every pass shares: how an element's class attribute splits
into words, and the word lists that name chrome, admonitions, permalinks and line
numbers. Word lists only ever *suggest*; the passes decide with structure (see
main.py: no word may delete the container of the page's main text)."""

from __future__ import annotations

import re
from functools import lru_cache

from .parse import Element


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SPLIT = re.compile(r"[-_\s:.]+")


def words_of(el: Element) -> set[str]:
    """Lower-case words of the class attribute ("md-sidebar--primary" ->
    {"md", "sidebar", "primary", "md-sidebar--primary"}; camelCase is split too).
    Ids are not split: on doc pages they are mostly slugs of headings."""
    cls = el.get("class")
    if not cls:
        return set()
    if len(cls) > _MEMO_CLASS:
        return set(_split_words.__wrapped__(cls))
    return set(_split_words(cls))  # a copy: callers may keep and change theirs


# A page repeats a few class attributes on most of its elements, a site on its pages.
_MEMO_CLASS = 256


@lru_cache(maxsize=8192)
def _split_words(cls: str) -> frozenset[str]:
    out: set[str] = set()
    for tok in cls.split():
        out.add(tok.lower())
        for w in _SPLIT.split(_CAMEL.sub("-", tok)):
            if w:
                out.add(w.lower())
    return frozenset(out)


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

GLYPHS = frozenset({"¶", "#", "🔗", "§", "⚓", "🔗︎", "⚓︎", "permalink", "∞", "¤", "ⓘ", "ℹ", "ℹ︎", "◆"})
PERMALINK_WORDS = frozenset(
    "headerlink anchor anchorjs-link anchor-link hash-link header-anchor permalink heading-anchor "
    "anchorlink mark".split()
)

LINENO_WORDS = frozenset({"linenos", "lineno", "linenodiv", "lnt", "ln", "gutter", "hljs-ln-numbers",
                          "line-numbers-rows", "line-number", "linenumber", "hljs-ln-n"})
CONTAINER_TAGS = frozenset({"div", "section", "article", "main", "td", "body", "center", "span", "font", "form"})
EDIT_LABEL = re.compile(r"\bedit (this|the) page\b|\bview (page )?source\b|\bedit on github\b")
SEMANTIC_TAGS = frozenset({"main", "article"})
HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")



# Classes that CSS frameworks and generators document as "hidden" or "visually hidden"
# (shown to screen readers only, or not at all): Bootstrap, Tailwind, WordPress,
# Foundation, Bulma, Primer, Sphinx/pydata, Starlight, VitePress.
VISUALLY_HIDDEN = frozenset(
    """sr-only visually-hidden visuallyhidden screen-reader-text screen-reader-only sr-only-focusable
    visually-hidden-focusable show-for-sr is-sr-only hidden-visually u-visually-hidden a11y-hidden
    d-none is-hidden hide-visually""".split()
)
