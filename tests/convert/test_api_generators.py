"""Rules found on the API-reference sites of bench/generators round 3 (TypeDoc, and the
Read the Docs / PyData Sphinx themes), each on a small distilled snippet: general page
structure (settings panels, in-page index panels, highlight.js language classes)."""

from processor.convert import convert

URL = "https://docs.example.com/api/classes/Option.html"


def md(body: str) -> str:
    return convert(f"<html><body>{body}</body></html>", URL).markdown


# A TypeDoc page: the content column beside a sidebar whose settings panel (named
# checkboxes in labels, a select) holds more plain text than a short page.
SETTINGS = ('<div class="col-sidebar"><div class="page-menu"><div class="tsd-navigation settings">'
            '<details class="tsd-accordion"><summary><h3>Settings</h3></summary><div>'
            '<div class="tsd-filter-visibility"><span class="settings-label">Member Visibility</span><ul>'
            '<li><label><input type="checkbox" id="f-protected" name="protected"/><span>Protected</span></label></li>'
            '<li><label><input type="checkbox" id="f-inherited" name="inherited" checked/><span>Inherited</span>'
            '</label></li>'
            '<li><label><input type="checkbox" id="f-external" name="external"/><span>External</span></label></li>'
            '</ul></div><div class="tsd-theme-toggle"><label class="settings-label" for="theme">Theme</label>'
            '<select id="theme"><option value="os">OS</option><option value="light">Light</option></select></div>'
            "</div></details></div></div></div>")


def test_a_panel_of_named_checkboxes_and_selects_is_ui_not_a_task_list() -> None:
    page = ('<div class="container"><div class="col-content"><h1>Commander.js</h1><h2>Hierarchy</h2><ul>'
            '<li><a href="classes/CommanderError.html">CommanderError</a></li>'
            '<li><a href="classes/Option.html">Option</a></li></ul></div>' + SETTINGS + "</div>")
    out = md(page)
    assert out.startswith("# Commander.js") and "[CommanderError]" in out
    for word in ("[ ]", "[x]", "Settings", "Member Visibility", "Protected", "Theme"):
        assert word not in out, word


def test_task_lists_and_a_lone_toggle_in_prose_stay() -> None:
    page = ("<main><h1>T</h1><p>A claim<label for='sn' class='margin-toggle'></label>"
            "<input type='checkbox' id='sn' class='margin-toggle'><span class='sidenote'>its note</span>.</p>"
            "<ul><li><input type='checkbox' disabled checked> shipped</li>"
            "<li><input type='checkbox'> clickable, nameless</li></ul></main>")
    out = md(page)
    assert "A claim" in out and "its note" in out
    assert "- [x] shipped" in out and "- [ ] clickable, nameless" in out


def test_an_index_panel_of_jump_links_goes_with_its_headings() -> None:
    # TypeDoc: <details><summary><h5>Index</h5></summary> then one h3 per member kind over
    # links to the page's own members; the members follow with the same h2/h3 names.
    page = ('<div class="col-content"><h1>Class Option</h1><section class="tsd-index-group">'
            '<details class="tsd-index-content" open><summary><h5>Index</h5></summary><div>'
            '<section><h3 id="constructors">Constructors</h3><div class="tsd-index-list">'
            '<a href="#constructor"><span>constructor</span></a></div></section>'
            '<section><h3 id="methods">Methods</h3><div class="tsd-index-list"><a href="#name"><span>name</span></a>'
            '<a href="#preset"><span>preset</span></a></div></section></div></details></section>'
            '<details class="tsd-member-group" open><summary><h2 id="constructors-1">Constructors</h2></summary>'
            '<section><h3 id="constructor">constructor</h3><div class="tsd-signature">new Option(flags: string)'
            '</div><p>Make an option from its flags.</p></section></details>'
            '<details class="tsd-member-group" open><summary><h2 id="methods-1">Methods</h2></summary>'
            '<section><h3 id="name">name</h3><p>Return the option name.</p></section>'
            '<section><h3 id="preset">preset</h3><p>Preset value.</p></section></details></div>')
    out = md(page)
    assert "Index" not in out
    assert out.count("Constructors") == 1 and out.count("Methods") == 1
    assert "## Constructors\n\n### constructor" in out and "Return the option name." in out


