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
the page's ``<`` count or length could reach them, the text only when its length could
(the text is what costs: a target without a ``data`` method gets no call per text
node); otherwise only the depth is.

A worker converts the page right after, and the converter's own parse builds the same
tree (same parser): there the depth costs one compiled XPath in C instead of a Python
call per element. So with ``on_tree=True`` a page that only the depth limit could
refuse is not streamed; ``check`` returns the guard the converter runs on its parsed
tree (``convert(..., guard=...)``), which refuses it with the same message. libxml2
stops building a tree at 2048 levels (the stream goes on), so a limit that high is
always streamed."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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


class ProcessorBusy(Exception):
    """Every conversion worker stayed busy until the call's deadline: the processor is
    saturated (a loaded machine, a burst of big pages), the page is not at fault. The
    service answers ABORTED, which the orchestrator retries."""


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
    # CPU seconds one page's conversion may use in its worker (a profiling interval timer).
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

    def close(self) -> None:
        return None


class _TextCounter(_Counter):
    """_Counter that also counts the text: for a page whose markup is longer than the
    text limit (the parser then calls `data` per text node; a target without it is
    not called for text)."""

    __slots__ = ()

    def data(self, data: str) -> None:
        self.text += len(data)
        if self.limits.max_text_chars and self.text > self.limits.max_text_chars:
            raise PageTooLarge(f"the page has more than {self.limits.max_text_chars} characters of text")


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


# The start of a page whose "<" are counted first (see check).
_HEAD = 8192

# The deepest tree libxml2's HTML parser builds (it drops what nests deeper).
_TREE_MAX_DEPTH = 2048

TreeGuard = Callable[[Any], None]


def check(html: str, limits: PageLimits, *, on_tree: bool = False) -> TreeGuard | None:
    """Raises PageTooLarge when the parsed page would be over a limit. With `on_tree`,
    may leave the depth to the converter's parsed tree: returns the guard to pass to
    `convert` then (None: nothing is left to check)."""
    if not (limits.max_elements or limits.max_depth or limits.max_text_chars or limits.max_table_cells):
        return None
    long_text = bool(limits.max_text_chars and len(html) > limits.max_text_chars)
    # A page has no more tags than characters: when even that many are under the element
    # and cell limits, only the depth asks the number, and then only whether it passes
    # max_depth's, which the page's first few KB answer for most pages (a count of all of
    # a 100 KB page's "<" is a tenth of a millisecond).
    most = _ELEMENTS_PER_TAG * len(html) + _IMPLIED
    if not long_text and (not limits.max_elements or most <= limits.max_elements) \
            and (not limits.max_table_cells or len(html) <= limits.max_table_cells) and limits.max_depth \
            and _ELEMENTS_PER_TAG * html.count("<", 0, _HEAD) + _IMPLIED > limits.max_depth:
        tags = len(html)  # (stands for the count: any number from the head's to this takes the branches below it would)
    else:
        tags = html.count("<")
    bound = _ELEMENTS_PER_TAG * tags + _IMPLIED  # elements the parse can make, at most
    counter: _Counter | _DepthCounter
    if ((limits.max_elements and bound > limits.max_elements)
            or (limits.max_table_cells and tags > limits.max_table_cells) or long_text):
        counter = _TextCounter(limits) if long_text else _Counter(limits)
    elif limits.max_depth and bound > limits.max_depth:
        if on_tree and limits.max_depth < _TREE_MAX_DEPTH:
            return depth_guard(limits.max_depth)
        counter = _DepthCounter(limits.max_depth)
    else:
        return None  # no limit can be crossed
    parser = lxml.etree.HTMLParser(target=counter, recover=True, no_network=True, huge_tree=True)
    try:
        for i in range(0, len(html), _SLICE):
            parser.feed(html[i:i + _SLICE])
        parser.close()
    except PageTooLarge:
        raise
    except (lxml.etree.LxmlError, ValueError):
        return None  # the converter decides what an unparsable page becomes
    return None


_guards = threading.local()  # compiled XPath objects are not shared between threads


def depth_guard(max_depth: int) -> TreeGuard:
    """A guard raising PageTooLarge for a parsed tree nesting elements more than
    `max_depth` deep (the root element is at depth 1, as in the stream above). The
    XPath's steps select each level's elements in turn and stop at the first empty one,
    so a page of ordinary depth costs a few steps over its elements, in C."""
    cache: dict[int, TreeGuard] = _guards.__dict__.setdefault("by_depth", {})
    guard = cache.get(max_depth)
    if guard is None:
        deeper = lxml.etree.XPath("boolean(" + "/*" * (max_depth + 1) + ")")

        def guard(root: Any) -> None:
            if deeper(root):
                raise PageTooLarge(f"the page nests elements more than {max_depth} deep")

        cache[max_depth] = guard
    return guard
