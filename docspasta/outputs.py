"""The CLI's output files, written atomically: each output is first written to a
temporary file (or directory) beside its target and renamed over it only when the
crawl produced something, so a failed, empty or interrupted-before-any-page crawl
never replaces an earlier result. A target that exists and is not a regular file
(``/dev/null``, a FIFO, ``/dev/stdout``) is a stream, not a file to replace: its output is
spooled in the temporary directory and copied into it then, as standard output is (a
rename would put a regular file where the device was: as root, in /dev). Every target
is checked before the crawl starts."""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import shutil
import stat
import sys
import tempfile
from collections.abc import AsyncIterable, Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, TextIO

from docspasta import bundle
from docspasta.llmstxt import llms_full_section, llms_head, llms_lines
from docspasta.mirror import write_fresh
from docspasta.pageindex import PageIndex
from docspasta.parts import SectionSpool, Written, write_document

STDOUT = "-"


class OutputError(ValueError):
    """A target cannot be written; the message says which and why, for a human."""


def _writable_dir(path: Path) -> bool:
    return path.is_dir() and os.access(path, os.W_OK | os.X_OK)


def is_stream(path: Path) -> bool:
    """An existing target that is neither a regular file nor a directory (a device, a
    FIFO; followed through symlinks such as /dev/stdout): written into, never replaced."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def check_file_target(option: str, path: Path) -> None:
    if is_stream(path):
        if not os.access(path, os.W_OK):
            raise OutputError(f"{option} {path}: not writable (permission denied)")
        return
    if path.is_dir():
        raise OutputError(f"{option} {path}: is a directory (give a file name)")
    parent = path.parent
    if not parent.exists():
        raise OutputError(f"{option} {path}: the directory {parent} does not exist (create it first)")
    if not parent.is_dir():
        raise OutputError(f"{option} {path}: {parent} is not a directory")
    if not _writable_dir(parent):
        raise OutputError(f"{option} {path}: cannot write into {parent} (permission denied)")
    if path.exists() and not os.access(path, os.W_OK):
        raise OutputError(f"{option} {path}: the file exists and is not writable")


def check_dir_target(option: str, path: Path) -> None:
    if path.exists() and not path.is_dir():
        raise OutputError(f"{option} {path}: exists and is not a directory")
    existing = path
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        raise OutputError(f"{option} {path}: {existing} is not a directory")
    if not _writable_dir(existing):
        raise OutputError(f"{option} {path}: cannot write into {existing} (permission denied)")


def _temp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.docspasta-{os.getpid()}.tmp")


@dataclass
class _Pending:
    target: Path | None  # None: standard output
    temp: Path
    is_dir: bool
    stream: bool = False  # the target is written into at commit (is_stream), not replaced


@dataclass
class Outputs:
    """Temporary files for the targets of one run; ``commit`` renames them over their
    targets, ``abort`` removes them."""

    pending: list[_Pending] = field(default_factory=list)
    _open: list[IO[str] | IO[bytes]] = field(default_factory=list)

    def file(self, target: Path | None, *, directory: Path | None = None) -> Path:
        """A temporary path for ``target`` (None: stdout, spooled in ``directory``)."""
        for p in self.pending:
            if p.target == target and not p.is_dir:
                return p.temp  # written again (a part planned anew)
        stream = target is not None and is_stream(target)
        if target is None:
            base = directory or Path.cwd()
            temp = base / f".docspasta-stdout-{os.getpid()}.tmp"
        elif stream:
            fd, name = tempfile.mkstemp(prefix=f".docspasta-{target.name}-", suffix=".tmp")
            os.close(fd)
            temp = Path(name)
        else:
            temp = _temp_name(target)
        self.pending.append(_Pending(target, temp, False, stream))
        return temp

    def open(self, target: Path | None) -> IO[str]:
        handle = open(self.file(target), "w", encoding="utf-8")
        self._open.append(handle)
        return handle

    def open_bytes(self, target: Path | None) -> IO[bytes]:
        handle = open(self.file(target), "wb")
        self._open.append(handle)
        return handle

    def directory(self, target: Path) -> Path:
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = _temp_name(target)
        shutil.rmtree(temp, ignore_errors=True)
        temp.mkdir()
        self.pending.append(_Pending(target, temp, True))
        return temp

    def discard(self, keep: set[Path | None], among: set[Path | None]) -> None:
        """Drops the temporary files of targets in ``among`` that are not in ``keep``."""
        for p in list(self.pending):
            if p.target in among and p.target not in keep:
                p.temp.unlink(missing_ok=True)
                self.pending.remove(p)

    def close_files(self) -> None:
        for handle in self._open:
            if not handle.closed:
                handle.close()
        self._open.clear()

    def commit(self, *, replace_existing: bool = True) -> tuple[list[str], list[str]]:
        """Moves every output into place. With ``replace_existing`` False, targets that
        already exist are left as they were. Returns (written, kept) target names."""
        self.close_files()
        written: list[str] = []
        kept: list[str] = []
        for p in self.pending:
            if p.target is None:
                with open(p.temp, "rb") as source:
                    shutil.copyfileobj(source, sys.stdout.buffer)
                sys.stdout.flush()
                p.temp.unlink()
                written.append("standard output")
            elif p.stream:
                with open(p.temp, "rb") as source, open(p.target, "wb") as sink:
                    shutil.copyfileobj(source, sink)
                p.temp.unlink()
                written.append(str(p.target))
            elif not replace_existing and p.target.exists():
                kept.append(str(p.target))
            elif p.is_dir:
                _merge(p.temp, p.target)
                written.append(f"{p.target}/")
            else:
                os.replace(p.temp, p.target)
                written.append(str(p.target))
        self.abort()
        return written, kept

    def abort(self) -> None:
        self.close_files()
        for p in self.pending:
            if p.is_dir:
                shutil.rmtree(p.temp, ignore_errors=True)
            else:
                p.temp.unlink(missing_ok=True)
        self.pending.clear()


def _merge(source: Path, target: Path) -> None:
    """Each file of ``source`` renamed into ``target`` (created if needed); files of
    ``target`` that the crawl did not write are left alone (it may be the user's)."""
    target.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.rglob("*")):
        if path.is_dir():
            continue
        destination = target / path.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, destination)
    shutil.rmtree(source, ignore_errors=True)


