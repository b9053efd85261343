"""The extract step: what the orchestrator gets from a page (links, title, canonical,
robots), and that its fast tree walk (one XPath call, each distinct href joined once)
gives exactly what the element-by-element walk and the stream give."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from crawler.extract import _from_tree, _streamed, extract
from docspasta.texthash import text_hash

BASE = "http://docs.example.com/guide/page.html"
PAGE = """<!DOCTYPE html><html><head><title>  The   Guide
</title><link rel="stylesheet" href="/s.css"><link rel="Canonical" href="/guide/page.html#top">
<meta name="viewport" content="width=device-width"></head><body>
<a href="other.html">o</a> <a href="other.html#sec">o again</a> <a href="#local">here</a>
<a href="../index.html?x=1#frag">up</a> <a href="  spaced.html  ">s</a> <a href="javascript:void(0)">js</a>
<a href="MAILTO:x@example.com">m</a> <a href="//cdn.example.org/a">cdn</a> <a>no href</a>
<map><area href="area.html"></map> <a href="?q=2">query</a> <a href="sub/deep.html#a">d</a>
<a href="sub/deep.html#b">d2</a> <a href="ftp://x/">f</a> <a href="a.html #x">space before fragment</a>
</body></html>"""
EXPECTED = ["http://docs.example.com/guide/other.html", "http://docs.example.com/index.html?x=1",
            "http://docs.example.com/guide/spaced.html", "http://cdn.example.org/a",
            "http://docs.example.com/guide/area.html", "http://docs.example.com/guide/page.html?q=2",
            "http://docs.example.com/guide/sub/deep.html", "http://docs.example.com/guide/a.html "]


def test_links_title_canonical() -> None:
    found = extract(PAGE, BASE, max_links=100)
    assert found.links == EXPECTED
    assert found.title == "The Guide"
    assert found.canonical == "http://docs.example.com/guide/page.html"
    assert not found.nofollow and not found.truncated


def test_the_three_walks_agree_on_a_page() -> None:
    fast = _from_tree(PAGE, BASE, 100)
    by_element = _from_tree(PAGE, BASE, 100, by_element=True)
    streamed = _streamed(PAGE, BASE, 100, 1_000_000)
    assert fast == by_element
    # A tree walk hashes the main text of a page naming a canonical URL as the
    # orchestrator would; a streamed page has no tree, and the orchestrator hashes it.
    assert fast.canonical and fast.text_hash == text_hash(PAGE)
    assert streamed == replace(fast, text_hash=b"")


def test_only_a_page_naming_a_canonical_url_is_hashed() -> None:
    assert extract("<title>t</title><p>text</p>", BASE, max_links=10).text_hash == b""
    page = '<link rel="canonical" href="/c"><nav>menu</nav><p>the text</p><footer>2026</footer>'
    other_chrome = '<link rel="canonical" href="/c"><nav>other menu</nav><p>the  text</p>'
    assert extract(page, BASE, max_links=10).text_hash == extract(other_chrome, BASE, max_links=10).text_hash
    assert extract(page, BASE, max_links=10).text_hash != extract(page.replace("the text", "new"), BASE,
                                                                   max_links=10).text_hash


@pytest.mark.parametrize("cap", [1, 3, 7, 8, 50])
def test_link_cap_counts_distinct_links(cap: int) -> None:
    assert extract(PAGE, BASE, max_links=cap).links == EXPECTED[:cap]


def test_base_changes_how_later_links_resolve() -> None:
    html = ('<html><head><base href="http://other.example/docs/"><link rel=canonical href="c.html"></head>'
            '<body><a href="x.html">x</a><a href="/y">y</a></body></html>')
    found = extract(html, BASE, max_links=10)
    assert found.links == ["http://other.example/docs/x.html", "http://other.example/y"]
    assert found.canonical == "http://other.example/docs/c.html"


def test_robots_nofollow() -> None:
    found = extract('<meta name="ROBOTS" content="noindex, NoFollow"><a href="a">a</a>', BASE, max_links=10)
    assert found.nofollow and found.links == ["http://docs.example.com/guide/a"]


def test_a_page_over_the_element_limit_is_streamed_and_marked() -> None:
    html = "<html><body>" + "".join(f'<a href="p{i}.html">{i}</a>' for i in range(500)) + "</body></html>"
    found = extract(html, BASE, max_links=10_000, max_elements=100)
    assert found.truncated and 0 < len(found.links) < 100


TAGS = ["a", "area", "base", "link", "meta", "title", "div", "p", "head", "body", "html", "svg", "template",
        "script", "!--", "table", "td"]
HREFS = st.one_of(st.text(max_size=30),
                  st.sampled_from(["", "#", "#top", "a.html", "a.html#x", "a.html #x", " a.html#x ", "../b/",
                                   "?q#f", ";p", "//h.example/x#y", "javascript:x#y", "http://[::1#x", "HTTP://X/#",
                                   "sub/c.html#a", "sub/c.html#b", "\tq.html\t#z"]))


@st.composite
def soup(draw: st.DrawFn) -> str:
    """Tag soup heavy in links (repeated hrefs, fragments, odd schemes) and head elements."""
    parts = []
    for _ in range(draw(st.integers(0, 40))):
        tag = draw(st.sampled_from(TAGS))
        kind = draw(st.integers(0, 4))
        if kind == 0:
            parts.append(f"</{tag}>")
        elif kind == 1:
            parts.append(draw(st.text(max_size=20)))
        else:
            href = draw(HREFS).replace('"', "&quot;")
            rel = draw(st.sampled_from(["", ' rel="canonical"', ' rel="next"']))
            name = draw(st.sampled_from(["", ' name="robots" content="nofollow"', ' name="x"']))
            parts.append(f'<{tag} href="{href}"{rel}{name}>')
    return "".join(parts)


def test_markup_after_the_root_element_is_walked_as_before() -> None:
    # libxml2 leaves what follows </html> beside the root: the tree walk never saw it.
    html = '<a href="">x</a></html><a href="0">y</a><title>t</title>'
    assert _from_tree(html, BASE, 5) == _from_tree(html, BASE, 5, by_element=True)
    assert _from_tree(html, BASE, 5).links == []


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(html=soup(), max_links=st.integers(1, 12))
def test_fast_walk_equals_the_element_walk(html: str, max_links: int) -> None:
    fast = _from_tree(html, BASE, max_links)
    slow = _from_tree(html, BASE, max_links, by_element=True)
    assert fast == slow
