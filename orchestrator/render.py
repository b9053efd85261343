"""The render step's decision: which pages go to the browser (the renderer service).

- ``never``: none; ``always``: every page, rendered directly (no plain fetch first).
- ``auto`` (the default): a page is fetched as usual and rendered only when its HTML is
  a shell that a script fills in (``shell_reason``); after ``shells_per_host`` such pages
  on one host, that host's further pages are rendered directly, skipping the wasted
  fetch. A site whose pages carry their text costs nothing but one parse per page.

A page is a shell only if it has scripts (without one, a browser shows what the HTML
holds), is no redirect stub (``<meta http-equiv=refresh>``: the crawl follows those
links anyway), and one of: next to no text in the body; a known single-page-app mount
point (``#app``, ``#root``, ``#__next``, ``<app-root>``...) that is empty while the page
has little text; a ``<noscript>`` asking to enable JavaScript (not just for search, as
every Sphinx search page does) while the page has little text and no title heading of its
own (Javadoc prints "JavaScript is disabled on your browser." on every page, short
interface pages included: a page whose ``<h1>`` is in the HTML was rendered by the server). Most pages are decided
before any parse: no ``<script`` at all, or plainly more text than a shell has. Pure
function of the HTML, so it is tested on its own (tests/renderer)."""

from __future__ import annotations

import asyncio
import re
from collections import Counter

import lxml.etree
import lxml.html

from docspasta.v1 import orchestrator_pb2 as pb

AUTO, ALWAYS, NEVER = "auto", "always", "never"
MODES = (AUTO, ALWAYS, NEVER)
_FROM_PROTO = {pb.RENDER_MODE_UNSPECIFIED: AUTO, pb.RENDER_MODE_AUTO: AUTO, pb.RENDER_MODE_ALWAYS: ALWAYS,
               pb.RENDER_MODE_NEVER: NEVER}
_TO_PROTO = {AUTO: pb.RENDER_MODE_AUTO, ALWAYS: pb.RENDER_MODE_ALWAYS, NEVER: pb.RENDER_MODE_NEVER}

DEFAULT_SHELLS_PER_HOST = 2
# Characters of visible body text under which a scripted page is a shell whatever else it holds.
TINY_TEXT = 200
# ... and under which an empty mount point or a "enable JavaScript" notice makes it one.
LITTLE_TEXT = 1000
# A mount point holding less text than this (a "Loading..." placeholder) is empty.
EMPTY_MOUNT_TEXT = 40
MOUNT_IDS = frozenset({"app", "root", "__next", "__nuxt", "___gatsby", "svelte", "main-app", "react-root",
                       "vue-app", "application", "docs-app", "q-app", "__docusaurus"})
MOUNT_TAGS = frozenset({"app-root", "my-app"})
MOUNT_ATTRIBUTES = ("data-reactroot", "ng-app", "data-ng-app", "data-v-app", "data-server-rendered")
_NOT_TEXT = ("script", "style", "noscript", "template", "svg")
_JS_NOTICE = re.compile(
    r"(enable|turn on|activate|allow)\s+(your\s+)?javascript|javascript\s+(is\s+)?(required|disabled|needed|must be"
    r"|needs to be|is not enabled|is turned off)|(requires?|need|needs)\s+(to\s+)?(have\s+)?javascript"
    r"|without\s+javascript|javascript\s+to\s+(run|view|use|work)", re.I)
# Scripts that never change the DOM: data blocks.
_DATA_SCRIPT_TYPES = frozenset({"application/ld+json", "application/json", "importmap", "text/template",
                                "text/x-template", "speculationrules"})
