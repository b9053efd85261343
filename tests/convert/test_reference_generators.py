"""Rules found on reference-manual generators built in bench/generators/docsites.py
(pdoc, Javadoc 17, Doxygen 1.9, Asciidoctor, pandoc), each on a small distilled snippet."""

from processor.convert import convert

URL = "https://docs.example.com/api/page.html"


def md(html: str) -> str:
    return convert(html, URL).markdown


PDOC_STYLE = ("<style>.view-source-toggle-state,.view-source-toggle-state ~ .pdoc-code{display:none;}"
              ".pdoc .view-value-toggle-state ~ .default_value{display:none;}"
              ".view-source-button > span{visibility:hidden;}.gone{display:none}</style>")


def test_a_class_hidden_only_in_some_state_or_place_is_not_hidden() -> None:
    # pdoc hides its source listing (and the signature shares the class) only until a
    # toggle is checked: `.toggle ~ .pdoc-code {display:none}` is not `.pdoc-code`.
    page = (f"<html><head>{PDOC_STYLE}</head><body><main class='pdoc'><section id='f'>"
            "<input id='f-view-source' class='view-source-toggle-state' type='checkbox'>"
            "<div class='attr function'><span class='def'>def</span> <span class='name'>split</span>"
            "<span class='signature pdoc-code condensed'>(<span class='param'>path: str</span>) -&gt; list:</span>"
            "<label class='view-source-button' for='f-view-source'><span>View Source</span></label></div>"
            "<div class='pdoc-code codehilite'><pre><code>def split(path): ...</code></pre></div>"
            "<div class='attr variable'><span class='name'>limit</span> = <span class='default_value'>10</span></div>"
            "<p class='gone'>Never shown at all.</p><p>Split a path into segments.</p></section></main></body></html>")
    out = md(page)
    assert "def split(path: str) -> list:" in out
    assert "```\ndef split(path): ...\n```" in out
    assert "limit = 10" in out
    assert "Never shown" not in out


def test_the_label_of_a_toggle_checkbox_is_a_button_but_a_radio_label_names_a_tab() -> None:
    page = ("<body><main><h1>Title</h1><input type='checkbox' id='t1'><label for='t1'>View Source</label>"
            "<div class='tabs'><input type='radio' id='r1' name='g' checked><label for='r1'>Python</label>"
            "<div class='tab-content'><p>Python body text.</p></div></div>"
            "<p>The documentation text of this page.</p></main></body>")
    out = md(page)
    assert "View Source" not in out
    assert "Python" in out and "The documentation text of this page." in out


def test_inline_code_holding_links_keeps_them_around_their_own_code_spans() -> None:
    page = ("<body><main><h1>Interface Function</h1><dl><dt>All Known Subinterfaces:</dt><dd><code>"
            "<a href='UnaryOperator.html' title='interface in java.util.function'>UnaryOperator</a>&lt;T&gt;</code></dd></dl>"
            "<p>Returns <code>default &lt;V&gt; <a href='Function.html'>Function</a>&lt;T,V&gt;</code> now.</p>"
            "<p>Plain <code>a  b</code> code.</p></main></body>")
    out = md(page)
    assert ('[`UnaryOperator`](https://docs.example.com/api/UnaryOperator.html "interface in java.util.function")'
            "`<T>`") in out
    assert "Returns `default <V>` [`Function`](https://docs.example.com/api/Function.html)`<T,V>` now." in out
    assert "Plain `a b` code." in out


def test_doxygen_title_with_group_links_becomes_the_h1_and_a_lone_jump_link_is_chrome() -> None:
    page = ("<body><div id='top'><div id='projectname'>LibYAML</div></div>"
            "<div class='header'><div class='summary'><a href='#pub-attribs'>Data Fields</a></div>"
            "<div class='headertitle'><div class='title'>yaml_document_s Struct Reference"
            "<div class='ingroups'><a class='el' href='group__nodes.html'>Nodes</a></div></div></div></div>"
            "<div class='contents'><p>The document structure of a YAML stream.</p>"
            "<h2 class='groupheader'><a id='pub-attribs'></a>Data Fields</h2><p>Fields follow.</p></div></body>")
    out = md(page)
    assert out.startswith("# yaml_document_s Struct Reference\n\n[Nodes](https://docs.example.com/api/group__nodes.html)")
    assert out.count("Data Fields") == 1


def test_doxygen_icon_letters_and_diamond_permalinks_are_decoration() -> None:
    page = ("<body><div class='contents'><h1>Data Structures</h1><table class='directory'>"
            "<tr><td class='entry'><span class='icona'><span class='icon'>C</span></span>"
            "<a class='el' href='structyaml__alias.html'>yaml_alias_data_s</a></td><td class='desc'>Alias data</td></tr>"
            "<tr><td class='entry'><span class='icona'><span class='icon'>C</span></span>"
            "<a class='el' href='structyaml__mark.html'>yaml_mark_s</a></td><td class='desc'>A position</td></tr></table>"
            "<h2 class='memtitle'><span class='permalink'><a href='#a1'>&#9670;&nbsp;</a></span>anchor</h2>"
            "<p>The anchor id.</p></div></body>")
    out = md(page)
    assert "| [yaml_alias_data_s](https://docs.example.com/api/structyaml__alias.html) | Alias data |" in out
    assert "\n## anchor\n" in out


