"""docspasta/bundle.py's line passes work on a page's text by offsets (they never split
it into lines): here they are checked against the line-by-line form they replace, on
random pages built from the lines that matter (fences, headings, signature lines,
explicit ids, look-alikes) and on the edges (first and last line, unclosed fences,
Unicode whitespace, lines split only by "\\n")."""

from __future__ import annotations

import random
import re

from docspasta import bundle
from docspasta.bundle import _EXPLICIT_ID, _FENCE, _HEADING, MAX_HEADING, _fragment_id, _line_anchors

def _anchor_lines(page: str) -> list[tuple[int, list[str]]]:
    """(line start offset, its anchors) of each line outside fenced code that has some."""
    return [(start, list(found)) for start, found in bundle.marks(page).anchors]


# -- the reference: the line-by-line passes ---------------------------------------------

_SIGNATURE_STARTS = ("**", "`", "- **", "- `")
_DOTTED = re.compile(r"[A-Za-z_][\w$]*(?:(?:\.|::)[A-Za-z_][\w$]*)+")


def _ref_code_ranges(lines: list[str]) -> list[tuple[int, int]]:
    ranges: list[tuple[int, int]] = []
    fence = ""
    first = 0
    for i, line in enumerate(lines):
        m = _FENCE.match(line)
        if m is None:
            continue
        run = m.group(1)
        if not fence:
            fence, first = run, i
        elif run[0] == fence[0] and len(run) >= len(fence):
            ranges.append((first, i))
            fence = ""
    if fence:
        ranges.append((first, len(lines) - 1))
    return ranges


def _ref_outside_code(lines: list[str]) -> list[int]:
    ranges = _ref_code_ranges(lines)
    return [i for i in range(len(lines)) if not any(a <= i <= b for a, b in ranges)]


def _ref_line_anchors(line: str) -> list[str]:
    heading = _HEADING.match(line)
    found = [a or b for a, b in _EXPLICIT_ID.findall(line)]
    if heading is not None:
        text = _EXPLICIT_ID.sub("", heading.group(3)).strip()
        found.append(bundle.slug(text))
        if dotted := _DOTTED.search(text):
            found.append(dotted.group())
    elif line.startswith(_SIGNATURE_STARTS) and (dotted := _DOTTED.search(line)):
        found.append(dotted.group())
    return [a.lower() for a in found if a]


def _ref_anchor_lines(lines: list[str]) -> list[tuple[int, list[str]]]:
    return [(i, a) for i in _ref_outside_code(lines) if (a := _ref_line_anchors(lines[i]))]


def _ref_relevel(markdown: str, top: int) -> str:
    lines = markdown.split("\n")
    headings = [(i, m) for i in _ref_outside_code(lines) if (m := _HEADING.match(lines[i]))]
    if not headings:
        return markdown
    shift = top - min(len(m.group(1)) for _, m in headings)
    previous = top - 1
    for i, m in headings:
        level = max(min(len(m.group(1)) + shift, previous + 1, MAX_HEADING), top)
        lines[i] = "#" * level + m.group(2) + m.group(3)
        previous = level
    return "\n".join(lines)


def _ref_anchored(markdown: str, number: int, wanted: frozenset[str]) -> str:
    lines = markdown.split("\n")
    out: list[str] = []
    done = 0
    placed: set[str] = set()
    for i, anchors in _ref_anchor_lines(lines):
        for a in anchors:
            if a in wanted and a not in placed:
                placed.add(a)
                out += lines[done:i]
                done = i
                out += [f'<a id="{_fragment_id(number, a)}"></a>', ""]
    return "\n".join(out + lines[done:]) if placed else markdown


# -- random pages ------------------------------------------------------------------------

_LINES = ["", " ", "text", "a line with flask.Flask.run in it", "```", "```python", "````", "~~~", "~~~~",
          "  ```", "\u2003```", "\t~~~ x", "x ```", "`` not a fence", "# Title", "## Getting `Started`!",
          "### a.b.c", "#### {#braced} id", "####### seven", "#nospace", "# ", "#", "##\u2028x", "## x\r",
          "**`class flask.Flask(name)`**", "`git commit`", "`a.b`", "- **`x.y`**", "- `p::q`", "- *x.y*",
          "**bold** only", '<a id="Mid"></a>', "text <a name='n1'></a> more", '<span id="s.1">',
          "a <b> tag", "<abbr>", "<spanner>", "{#tail}", "x {#" , "1. item", "> # quoted", "\x1c```",
          "## <a id=\"h\"></a>Heading a.b", "## [link](https://x.example/a) text", "ünïcode ## no", "$x.y"]


