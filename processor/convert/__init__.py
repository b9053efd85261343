"""HTML -> clean, LLM-ready Markdown for documentation pages.

Pure library (no I/O). `convert(html, url, template=...)` runs the passes in order,
each its own module:

  decode.py    bytes -> text (BOM, meta charset); `looks_like_html` sniffs a body
  parse.py     text -> lxml tree (`parse(decoded) -> tree`)
  junk.py      drop what is never shown: scripts, forms, media, hidden-by-markup
  template.py  key every block of the page (for the job's site template) ...
  main.py      drop the page's own chrome, pick the main content
  template.py  ... and drop, at the main content's edges, blocks the whole site repeats
  classify.py  say once what each element is (code, math, admonition, tabs...)
  render.py    walk the classified tree and write CommonMark/GFM

It never raises: any failure yields an empty `Converted`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .classify import classify
from .decode import decode, looks_like_html
from .junk import clean
from .main import find_main, page_meta, promote_title, prune_chrome
from .parse import Element, Refused, parse
from .render import Renderer
from . import template as site_template
from .text import KEEP_SPACE, counts, token_estimate

__all__ = ["Converted", "convert", "looks_like_html", "token_estimate"]


@dataclass(frozen=True, slots=True)
class Converted:
    title: str
    markdown: str
    word_count: int
    token_estimate: int
    description: str
    # This page's site-template keys (template.py), for the per-job template table.
    template_keys: tuple[int, ...] = ()
    # Blocks removed because the site template knows them.
    template_removed: int = 0
    # The keys the template strip asked about (template.changes: whether converting
    # again under another template can change this result).
    template_probe: tuple[int, ...] = ()


EMPTY = Converted(title="", markdown="", word_count=0, token_estimate=0, description="")

_TITLE_SEPS = (" — ", " – ", " | ", " - ", " · ", " :: ", " » ")
_SENTENCE = re.compile(r"^(.{20,}?[.!?])(?=\s|$)")
_MD_NOISE = re.compile(r"\\([\\`*_\[\]<>#+.!|-])")


def strip_site_suffix(title: str) -> str:
    """"Quickstart — Flask Documentation (3.0.x)" -> "Quickstart"."""
    best = -1
    for sep in _TITLE_SEPS:
        i = title.rfind(sep)
        if i > best:
            best = i
    if best > 0:
        return title[:best].strip()
    return title.strip()


def _first_sentence(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    m = _SENTENCE.match(text)
    s = m.group(1) if m else text
    if len(s) > limit:
        s = s[:limit].rsplit(" ", 1)[0] + "…"
    return s


def _description(main: object, meta_desc: str) -> str:
    if meta_desc:
        return _first_sentence(meta_desc[:4000], 300) if len(meta_desc) > 300 else meta_desc
    for p in main.iter("p"):  # type: ignore[attr-defined]
        t = " ".join("".join(p.itertext())[:4000].split())
        if len(t) >= 40:
            return _first_sentence(t)
    return ""


# A line that opens with none of these neither opens nor closes a code fence.
_FENCE_LEAD = " >`~"


def _tidy(md: str) -> str:
    out: list[str] = []
    append = out.append
    fence = ""
    blank = 0
    for ln in md.split("\n"):
        c = ln[:1]
        if fence:
            append(ln)
            if c and c in _FENCE_LEAD:
                s = ln.lstrip(" >")
                if s.startswith(fence) and not s[len(fence):].strip():
                    fence = ""
            continue
        if c and c in _FENCE_LEAD:
            s = ln.lstrip(" >")
            if s.startswith(("```", "~~~")):
                fence = s[: len(s) - len(s.lstrip(s[0]))]
                append(ln.rstrip())
                blank = 0
                continue
        ln = ln.rstrip()
        if not ln:
            blank += 1
            if blank > 1:
                continue
        else:
            blank = 0
        append(ln)
    return "\n".join(out).strip("\n")


def _convert(html: str | bytes, url: str, template: frozenset[int] | None,
             guard: Callable[[Element], None] | None) -> Converted:
    root = parse(decode(html), guard)
    if root is None:
        return EMPTY
    page_title, meta_desc, base = page_meta(root, url)
    marks = clean(root)
    body = root.find("body")
    if body is None:
        body = root
    keys, sizes, lengths = site_template.keys_of(body, marks.landmarks)
    page_keys = tuple(keys.values())
    words: dict[object, set[str]] = {}  # class words, split once for main.py and classify.py
    had_text = lengths.text.get(body, 0) > 0
    prune_chrome(body, words, lengths, marks)
    if had_text and lengths.text.get(body, 0) <= 0:
        # All of the page's text was in its chrome (a module index that is only a
        # navigation list, pdoc's index.html): the page is that text, not nothing.
        root = parse(decode(html))
        if root is None:
            return EMPTY
        marks = clean(root)
        body = root.find("body")
        if body is None:
            body = root
        keys, sizes, lengths = site_template.keys_of(body, marks.landmarks)
        words = {}
    main = find_main(body, lengths)
    probe: list[int] = []
    removed = site_template.strip(main, keys, sizes, template, lengths, probe)
    del keys, sizes
    promote_title(main)
    h1 = next(main.iter("h1"), None)
    title = " ".join("".join(h1.itertext()).split()) if h1 is not None else ""
    if not title:
        title = strip_site_suffix(page_title)
    description = _description(main, meta_desc)
    kinds = classify(main, words)
    blocks = Renderer(base, kinds).block(main, 0, root=main is body or main.tag in ("main", "article"))
    md = _tidy("\n\n".join(b for b in blocks if b.strip())).replace(KEEP_SPACE, " ")
    n_words, n_tokens = counts(md)
    return Converted(
        title=title,
        markdown=md,
        word_count=n_words,
        token_estimate=n_tokens,
        description=description,
        template_keys=page_keys,
        template_removed=removed,
        template_probe=tuple(probe),
    )


def convert(html: str | bytes, url: str, template: frozenset[int] | None = None, *,
            guard: Callable[[Element], None] | None = None) -> Converted:
    """Convert one HTML page to Markdown, removing the blocks of `template` (the site's
    template keys, see template.py). `guard` is called with the parsed tree before any
    pass (e.g. processor/limits.py's depth limit): what it raises is raised. Otherwise
    never raises; returns an empty result on failure."""
    try:
        if not isinstance(html, (str, bytes, bytearray, memoryview)):
            return EMPTY
        if isinstance(html, (bytearray, memoryview)):
            html = bytes(html)
        return _convert(html, str(url or ""), template, guard)
    except Refused as refused:
        raise refused.error from None
    except Exception:  # noqa: BLE001 - a converter in a worker pool must never crash
        return EMPTY
