"""token_estimate counts by character classes in C; the regex form is the reference."""

from __future__ import annotations

import random

from processor.tokens import _estimate, _estimate_rx, counts, token_estimate, word_count

# every class, the characters on their edges, and CJK characters that are also
# punctuation (a voiced-sound mark, the katakana middle dot: the regex fallback)
_ALPHABET = list("aZ9_ \t\n\r\x0b\x1c\x1f!-*`[](){}#|.,:;'\"\\/<>~^$%&=+?@") + [
    "é", "ß", "²", "½", "Ⅳ", "٣", "۵", "\xa0", "\u2003", "\u3000", "\u3041", "\u3099", "\u309a", "\u30fb",
    "\u30a0", "\u4e00", "\uac00", "\uf900", "\u0301", "\u200b", "…", "—", "😀", "\U0001d7ce", "\ue001", "\x85",
    "ｱ", "０"]


def test_counting_matches_the_regex_on_random_text() -> None:
    rnd = random.Random(16)
    for _ in range(20_000):
        chars = [rnd.choice(_ALPHABET[:5] if rnd.random() < 0.5 else _ALPHABET)
                 for _ in range(rnd.choice((1, 2, 3, 5, 10, 40)))]
        if rnd.random() < 0.2:
            chars = [c * rnd.randint(1, 30) for c in chars]
        text = "".join(chars)
        assert _estimate(text) == _estimate_rx(text), repr(text)
        assert counts(text) == (word_count(text), _estimate_rx(text)), repr(text)


def test_long_runs_and_markdown() -> None:
    cases = ["a" * n for n in (8, 9, 16, 17, 72, 73, 80, 81, 1000)] + [
        "x" + "b" * 100 + " " + "c" * 65 + "d" * 10 + "1", "é" * 300 + "_" * 7, "12345678 1234 12",
        "## Title\n\n    indented  code\t\there\n\n| a | b |\n| --- | --- |\n[link](http://x/y_z.html) **b**",
        "日本語のテキスト・カタカナ", "가나다 123 ..."]
    for text in cases:
        assert _estimate(text) == _estimate_rx(text), text
        assert counts(text) == (word_count(text), token_estimate(text)), text
    assert token_estimate("a" * 9) == 2 and token_estimate("1234567") == 3 and token_estimate("---") == 2
