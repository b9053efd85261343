"""convert() must never raise or hang, whatever it is given."""

import os
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from processor.convert import convert

URL = "https://site.test/p.html"


def check(data: str | bytes) -> str:
    c = convert(data, URL)
    assert isinstance(c.markdown, str) and isinstance(c.title, str) and isinstance(c.description, str)
    assert isinstance(c.word_count, int) and isinstance(c.token_estimate, int)
    return c.markdown


def test_empty_inputs() -> None:
    for data in ("", b"", "   ", b"\x00", "<html></html>", "<!-- only -->"):
        assert check(data) == ""


def test_deep_nesting_100k() -> None:
    # CPU seconds, not wall clock: a quadratic walk shows, a loaded machine does not.
    t = time.process_time()
    out = check("<div>" * 100_000 + "deep text" + "</div>" * 100_000)
    assert "deep text" in out
    out = check(("<ul><li><blockquote><table><tr><td><span><b>") * 20_000 + "leaf")
    assert "leaf" in out
    out = check("<section><div><p>" * 300 + "moderately deep" + "</p></div></section>" * 300)
    assert "moderately deep" in out
    assert time.process_time() - t < 10


def test_huge_text_node_50mb() -> None:
    t = time.process_time()
    c = convert("<html><body><p>" + "word " * (10 * 1024 * 1024) + "</p></body></html>", URL)
    assert c.word_count == 10 * 1024 * 1024
    assert c.token_estimate > 0
    assert time.process_time() - t < 30


def test_invalid_utf8_and_binary() -> None:
    assert "caf" in check(b"<p>\xff\xfe\xc3( caf\xc3\xa9</p>")
    check(os.urandom(100_000))
    check(bytes(range(256)) * 100)
    check("<p>\ud800 lone surrogate</p>")
    check('<?xml version="1.0" encoding="utf-8"?><p>decl</p>')


def test_wrong_types_do_not_raise() -> None:
    assert convert(None, URL).markdown == ""  # type: ignore[arg-type]
    assert convert(123, URL).markdown == ""  # type: ignore[arg-type]


TAGS = ["div", "p", "pre", "code", "table", "tr", "td", "th", "ul", "ol", "li", "dl", "dt", "dd", "a", "h1", "h3",
        "blockquote", "span", "em", "strong", "br", "img", "details", "summary", "main", "article", "nav", "sup",
        "math", "annotation", "script", "svg", "aside", "section", "hr", "kbd"]
ATTRS = ['', ' class="admonition note"', ' class="highlight-python"', ' href="#x"', ' href="javascript:x"',
         ' colspan="3"', ' rowspan="99999999999"', ' start="-5"', ' hidden', ' class="footnote"', ' role="main"',
         ' src="data:x"', ' class="math"', ' href="http://[::1"', ' class="sig"', ' aria-hidden="true"']

fragment = st.lists(
    st.one_of(
        st.builds(lambda t, a: f"<{t}{a}>", st.sampled_from(TAGS), st.sampled_from(ATTRS)),
        st.builds(lambda t: f"</{t}>", st.sampled_from(TAGS)),
        st.text(max_size=30),
        st.sampled_from(["`", "```", "|", "*", "_", "[", "]", "\n", "&amp;", "&#0;", "¶", "\x00", "<!--", "]]>"]),
    ),
    max_size=60,
).map("".join)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fragment)
def test_fuzz_markup(html: str) -> None:
    out = check(html)
    assert "\n\n\n" not in out.replace("\n\n\n```", "") or "```" in out


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_fuzz_bytes(data: bytes) -> None:
    check(data)