_REFRESH = re.compile(r"""<meta[^>]+http-equiv\s*=\s*["']?refresh""", re.I)
# Text runs between tags, skipping script and style blocks: the rough text of a page
# without parsing it (a little more than the real text: the title, noscript notices).
# A text run must hold a non-space character to match, so the whitespace between tags
# (most of a page's chrome: hundreds of sidebar links) is skipped inside the regex
# engine instead of once per run in Python (6x faster on a Sphinx-like page). A block's
# end is found with one search from its opening tag, not by a lazy ``.*?`` that tries
# the end at every character: 5x faster on pages with a large inline stylesheet (the
# git manual's), and linear where an unclosed ``<script>`` repeated made it quadratic.
_BLOCK = r"(?:script|style|SCRIPT|STYLE)"
_TEXT_RUN = re.compile(r">(\s*[^<\s][^<]*)")
_TEXT_OR_BLOCK = re.compile(r"<" + _BLOCK + r"\b|" + _TEXT_RUN.pattern)
_BLOCK_END = re.compile(r"</" + _BLOCK + r"\s*>")
# Rough text this long is never a shell's.
ROUGH_ENOUGH = LITTLE_TEXT + 300
# Pages up to this size get the quick test on the event loop (it stops early anyway).
INLINE_BYTES = 256 * 1024
_TEXT_XPATH = lxml.etree.XPath(
    "//body//text()[not(ancestor::script or ancestor::style or ancestor::noscript or ancestor::template"
    " or ancestor::svg)]")


# More tags than any app shell has (its content arrives by script).
_MAX_SHELL_TAGS = 50_000


def mode_from_proto(value: int) -> str:
    return _FROM_PROTO.get(value, AUTO)  # type: ignore[call-overload, no-any-return]


def mode_to_proto(mode: str) -> pb.RenderMode:
    return _TO_PROTO[mode]


def _text(nodes: list[str]) -> str:
    return " ".join(" ".join(nodes).split())


def _own_text(el: lxml.html.HtmlElement) -> str:
    parts = [t for t in el.itertext() if t.strip()]
    # itertext includes script/style text inside the element: drop elements of those kinds.
    skip = "".join(s.text_content() for s in el.iter(*_NOT_TEXT) if s is not el)
    text = " ".join(" ".join(parts).split())
    return text.replace(" ".join(skip.split()), "").strip() if skip.strip() else text


def _rough_text(html: str, enough: int = ROUGH_ENOUGH) -> int:
    """Characters of text outside tags, scripts and styles, counted up to ``enough``."""
    total = 0
    runs = _TEXT_OR_BLOCK.finditer(html)
    while True:
        for match in runs:
            if (text := match.group(1)) is None:  # a script or style opens: skip to its end
                end = _BLOCK_END.search(html, match.end())
                # No end: none after it has one either, so the rest is text runs only
                # (the unclosed block's text counts, as the browser would show it).
                runs = (_TEXT_RUN.finditer(html, match.start() + 1) if end is None
                        else _TEXT_OR_BLOCK.finditer(html, end.end()))
                break
            total += len(text.strip())
            if total >= enough:
                return total
        else:
            return total


def might_be_shell(html: str) -> bool:
    """False when the page is plainly no shell (no script, plenty of text, a redirect
    stub): a substring test and a regex scan that stops early, no parse."""
    if not html.strip() or ("<script" not in html and "<SCRIPT" not in html):
        return False
    return _rough_text(html) < ROUGH_ENOUGH and _REFRESH.search(html) is None


async def check_shell(html: str) -> str | None:
    """``shell_reason`` without blocking the event loop: the quick test runs inline on
    pages up to INLINE_BYTES (a fraction of a millisecond; most pages end there), the
    parse in a thread."""
    if len(html) <= INLINE_BYTES and not might_be_shell(html):
        return None
    return await asyncio.to_thread(shell_reason, html)


def _titled(doc: lxml.html.HtmlElement) -> bool:
    """The page's title heading is in its HTML: an <h1> with text, outside <noscript>."""
    return any(_text([h.text_content()]) and not any(a.tag == "noscript" for a in h.iterancestors())
               for h in doc.iter("h1"))


