"""Pass 2b, junk: remove what a reader of the page never sees, in place.

Scripts, styles, forms, media and other non-text elements go; so does everything the
page itself marks as not shown: the `hidden` attribute, `aria-hidden="true"` on
decoration, inline `display:none` / `visibility:hidden`, the classes frameworks
document as visually hidden (vocab.VISUALLY_HIDDEN, Tailwind's `hidden` unless a
breakpoint shows it), and classes the page's own `<style>` rules hide. Inactive tab
panels are hidden too but are content: they stay (classify.py labels them).
MathJax 2 `<script type="math/tex">` becomes a math span first, and a checkbox that
opens a list item becomes a GFM task marker (any other checkbox is a UI toggle, and the
`<label for=…>` naming it is that toggle's button). A task list's checkbox is `disabled`
(as Markdown renderers write it) or nameless; an enabled checkbox is a setting,
and a small block of two or more settings — its text no more than a few words per
control, no code, table, image or heading outside a summary — is a settings panel and goes with its
controls (TypeDoc's "Settings: Member Visibility [ ] Protected … Theme [OS]"). A short
`javascript:` link outside a paragraph is a control drawn as a link, dropped like a button
(Doxygen's search filter menu, "•All Data Structures Files …", which its script fills in;
rustdoc's "Back"). Only a rule whose selector is a lone
class hides a class: `.toggle:checked ~ .panel {display: none}` hides it in one state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from .parse import Element
from .vocab import HEADINGS, JUNK_TAGS, LINENO_WORDS, VISUALLY_HIDDEN, words_of

__all__ = ["Marks", "clean", "drop"]

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
        if len(css) <= _MEMO_CSS:
            out |= _css_hidden(css)
        else:
            out |= _css_hidden.__wrapped__(css)
    return frozenset(out)


# A site's pages embed the same <style> sheet (AsciiDoc's and Doxygen's whole stylesheet,
# 10-40 KB, on every page): its rules are read once, not on every page. Hashing the
# sheet for the lookup costs a small part of matching the rules.
_MEMO_CSS = 256 << 10


@lru_cache(maxsize=32)
def _css_hidden(css: str) -> frozenset[str]:
    """The lone classes the rules of one style sheet hide."""
    out: set[str] = set()
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


def _is_task_box(el: Element) -> bool:
    """A GFM task list's checkbox: the first thing in its list item, and disabled or
    nameless (Markdown renderers write it disabled, clickable task lists without a name;
    a form's setting has a name)."""
    return (el.get("disabled") is not None or el.get("name") is None) and _opens_list_item(el)


# A javascript: link with a label up to this long is a control (a button drawn as a link).
_SCRIPT_LINK_CHARS = 40
# A settings panel holds at most this many characters of text per control in it.
_PANEL_CHARS_PER_CONTROL = 40
_PANEL_DEPTH = 8
# a paragraph holding a control is prose with a widget in it (a sidenote's toggle)
_PANEL_STOP = frozenset({"body", "html", "main", "article", "p"})
_PANEL_BLOCKERS = ("pre", "code", "table", "img", "h1", "h2", "h3", "h4", "h5", "h6")


def _text_within(el: Element, limit: int) -> int | None:
    """The element's text length (whitespace aside), or None once it passes `limit`."""
    n = 0
    for t in el.itertext():
        n += len(t) - t.count(" ") - t.count("\n")
        if n > limit:
            return None
    return n


def _settings_panels(controls: list[Element]) -> list[Element]:
    """The outermost small block around two or more of the given setting controls (still
    in the tree) whose text is only their labels: at most _PANEL_CHARS_PER_CONTROL
    characters per control inside it, no code, table, image or heading (a heading in a
    summary is the panel's caption), not inside a paragraph."""
    counts: dict[Element, int] = {}
    chains = []
    for c in controls:
        chain = []
        for i, a in enumerate(c.iterancestors()):
            if i >= _PANEL_DEPTH or a.tag in _PANEL_STOP or a.get("role") == "main":
                break
            chain.append(a)
            counts[a] = counts.get(a, 0) + 1
        chains.append(chain)
    panels: dict[Element, None] = {}
    for chain in chains:
        best = None
        for a in chain:
            n = _text_within(a, _PANEL_CHARS_PER_CONTROL * counts[a])
            if n is None or any(h.getparent() is None or h.getparent().tag not in ("summary", "legend")
                                for h in a.iterdescendants(*_PANEL_BLOCKERS)):
                break
            if n and counts[a] >= 2:
                best = a
        if best is not None:
            panels[best] = None
    return [p for p in panels if not any(a in panels for a in p.iterancestors())]


@dataclass(slots=True)
class Marks:
    """What `clean` saw of the attributes of the elements it went through, for the passes
    after it, which would otherwise read an attribute of every element again to find a
    few (a `get` costs as much as the rest of their per-element work):
      landmarks  the elements that are main regions by an attribute (role=main,
                 itemprop=articleBody; main.is_semantic's other half is the tag);
      gutters    whether any element's class names a line-number gutter
                 (vocab.LINENO_WORDS; main.prune_chrome looks for them inside code);
      navlinks   the links with a rel or accesskey attribute (main.pager_bars' Next /
                 Previous / Up links are among them).
    Dropped elements may be among them (the passes only meet those in the tree)."""

    landmarks: set[Element] = field(default_factory=set)
    gutters: bool = False
    navlinks: list[Element] = field(default_factory=list)


def clean(root: Element) -> Marks:
    """Remove junk and hidden elements in place; what later passes need to know of the
    attributes of the elements kept (see Marks)."""
    css_hidden = VISUALLY_HIDDEN | {"hidden"} | _hidden_classes(root)
    remove = []
    toggles: set[str] = set()  # ids of checkboxes that are UI toggles
    labels: list[Element] = []
    by_class: dict[str, bool] = {}  # whether this class string hides an element (no tab words)
    settings: list[Element] = []  # enabled checkboxes and selects: settings of the page's UI
    marks = Marks()
    gutter_classes: dict[str, bool] = {}
    for el in root.iter():
        tag = el.tag
        if tag in JUNK_TAGS:
            if tag == "script" and (el.get("type") or "").startswith("math/tex"):
                _mathjax_script(el)
                continue
            checkbox = tag == "input" and (el.get("type") or "").lower() == "checkbox"
            if checkbox and _is_task_box(el):
                el.tag = "span"
                checked = el.get("checked") is not None
                el.attrib.clear()
                el.text = "[x] " if checked else "[ ] "
                el.set("class", "task-marker")
                continue
            if checkbox and el.get("id"):
                toggles.add(el.get("id") or "")
            if (checkbox and el.get("disabled") is None) or tag == "select":
                settings.append(el)  # (a task box became a marker above)
            remove.append(el)
            continue
        if not isinstance(tag, str):
            remove.append(el)
            continue
        names = el.keys()
        cls = el.get("class") if names and "class" in names else None
        if names:  # (Marks; read here once, for every element kept)
            if ("role" in names and el.get("role") == "main") or (
                    "itemprop" in names and el.get("itemprop") == "articleBody"):
                marks.landmarks.add(el)
            if cls and not marks.gutters:
                gutter = gutter_classes.get(cls)
                if gutter is None:
                    gutter = gutter_classes[cls] = not LINENO_WORDS.isdisjoint(cls.split())
                marks.gutters = gutter
            if tag == "a" and ("rel" in names or "accesskey" in names):
                marks.navlinks.append(el)
        if tag == "label" and el.get("for"):
            labels.append(el)
        elif tag == "math":
            continue
        elif tag == "a":
            href = el.get("href")
            if href is not None and href.lstrip()[:11].lower() == "javascript:" \
                    and (parent := el.getparent()) is not None and parent.tag != "p" \
                    and _text_within(el, _SCRIPT_LINK_CHARS) is not None:
                # a control drawn as a link (in a paragraph its words are the text's)
                remove.append(el)
                continue
        if not names:
            continue
        if "hidden" in names or "style" in names or "aria-hidden" in names:
            if _is_hidden(el, css_hidden):
                remove.append(el)
            continue
        # Only the class can hide it (the most common case by far: every token of
        # highlighted code), and whether it does depends on the class string alone -
        # but a tab panel's role keeps it.
        if not cls:
            continue
        hidden = by_class.get(cls)
        if hidden is None:
            hidden = by_class[cls] = _hidden_by_class(el, css_hidden) and not words_of(el) & _TAB_WORDS
        if hidden and el.get("role") != "tabpanel":
            remove.append(el)
    # The label of a toggle checkbox is the toggle's button ("View Source", a menu
    # switch), dropped like <button>; a radio's label names a tab and stays.
    remove.extend(lab for lab in labels if lab.get("for") in toggles)
    if settings:
        remove.extend(_settings_panels(settings))
    for el in remove:
        drop(el)
    return marks


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
