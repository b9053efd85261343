"""HTML -> our Markdown -> a CommonMark renderer (markdown-it-py, with GFM tables and
strikethrough) -> HTML must show what the page showed: small cases distilled from the
CommonMark/GFM spec examples (the whole suite is bench/roundtrip/run.py)."""

import re

import lxml.html
import pytest
from markdown_it import MarkdownIt

from processor.convert import convert

BASE = "http://rt.test/dir/page.html"
_BLOCK = ("blockquote|dd|div|dl|dt|h1|h2|h3|h4|h5|h6|hr|li|ol|p|pre|table|tbody|td|th|thead|tr|ul")
_md = MarkdownIt("commonmark").enable(["table", "strikethrough"])


def canon(html: str) -> str:
    parts: list[str] = []

    def walk(el: lxml.html.HtmlElement, pre: bool) -> None:
        if el.get("align"):  # renderers write column alignment as a style
            el.set("style", "text-align:" + el.attrib.pop("align"))
        attrs = "".join(f' {k}="{v}"' for k, v in sorted(el.attrib.items()))
        parts.append(f"<{el.tag}{attrs}>")
        inner = pre or el.tag == "pre"
        for t, node in [(el.text, None)] + [(None, c) for c in el]:
            if node is not None:
                walk(node, inner)
                t = node.tail
            if t:
                parts.append(t if inner else re.sub(r"\s+", " ", t))
        parts.append(f"</{el.tag}>")

    for f in lxml.html.fragments_fromstring(html.strip()):
        if isinstance(f, str):
            parts.append(f)
        else:
            walk(f, False)
    s = re.sub(rf"\s*(</?(?:{_BLOCK})(?:\s[^>]*)?>)\s*", r"\1", "".join(parts))
    return re.sub(r"(<br></br>)\s+", r"\1", s).strip()  # a line starts after a break


CASES = [
    # lists: numbered as the page numbers them, tight and loose, kept apart, holding blocks
    '<ol start="7"><li>a</li><li>b</li></ol>',
    "<ul><li><p>a</p></li><li><p>b</p></li></ul>",
    "<ul><li>a</li></ul><ul><li>b</li></ul>",
    "<ol><li>a</li></ol><ol><li>b</li></ol>",
    "<ul><li>a<blockquote><p>b</p></blockquote></li><li>c</li></ul>",
    "<ul><li>Foo</li><li><hr></li></ul>",
    "<ul><li><h2>Bar</h2><p>baz</p></li></ul>",
    "<ol><li><p>foo</p><ul><li>bar</li></ul></li></ol>",
    # rules at the edges, quotes, code
    "<hr><p>a</p><hr>",
    "<blockquote></blockquote>",
    "<pre><code>b\n\n\n</code></pre>",
    '<pre><code class="language-ruby">def foo(x)\n  return 3\nend\n</code></pre>',
    # inline: titles, code-span edge spaces, emphasis around a line break
    '<p><a href="/url" title="the title">link</a> and <img src="/i.png" alt="x" title="t"></p>',
    "<p><code> a </code> and <code>`b`</code> and <code> c</code></p>",
    "<p><em>foo<br>bar</em></p>",
    "<p><strong>a</strong><br><em>b</em></p>",
    # tables with column alignment
    '<table><thead><tr><th align="left">a</th><th align="center">b</th><th align="right">c</th></tr></thead>'
    '<tbody><tr><td align="left">1</td><td align="center">2</td><td align="right">3</td></tr></tbody></table>',
]


@pytest.mark.parametrize("html", CASES)
def test_round_trip(html: str) -> None:
    md = convert(f"<html><body><main>{html}</main></body></html>", BASE).markdown
    want = canon(html.replace('href="/', 'href="http://rt.test/').replace('src="/', 'src="http://rt.test/'))
    got = canon(_md.render(md))
    assert got == want, md
