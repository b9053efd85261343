"""Main-content detection and chrome removal on pages mimicking doc generators."""

import pytest

from processor.convert import convert

from . import fixtures as fx

URL = "https://docs.example.com/guide/page.html"


def md(html: str) -> str:
    return convert(html, URL).markdown


CASES = {
    # name: (must contain, must not contain)
    "MATERIAL": (["# Setup", "Install the package with pip", "> **Careful**", "> Use a virtualenv.",
                  "```\npip install mylib\nmylib --version\n```", "## Install", "Hidden details text", "Tab one body"],
                 ["Alpha page", "Table of contents", "Previous chapter", "Footer Corp", "Search", "¶", "Edit"]),
    "DOCUSAURUS": (["# Intro", "> **Tip**", "> Use the CLI.", "```js\nconst a = 1;\n\nconsole.log(a);\n```",
                    "## Code", "npm install docu", "yarn add docu"],
                   ["Intro sidebar link", "Home crumb", "On this page", "Code toc", "Next page", "Edit this page",
                    "Copy", "footer", "Blog", "\u200b"]),
    "VITEPRESS": (["# Getting Started", "> **TIP**", "```sh\n$ npm add -D vitepress\n$ npx vitepress init\n```"],
                  ["Guide sidebar", "Outline link", "On this page", "Edit this page", "Next page footer",
                   "MIT License", "VP Brand", "\nsh\n"]),
    "RUSTDOC": (["# Struct [std](https://docs.example.com/guide/index.html)::Vec", "```rust\npub struct Vec<T> { /* private fields */ }\n```", "## Examples",
                 "```rust\nlet mut vec = Vec::new();\nvec.push(1);\n```", "`Vec<T>`"],
                ["Methods sidebar", "Copy", "§"]),
    "JAVADOC": (["# Class ArrayList\\<E>", "## Method Summary", "| Modifier and Type | Method | Description |",
                 "Appends the element \\| to the end.", "`public boolean add(E e)`", "**Parameters:**"],
                ["Overview nav", "SEARCH", "legal footer"]),
    "DOXYGEN": (["## Detailed Description", "Foo does things", "```\nFoo f;\nf.run(\"x\");\n```"],
                ["Main Page menu", "Foo path", "doxygen footer", "MyProj brand"]),
    "HUGO": (["# Configure", "How to configure the site.", "```toml\nbaseURL = \"https://example.org/\"\ntitle = \"Docs\"\n```"],
             ["Docs sidebar", "Options toc", "Docs crumb", "Edit this page", "hugo footer", "lastmod", "Docsy brand"]),
    "ASCIIDOC": (["# git-foo(1) Manual Page", "## NAME", "git-foo - Do the foo thing", "## SYNOPSIS",
                  "```\ngit foo [--bar]\n```", "**--bar**\n\nEnable bar."],
                 ["footer"]),
    "SPHINX": (["# API", "**`class flasky.App(name)`**", "The app object implements", "> **Note**",
                "```python\nfrom flasky import App\napp = App(__name__)\n```", "[1]", "**[1]** Footnote text here.",
                "$x^2 + y$", '[*str*](https://docs.python.org/3/library/stdtypes.html#str "(in Python v3.12)")'],
               ["index related", "Quick search", "Sidebar blurb", "Pallets footer", "¶"]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_generator_page(name: str) -> None:
    out = md(getattr(fx, name))
    wants, nots = CASES[name]
    for w in wants:
        assert w in out, f"{name}: missing {w!r}\n{out}"
    for n in nots:
        assert n not in out, f"{name}: leaked {n!r}\n{out}"
    assert "\n\n\n" not in out.replace("```\n\n", "")


def test_titles() -> None:
    assert convert(fx.SPHINX, URL).title == "API"
    assert convert(fx.DOXYGEN, URL).title == "Foo Class Reference"  # div.headertitle > div.title becomes the h1
    assert convert("<title>Quickstart — Flask Documentation (3.0.x)</title><p>x</p>", URL).title == "Quickstart"
    assert convert("<title>Intro | Site</title><p>x</p>", URL).title == "Intro"
    assert convert("<title>Guide - Foo</title><p>x</p>", URL).title == "Guide"
    assert convert("<p>no title</p>", URL).title == ""


def test_descriptions() -> None:
    assert convert(fx.DOCUSAURUS, URL).description == "Learn the basics of Docu in five minutes."
    d = convert("<main><p>Short.</p><p>The converter turns pages into Markdown. It is fast.</p></main>", URL)
    assert d.description == "The converter turns pages into Markdown."


def test_base_href_used_for_links() -> None:
    out = md(fx.SPHINX)
    assert "https://docs.example.org/en/" in out or "](https://docs.python.org" in out
    page = '<html><head><base href="https://cdn.example.net/v2/"></head><body><p><a href="x.html#y">X</a></p></body></html>'
    assert md(page) == "[X](https://cdn.example.net/v2/x.html#y)"


def test_keeps_all_content_regions_with_h1() -> None:
    out = md(fx.ASCIIDOC)
    assert out.index("# git-foo(1)") < out.index("## NAME") < out.index("## DESCRIPTION")


def test_prefers_region_holding_most_text_over_small_article() -> None:
    page = ("<body><div class='content'><h1>Big page</h1>" + "<p>Lots of real words here. </p>" * 30
            + "<article><p>tiny teaser card</p></article></div><nav><a href='/'>Home</a></nav></body>")
    out = md(page)
    assert "# Big page" in out and "tiny teaser card" in out and out.count("Lots of real words") == 30
    assert "Home" not in out
