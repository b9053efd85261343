"""Text helpers: whitespace collapsing, Markdown escaping, word and token counts."""

from __future__ import annotations

import math
import re

__all__ = [
    "collapse",
    "escape_text",
    "escape_line_start",
    "code_span",
    "fence_for",
    "word_count",
    "token_estimate",
]

_WS = re.compile(r"\s+")


def collapse(s: str) -> str:
    """Collapse runs of whitespace to one space, keeping one leading/trailing space."""
    if not s:
        return ""
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
_ESC = re.compile(
    r"\\|`|\[|\]|(?<=\])\("  # "](" would read as a link destination
    r"|\*(?! )|(?<! )\*"  # `*` not surrounded by spaces on both sides
    r"|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])"  # `_` at a word boundary (intraword _ is inert)
    r"|<(?=[A-Za-z/!?])"  # would start an HTML tag
)


def escape_text(s: str) -> str:
    """Escape Markdown specials in prose minimally."""
    if not _SPECIAL.search(s):
        return s
    return _ESC.sub(lambda m: "\\" + m.group(0), s)


_LINE_START = re.compile(r"^(\s*)(#{1,6}(?=\s|$)|>|[-+](?=\s|$)|=+\s*$|-{3,}\s*$|(\d{1,9})([.)])(?=\s|$))")


def escape_line_start(line: str) -> str:
    """Escape a line start that would otherwise become a heading, quote or list item."""
    m = _LINE_START.match(line)
    if not m:
        return line
    lead, tok = m.group(1), m.group(2)
    rest = line[m.end(2):]
    if m.group(3) is not None:  # "1." -> "1\."
        return lead + m.group(3) + "\\" + m.group(4) + rest
    return lead + "\\" + tok + rest


_TICKS = re.compile(r"`+")


def code_span(text: str) -> str:
    """An inline code span for text (whitespace already collapsed)."""
    text = text.strip(" ") if text.strip() else ""
    if not text:
        return ""
    runs = [len(r) for r in _TICKS.findall(text)]
    if not runs:
        return f"`{text}`"
    n = 1
    while n in runs:
        n += 1
    ticks = "`" * n
    return f"{ticks} {text} {ticks}"


def fence_for(code: str) -> str:
    """A backtick fence longer than any backtick run in the code."""
    longest = max((len(r) for r in _TICKS.findall(code)), default=0)
    return "`" * max(3, longest + 1)


def word_count(text: str) -> int:
    return len(text.split())


# Token estimate (approximates OpenAI cl100k_base without its vocabulary).
# The text is split like cl100k's pre-tokenizer into pieces:
#   letter runs (a leading space is free, as in cl100k): 1 + (len - 1) // 8 tokens for
#     Latin-script words (common words are single tokens; long identifiers split);
#     1 token per character for CJK and other non-Latin scripts,
#   digit runs: ceil(len / 3) (cl100k splits numbers into groups of up to 3 digits),
#   punctuation/symbol runs: ceil(len / 2),
#   whitespace runs: 1 token if they hold a newline or more than one space, else 0.
_PIECES = re.compile(r"[^\W\d_]+|\d+|[^\w\s]+|_+|\s+")


def token_estimate(text: str) -> int:
    total = 0
    for piece in _PIECES.findall(text):
        c = piece[0]
        if c.isspace():
            if len(piece) > 1 or c == "\n":
                total += 1
        elif c.isdigit():
            total += math.ceil(len(piece) / 3)
        elif c.isalpha():
            if piece.isascii() or c < "\u0250":
                total += 1 + (len(piece) - 1) // 8
            else:
                total += len(piece)
        else:
            total += math.ceil(len(piece) / 2)
    return total
