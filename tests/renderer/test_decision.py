"""The render decision (orchestrator/render.py): which fetched pages are shells, and
when a host's pages go to the browser directly. Pure functions: no browser here."""

from __future__ import annotations

import json
import time

import pytest

from docspasta.v1 import orchestrator_pb2 as pb
from orchestrator.render import (ALWAYS, AUTO, INLINE_BYTES, NEVER, RenderDecision, _rough_text, check_shell,
                                 might_be_shell, mode_from_proto, mode_to_proto, shell_reason)

PROSE = ("Install the package with pip, then import it and call the client. Every option has a default; "
         "the reference lists them all with examples of each one. ") * 30


def page(body: str, head: str = "") -> str:
    return f"<!doctype html><html><head><title>t</title>{head}</head><body>{body}</body></html>"


SHELLS = {
    "docsify": page('<div id="app">Loading ...</div><script>window.$docsify = {name: "x"}</script>'
                    '<script src="//cdn.jsdelivr.net/npm/docsify@4"></script>'),
    "create-react-app": page('<noscript>You need to enable JavaScript to run this app.</noscript>'
                             '<div id="root"></div><script src="/static/js/main.js"></script>'),
    "vue": page('<div id="app"></div><script type="module" src="/assets/index.js"></script>'),
    "angular": page('<app-root></app-root><script src="main.js" type="module"></script>'),
    "empty body with a script": page('<script src="/bundle.js"></script>'),
    # Header and footer text around an empty mount point: still a shell.
    "mount point in a frame of text": page(
        "<header><nav>" + "Guides Reference API Changelog Blog Community " * 6 + "</nav></header>"
        '<div id="__next"></div><footer>Copyright 2026 Example Inc. All rights reserved. Privacy. Terms.</footer>'
        '<script src="/_next/static/chunks/main.js"></script>'),
    "noscript notice with a little text": page(
        "<noscript>Please turn on JavaScript to view this documentation.</noscript>"
        "<div class=loading>" + "Documentation portal for the Example API and its SDKs. " * 8 + "</div>"
        "<script src=/portal.js></script>"),
}

NOT_SHELLS = {
    "static page": page(f"<main><h1>Guide</h1><p>{PROSE}</p></main>"),
    "static page with analytics": page(f"<main><h1>Guide</h1><p>{PROSE}</p></main>"
                                       "<script async src=https://www.googletagmanager.com/gtag/js></script>"),
    "server-rendered next.js": page(f'<div id="__next"><main><h1>Guide</h1><p>{PROSE}</p></main></div>'
                                    '<script src="/_next/static/chunks/main.js"></script>'),
    "short page without scripts": page("<p>Moved to the new docs.</p>"),
    "json-ld only": page("<p>Short.</p>", head='<script type="application/ld+json">{"@type": "Thing"}</script>'),
    "search page notice on a full page": page(
        f"<main><p>{PROSE}</p></main><noscript>Please activate JavaScript to enable the search.</noscript>"
        "<script src=searchtools.js></script>"),
    "empty mount point beside lots of text": page(f'<main><p>{PROSE}</p></main><div id="root"></div>'
                                                  "<script src=/widget.js></script>"),
    "sphinx search page": page('<div class="sphinxsidebar"><h3>Navigation</h3><ul>' + "".join(
        f"<li><a href=ch{i}.html>Chapter {i}: working with the library</a></li>" for i in range(12)) + '</ul></div>'
                               '<h1>Search</h1><noscript><div id="fallback" class="admonition warning">'
                               "<p>Please activate JavaScript to enable the search functionality.</p></div>"
                               '</noscript><form action="" method="get"><input type="text" name="q"></form>'
                               '<div id="search-results"></div><script src="searchtools.js"></script>'),
    # Javadoc's notice on every page, here a short interface page: its title is in the HTML.
    "javadoc short page": page(
        '<script>loadScripts(document, "script");</script><noscript><div>JavaScript is disabled on your browser.'
        '</div></noscript><header role="banner"><nav><a href="../package-summary.html">Package</a></nav></header>'
        '<main role="main"><div class="header"><h1 title="Interface Supplier" class="title">Interface Supplier'
        '</h1></div><div class="block">Represents a supplier of results. There is no requirement that a new '
        'or distinct result be returned each time the supplier is invoked. This is a functional interface '
        'whose functional method is get().</div><h2>Method Summary</h2><div class="summary-table">'
        '<div>T</div><div><a href="#get()">get</a>()</div><div>Gets a result.</div></div></main>',
        head='<script src="../script.js"></script>'),
    "redirect stub": ('<!doctype html><html><head><title>Redirecting...</title>'
                      '<script>location.href="../dev-guide/plugins.html"</script>'
                      '<meta http-equiv="refresh" content="0; url=../dev-guide/plugins.html"></head>'
                      "<body>Redirecting...</body></html>"),
    "empty document": "",
    "not html": "\x00\x01\x02 garbage <<<>>>",
}


