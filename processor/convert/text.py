"""Text helpers: whitespace collapsing, Markdown escaping; the word and token counts
(processor/tokens.py) re-exported."""

from __future__ import annotations

import re

from processor.tokens import counts, token_estimate, word_count

__all__ = [
    "collapse",
    "is_collapsed",
    "escape_text",
    "escape_line_start",
    "code_span",
    "KEEP_SPACE",
    "fence_for",
    "word_count",
    "token_estimate",
    "counts",
]

_WS = re.compile(r"\s+")


def is_collapsed(s: str) -> bool:
    """Whether `s` holds no whitespace but single spaces (so collapsing leaves it as it
    is): every character str.split() splits at but the space is a separator or a control
    character, none of which is printable (tests/convert checks every code point). Two C
    scans instead of a list of words: most text nodes and paragraphs pass."""
    return s.isprintable() and "  " not in s


def collapse(s: str) -> str:
    """Collapse runs of whitespace to one space, keeping one leading/trailing space."""
    if not s:
        return ""
    if is_collapsed(s):
        return s
    body = " ".join(s.split())
    if not body:
        return " "
    if s[0].isspace():
        body = " " + body
    if s[-1].isspace():
        body += " "
    return body


# Characters that may need a backslash in running text.
_SPECIAL = re.compile(r"[\\`*_\[\]<]")
# The lookahead first: one test of the character at each position, where the bare
# alternation tried its nine branches there (twice as fast on the corpora's text).
_ESC = re.compile(
    r"(?=[\\`*_\[\]<(])(?:"
    r"\\|`|\[|\]|(?<=\])\("  # "](" would read as a link destination
    r"|\*(?! )|(?<! )\*"  # `*` not surrounded by spaces on both sides
    r"|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])"  # `_` at a word boundary (intraword _ is inert)
    r"|<(?=[A-Za-z/!?])"  # would start an HTML tag
    r")"
)


def escape_text(s: str) -> str:
    """Escape Markdown specials in prose minimally."""
    if not _SPECIAL.search(s):
        return s
    return _ESC.sub(lambda m: "\\" + m.group(0), s)


_LINE_START = re.compile(r"^(\s*)(#{1,6}(?=\s|$)|>|[-+](?=\s|$)|=+\s*$|-{3,}\s*$|(\d{1,9})([.)])(?=\s|$))")


def escape_line_start(line: str) -> str:
    """Escape a line start that would otherwise become a heading, quote or list item."""
    c = line[:1]
    if c and c not in "#>+-=" and not c.isdecimal() and not c.isspace():  # what the pattern can open with
        return line
    m = _LINE_START.match(line)
    if not m:
        return line
    lead, tok = m.group(1), m.group(2)
    rest = line[m.end(2):]
    if m.group(3) is not None:  # "1." -> "1\."
        return lead + m.group(3) + "\\" + m.group(4) + rest
    return lead + "\\" + tok + rest


_TICKS = re.compile(r"`+")
# A space that must survive whitespace collapsing (code-span padding and edges): the
# converter turns it back into a space as its very last step.
KEEP_SPACE = "\ue001"


def code_span(text: str) -> str:
    """An inline code span showing exactly `text` (whitespace already collapsed): a
    CommonMark renderer strips one space from each end when both ends have one, so
    edge spaces (and edge backticks) get one padding space each side."""
    if not text:
        return ""
    if "`" in text:
        runs = [len(r) for r in _TICKS.findall(text)]
        n = 1
        while n in runs:
            n += 1
        ticks = "`" * n
    else:
        ticks = "`"
    pad = bool(text.strip(" ")) and (text[0] in " `" or text[-1] in " `") and not (
        text[0] == " " and text[-1] != " " and text[-1] != "`") and not (
        text[-1] == " " and text[0] != " " and text[0] != "`")
    if text[0] == " " or text[-1] == " ":
        text = KEEP_SPACE + text[1:] if text[0] == " " else text
        text = text[:-1] + KEEP_SPACE if text[-1] == " " else text
    if pad:
        return f"{ticks}{KEEP_SPACE}{text}{KEEP_SPACE}{ticks}"
    return f"{ticks}{text}{ticks}"


def fence_for(code: str) -> str:
    """A backtick fence longer than any backtick run in the code."""
    if "`" not in code:
        return "```"
    longest = max((len(r) for r in _TICKS.findall(code)), default=0)
    return "`" * max(3, longest + 1)