def test_a_row_of_page_links_marking_the_current_page_is_a_menu() -> None:
    # Doxygen's static tab rows (no <nav>, on index pages holding less text than them)
    current = " class='current'"
    tabs = "".join(f"<li{current if c == 'k' else ''}><a href='f_{c}.html#index_{c}'><span>{c}</span></a></li>"
                   for c in "abcdefghijklmnop")
    page = ("<body><div id='top'><div class='tabs'><ul class='tablist'>"
            "<li><a href='index.html'><span>Main Page</span></a></li>"
            "<li class='current'><a href='annotated.html'><span>Data Structures</span></a></li>"
            "<li><div id='MSearchBox'><img src='mag.svg' alt=''></div></li></ul></div>"
            f"<div class='tabs3'><ul class='tablist'>{tabs}</ul></div></div>"
            "<div class='contents'><h3>- k -</h3><ul><li>key : <a href='s.html#a1'>yaml_node_pair_s</a></li></ul></div></body>")
    out = md(page)
    assert out == "### - k -\n\n- key : [yaml_node_pair_s](https://docs.example.com/api/s.html#a1)"


def test_a_list_of_links_in_the_text_is_not_a_menu() -> None:
    page = ("<body><main><h1>Guides</h1><p>Read these first:</p><ul>"
            "<li><a href='a.html'>Alpha guide</a></li><li><a href='b.html'>Beta guide</a></li></ul>"
            "<ul class='tabs'><li class='active'><a href='#py'>Python</a></li><li><a href='#js'>JS</a></li></ul>"
            "</main></body>")
    out = md(page)
    assert "- [Alpha guide](https://docs.example.com/api/a.html)" in out
    assert "Python" in out


def test_a_page_whose_only_text_is_a_navigation_list_keeps_it() -> None:
    # pdoc's index.html: an empty <main>, the module list in the <nav>
    page = ("<body><nav class='pdoc'><div><h2>Available Modules</h2><ul>"
            "<li><a href='jinja2.html'>jinja2</a></li><li><a href='markupsafe.html'>markupsafe</a></li></ul></div></nav>"
            "<main class='pdoc'></main></body>")
    out = md(page)
    assert out == ("## Available Modules\n\n- [jinja2](https://docs.example.com/api/jinja2.html)\n"
                   "- [markupsafe](https://docs.example.com/api/markupsafe.html)")


def test_a_css_grid_of_cell_divs_led_by_header_cells_is_a_table() -> None:
    # Javadoc 17's summary tables: no <table>, a div laid out by CSS grid whose first N
    # children are header cells, then N cells a row.
    page = ("<html><body><main role='main'><h1>Interface Supplier</h1><h2>Method Summary</h2>"
            "<div class='summary-table three-column-summary'>"
            "<div class='table-header col-first'>Modifier and Type</div>"
            "<div class='table-header col-second'>Method</div>"
            "<div class='table-header col-last'>Description</div>"
            "<div class='col-first even-row-color'><code>T</code></div>"
            "<div class='col-second even-row-color'><code><a href='#get()'>get</a>()</code></div>"
            "<div class='col-last even-row-color'><div class='block'>Gets a result.</div></div>"
            "<div class='col-first odd-row-color'><code>static &lt;T&gt; T</code></div>"
            "<div class='col-second odd-row-color'><code><a href='#of(T)'>of</a>(T&nbsp;t)</code></div>"
            "<div class='col-last odd-row-color'><div class='block'>Supplies <i>t</i>.</div>"
            "<div class='block'>Always the same.</div></div>"
            "</div></main></body></html>")
    out = md(page)
    assert ("| Modifier and Type | Method | Description |\n| --- | --- | --- |\n"
            "| `T` | [`get`](<https://docs.example.com/api/page.html#get()>)`()` | Gets a result. |\n"
            "| `static <T> T` | [`of`](<https://docs.example.com/api/page.html#of(T)>)`(T t)` |"
            " Supplies *t*.<br>Always the same. |") in out, out


def test_aria_rows_and_cells_are_a_table() -> None:
    page = ("<html><body><main><h1>Limits</h1><div role='table' aria-label='Limits'>"
            "<div role='rowgroup'><div role='row'><span role='columnheader'>Name</span>"
            "<span role='columnheader'>Default</span></div></div>"
            "<div role='rowgroup'><div role='row'><span role='cell'>timeout</span><span role='cell'>30 s</span></div>"
            "<div role='row'><span role='cell'>retries</span><span role='cell'>3</span></div></div>"
            "</div></main></body></html>")
    out = md(page)
    assert "| Name | Default |\n| --- | --- |\n| timeout | 30 s |\n| retries | 3 |" in out, out


def test_a_grid_whose_cells_hold_lists_keeps_its_blocks() -> None:
    page = ("<html><body><main><h1>Options</h1><div class='summary-table'>"
            "<div class='table-header'>Option</div><div class='table-header'>Values</div>"
            "<div>mode</div><div><ul><li>fast</li><li>safe</li></ul></div></div></main></body></html>")
    out = md(page)
    assert "| Option |" not in out and "- fast\n- safe" in out, out


def test_a_one_item_list_holding_a_table_is_a_layout_box() -> None:
    # Javadoc 17's package summary: ul.summary-list > li > caption + summary table.
    page = ("<html><body><main role='main'><h1>Package proj.util</h1><p>Utilities.</p><ul class='summary-list'><li>"
            "<div id='class-summary'><div class='caption'><span>Interfaces</span></div>"
            "<div class='summary-table two-column-summary'><div class='table-header col-first'>Class</div>"
            "<div class='table-header col-last'>Description</div><div class='col-first'><a href='A.html'>A</a></div>"
            "<div class='col-last'><div class='block'>The A.</div></div></div></div></li></ul></main></body></html>")
    out = md(page)
    assert "Utilities.\n\nInterfaces\n\n| Class | Description |\n| --- | --- |\n| [A](" in out, out