def test_a_heading_over_text_and_jump_links_stays() -> None:
    page = ("<main><h1>Struct</h1><div><h2>Data Fields</h2><p>The fields of the struct, in order.</p>"
            '<div class="summary"><a href="#pub-attribs">Data Fields</a> | <a href="#details">Detailed</a></div>'
            "</div><h2 id='details'>Detailed Description</h2><p>A struct.</p></main>")
    out = md(page)
    assert "## Data Fields\n\nThe fields of the struct, in order." in out


def test_a_bare_language_class_on_the_code_of_a_pre_names_the_fence() -> None:
    # highlight.js / markdown-it without a prefix (TypeDoc): <pre><code class="ts">
    page = ('<main><h1>T</h1><pre><code class="ts">const a: number = 1;</code><button>Copy</button></pre>'
            '<pre><code class="hljs">plain()</code></pre><p class="js">Not code.</p></main>')
    out = md(page)
    assert "```ts\nconst a: number = 1;\n```" in out and "```\nplain()\n```" in out and "Copy" not in out


def test_a_heading_whose_block_was_a_dropped_aside_stays() -> None:
    # TypeDoc: "Returns number" is an h4 whose only sibling is the "Defined in" aside
    page = ('<div class="col-content"><h1>Interface OutputConfiguration</h1><section><h3 id="w">writeOut</h3>'
            '<div class="tsd-signature">writeOut(str: string): void</div><div class="tsd-description">'
            '<h4 class="tsd-returns-title">Returns number</h4><aside class="tsd-sources"><ul><li>Defined in '
            "index.d.ts:360</li></ul></aside></div></section><p>Output settings of a command.</p></div>")
    assert "#### Returns number" in md(page)


def test_the_header_of_a_section_is_its_heading_not_the_page_banner() -> None:
    # JSDoc: <div id="main"><h1>Class: WebSocket</h1><section><header><h2>signature</h2>
    # <div class="class-description">…</div></header><article>…</article></section></div>
    page = ('<header class="site"><a href="/">ws</a><ul><li><a href="/a">API</a></li></ul></header>'
            '<div id="main"><h1 class="page-title">Class: WebSocket</h1><section><header>'
            '<h2>WebSocket<span class="signature">(address, options)</span></h2>'
            '<div class="class-description">Class representing a WebSocket.</div></header><article>'
            '<h2>Constructor</h2><h4 class="name">new WebSocket(address, options)</h4>'
            "<p>Create a new WebSocket with the given options and a long description.</p></article></section></div>")
    out = md(page)
    assert "## WebSocket(address, options)\n\nClass representing a WebSocket." in out
    assert "API" not in out


def test_a_javascript_link_is_a_control_not_a_link() -> None:
    # Doxygen (no <main>): its search filter menu, filled in by its script, sits between the
    # title area and the contents; rustdoc's "Back" beside the h1
    page = ('<div id="top"><div id="projectname">LibYAML</div></div><div id="MSearchSelectWindow">'
            '<a class="SelectItem" href="javascript:void(0)"><span class="SelectionMark">•</span>All</a>'
            '<a class="SelectItem" href="javascript:void(0)"><span class="SelectionMark">&nbsp;</span>Data Structures'
            '</a></div><div class="header"><div class="headertitle"><div class="title">LibYAML Documentation</div>'
            '</div></div><div class="contents"><h1>Overview <span class="out-of-band"><a id="back" '
            'href="javascript:void(0)">Back</a></span></h1><p>A C library for <a href="yaml_8h.html">parsing</a> '
            'and emitting YAML, with an <a href="javascript:void(0)">inline</a> word.</p></div>')
    out = md(page)
    assert "Data Structures" not in out and "•" not in out and "Back" not in out
    assert "[parsing](" in out and "with an inline word" in out
