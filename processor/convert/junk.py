"""Pass 2b, junk: remove what a reader of the page never sees, in place.

Scripts, styles, forms, media and other non-text elements go; so does everything the
page itself marks as not shown: the `hidden` attribute, `aria-hidden="true"` on
decoration, inline `display:none` / `visibility:hidden`, the classes frameworks
document as visually hidden (vocab.VISUALLY_HIDDEN, Tailwind's `hidden` unless a
breakpoint shows it), and classes the page's own `<style>` rules hide. Inactive tab
panels are hidden too but are content: they stay (classify.py labels them).
MathJax 2 `<script type="math/tex">` becomes a math span first, and a checkbox that
opens a list item becomes a GFM task marker (any other checkbox is a UI toggle, and the
`<label for=…>` naming it is that toggle's button). Only a rule whose selector is a lone
class hides a class: `.toggle:checked ~ .panel {display: none}` hides it in one state.
"""

from __future__ import annotations

import re

from .parse import Element
from .vocab import HEADINGS, JUNK_TAGS, VISUALLY_HIDDEN, words_of

__all__ = ["clean", "drop"]

_TAB_WORDS = frozenset({"tab", "tabpanel", "tab-pane", "tabitem", "tabbed", "panel", "tabbed-block",
                        "sd-tab-content", "tab-panel"})
# `sel, sel { … display: none … }`: a rule and its selector list; only a selector that is a
# lone class (`.name`, no combinator, state or other part) hides every element of that class
# — `.toggle:checked ~ .name` or `.page .name` hide it only in some states or places.
_STYLE_RULE = re.compile(r"([^{}]*)\{([^{}]*)\}")
_LONE_CLASS = re.compile(r"\.([A-Za-z_][\w-]*)")
_NONE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden")
# Responsive utilities that show an element hidden by default at some screen width.
_BREAKPOINT_SHOWN = re.compile(r"^(?:(?:sm|md|lg|xl|2xl):(?:block|flex|inline|inline-block|inline-flex|grid|table|contents)"
                               r"|d-(?:sm|md|lg|xl|xxl)-(?!none)[a-z-]+)$")


def _hidden_classes(root: Element) -> frozenset[str]:
    out: set[str] = set()
    for style in root.iter("style"):
        css = style.text or ""
        if "none" not in css and "hidden" not in css:
            continue
        for m in _STYLE_RULE.finditer(css[:200_000]):
            if not _NONE.search(m.group(2)):
                continue
            for sel in m.group(1).split(","):
                lone = _LONE_CLASS.fullmatch(sel.strip())
                if lone:
                    out.add(lone.group(1))
    return frozenset(out)


def _hidden_by_class(el: Element, hiding: frozenset[str]) -> bool:
    cls = el.get("class")
    if not cls:
        return False
    toks = cls.split()
    if hiding.isdisjoint(toks):
        return False
    # Tailwind `hidden md:block`, Bootstrap `d-none d-lg-block`: shown on wide screens.
    return not any(_BREAKPOINT_SHOWN.match(t) for t in toks)


def _is_hidden(el: Element, css_hidden: frozenset[str]) -> bool:
    if el.get("hidden") is not None or _hidden_by_class(el, css_hidden):
        # Inactive tab panels are hidden but are content.
        if (el.get("role") or "") == "tabpanel" or words_of(el) & _TAB_WORDS:
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


def _opens_list_item(el: Element) -> bool:
    """The checkbox is the first thing in its list item (GFM task list)."""
    node = el
    for _ in range(3):
        parent = node.getparent()
        if parent is None:
            return False
        if (parent.text or "").strip() or node.getprevious() is not None:
            return False
        if parent.tag == "li":
            return True
        if parent.tag not in ("p", "label", "span"):
            return False
        node = parent
    return False


def clean(root: Element) -> None:
    """Remove junk and hidden elements in place."""
    css_hidden = VISUALLY_HIDDEN | {"hidden"} | _hidden_classes(root)
    remove = []
    toggles: set[str] = set()  # ids of checkboxes that are UI toggles
    labels: list[Element] = []
    by_class: dict[str, bool] = {}  # _is_hidden of an element whose only attribute is this class
    for el in root.iter():
        tag = el.tag
        if not isinstance(tag, str):
            remove.append(el)
            continue
        if tag == "label" and el.get("for"):
            labels.append(el)
        if tag == "script" and (el.get("type") or "").startswith("math/tex"):
            _mathjax_script(el)
            continue
        if tag in JUNK_TAGS:
            if tag == "input" and (el.get("type") or "").lower() == "checkbox" and _opens_list_item(el):
                el.tag = "span"
                checked = el.get("checked") is not None
                el.attrib.clear()
                el.text = "[x] " if checked else "[ ] "
                el.set("class", "task-marker")
                continue
            if tag == "input" and el.get("id") and (el.get("type") or "").lower() == "checkbox":
                toggles.add(el.get("id") or "")
            remove.append(el)
        elif tag == "math":
            continue
        else:
            names = el.keys()
            if not names:
                continue
            if len(names) == 1 and names[0] == "class":
                # The most common case by far (every token of highlighted code): whether
                # a class alone hides the element depends on the class string only.
                cls = el.get("class")
                hidden = by_class.get(cls)
                if hidden is None:
                    hidden = by_class[cls] = _is_hidden(el, css_hidden)
                if hidden:
                    remove.append(el)
            elif _is_hidden(el, css_hidden):
                remove.append(el)
    # The label of a toggle checkbox is the toggle's button ("View Source", a menu
    # switch), dropped like <button>; a radio's label names a tab and stays.
    remove.extend(lab for lab in labels if lab.get("for") in toggles)
    for el in remove:
        drop(el)


def drop(el: Element) -> None:
    """Remove an element, keeping its tail text in place."""
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
