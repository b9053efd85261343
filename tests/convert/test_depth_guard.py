"""The page budget's depth limit checked on the converter's parsed tree (limits.check
with on_tree=True, convert's guard): it refuses exactly the pages the streamed check
refuses, with the same message."""

from __future__ import annotations

from dataclasses import replace

import pytest

from processor.convert import convert
from processor.limits import PageLimits, PageTooLarge, check
from processor.pool import ConversionPool

LIMITS = PageLimits(max_depth=100)


def nested(n: int, tag: str = "div") -> str:
    return "<html><body>" + f"<{tag}>" * n + "text" + f"</{tag}>" * n + "</body></html>"


# Shapes the parser nests by its own rules: implied html/body, unclosed <li>/<p>/<td>,
# a stray end tag, elements the parser closes for the next one.
SHAPES = [
    nested(97), nested(98), nested(99), nested(150), "<div>" * 200, "<div>" * 99,
    "<ul>" + "<li>x<ul>" * 49 + "</ul>" * 49, "<ul>" + "<li>x<ul>" * 60,
    "<table>" + "<tr><td><table>" * 24, "<table>" + "<tr><td><table>" * 40,
    "<p>" * 300 + "<div>" * 98, "<span>" * 98 + "</div>" * 50 + "<b>" * 3,
    "<body><div>" + "<section><p>a<div>" * 33 + "</section>", "<html>" + "<em><p>" * 60,
    nested(3000), nested(120, "span"),
]


def streamed(html: str, limits: PageLimits) -> str:
    try:
        assert check(html, limits) is None
    except PageTooLarge as exc:
        return str(exc)
    return ""


def on_tree(html: str, limits: PageLimits) -> str:
    try:
        guard = check(html, limits, on_tree=True)
        convert(html, "http://x.test/", guard=guard)
    except PageTooLarge as exc:
        return str(exc)
    return ""


@pytest.mark.parametrize("html", SHAPES)
def test_the_tree_refuses_what_the_stream_refuses(html: str) -> None:
    assert on_tree(html, LIMITS) == streamed(html, LIMITS)


def test_deep_pages_are_refused_and_others_converted() -> None:
    assert on_tree(nested(98), LIMITS) == ""  # html, body and 98 divs: 100 levels
    assert "more than 100 deep" in on_tree(nested(99), LIMITS)
    assert "more than 100 deep" in on_tree(nested(5000), LIMITS)  # past libxml2's 2048 levels too
    assert convert(nested(98), "http://x.test/", guard=check(nested(98), LIMITS, on_tree=True)).markdown == "text"
    guard = check(nested(150), LIMITS, on_tree=True)
    assert guard is not None
    with pytest.raises(PageTooLarge):
        convert(nested(150), "http://x.test/", guard=guard)


def test_limits_the_tree_cannot_show_are_streamed() -> None:
    """libxml2 builds at most 2048 levels: a higher limit is checked on the stream."""
    high = PageLimits(max_depth=2500)
    with pytest.raises(PageTooLarge, match="2500 deep"):
        check(nested(3000), high, on_tree=True)
    assert check(nested(2000), high, on_tree=True) is None
    # and a page that may cross another limit is streamed whole, as before
    small = replace(LIMITS, max_elements=50)
    with pytest.raises(PageTooLarge, match="50 elements"):
        check(nested(150), small, on_tree=True)


def test_a_failing_guard_other_than_the_limit_also_comes_out() -> None:
    def guard(root: object) -> None:
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        convert(nested(3), "http://x.test/", guard=guard)


async def test_the_pool_refuses_a_deep_page_with_the_limit_message() -> None:
    pool = await ConversionPool(workers=1, limits=replace(PageLimits(), max_depth=100)).start()
    try:
        with pytest.raises(PageTooLarge, match="more than 100 deep"):
            await pool.convert(nested(150), "http://x.test/deep", timeout=120)
        ok = await pool.convert(nested(90), "http://x.test/ok", timeout=120)
        assert ok.markdown == "text"
        assert pool.replaced == 0
    finally:
        await pool.close()
