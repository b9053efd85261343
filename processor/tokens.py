"""Word and token counts of a text: the converter's, and every output's (the CLI's
combined document counts its headings with the same estimate as the pages), in a module
of their own so that counting does not import the converter (processor/convert pulls in
lxml and every pass: ~30 ms of a crawl's serial output step)."""

from __future__ import annotations

import codecs
import re

__all__ = ["word_count", "token_estimate", "counts"]


def word_count(text: str) -> int:
    return len(text.split())


# Token estimate (approximates OpenAI cl100k_base without its vocabulary; all counts
# are done in C, so it stays linear and fast on huge pages):
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
# The regex form of the formula (the reference: the counting below gives the same
# numbers). Alternatives are tried in this order at each position; `_estimate_rx` is
# used for a text holding a character two classes share (below). Compiled on first use
# (~4 ms: every import of this module, a conversion worker's too, paid it).
_T_ANY_PATTERN = "|".join(rx.pattern for rx in (_T_WORD, _T_CJK, _T_DIGITS, _T_PUNCT, _T_SPACE))


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


def _estimate_rx(text: str) -> int:
    found = re.findall(_T_ANY_PATTERN, text)  # re's cache keeps it compiled
    # Only a run of letters or of indentation can be 9+ long; the bonus is the letters'.
    return len(found) + sum((len(w) - 1) // 8 for w in found if len(w) > 8 and w[0] not in " \t")


# The same count without a match object or a string per token (findall over a page
# cost 0.6 ms, 3.4x what this does): every character is mapped to its class in C
# (ASCII by a byte table; any other character by the codec error handler below, which
# writes an ASCII stand-in of the same class), then each class's runs are counted
# with bytes.count and with bit operations on one big int. Per run of length L:
# letters ceil(L / 8) (= 1 + (L - 1) // 8), digits ceil(L / 3), punctuation and
# underscores ceil(L / 2), newlines and CJK characters L, spaces/tabs 1 when L >= 2.
def _char_class(ch: str) -> str:
    """The ASCII stand-in of one character's class, by the reference patterns; "" for a
    CJK character that is also punctuation or a digit (the reference then depends on
    the neighbours: it may be the second of a punctuation pair)."""
    if _T_WORD.fullmatch(ch):
        return "a"
    if _T_CJK.fullmatch(ch):
        return "" if _T_PUNCT.fullmatch(ch) or _T_DIGITS.fullmatch(ch) else "\n"  # one token each
    if _T_DIGITS.fullmatch(ch):
        return "0"
    if _T_PUNCT.fullmatch(ch):
        return "!"
    return "\r"  # whitespace that is no newline, space or tab: no token, ends a run


_CLASS_OF: dict[str, str] = {}  # non-ASCII character -> stand-in (a few hundred in practice)


class _Shared(Exception):
    """The text holds a character of two classes: count it with the regex."""


def _stand_ins(err: UnicodeError) -> tuple[str, int]:
    if not isinstance(err, UnicodeEncodeError):
        raise err
    out = []
    for ch in err.object[err.start:err.end]:
        c = _CLASS_OF.get(ch)
        if c is None:
            c = _CLASS_OF[ch] = _char_class(ch)
        if not c:
            raise _Shared
        out.append(c)
    return "".join(out), err.end


_HANDLER = "docspasta-token-class"
codecs.register_error(_HANDLER, _stand_ins)


def _table(of: dict[str, bytes]) -> bytes:
    """A bytes.translate table: each ASCII byte to `of[its class]` (b"\0" when absent)."""
    return b"".join(of.get(_char_class(chr(i)), b"\0") for i in range(128)) + bytes(128)


# class string: a letter, d digit, p punctuation, u underscore, n newline/CJK, s space/tab
_CLASSES = _table({"a": b"a", "0": b"d", "!": b"p", "\n": b"n", "\r": b" "})
_CLASSES = bytes(ord("u") if i == ord("_") else ord("s") if i in (9, 32) else ord("n") if i == 10 else b
                 for i, b in enumerate(_CLASSES))
_LETTERS = _table({"a": b"\1"})  # 1 per letter, 0 else: one byte per position of a big int
# 1 per character str.split() does not split at (every stand-in but CJK's "\n" keeps that)
_NOT_SPACE = bytes(0 if chr(i).isspace() else 1 for i in range(128)) + bytes(128)
_SPACES = re.compile(rb"ss+")
_LEVELS = 8  # runs of letters counted bit-parallel up to 8 * _LEVELS + 8 letters
_LONG_RUN = re.compile(rb"(?<!a)a{%d,}" % (8 * _LEVELS + 1))


def _estimate(text: str) -> int:
    try:
        raw = text.encode("ascii", _HANDLER)
    except _Shared:
        return _estimate_rx(text)
    return _estimate_stand_ins(raw)


def _estimate_stand_ins(raw: bytes) -> int:
    cls = raw.translate(_CLASSES)
    # Letters: a run starts where a letter follows a non-letter (byte i of the int is
    # position i); a run of 9+ has 8 letters from its second position on, 17+ 8 more
    # after those, and so on: one more token for each.
    n = int.from_bytes(raw.translate(_LETTERS), "little")
    starts = n & ~(n << 8)
    tokens = starts.bit_count()
    eight = n & (n >> 8)
    eight &= eight >> 16
    eight &= eight >> 32  # bit at i: positions i..i+7 are all letters
    longer = starts & (eight >> 8)
    ahead = eight >> 72
    for _ in range(_LEVELS):
        if not longer:
            break
        tokens += longer.bit_count()
        longer &= ahead
        ahead >>= 64
    else:
        if longer:  # runs of more letters (each level costs a pass): counted from their text
            tokens += sum((len(run) - 1) // 8 - _LEVELS for run in _LONG_RUN.findall(cls))
    if b"d" in cls:  # each run of L digits: L // 3 groups of three, one more for a rest
        thirds = cls.replace(b"ddd", b"xxx")
        tokens += thirds.count(b"x") // 3 + thirds.count(b"d") - thirds.count(b"dd")
    # pairs: bytes.count finds L // 2 non-overlapping pairs in a run of L
    tokens += cls.count(b"p") - cls.count(b"pp") + cls.count(b"n")
    if b"u" in cls:
        tokens += cls.count(b"u") - cls.count(b"uu")
    if b"ss" in cls:
        tokens += len(_SPACES.findall(cls))
    return tokens


def counts(text: str) -> tuple[int, int]:
    """(word_count(text), token_estimate(text)), the text encoded to its classes once:
    the words are the runs of characters that are not whitespace."""
    if not text:
        return 0, 0
    if len(text) > 2 * _SAMPLE * _SAMPLES:
        return word_count(text), token_estimate(text)
    try:
        raw = text.encode("ascii", _HANDLER)
    except _Shared:
        return word_count(text), _estimate_rx(text)
    if text.isascii() or raw.count(b"\n") == text.count("\n"):  # no CJK stand-in
        n = int.from_bytes(raw.translate(_NOT_SPACE), "little")
        words = (n & ~(n << 8)).bit_count()
    else:
        words = word_count(text)
    return words, _estimate_stand_ins(raw)