# -- the outputs built from a job's pages ---------------------------------------------------
# One implementation for every crawl: the local one reads the pages from its own
# processor, ``--server`` from the bridge; both hand them here in crawl order, so the same
# pages give the same bytes.

@dataclass(frozen=True, slots=True, kw_only=True)
class PageTargets:
    """Where a job's pages go: the combined document (None: standard output) and the
    optional per-page outputs."""

    output: Path | None
    jsonl: Path | None = None
    mirror: Path | None = None
    llms: Path | None = None
    max_tokens: int | None = None
    split_tokens: int | None = None


@dataclass
class Result:
    pages: int = 0
    tokens: int = 0
    document: Written | None = None


async def write_pages(targets: PageTargets, pages: AsyncIterable[bundle.PageDoc], outputs: Outputs, *,
                      source_url: str, notes: list[str]) -> Result:
    """One pass over the stored pages (crawl order) writes JSONL and the per-page files
    and builds the page index (docspasta/pageindex.py: a temporary SQLite file and a
    Markdown spool, so memory does not grow with the job); the combined document, its
    parts, llms.txt and llms-full.txt are then written from the index (they need every
    page known first)."""
    result = Result()
    with contextlib.ExitStack() as files:
        index = files.enter_context(PageIndex(source_url=source_url))
        jsonl = outputs.open_bytes(targets.jsonl) if targets.jsonl else None
        mirror = outputs.directory(targets.mirror) if targets.mirror else None
        async for doc in pages:
            markdown = doc.markdown.encode("utf-8")  # once, for the index's spool and the JSONL
            index.add(doc, markdown=markdown)
            if jsonl is not None:
                jsonl.write(bundle.jsonl_bytes(doc, markdown))
            if mirror is not None:
                write_fresh([doc], mirror, source_url=source_url)
        index.finish()
        result.pages = index.count
        result.tokens = index.tokens

        base = targets.output if targets.output is not None else Path("stdout.md")
        opened: set[Path | None] = set()

        def open_target(path: Path) -> TextIO:
            target = None if targets.output is None else path
            opened.add(target)
            return open(outputs.file(target), "w", encoding="utf-8")

        if targets.max_tokens is None and targets.split_tokens is None:
            result.document = _write_whole(index, base, open_target, notes=notes)
        else:
            result.document = _write_parts(index, targets, base, open_target, notes=notes)
        # Parts of a plan that was redone with other part names are dropped.
        final: set[Path | None] = {None} if targets.output is None else set(result.document.files)
        outputs.discard(final, opened)
        if targets.llms is not None:
            _write_llms(index, outputs.directory(targets.llms), source_url=source_url)
    return result


