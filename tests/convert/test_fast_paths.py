"""The converter's fast paths give what the general code gives (speed work, issue 17)."""

from __future__ import annotations

import random
import re
import sys
from typing import Any

import lxml.etree as etree

from processor.convert import convert
from processor.convert.junk import _css_hidden, _hidden_classes, clean
from processor.convert.main import is_semantic, pager_bars
from processor.convert.parse import holds, parse
from processor.convert.template import keys_of
from processor.convert.vocab import LINENO_WORDS
from processor.limits import PageLimits, PageTooLarge, check
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


def _body(page: str) -> Any:
    root = parse(page)
    return root, root.find("body")


def test_clean_notes_the_landmarks_and_gutters_later_passes_look_for() -> None:
    page = ('<html><body><div role="main"><p>a</p><pre><span itemprop="articleBody">x</span></pre>'
            '<math role="main"><mi>x</mi></math><article><p role="mainx">b</p></article></div>'
            '<div itemprop="articleBody" style="color: red">c</div><p role="navigation">d</p></body></html>')
    root, body = _body(page)
    marks = clean(root)
    assert {el.tag for el in marks.landmarks} == {"div", "span", "math"} and len(marks.landmarks) == 4
    assert not marks.gutters
    # the semantic regions found from the marks are the ones found by reading every element
    with_marks = keys_of(body, marks.landmarks)[2].semantic
    assert with_marks == keys_of(body)[2].semantic == [el for el in body.iter() if is_semantic(el)]
    assert len(with_marks) == 5
    root, _ = _body('<html><body><table class="highlighttable"><tr><td class="linenos"><pre>1</pre></td>'
                    '<td><pre>x = 1</pre></td></tr></table></body></html>')
    assert clean(root).gutters


def test_code_without_gutters_converts_the_same_either_way() -> None:
    page = ('<html><body><main><h1>T</h1><p>Text <code class="n">a<span class="ln">1</span></code></p>'
            '<pre><code><span class="k">def</span> <span class="lineno">2</span>f</code></pre></main></body></html>')
    assert "lineno" in LINENO_WORDS and "ln" in LINENO_WORDS
    md = convert(page, "http://x/").markdown
    assert "def f" in md and "2" not in md.replace("def", "")  # the gutter inside code is dropped
    root, body = _body(page)
    assert clean(root).gutters
    plain = '<html><body><main><h1>T</h1><pre><code><span class="k">def</span> f</code></pre></main></body></html>'
    root, body = _body(plain)
    assert not clean(root).gutters
    assert convert(plain, "http://x/").markdown == "# T\n\n```\ndef f\n```"


def test_holds_matches_lxmls_walk() -> None:
    rnd = random.Random(19)
    names = ("p", "div", "span", "a", "code", "em", "table", "li")
    wanted = frozenset({"p", "div", "table"})
    for _ in range(3_000):
        root = etree.Element("span")
        nodes = [root]
        for _ in range(rnd.randint(0, 30)):
            nodes.append(etree.SubElement(rnd.choice(nodes), rnd.choice(names)))
        for el in nodes:
            assert holds(el, wanted, tuple(wanted)) == (next(el.iterdescendants(*wanted), None) is not None)


def test_the_size_check_takes_the_branch_the_whole_count_gives() -> None:
    def branch(html: str, limits: PageLimits) -> str:  # check's decision from the count of every "<"
        tags = html.count("<")
        bound = 3 * tags + 8
        if (limits.max_elements and bound > limits.max_elements) or (
                limits.max_table_cells and tags > limits.max_table_cells) or (
                limits.max_text_chars and len(html) > limits.max_text_chars):
            return "count"
        return "depth" if limits.max_depth and bound > limits.max_depth else "none"

    rnd = random.Random(20)
    for _ in range(400):
        n = rnd.choice((10, 100, 400, 3000, 20_000))
        html = "".join(rnd.choice(("<b>", "x", "</b>", " ")) for _ in range(n))
        limits = PageLimits(max_elements=rnd.choice((0, 50, 5_000, 250_000)), max_depth=rnd.choice((0, 20, 1_000)),
                            max_text_chars=rnd.choice((0, 30_000)), max_table_cells=rnd.choice((0, 100, 100_000)))
        want = branch(html, limits)
        try:
            got = check(html, limits, on_tree=True)
        except PageTooLarge:
            assert want == "count"
            continue
        assert (got is not None) == (want == "depth"), (n, limits, want)


def test_pager_bars_from_the_noted_links_are_the_ones_from_every_link() -> None:
    page = ('<html><body><div class="navheader"><a href="a.html" rel="prev">Prev</a> <a href="up.html" accesskey="u">'
            'Up</a> <a href="c.html" rel="next">Next</a></div><div hidden><p><a rel="next" href="x">N</a>'
            '<a rel="prev" href="y">P</a></p></div><h1>Title</h1><p>Text <a href="z.html">z</a></p></body></html>')
    root, body = _body(page)
    marks = clean(root)
    assert [a.text for a in marks.navlinks] == ["Prev", "Up", "Next", "N", "P"]  # (the last two were dropped)
    lengths = keys_of(body, marks.landmarks)[2]
    bars = pager_bars(body, lengths, marks.navlinks)
    # (the dropped links' bar is counted too: out of the tree, no pass meets it)
    in_tree = {el for el in bars if body in el.iterancestors()}
    assert in_tree == pager_bars(body, lengths) and len(bars) == 3
    assert [el.get("class") for el in pager_bars(body, lengths)] == ["navheader"]
    assert convert(page, "http://x/").markdown == "# Title\n\nText [z](http://x/z.html)"
