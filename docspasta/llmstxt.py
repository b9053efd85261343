"""``llms.txt`` and ``llms-full.txt`` (the llms.txt convention): a title, a one-line
summary, then sections of links with one-line descriptions taken from the pages."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from docspasta.bundle import PageDoc, _drop_title_heading, relevel
from docspasta.urls import directory_prefix

MAX_DESCRIPTION = 200


def _section(url: str, prefix: str, start_host: str) -> str:
    parts = urlsplit(url)
    if (parts.hostname or "") != start_host:
        return parts.hostname or "Other"
    rest = parts.path[len(prefix):] if parts.path.startswith(prefix) else parts.path.lstrip("/")
    head, sep, _ = rest.partition("/")
    if not sep or not head:
        return "Docs"
    return head.replace("-", " ").replace("_", " ").strip().capitalize() or "Docs"


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_DESCRIPTION else text[:MAX_DESCRIPTION - 1].rstrip() + "…"


def _link_text(text: str) -> str:
    return text.replace("[", "\\[").replace("]", "\\]")


def llms_txt(pages: Sequence[PageDoc], *, source_url: str) -> str:
    start_host = urlsplit(source_url).hostname or ""
    prefix = directory_prefix(source_url)
    first = pages[0] if pages else None
    title = (first.title if first and first.title else start_host) or "Documentation"
    lines = [f"# {title}", ""]
    if first and first.description:
        lines += [f"> {_one_line(first.description)}", ""]
    lines += [f"Crawled from {source_url}: {len(pages)} pages.", ""]
    sections: dict[str, list[PageDoc]] = {}
    for page in pages:
        sections.setdefault(_section(page.url, prefix, start_host), []).append(page)
    for name, members in sections.items():
        lines += [f"## {name}", ""]
        for page in members:
            entry = f"- [{_link_text(page.title or page.url)}]({page.url})"
            if page.description:
                entry += f": {_one_line(page.description)}"
            lines.append(entry)
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def llms_full_head(index: Sequence[PageDoc], *, source_url: str) -> str:
    """The start of llms-full.txt: llms.txt's title and summary."""
    return llms_txt(index, source_url=source_url).split("\n## ", 1)[0].rstrip() + "\n"


def llms_full_section(page: PageDoc) -> str:
    body = relevel(_drop_title_heading(page.markdown, page.title), 2)
    return f"\n# {page.title or page.url}\n\nSource: {page.url}\n\n{body.strip()}\n"


def llms_full_txt(pages: Sequence[PageDoc], *, source_url: str) -> str:
    """Every page in full, each under its title and source URL."""
    return llms_full_head(pages, source_url=source_url) + "".join(llms_full_section(p) for p in pages)
