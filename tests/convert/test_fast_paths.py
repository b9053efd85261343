"""The converter's fast paths give what the general code gives (speed work, issue 17)."""

from __future__ import annotations

import random
import re
import sys

from processor.convert.junk import _css_hidden, _hidden_classes
from processor.convert.parse import parse
from processor.convert.text import _ESC, collapse, escape_text, is_collapsed

from .test_token_estimate import _ALPHABET


def _reference_collapse(s: str) -> str:
    if not s:
        return ""
    body = " ".join(s.split())
    if not body:
        return " "
    return (" " if s[0].isspace() else "") + body + (" " if s[-1].isspace() else "")


def test_no_whitespace_but_the_space_is_printable() -> None:
    # is_collapsed's premise, over every code point of this Python's Unicode database
    printable_space = [hex(i) for i in range(sys.maxunicode + 1)
                       if chr(i).isspace() and chr(i) != " " and chr(i).isprintable()]
    assert printable_space == []


def test_collapse_matches_split_and_join() -> None:
    rnd = random.Random(17)
    for _ in range(20_000):
        text = "".join(rnd.choice(_ALPHABET) for _ in range(rnd.choice((1, 2, 3, 5, 12, 40))))
        assert collapse(text) == _reference_collapse(text), repr(text)
        if is_collapsed(text):
            assert " ".join(text.split()) == text.strip(" "), repr(text)
    for text in ("a b", " a b ", " ", "a\xa0b", "a\u3000b", "a  b", "a\nb", "a\x1cb", "é ü"):
        assert collapse(text) == _reference_collapse(text), repr(text)
    assert not is_collapsed("a\xa0b") and not is_collapsed("a  b") and is_collapsed(" a b ")


def test_style_sheets_read_once_give_the_same_hidden_classes() -> None:
    sheet = ".a { display: none } .b, .c:hover { visibility: hidden } .d { color: red }"
    page = f"<html><head><style>{sheet}</style><style>.e {{display:none}}</style></head><body></body></html>"
    first = _hidden_classes(parse(page))
    hits = _css_hidden.cache_info().hits
    again = _hidden_classes(parse(page))
    assert first == again == frozenset({"a", "b", "e"})
    assert _css_hidden.cache_info().hits == hits + 2  # both sheets came from the memo


def test_escaping_matches_the_bare_alternation() -> None:
    # _ESC with its lookahead prefix removed: the form it was written in first
    bare = re.compile(_ESC.pattern.removeprefix(r"(?=[\\`*_\[\]<(])(?:").removesuffix(")"))
    assert bare.pattern != _ESC.pattern and bare.pattern.startswith(r"\\|`")
    rnd = random.Random(18)
    alphabet = list("ab1 _*\\`[]()<>/!?") + ["\xa0", "é"]
    for _ in range(20_000):
        text = "".join(rnd.choice(alphabet) for _ in range(rnd.choice((1, 2, 3, 6, 20))))
        assert escape_text(text) == bare.sub(lambda m: "\\" + m.group(0), text)