@pytest.mark.parametrize("name", sorted(SHELLS))
def test_shells_are_recognised(name: str) -> None:
    assert shell_reason(SHELLS[name]) is not None


@pytest.mark.parametrize("name", sorted(NOT_SHELLS))
def test_pages_with_their_text_are_not_shells(name: str) -> None:
    assert shell_reason(NOT_SHELLS[name]) is None


def test_inline_scripts_do_not_count_as_text() -> None:
    # A shell carrying its data inline (Next.js-style) is still a shell.
    data = '{"props": {"pageProps": {"body": "' + "lots of json text " * 500 + '"}}}'
    shell = page(f'<div id="__next"></div><script id="__NEXT_DATA__" type="text/javascript">{data}</script>'
                 '<script src="/_next/main.js"></script>')
    assert shell_reason(shell) is not None


def test_rough_text_skips_scripts_and_styles_and_counts_the_rest() -> None:
    html = ("<head><style>body { color: red }</style></head><body><p>one two</p>"
            "<script>var hidden = 'not text';</script><SCRIPT>x()</SCRIPT><p> three </p></body>")
    assert _rough_text(html) == len("one two") + len("three")
    assert _rough_text(html, enough=3) == len("one two")  # counting stops once there is enough
    # An unclosed script hides nothing: what follows it is text, as a browser shows it.
    assert _rough_text("<p>a</p><script>b<p>c</p>") == 3


def test_unclosed_scripts_are_counted_in_linear_time() -> None:
    # Each unclosed <script> used to be scanned to the end of the page (a lazy match):
    # a page of them as large as the inline check takes blocked the orchestrator's
    # event loop for tens of seconds. Now the first one ends the search for block ends.
    hostile = "<script>" * (INLINE_BYTES // len("<script>"))
    started = time.process_time()
    assert _rough_text(hostile) == 0
    assert not might_be_shell(hostile + "<p>" + "text " * 400)
    assert time.process_time() - started < 5.0  # ~1 ms here; the quadratic scan took ~30 s


def test_reasons_say_why() -> None:
    assert "characters of text" in (shell_reason(SHELLS["vue"]) or "")
    mounted = page('<div id="app"></div><p>' + "Some introduction text for the reader. " * 10 + "</p>"
                   "<script src=a.js></script>")
    assert shell_reason(mounted) == "the app mount point #app is empty"
    assert "JavaScript" in (shell_reason(SHELLS["noscript notice with a little text"]) or "")


def test_auto_renders_a_host_directly_after_two_shells() -> None:
    decision = RenderDecision(AUTO)
    assert decision.may_render and decision.wants_check()
    assert not decision.render_directly("docs.example.com")
    decision.shell_seen("docs.example.com")
    assert not decision.render_directly("docs.example.com")
    decision.shell_seen("docs.example.com")
    assert decision.render_directly("docs.example.com")
    assert not decision.render_directly("other.example.com")


def test_always_and_never() -> None:
    always = RenderDecision(ALWAYS)
    assert always.render_directly("a") and not always.wants_check()
    never = RenderDecision(NEVER)
    assert not never.may_render and not never.wants_check() and not never.render_directly("a")
    never.shell_seen("a")
    never.shell_seen("a")
    assert not never.render_directly("a")


def test_modes_and_the_contract() -> None:
    assert mode_from_proto(pb.RENDER_MODE_UNSPECIFIED) == AUTO
    assert mode_from_proto(pb.RENDER_MODE_AUTO) == AUTO
    assert mode_from_proto(pb.RENDER_MODE_ALWAYS) == ALWAYS
    assert mode_from_proto(pb.RENDER_MODE_NEVER) == NEVER
    for mode in (AUTO, ALWAYS, NEVER):
        assert mode_from_proto(mode_to_proto(mode)) == mode
    with pytest.raises(ValueError, match="render mode"):
        RenderDecision("sometimes")


async def test_the_quick_test_agrees_with_the_full_check() -> None:
    for html in [*SHELLS.values(), *NOT_SHELLS.values()]:
        if shell_reason(html) is not None:
            assert might_be_shell(html)  # the quick test never clears a shell
        assert await check_shell(html) == shell_reason(html)
    big_shell = SHELLS["vue"].replace("</body>", "<script>" + "var x = 1;" * 40_000 + "</script></body>")
    assert await check_shell(big_shell) is not None  # past the inline size: parsed in a thread


def test_shells_seen_survive_a_resume() -> None:
    decision = RenderDecision(AUTO, shells_per_host=2)
    decision.shell_seen("spa.test")
    decision.shell_seen("spa.test")
    assert decision.render_directly("spa.test")
    adopter = RenderDecision(AUTO, shells_per_host=2)
    adopter.restore(json.loads(json.dumps(decision.checkpoint())))
    assert adopter.render_directly("spa.test") and not adopter.render_directly("other.test")
    adopter.restore(None)  # a checkpoint from before render decisions were saved
    assert adopter.render_directly("spa.test")
