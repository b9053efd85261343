"""Outputs built from a job's pages: the combined Markdown document and JSONL."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TextIO
from urllib.parse import urlsplit

from docspasta.urls import InvalidURL, normalize

_HEADING = re.compile(r"^(#{1,6})(\s)", re.M)
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
_LINK = re.compile(r"\]\((https?://[^)\s]+)\)")


@dataclass(frozen=True, slots=True, kw_only=True)
class PageDoc:
    url: str
    title: str
    markdown: str
    word_count: int = 0
    token_estimate: int = 0
    description: str = ""
    depth: int = 0


def default_filename(url: str, day: date | None = None, suffix: str = ".md") -> str:
    host = (urlsplit(url).hostname or "docs").replace(":", "_")
    return f"{host}-{(day or date.today()).isoformat()}{suffix}"


def jsonl_line(page: PageDoc) -> str:
    return json.dumps({"url": page.url, "title": page.title, "markdown": page.markdown,
                       "word_count": page.word_count, "token_estimate": page.token_estimate,
                       "description": page.description}, ensure_ascii=False) + "\n"


def _demote(markdown: str, levels: int) -> str:
    """Push ATX headings down ``levels`` (capped at ######), outside code fences."""
    out, fence = [], ""
    for line in markdown.split("\n"):
        m = _FENCE.match(line)
        if fence:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                fence = ""
        elif m:
            fence = m.group(1)
        elif line.startswith("#"):
            line = _HEADING.sub(lambda h: "#" * min(6, len(h.group(1)) + levels) + h.group(2), line, count=1)
        out.append(line)
    return "\n".join(out)


def _drop_title_heading(markdown: str, title: str) -> str:
    first, _, rest = markdown.lstrip("\n").partition("\n")
    if first.startswith("# ") and first[2:].strip() == title.strip():
        return rest.lstrip("\n")
    return markdown


def _key(url: str) -> str:
    try:
        return normalize(url)
    except InvalidURL:
        return url


def anchor(index: int) -> str:
    return f"page-{index}"


class CombinedWriter:
    """Writes the combined document: the header (source, date, page count, tokens) and
    table of contents at once, from ``index`` (every page; its Markdown may be empty),
    then one section per ``add(page)``, in the index's order, so a caller can stream
    the pages and hold one at a time. Links to pages in the bundle point to their
    section."""

    def __init__(self, out: TextIO, index: Sequence[PageDoc], *, source_url: str, day: date | None = None) -> None:
        self._out = out
        self._anchors = {_key(p.url): anchor(i) for i, p in enumerate(index, 1)}
        self._count = 0
        host = urlsplit(source_url).hostname or source_url
        lines = [f"# {host} documentation", "",
                 f"- Source: {source_url}",
                 f"- Crawled: {(day or date.today()).isoformat()}",
                 f"- Pages: {len(index)}",
                 f"- Estimated tokens: {sum(p.token_estimate for p in index)}", "",
                 "## Contents", ""]
        lines += [f"{i}. [{_escape(p.title or p.url)}](#{anchor(i)})" for i, p in enumerate(index, 1)]
        out.write("\n".join(lines).rstrip() + "\n")

    def _relink(self, match: re.Match[str]) -> str:
        local = self._anchors.get(_key(match.group(1).split("#", 1)[0]))
        return f"](#{local})" if local else match.group(0)

    def add(self, page: PageDoc) -> None:
        self._count += 1
        body = _LINK.sub(self._relink, _demote(_drop_title_heading(page.markdown, page.title), 2)).strip()
        section = ["", "---", "", f'<a id="{anchor(self._count)}"></a>', "",
                   f"## {page.title or page.url}", "", f"Source: {page.url}", "", body]
        self._out.write("\n".join(section).rstrip() + "\n")


def combined_document(pages: Iterable[PageDoc], *, source_url: str, day: date | None = None) -> str:
    """The combined document as one string (for pages already in memory)."""
    pages = list(pages)
    buffer = io.StringIO()
    writer = CombinedWriter(buffer, pages, source_url=source_url, day=day)
    for page in pages:
        writer.add(page)
    return buffer.getvalue()


def _escape(text: str) -> str:
    return text.replace("[", "\\[").replace("]", "\\]")