def shell_reason(html: str) -> str | None:
    """Why this HTML is a shell a script fills in, or None. Never raises."""
    if not might_be_shell(html):
        return None
    if html.count("<") > _MAX_SHELL_TAGS:
        # Not a shell (it has thousands of elements), and a tree of a hostile page of
        # millions of them would take gigabytes here (issue 14).
        return None
    try:
        parser = lxml.html.HTMLParser(recover=True, no_network=True, remove_comments=True, huge_tree=True)
        doc = lxml.html.document_fromstring(html.encode("utf-8", "replace"), parser=parser)
    except (lxml.etree.LxmlError, ValueError):
        return None
    scripts = [s for s in doc.iter("script")
               if (s.get("type") or "").strip().lower() not in _DATA_SCRIPT_TYPES
               and (s.get("src") or (s.text or "").strip())]
    if not scripts:
        return None
    text = _text(_TEXT_XPATH(doc))
    if len(text) < TINY_TEXT:
        return f"the body holds {len(text)} characters of text"
    if len(text) >= LITTLE_TEXT:
        return None
    for el in doc.iter():
        if not isinstance(el.tag, str):
            continue
        mount = (el.get("id") in MOUNT_IDS or el.tag in MOUNT_TAGS
                 or any(el.get(a) is not None for a in MOUNT_ATTRIBUTES))
        if mount and el.tag not in ("html", "body", "script") and len(_own_text(el)) < EMPTY_MOUNT_TEXT:
            name = f"#{el.get('id')}" if el.get("id") else f"<{el.tag}>"
            return f"the app mount point {name} is empty"
    for noscript in doc.iter("noscript"):
        notice = noscript.text_content() or ""
        if _JS_NOTICE.search(notice) and "search" not in notice.lower() and not _titled(doc):
            return "a <noscript> notice asks to enable JavaScript"
    return None


class RenderDecision:
    """One job's render decisions (state: shells seen per host)."""

    def __init__(self, mode: str, *, shells_per_host: int = DEFAULT_SHELLS_PER_HOST) -> None:
        if mode not in MODES:
            raise ValueError(f"render mode must be one of {', '.join(MODES)}, got {mode!r}")
        self.mode = mode
        self.shells_per_host = shells_per_host
        self._shells: Counter[str] = Counter()
        self._unavailable = False

    @property
    def guessing(self) -> bool:
        """Auto mode renders on a guess (the page looked script-built): when the browser
        cannot render it, the page as fetched is kept instead of failing it."""
        return self.mode == AUTO

    @property
    def may_render(self) -> bool:
        return self.mode != NEVER

    def render_directly(self, host: str) -> bool:
        """Render without fetching first: always, or a host already known for shells
        (``shells_per_host`` pages whose render added their text)."""
        return self.mode == ALWAYS or (self.wants_check() and self._shells[host] >= self.shells_per_host)

    def wants_check(self) -> bool:
        """Whether fetched pages are checked for shells at all (not once auto mode has
        found there is no browser to render them in)."""
        return self.mode == AUTO and not self._unavailable

    def renderer_unavailable(self) -> None:
        """Auto mode found no renderer (none configured, or no Chromium): the rest of the
        job keeps pages as fetched, as --render never would, instead of asking again."""
        self._unavailable = True

    def shell_seen(self, host: str) -> None:
        self._shells[host] += 1

    @staticmethod
    def confirms_shell(fetched_html: str, rendered_html: str) -> bool:
        """Whether a render showed the fetched page was a shell: its scripts wrote text
        (TINY_TEXT characters or more). A static page that only looked like one (a tiny
        Doxygen index, a short list page with a script) renders to about the same text,
        and must not send the rest of its host to the browser."""
        wanted = _rough_text(fetched_html) + TINY_TEXT
        return _rough_text(rendered_html, enough=wanted) >= wanted

    def checkpoint(self) -> dict[str, int]:
        """Shells seen per host, for the job's resume checkpoint: an adopter keeps
        rendering a host known for shells directly instead of learning it again."""
        return dict(self._shells)

    def restore(self, saved: object) -> None:
        if isinstance(saved, dict):
            self._shells.update({str(h): max(0, int(n)) for h, n in saved.items()})
