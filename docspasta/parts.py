"""The combined document as the CLI writes it: one file, one file capped at N tokens
(``--max-tokens``: pages are added in contents order until the next would pass N), or
parts of at most N tokens each (``--split-tokens``: a page is never split unless it
alone is larger than a part; then it is cut at its headings, or paragraphs).

Sections are rendered once, in document order, into a spool file with their token
counts; links between bundled pages are left as markers there and resolved when a part
is written (``#page-3`` in the same part, ``x.part-2.md#page-3`` in another, the page's
URL when a cap left it out). Memory holds one section at a time."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO

from docspasta.bundle import Bundle, PageDoc, anchor, document_header

_MARKER = re.compile("\x00(\\d+)\x01([^\x00\x01]*)\x01([^\x00]*)\x00")
_BREAK = re.compile(r"^(#{1,6}\s|$)")
# Tokens a part's header costs beyond its contents, and a link to another part's file.
HEADER_SLACK = 8


def _estimate() -> Callable[[str], int]:
    # The processor's estimator, so the counts match the pages' own token_estimate.
    from processor.tokens import token_estimate
    return token_estimate


@dataclass(slots=True)
class Unit:
    """A section (or a piece of a section too large for one part) in the spool."""

    position: int
    piece: int
    tokens: int
    start: int
    length: int


@dataclass(slots=True)
class PartPlan:
    units: list[Unit]
    positions: list[int] = field(default_factory=list)


@dataclass(slots=True)
class Written:
    files: list[Path]
    pages: int
    omitted: int
    tokens: int
    bytes: int


class SectionSpool:
    """Sections rendered in document order (``add``), kept in a temporary file."""

    def __init__(self, index: Sequence[PageDoc], *, source_url: str, split_tokens: int | None = None,
                 base: Path = Path("docs.md"), exact: bool = True) -> None:
        # exact=False (a whole document, no cap to plan against): a section's count is the
        # page's stored token_estimate plus its heading lines, so no section is counted
        # again (the estimator was most of the CLI's own CPU per page).
        self.exact = exact or split_tokens is not None
        self.bundle = Bundle(index, source_url=source_url)
        self.index = index
        self.source_url = source_url
        self.units: list[Unit] = []
        self._file: IO[bytes] = tempfile.TemporaryFile(prefix="docspasta-sections-")
        self._tokens = _estimate()
        self._piece_tokens: int | None = None
        if split_tokens is not None and index:
            # A piece plus the header of a part holding only it must fit in a part.
            longest = max(range(len(index)), key=lambda i: len(index[i].title or index[i].url))
            head = document_header(index, [longest], self.bundle.numbers, source_url=source_url,
                                   title_suffix=" (part 999 of 999)", notes=[_nav(base, 998, 999)])
            self._piece_tokens = max(split_tokens - self._tokens(head) - HEADER_SLACK, split_tokens // 4)

    def _marker(self, match: re.Match[str]) -> str:
        found = self.bundle.target(match.group(1))
        if found is None:
            return match.group(0)
        position, ident = found
        return f"](\x00{position}\x01{ident}\x01{match.group(1)}\x00)"

    def add(self, page: PageDoc) -> None:
        position = self.bundle.position(page.url)
        if position is None:
            return
        text = self.bundle.section(page, self._marker)
        if not self.exact:
            self._spool(position, 0, page.token_estimate + self._tokens(
                f"---\n<a id=\"{anchor(self.bundle.numbers[position])}\"></a>\n## {page.title or page.url}\n"
                f"Source: {page.url}\n"), text)
            return
        tokens = self._tokens(_plain(text))
        if self._piece_tokens is None or tokens <= self._piece_tokens:
            self._spool(position, 0, tokens, text)  # counted once: it is its only piece
            return
        for n, piece in enumerate(_cut(text, self._piece_tokens, self._tokens, page.title or page.url)):
            self._spool(position, n, self._tokens(_plain(piece)), piece)

    def _spool(self, position: int, piece: int, tokens: int, text: str) -> None:
        data = text.encode("utf-8")
        start = self._file.seek(0, 2)
        self._file.write(data)
        self.units.append(Unit(position, piece, tokens, start, len(data)))

    def read(self, unit: Unit) -> str:
        self._file.seek(unit.start)
        return self._file.read(unit.length).decode("utf-8")

    def close(self) -> None:
        self._file.close()


def _plain(text: str) -> str:
    """The text with markers as they read in a single document (for counting)."""
    return _MARKER.sub(lambda m: f"#{m.group(2)}", text)


def _cut(section: str, budget: int, tokens: Callable[[str], int], title: str) -> list[str]:
    """A section larger than ``budget`` tokens in pieces: blocks (split before headings
    and at blank lines outside code) packed greedily; a block larger than a piece is cut
    between lines. Each later piece opens with the title, "(continued)"."""
    blocks: list[list[str]] = [[]]
    in_code = False
    for line in section.split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            in_code = not in_code
        if not in_code and _BREAK.match(line) and blocks[-1]:
            blocks.append([])
        blocks[-1].append(line)
    pieces: list[str] = []
    current: list[str] = []
    size = 0

    def flush() -> None:
        nonlocal current, size
        if any(line.strip() for line in current):
            pieces.append("\n".join(current).rstrip() + "\n")
        current = ["", f"## {title} (continued)", ""]
        size = tokens("\n".join(current)) + 1

    for block in blocks:
        cost = tokens("\n".join(block)) + 1
        if size + cost > budget and current:
            flush()
        if size + cost <= budget:
            current += block
            size += cost
            continue
        for line in block:  # one block larger than a piece
            line_cost = tokens(line) + 1
            if size + line_cost > budget:
                flush()
            current.append(line)
            size += line_cost
    if any(line.strip() for line in current[3:] if pieces) or not pieces:
        pieces.append("\n".join(current).rstrip() + "\n")
    return pieces


def plan(units: Sequence[Unit], budget: int, header_cost: Callable[[list[int]], int], *,
         single: bool) -> tuple[list[PartPlan], list[Unit]]:
    """Consecutive units into parts of at most ``budget`` tokens (header included). With
    ``single``, one part: units are added until the next does not fit; the rest are
    returned as left out."""
    parts: list[PartPlan] = []
    current = PartPlan([])
    used = 0
    for i, unit in enumerate(units):
        new_page = unit.position not in current.positions
        positions = current.positions + [unit.position] if new_page else current.positions
        cost = header_cost(positions) + used + unit.tokens
        if current.units and cost > budget:
            if single:
                return [current], list(units[i:])
            parts.append(current)
            current = PartPlan([])
            used = 0
            positions = [unit.position]
        if single and not current.units and header_cost(positions) + unit.tokens > budget:
            return [current], list(units[i:])
        current.units.append(unit)
        if unit.position not in current.positions:
            current.positions.append(unit.position)
        used += unit.tokens
    if current.units or not parts:
        parts.append(current)
    return parts, []


def part_names(base: Path, count: int) -> list[Path]:
    if count == 1:
        return [base]
    return [base.with_name(_part_name(base, k)) for k in range(count)]


def write_document(spool: SectionSpool, base: Path, open_target: Callable[[Path], IO[str]], *,
                   day: date | None = None, max_tokens: int | None = None, split_tokens: int | None = None,
                   notes: Sequence[str] = ()) -> Written:
    """Writes the document (or its parts) through ``open_target`` (a temporary file for
    each final path) and returns what was written. One part's text is held at a time."""
    index = spool.index
    bundle = spool.bundle
    tokens = spool._tokens
    if split_tokens is None and max_tokens is None:
        return _write_whole(spool, base, open_target, day=day, notes=notes)
    budget = split_tokens or max_tokens or 0
    toc_cost = {i: tokens(f"  - [{index[i].title or index[i].url}](#{anchor(bundle.numbers[i])}) · "
                          f"{index[i].token_estimate:,} tokens") + 2 for i in range(len(index))}
    base_cost = tokens(document_header(index, [], bundle.numbers, source_url=spool.source_url, day=day,
                                       title_suffix=" (part 10 of 10)", notes=notes)) + HEADER_SLACK
    slack = 0
    while True:
        def header_cost(positions: list[int]) -> int:
            return base_cost + slack + sum(toc_cost[i] for i in positions) + 6 * len(positions)

        parts, left_out = plan(spool.units, budget, header_cost, single=split_tokens is None)
        names = part_names(base, len(parts))
        home: dict[int, Path] = {}
        for n, part in enumerate(parts):
            for p in part.positions:
                home.setdefault(p, names[n])  # the part with the page's first piece
        written = Written(files=[], pages=len(home), omitted=len({u.position for u in left_out} - set(home)),
                          tokens=0, bytes=0)
        for n, part in enumerate(parts):
            text = _render_part(spool, part, n, names, home, base=base, day=day, notes=notes, left_out=left_out)
            count = tokens(text)
            if count > budget and (len(part.units) > 1 or slack == 0):
                slack += count - budget  # the estimate was short (long entries, links): plan again
                break
            with open_target(names[n]) as out:
                out.write(text)
            written.files.append(names[n])
            written.tokens += count
            written.bytes += len(text.encode("utf-8"))
        else:
            return written


