"""Text helpers: whitespace collapsing, Markdown escaping, word and token counts."""

from __future__ import annotations

import re

__all__ = [
    "collapse",
    "escape_text",
    "escape_line_start",
    "code_span",
    "KEEP_SPACE",
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
# A space that must survive whitespace collapsing (code-span padding and edges): the
# converter turns it back into a space as its very last step.
KEEP_SPACE = "\ue001"


def code_span(text: str) -> str:
    """An inline code span showing exactly `text` (whitespace already collapsed): a
    CommonMark renderer strips one space from each end when both ends have one, so
    edge spaces (and edge backticks) get one padding space each side."""
    if not text:
        return ""
    runs = [len(r) for r in _TICKS.findall(text)]
    n = 1
    while n in runs:
        n += 1
    ticks = "`" * n
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
    longest = max((len(r) for r in _TICKS.findall(code)), default=0)
    return "`" * max(3, longest + 1)


def word_count(text: str) -> int:
    return len(text.split())


# Token estimate (approximates OpenAI cl100k_base without its vocabulary; all counts
# are regex scans done in C, so it stays linear and fast on huge pages):
#   + 1 per run of letters (a leading space is free, as in cl100k's pre-tokenizer),
#   + (len - 1) // 8 more for each run of 9+ letters (long identifiers split),
#   + 1 per CJK/kana/hangul character (they are not merged into words),
#   + 1 per group of up to 3 digits (cl100k splits numbers that way),
#   + 1 per group of up to 2 punctuation/symbol characters,
#   + 1 per newline and per run of 2+ spaces/tabs (indentation).
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_T_WORD = re.compile(rf"[^\W\d_{_CJK}]+")
_T_CJK = re.compile(rf"[{_CJK}]")
_T_DIGITS = re.compile(r"\d{1,3}")
_T_PUNCT = re.compile(r"[^\w\s]{1,2}|_{1,2}")
_T_SPACE = re.compile(r"\n|[ \t]{2,}")
# All of the above but the long-word bonus in one scan: the classes are disjoint (letters,
# CJK, digits, punctuation/underscore, newline/indentation), so one left-to-right scan
# finds the same matches as the six scans one after the other, in a fifth of the time.
_T_ANY = re.compile("|".join(rx.pattern for rx in (_T_WORD, _T_CJK, _T_DIGITS, _T_PUNCT, _T_SPACE)))


_SAMPLE = 1 << 16
_SAMPLES = 32


def token_estimate(text: str) -> int:
    """Deterministic estimate of cl100k tokens (formula above). Texts over 2 MiB are
    estimated from 32 evenly spaced 64 KiB samples, scaled to the full length."""
    if not text:
        return 0
    if len(text) > 2 * _SAMPLE * _SAMPLES:
        step = len(text) // _SAMPLES
        sampled = sum(_estimate(text[i * step:i * step + _SAMPLE]) for i in range(_SAMPLES))
        return round(sampled * len(text) / (_SAMPLE * _SAMPLES))
    return _estimate(text)


def _estimate(text: str) -> int:
    found = _T_ANY.findall(text)
    # Only a run of letters or of indentation can be 9+ long; the bonus is the letters'.
    return len(found) + sum((len(w) - 1) // 8 for w in found if len(w) > 8 and w[0] not in " \t")