def _write_whole(index: PageIndex, base: Path, open_target: Callable[[Path], TextIO], *,
                 notes: Sequence[str]) -> Written:
    """The whole document (no cap), streamed: header, contents, then each section in the
    contents' order with its links resolved through the index. The same bytes as
    ``parts.write_document`` would write from a SectionSpool."""
    from processor.tokens import token_estimate  # compiles its classes' regexes (~4 ms): on first use

    written = Written(files=[base], pages=index.shown, omitted=0, tokens=0, bytes=0)

    def relink(match: re.Match[str]) -> str:
        found = index.target(match.group(1))
        return f"](#{found[1]})" if found else match.group(0)

    with open_target(base) as document:
        out = document.buffer  # bytes: a text is encoded once, for the file and the count

        def write(text: str) -> None:
            data = text.encode("utf-8")
            out.write(data)
            written.tokens += token_estimate(text)
            written.bytes += len(data)

        top = bundle.header_lines(pages=index.shown, tokens=index.shown_tokens, source_url=index.source_url,
                                  notes=notes)
        contents = index.toc_lines() if index.shown else iter(["(no pages)"])
        bundle.write_joined(write, itertools.chain(top, contents))
        for section in index.document_order(wanted=True):
            entry, number = section.entry, section.number
            text = bundle.section_text(entry.doc(section.markdown), number, section.wanted, relink,
                                       section.marks)
            data = text.encode("utf-8")
            out.write(data)
            # Counted as a SectionSpool counts a section of a whole document: the page's
            # own estimate plus its heading lines.
            written.tokens += entry.tokens + token_estimate(
                f"---\n<a id=\"{bundle.anchor(number)}\"></a>\n## {entry.title or entry.url}\nSource: {entry.url}\n")
            written.bytes += len(data)
    return written


def _write_parts(index: PageIndex, targets: PageTargets, base: Path, open_target: Callable[[Path], TextIO], *,
                 notes: Sequence[str]) -> Written:
    """A capped document or its parts (``--max-tokens``, ``--split-tokens``): planned
    over every page's section (docspasta/parts.py), so its index of the pages is in
    memory."""
    entries = [bundle.index_entry(entry.doc(index.markdown(entry.pos))) for entry, _, _ in index.crawl_order()]
    spool = SectionSpool(entries, source_url=index.source_url, split_tokens=targets.split_tokens, base=base,
                         exact=targets.max_tokens is not None)
    try:
        for i in spool.bundle.order:
            spool.add(replace(entries[i], markdown=index.markdown(i)))
        return write_document(spool, base, open_target, max_tokens=targets.max_tokens,
                              split_tokens=targets.split_tokens, notes=notes)
    finally:
        spool.close()


def _write_llms(index: PageIndex, directory: Path, *, source_url: str) -> None:
    first = index.first()
    head = first.doc() if first is not None else None
    with open(directory / "llms.txt", "w", encoding="utf-8") as out:
        bundle.write_joined(out.write, llms_lines(head, index.count, ((name, e.doc()) for name, e in index.by_section()),
                                                  source_url=source_url))
    with open(directory / "llms-full.txt", "w", encoding="utf-8") as full:
        full.write(llms_head(head, index.count, source_url=source_url))
        for section in index.document_order():
            full.write(llms_full_section(section.entry.doc(section.markdown), section.marks))
