"""HTML -> clean, LLM-ready Markdown for documentation pages.

Pure library (no I/O): `convert(html, url)` parses the page with lxml, removes
chrome (navigation, sidebars, headers/footers, TOCs, permalinks...), finds the
main content and renders it as GitHub-flavoured Markdown. It never raises: any
failure yields an empty `Converted`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .extract import clean, find_main, page_meta, parse, promote_title, prune_chrome
from .render import Renderer
from .text import token_estimate, word_count

__all__ = ["Converted", "convert", "token_estimate"]


@dataclass(frozen=True, slots=True)
class Converted:
    title: str
    markdown: str
    word_count: int
    token_estimate: int
    description: str


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


def _tidy(md: str) -> str:
    lines = md.split("\n")
    out: list[str] = []
    fence = ""
    blank = 0
    for ln in lines:
        s = ln.lstrip(" >")
        if fence:
            out.append(ln)
            if s.startswith(fence) and not s[len(fence):].strip():
                fence = ""
            continue
        if s.startswith("```") or s.startswith("~~~"):
            fence = s[: len(s) - len(s.lstrip(s[0]))]
            out.append(ln.rstrip())
            blank = 0
            continue
        ln = ln.rstrip()
        if not ln:
            blank += 1
            if blank > 1:
                continue
        else:
            blank = 0
        out.append(ln)
    return "\n".join(out).strip("\n")


def _convert(html: str | bytes, url: str) -> Converted:
    root = parse(html)
    if root is None:
        return EMPTY
    page_title, meta_desc, base = page_meta(root, url)
    clean(root)
    body = root.find("body")
    if body is None:
        body = root
    prune_chrome(body)
    main = find_main(body)
    promote_title(main)
    h1 = next(main.iter("h1"), None)
    title = " ".join("".join(h1.itertext()).split()) if h1 is not None else ""
    if not title:
        title = strip_site_suffix(page_title)
    description = _description(main, meta_desc)
    blocks = Renderer(base).block(main, 0, root=main is body or main.tag in ("main", "article"))
    blocks = [b for b in blocks if b.strip()]
    while blocks and blocks[0] == "---":  # a rule left over from a dropped header bar
        blocks.pop(0)
    while blocks and blocks[-1] == "---":
        blocks.pop()
    md = _tidy("\n\n".join(blocks))
    return Converted(
        title=title,
        markdown=md,
        word_count=word_count(md),
        token_estimate=token_estimate(md),
        description=description,
    )


def convert(html: str | bytes, url: str) -> Converted:
    """Convert one HTML page to Markdown. Never raises; returns an empty result on failure."""
    try:
        if not isinstance(html, (str, bytes, bytearray, memoryview)):
            return EMPTY
        if isinstance(html, (bytearray, memoryview)):
            html = bytes(html)
        return _convert(html, str(url or ""))
    except Exception:  # noqa: BLE001 - a converter in a worker pool must never crash
        return EMPTY
