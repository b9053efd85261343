"""The per-page budget of a conversion: how large a parsed page may be, and how much
CPU time and memory its conversion may take.

``check`` runs in the worker before the converter builds its tree. It streams the page
through lxml's HTML parser with a parser *target* (no tree is built, so its memory is
constant) and stops at the first limit crossed, so a 20 MB page of 4 million ``<br>``
costs a fraction of a second and a few MiB instead of gigabytes and tens of seconds.
The counts are the ones the converter's own parse sees (same libxml2 HTML parser).

Most pages cannot cross most limits, and that is known from the text alone: every
element the parser makes starts at a ``<`` or is one of the few it implies (html, head,
body, a paragraph around loose text: at most two per ``<``), and the parsed text is no
longer than the markup. So the element, cell and text counts are only streamed when
the page's ``<`` count or length could reach them; otherwise only the depth is (a
target without a ``data`` method: the parser makes no call per text node)."""

from __future__ import annotations

from dataclasses import dataclass

import lxml.etree

DEFAULT_MAX_ELEMENTS = 250_000
DEFAULT_MAX_DEPTH = 1_000
DEFAULT_MAX_TEXT_CHARS = 10 * 1024 * 1024
DEFAULT_MAX_TABLE_CELLS = 100_000
DEFAULT_CPU_SECONDS = 20.0
DEFAULT_WALL_SECONDS = 60.0
DEFAULT_MEMORY_BYTES = 768 * 1024 * 1024

_CELLS = frozenset({"td", "th"})
# Fed to the parser in slices, so a large page is never copied whole into bytes here.
_SLICE = 256 * 1024


class PageTooLarge(Exception):
    """The page is over one of the parsed-size limits (or ran its worker out of memory)."""


class PageTooSlow(BaseException):
    """The page's conversion went over its time budget. A BaseException: raised from a
    signal handler in the middle of the converter, it must not be swallowed by the
    converter's own ``except Exception``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PageLimits:
    # Parsed size, checked before conversion (0 turns a limit off).
    max_elements: int = DEFAULT_MAX_ELEMENTS
    max_depth: int = DEFAULT_MAX_DEPTH
    max_text_chars: int = DEFAULT_MAX_TEXT_CHARS
    max_table_cells: int = DEFAULT_MAX_TABLE_CELLS
    # CPU seconds one page's conversion may use in its worker (RLIMIT_CPU, soft).
    cpu_seconds: float = DEFAULT_CPU_SECONDS
    # Wall seconds after which the pool kills the worker converting the page and starts
    # a new one (also bounded by the caller's gRPC deadline).
    wall_seconds: float = DEFAULT_WALL_SECONDS
    # Address space of each worker process (RLIMIT_AS); 0: unlimited.
    memory_bytes: int = DEFAULT_MEMORY_BYTES


class _Counter:
    """lxml parser target: counts as the parser goes and raises at the first limit."""

    __slots__ = ("limits", "elements", "depth", "text", "cells")

    def __init__(self, limits: PageLimits) -> None:
        self.limits = limits
        self.elements = 0
        self.depth = 0
        self.text = 0
        self.cells = 0

    def start(self, tag: str, attrib: object) -> None:
        limits = self.limits
        self.elements += 1
        self.depth += 1
        if limits.max_elements and self.elements > limits.max_elements:
            raise PageTooLarge(f"the page has more than {limits.max_elements} elements")
        if limits.max_depth and self.depth > limits.max_depth:
            raise PageTooLarge(f"the page nests elements more than {limits.max_depth} deep")
        if tag in _CELLS:
            self.cells += 1
            if limits.max_table_cells and self.cells > limits.max_table_cells:
                raise PageTooLarge(f"the page has more than {limits.max_table_cells} table cells")

    def end(self, tag: str) -> None:
        self.depth -= 1

    def data(self, data: str) -> None:
        self.text += len(data)
        if self.limits.max_text_chars and self.text > self.limits.max_text_chars:
            raise PageTooLarge(f"the page has more than {self.limits.max_text_chars} characters of text")

    def close(self) -> None:
        return None


class _DepthCounter:
    """lxml parser target for a page under every limit but the depth: counts only that."""

    __slots__ = ("max_depth", "depth")

    def __init__(self, max_depth: int) -> None:
        self.max_depth = max_depth
        self.depth = 0

    def start(self, tag: str, attrib: object) -> None:
        self.depth += 1
        if self.depth > self.max_depth:
            raise PageTooLarge(f"the page nests elements more than {self.max_depth} deep")

    def end(self, tag: str) -> None:
        self.depth -= 1

    def close(self) -> None:
        return None


# Elements per "<" at most (the tag's own, and the ones the parser implies around it),
# plus html, head and body.
_ELEMENTS_PER_TAG = 3
_IMPLIED = 8


def check(html: str, limits: PageLimits) -> None:
    """Raises PageTooLarge when the parsed page would be over a limit."""
    if not (limits.max_elements or limits.max_depth or limits.max_text_chars or limits.max_table_cells):
        return
    tags = html.count("<")
    bound = _ELEMENTS_PER_TAG * tags + _IMPLIED  # elements the parse can make, at most
    counter: _Counter | _DepthCounter
    if ((limits.max_elements and bound > limits.max_elements)
            or (limits.max_table_cells and tags > limits.max_table_cells)
            or (limits.max_text_chars and len(html) > limits.max_text_chars)):
        counter = _Counter(limits)
    elif limits.max_depth and bound > limits.max_depth:
        counter = _DepthCounter(limits.max_depth)
    else:
        return  # no limit can be crossed
    parser = lxml.etree.HTMLParser(target=counter, recover=True, no_network=True, huge_tree=True)
    try:
        for i in range(0, len(html), _SLICE):
            parser.feed(html[i:i + _SLICE])
        parser.close()
    except PageTooLarge:
        raise
    except (lxml.etree.LxmlError, ValueError):
        return  # the converter decides what an unparsable page becomes
