"""A converted page leaves no reference cycle behind: its tree is freed as soon as the
conversion returns, not at the next run of the cyclic garbage collector, which in a
conversion worker would then walk every element proxy of every page since the last run
(issue 17: 5-10 % of the converter's CPU; the closures of template.strip and two
render.py walks each held their page's whole tree)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from processor.convert import convert

from . import fixtures

_PAGES = {name: getattr(fixtures, name) for name in dir(fixtures) if name.isupper()}

# The passes with recursive walks: linked inline code (render.linked_code), a signature
# with its "[source]" link (render.signature_text).
_LINKED_CODE = ("<html><body><main><h1>List</h1><p>Returns <code><a href='List.html'>List</a>&lt;"
                "<a href='T.html'>T</a>&gt;</code> always.</p></main></body></html>")
_SIGNATURE = ("<html><body><main><h1>API</h1><dl class='py function'><dt class='sig sig-object py' id='f'>"
              "<span class='sig-name descname'><span class='pre'>f</span></span><span class='sig-paren'>(</span>"
              "<em class='sig-param'>x</em><span class='sig-paren'>)</span><a class='reference internal' "
              "href='_modules/m.html#f'><span class='viewcode-link'><span class='pre'>[source]</span></span></a>"
              "</dt><dd><p>Does f to x, in a sentence long enough to be text.</p></dd></dl></main></body></html>")


@pytest.fixture
def no_automatic_gc() -> Iterator[None]:
    was = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


@pytest.mark.parametrize("name", sorted(_PAGES) + ["LINKED_CODE", "SIGNATURE"])
def test_a_conversion_frees_its_tree_without_the_cycle_collector(name: str, no_automatic_gc: None) -> None:
    html = {"LINKED_CODE": _LINKED_CODE, "SIGNATURE": _SIGNATURE}.get(name) or _PAGES[name]
    first = convert(html, "https://docs.example.org/a/page.html")
    assert first.markdown
    # Again under a template of its own keys: template.strip's walk runs and removes.
    again = convert(html, "https://docs.example.org/a/page.html", frozenset(first.template_keys))
    assert again.markdown
    assert gc.collect() == 0


def test_the_walks_under_test_ran(no_automatic_gc: None) -> None:
    # (so the cases above exercise linked_code and signature_text)
    assert "[`List`](https://docs.example.org/List.html)" in convert(_LINKED_CODE, "https://docs.example.org/").markdown
    assert "_modules/m.html#f" in convert(_SIGNATURE, "https://docs.example.org/").markdown
