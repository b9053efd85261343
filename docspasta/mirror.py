"""A directory of one ``.md`` file per page, mirroring the site's paths."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import IO, Protocol
from urllib.parse import unquote, urlsplit

from docspasta.bundle import PageDoc

_UNSAFE = re.compile(r"[^A-Za-z0-9._~+-]+")
_PAGE_SUFFIXES = (".html", ".htm", ".xhtml", ".php", ".asp", ".aspx", ".jsp", ".shtml")


def _component(text: str) -> str:
    cleaned = _UNSAFE.sub("_", unquote(text)).strip("._") or "_"
    return cleaned[:120]


def relative_path(url: str, start_host: str) -> PurePosixPath:
    """``/docs/a/b.html`` -> ``docs/a/b.md``; ``/docs/`` -> ``docs/index.md``; other hosts
    under a folder named after the host; a query string becomes a short hash suffix.
    Never leaves the output directory (no ``..``, no absolute parts)."""
    parts = urlsplit(url)
    segments = [_component(s) for s in parts.path.split("/") if s and s not in (".", "..")]
    if parts.path.endswith("/") or not segments:
        segments.append("index")
    name = segments[-1]
    for suffix in _PAGE_SUFFIXES:
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)] or "index"
            break
    if parts.query:
        name += "_" + hashlib.sha1(parts.query.encode()).hexdigest()[:8]
    segments[-1] = name + ".md"
    host = parts.hostname or ""
    if host and host != start_host:
        segments.insert(0, _component(host))
    return PurePosixPath(*segments)


class Used(Protocol):
    """The relative paths given out so far: a set, or the files of a directory."""

    def __contains__(self, rel: object) -> bool: ...

    def add(self, rel: PurePosixPath) -> None: ...


def _other_name(rel: PurePosixPath, url: str) -> PurePosixPath:
    """The name of the second URL mapping to one file name (both are kept)."""
    return rel.with_name(f"{rel.stem}_{hashlib.sha1(url.encode()).hexdigest()[:8]}.md")


def _file_text(page: PageDoc) -> str:
    has_title = page.markdown.lstrip().startswith("# ")
    header = f"<!-- Source: {page.url} -->\n\n" + ("" if has_title or not page.title else f"# {page.title}\n\n")
    return header + page.markdown.strip() + "\n"


def mirror_files(pages: Iterable[PageDoc], *, source_url: str,
                 used: Used | None = None) -> Iterator[tuple[PurePosixPath, str]]:
    """(relative path, Markdown) of each page: the directory layout, without I/O.
    ``used`` holds the paths given out so far (pass the same set across calls when
    pages arrive one at a time)."""
    start_host = urlsplit(source_url).hostname or ""
    if used is None:
        used = set()
    for page in pages:
        rel = relative_path(page.url, start_host)
        if rel in used:  # two URLs mapping to one file name: keep both
            rel = _other_name(rel, page.url)
        used.add(rel)
        yield rel, _file_text(page)


def write_mirror(pages: Iterable[PageDoc], directory: Path, *, source_url: str,
                 used: Used | None = None) -> list[Path]:
    written: list[Path] = []
    for rel, text in mirror_files(pages, source_url=source_url, used=used):
        target = directory / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        written.append(target)
    return written


def write_fresh(pages: Iterable[PageDoc], directory: Path, *, source_url: str) -> list[Path]:
    """``write_mirror`` into a fresh ``directory`` (pages arriving one call at a time),
    the names taken being the files written so far (a set of every path would grow with
    the job): each file is created exclusively, so the create itself finds a name taken
    (one system call where a stat, a mkdir and the open were), and its folder is made
    when the create finds none."""
    start_host = urlsplit(source_url).hostname or ""
    written: list[Path] = []
    for page in pages:
        rel = relative_path(page.url, start_host)
        text = _file_text(page)
        target = directory / rel
        try:
            out = _create(target)
        except FileExistsError:  # two URLs mapping to one file name: keep both
            target = directory / _other_name(rel, page.url)
            out = open(target, "w", encoding="utf-8")
        with out:
            out.write(text)
        written.append(target)
    return written


def _create(target: Path) -> IO[str]:
    try:
        return open(target, "x", encoding="utf-8")
    except FileNotFoundError:
        target.parent.mkdir(parents=True, exist_ok=True)
        return open(target, "x", encoding="utf-8")


def mirror_zip(pages: Iterable[PageDoc], *, source_url: str) -> bytes:
    """The same directory as a zip archive (for the HTTP API)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for rel, text in mirror_files(pages, source_url=source_url):
            archive.writestr(str(rel), text)
    return buffer.getvalue()
