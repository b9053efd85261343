"""Pass 2, parse: decoded text -> an lxml tree (`parse(decoded) -> tree`).

lxml with huge_tree so big text nodes survive; comments and processing instructions
are not kept. libxml2 stops at 2048 levels of nesting and drops the rest: such a page
keeps its text, flattened to one paragraph per source line. Nothing else happens
here, so size caps or other guards can wrap this one function.
"""

from __future__ import annotations

import re
from html import escape as html_escape
from html import unescape as html_unescape
from collections.abc import Callable
from typing import Any

import lxml.etree as etree

__all__ = ["Element", "Refused", "holds", "parse", "text_of"]

Element = Any  # lxml.etree._Element (lxml has no bundled type stubs)

_TAG = re.compile(r"<[^<>]*>")


def _parser() -> Any:
    # One parser per call: lxml parsers are not safe to share between threads. No
    # table of ids (collect_ids): no pass looks an element up by its id, and building
    # it is a tenth of the parse.
    return etree.HTMLParser(encoding="utf-8", huge_tree=True, remove_comments=True, remove_pis=True,
                            default_doctype=False, collect_ids=False)


class Refused(Exception):
    """The caller's guard refused the parsed tree (the guard's exception is `error`)."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def parse(decoded: str, guard: Callable[[Element], None] | None = None) -> Element | None:
    """The document's root element, or None when there is nothing to parse. `guard`
    sees the tree as libxml2 built it (before the fallback below); what it raises
    comes out as Refused."""
    text = decoded
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
    if guard is not None:
        try:
            guard(root)
        except Exception as exc:
            raise Refused(exc) from exc
    if any("depth" in (e.message or "") for e in parser.error_log if e.type_name == "ERR_RESOURCE_LIMIT"):
        plain = html_unescape(_TAG.sub(" ", text))
        paras = "".join("<p>" + html_escape(ln) + "</p>" for ln in plain.splitlines() if ln.strip())
        try:
            root = etree.fromstring(("<html><body>" + paras + "</body></html>").encode("utf-8", "replace"),
                                    _parser())
        except (etree.ParserError, etree.XMLSyntaxError, ValueError):
            return None
    return root


def text_of(el: Element) -> str:
    """The element's text content without its tail: what ``"".join(el.itertext())``
    gives, but serialised by libxml2 in one call instead of one Python string per text
    node (3x faster on code blocks and links); a leaf's text is read directly."""
    if not len(el):
        return el.text or ""
    return etree.tostring(el, method="text", encoding=str, with_tail=False)  # type: ignore[no-any-return]


# Descendants looked at one by one before lxml's walk in C is asked: the walk is fast,
# but each call first builds a matcher for the names it is given (~100 ns a name: 5 us
# for the renderer's 50 block tags), many times what the few descendants of most
# inline elements and table cells (a link's code span, a cell's link) cost here.
_SCAN = 8


def holds(el: Element, names: frozenset[str], tags: tuple[str, ...]) -> bool:
    """Whether a descendant of `el` has one of the tag names `names` (`tags`: the same
    names, for lxml): next(el.iterdescendants(*tags), None) is not None."""
    n = 0
    for d in el.iterdescendants():
        if d.tag in names:
            return True
        n += 1
        if n > _SCAN:
            return next(el.iterdescendants(*tags), None) is not None
    return False