def _write_whole(spool: SectionSpool, base: Path, open_target: Callable[[Path], IO[str]], *,
                 day: date | None, notes: Sequence[str]) -> Written:
    """The whole document, streamed section by section."""
    bundle = spool.bundle
    positions = list(dict.fromkeys(u.position for u in spool.units))

    def resolve(match: re.Match[str]) -> str:
        return f"#{match.group(2)}"

    written = Written(files=[base], pages=len(positions), omitted=0, tokens=0, bytes=0)
    with open_target(base) as out:
        head = document_header(spool.index, positions, bundle.numbers, source_url=spool.source_url, day=day,
                               notes=notes)
        out.write(head)
        written.tokens += spool._tokens(head)
        written.bytes += len(head.encode("utf-8"))
        for unit in spool.units:
            text = _MARKER.sub(resolve, spool.read(unit))
            out.write(text)
            written.tokens += unit.tokens
            written.bytes += len(text.encode("utf-8"))
    return written


def _part_name(base: Path, k: int) -> str:
    return f"{base.stem}.part-{k + 1}{base.suffix or '.md'}"


def _nav(base: Path, n: int, count: int) -> str:
    """Where this part is among the others (the same size whatever their number)."""
    links = []
    if n > 0:
        links.append(f"previous: [{_part_name(base, n - 1)}]({_part_name(base, n - 1)})")
    if n + 1 < count:
        links.append(f"next: [{_part_name(base, n + 1)}]({_part_name(base, n + 1)})")
    return f"part {n + 1} of {count}" + (" — " + ", ".join(links) if links else "") + "."