def _page(rnd: random.Random) -> str:
    text = "\n".join(rnd.choice(_LINES) for _ in range(rnd.randrange(0, 30)))
    return ("\n" * rnd.randrange(3)) + text + ("\n" * rnd.randrange(3))


def test_the_passes_match_the_line_by_line_form_on_random_pages() -> None:
    rnd = random.Random(17)
    for _ in range(4000):
        page = _page(rnd)
        lines = page.split("\n")
        expected = _ref_anchor_lines(lines)
        starts = [sum(len(line) + 1 for line in lines[:i]) for i, _ in expected]
        assert _anchor_lines(page) == list(zip(starts, [a for _, a in expected])), page
        assert bundle.page_anchors(page) == frozenset(a for _, found in expected for a in found), page
        top = rnd.choice((1, 2, 3))
        assert bundle.relevel(page, top) == _ref_relevel(page, top), page
        wanted = frozenset(rnd.sample(sorted(bundle.page_anchors(page)) or ["none"], k=1) + ["getting-started"])
        assert bundle._anchored(page, 7, wanted) == _ref_anchored(page, 7, wanted), page


def test_a_section_edited_from_the_pages_stored_marks_is_the_line_by_line_one() -> None:
    # The page index keeps each page's marks (found before its title heading is dropped)
    # and the document's sections are edited from them in one pass.
    rnd = random.Random(19)
    for _ in range(3000):
        title = rnd.choice(["Title", "Other", ""])
        page = rnd.choice(["", "\n", f"# {title}\n", f"\n\n# {title}\n\n", f"# {title}"]) + _page(rnd)
        doc = bundle.PageDoc(url="https://d.example/p", title=title, markdown=page)
        names = sorted(bundle.page_anchors(page))
        wanted = frozenset(rnd.sample(names, k=min(len(names), rnd.randrange(3))))
        body = bundle._drop_title_heading(page, title)
        expected = _ref_anchored(_ref_relevel(body, 3), 5, wanted) if wanted else _ref_relevel(body, 3)
        relink = lambda m: m.group(0)  # noqa: E731
        stored = bundle.Marks.load(bundle.marks(page).dump())
        for found in (stored, None):
            text = bundle.section_text(doc, 5, wanted, relink, found)
            assert text.endswith(bundle._LINK.sub(relink, expected).strip() + "\n"), (page, wanted)
        assert bundle.edited(body, stored, top=2, offset=len(page) - len(body)) == _ref_relevel(body, 2)


def test_the_line_anchor_shortcuts_keep_every_anchor() -> None:
    # _line_anchors skips regexes on lines that cannot match them: never one that can.
    rnd = random.Random(18)
    for _ in range(4000):
        line = "".join(rnd.choice(_LINES[1:]) for _ in range(rnd.randrange(1, 4)))
        assert _line_anchors(line, _HEADING.match(line)) == _ref_line_anchors(line), line


def test_offsets_are_line_starts_of_the_text() -> None:
    page = "**`a.b`**\n```\n# in code\n```\n## Out a.c\n"
    assert [page[s:].split("\n")[0] for s, _ in _anchor_lines(page)] == ["**`a.b`**", "## Out a.c"]
    assert re.sub(r"(?m)^#+", "#", bundle.relevel(page, 4)) == page.replace("## Out", "# Out")


def test_jsonl_bytes_is_the_json_line_in_utf8() -> None:
    # The Markdown escaped by bytes.replace must be what json.dumps writes, for every
    # character json escapes (and the ones it leaves: DEL, U+2028, non-ASCII).
    chars = list('ab "\\/\n\r\t\x00\x01\x08\x0b\x0c\x1b\x1f\x7f\x85\xa0\u2028é😀{}[]:,') + ["\\n", '\\"']
    rnd = random.Random(20)
    for _ in range(3000):
        text = "".join(rnd.choice(chars if rnd.random() < 0.3 else chars[:9]) for _ in range(rnd.randrange(40)))
        page = bundle.PageDoc(url=f"https://d.example/{text[:3]}", title=text[-4:], markdown=text,
                              word_count=rnd.randrange(99), token_estimate=rnd.randrange(99), description=text[:5])
        assert bundle.jsonl_bytes(page, text.encode("utf-8")) == bundle.jsonl_line(page).encode("utf-8"), text
