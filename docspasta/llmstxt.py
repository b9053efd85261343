"""``llms.txt`` and ``llms-full.txt`` (the llms.txt convention): a title, a one-line
summary, then sections of links with one-line descriptions taken from the pages."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from urllib.parse import urlsplit

from docspasta.bundle import Marks, PageDoc, _drop_title_heading, edited, joined, relevel
from docspasta.urls import directory_prefix

MAX_DESCRIPTION = 200


def section_name(url: str, prefix: str, start_host: str) -> str:
    """The llms.txt section of a page: its first path segment below the start directory."""
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


def _head_lines(first: PageDoc | None, count: int, *, source_url: str) -> list[str]:
    start_host = urlsplit(source_url).hostname or ""
    title = (first.title if first and first.title else start_host) or "Documentation"
    lines = [f"# {title}", ""]
    if first and first.description:
        lines += [f"> {_one_line(first.description)}", ""]
    return lines + [f"Crawled from {source_url}: {count} pages.", ""]


def llms_lines(first: PageDoc | None, count: int, grouped: Iterable[tuple[str, PageDoc]], *,
               source_url: str) -> Iterator[str]:
    """llms.txt's lines: ``grouped`` gives (section, page) section after section, in the
    order the sections were first reached, each one's pages in crawl order."""
    yield from _head_lines(first, count, source_url=source_url)
    current: str | None = None
    for name, page in grouped:
        if name != current:
            if current is not None:
                yield ""
            yield from (f"## {name}", "")
            current = name
        entry = f"- [{_link_text(page.title or page.url)}]({page.url})"
        if page.description:
            entry += f": {_one_line(page.description)}"
        yield entry
    if current is not None:
        yield ""


def _grouped(pages: Sequence[PageDoc], *, source_url: str) -> Iterator[tuple[str, PageDoc]]:
    start_host = urlsplit(source_url).hostname or ""
    prefix = directory_prefix(source_url)
    sections: dict[str, list[PageDoc]] = {}
    for page in pages:
        sections.setdefault(section_name(page.url, prefix, start_host), []).append(page)
    for name, members in sections.items():
        for page in members:
            yield name, page


def llms_txt(pages: Sequence[PageDoc], *, source_url: str) -> str:
    return joined(llms_lines(pages[0] if pages else None, len(pages), _grouped(pages, source_url=source_url),
                             source_url=source_url))


def llms_head(first: PageDoc | None, count: int, *, source_url: str) -> str:
    """The start of llms-full.txt: llms.txt's title and summary."""
    return joined(_head_lines(first, count, source_url=source_url))


def llms_full_head(index: Sequence[PageDoc], *, source_url: str) -> str:
    """The start of llms-full.txt: llms.txt's title and summary."""
    return llms_head(index[0] if index else None, len(index), source_url=source_url)


def llms_full_section(page: PageDoc, found: Marks | None = None) -> str:
    """One page in llms-full.txt; ``found``: the page's marks, if known."""
    body = _drop_title_heading(page.markdown, page.title)
    body = relevel(body, 2) if found is None else edited(body, found, top=2, offset=len(page.markdown) - len(body))
    return f"\n# {page.title or page.url}\n\nSource: {page.url}\n\n{body.strip()}\n"


def llms_full_txt(pages: Sequence[PageDoc], *, source_url: str) -> str:
    """Every page in full, each under its title and source URL."""
    return llms_full_head(pages, source_url=source_url) + "".join(llms_full_section(p) for p in pages)