def _render_part(spool: SectionSpool, part: PartPlan, n: int, names: list[Path], home: dict[int, Path], *,
                 base: Path, day: date | None, notes: Sequence[str], left_out: Sequence[Unit]) -> str:
    index = spool.index
    bundle = spool.bundle
    name = names[n]
    all_notes = list(notes)
    if left_out:
        omitted = len({u.position for u in left_out} - set(home))
        all_notes.append(f"stopped at the token cap (--max-tokens): {omitted} more pages are not included.")
    suffix = f" (part {n + 1} of {len(names)})" if len(names) > 1 else ""
    if len(names) > 1:
        all_notes.append(_nav(base, n, len(names)))
    # A page continued from an earlier part is listed with a link to where it starts.
    href = {p: f"{home[p].name}#{anchor(bundle.numbers[p])}" for p in part.positions if home[p] != name}
    head = document_header(index, part.positions, bundle.numbers, source_url=spool.source_url, day=day,
                           title_suffix=suffix, notes=all_notes, href=href)

    def resolve(match: re.Match[str]) -> str:
        position, ident, url = int(match.group(1)), match.group(2), match.group(3)
        where = home.get(position)
        if where is None:
            return url
        return f"#{ident}" if where == name else f"{where.name}#{ident}"

    body = "".join(_MARKER.sub(resolve, spool.read(unit)) for unit in part.units)
    return head + body
