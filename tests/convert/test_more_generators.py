"""Rules found on further real generators (Read-the-Docs theme, Texinfo, DocBook,
Javadoc, Doxygen), each on a small hand-written snippet."""

from processor.convert import convert

URL = "https://docs.example.com/manual/page.html"


def md(html: str) -> str:
    return convert(html, URL).markdown


def test_short_main_region_survives_a_wrapper_named_nav_and_a_bigger_menu() -> None:
    menu = "".join(f'<li><a href="p{i}.html">Menu entry number {i}</a></li>' for i in range(40))
    page = ('<body class="wy-body-for-nav"><div class="wy-grid-for-nav">'
            f'<nav class="wy-nav-side"><div role="navigation"><ul>{menu}</ul></div></nav>'
            '<section class="wy-nav-content-wrap"><nav class="wy-nav-top"><a href="/">Brand</a></nav>'
            '<div class="wy-nav-content"><div class="rst-content">'
            '<div role="navigation"><ul class="wy-breadcrumbs"><li><a href="/">Docs</a></li></ul></div>'
            '<div role="main" class="document"><div class="section" itemprop="articleBody">'
            '<p>In the next few sections we will see some ways to modify arguments.</p></div></div>'
            '<footer><p>Built with MkDocs</p></footer></div></div></section></div></body>')
    out = md(page)
    assert out == "In the next few sections we will see some ways to modify arguments."


def test_texinfo_node_header_dropped_and_section_menu_kept() -> None:
    page = ('<body><div class="chapter" id="Input-Control"><div class="header"><p>'
            'Next: <a href="File-Inclusion.html" accesskey="n" rel="next">File inclusion</a>, '
            'Previous: <a href="Debugging.html" accesskey="p" rel="prev">Debugging</a>, '
            'Up: <a href="index.html" accesskey="u" rel="up">GNU M4</a> &nbsp; '
            '[<a href="index.html#SEC_Contents" rel="contents">Contents</a>]</p></div><hr>'
            '<h2 class="chapter">8 Input control</h2><p>This chapter describes builtin macros.</p>'
            '<ul class="section-toc"><li><a href="Dnl.html" accesskey="1">Deleting whitespace</a></li>'
            '<li><a href="Changequote.html" accesskey="2">Changing the quote characters</a></li></ul>'
            '</div></body>')
    out = md(page)
    assert out.startswith("## 8 Input control\n\nThis chapter describes builtin macros.")
    assert "- [Deleting whitespace](https://docs.example.com/manual/Dnl.html)" in out
    assert "Next" not in out and "Previous" not in out and "Contents" not in out
    assert "---" not in out


def test_on_this_page_toc_still_dropped() -> None:
    page = ('<body><main><h1>Guide</h1><p>Intro text of the guide page.</p>'
            '<ul class="toc"><li><a href="#a">Section A</a></li><li><a href="#b">Section B</a></li></ul>'
            '<h2 id="a">A</h2><p>Body.</p></main></body>')
    assert "Section A" not in md(page)


def test_docbook_navheader_and_navfooter_dropped() -> None:
    nav = ('<table width="100%" summary="Navigation header"><tr><th colspan="3" align="center">'
           'Chapter 2. Packages</th></tr><tr><td width="20%" align="left"><a accesskey="p" href="ch01.html">Prev</a>'
           '</td><th width="60%" align="center"> </th><td width="20%" align="right"> '
           '<a accesskey="n" href="ch03.html">Next</a></td></tr></table><hr>')
    page = (f'<body><div class="navheader">{nav}</div><div class="chapter"><div class="titlepage"><h1 class="title">'
            'Chapter 2. Debian package management</h1></div><p>This chapter is about packages.</p></div>'
            '<div class="navfooter"><hr><table width="100%" summary="Navigation footer"><tr>'
            '<td align="left"><a accesskey="p" href="ch01.html">Prev</a></td>'
            '<td align="center"><a accesskey="h" href="index.html">Home</a></td>'
            '<td align="right"><a accesskey="n" href="ch03.html">Next</a></td></tr></table></div></body>')
    assert md(page) == "# Chapter 2. Debian package management\n\nThis chapter is about packages."


def test_pager_rule_keeps_prose_with_next_links() -> None:
    page = ('<body><main><h1>T</h1><p>Read the <a rel="next" href="b.html">next chapter</a> after the '
            '<a rel="prev" href="a.html">previous one</a>, because it builds on the concepts introduced there '
            'and explains them in a lot more detail than this overview does.</p></main></body>')
    assert "next chapter" in md(page)


def test_javadoc_layout_lists_become_sections() -> None:
    page = ('<body><main role="main"><div class="details"><ul class="blockList"><li class="blockList">'
            '<section><ul class="blockList"><li class="blockList"><h3>Method Detail</h3>'
            '<a id="nodeName()"></a><ul class="blockList"><li class="blockList"><h4>nodeName</h4>'
            '<pre class="methodSignature">public abstract java.lang.String nodeName()</pre>'
            '<div class="block">Get the node name of this node.</div></li></ul>'
            '<ul class="blockListLast"><li class="blockList"><h4>hasParent</h4>'
            '<pre class="methodSignature">public boolean hasParent()</pre></li></ul>'
            '</li></ul></section></li></ul></div></main></body>')
    out = md(page)
    assert out.startswith("### Method Detail\n\n#### nodeName\n\n```\npublic abstract java.lang.String nodeName()\n```")
    assert "\n#### hasParent\n" in out and "\n- " not in out


def test_list_of_steps_with_headings_only_in_some_items_stays_a_list() -> None:
    out = md("<main><ul><li><h3>Step</h3><p>one</p></li><li>two</li></ul></main>")
    assert out.startswith("-") and "- two" in out


DOXY = """<html><head><title>MyLib: Json::Path Class Reference</title></head><body>
<div id="top"><div id="titlearea"><table><tr><td>MyLib</td></tr></table></div>
<table width="100%"><tr><td><a href="https://github.com/x/y">Project page</a></td>
<td><a href="hierarchy.html">Classes</a></td></tr></table></div>
<div class="header"><div class="summary"><a href="#pub-methods">Public Member Functions</a> &#124;
<a href="class_path-members.html">List of all members</a></div>
<div class="headertitle"><div class="title">Json::Path Class Reference</div></div></div>
<div class="contents"><table class="memberdecls">
<tr class="heading"><td colspan="2"><h2 class="groupheader"><a name="pub-methods"></a>Public Member Functions</h2></td></tr>
<tr class="memitem:a1"><td class="memItemLeft" align="right" valign="top">const Value &amp;&#160;</td>
<td class="memItemRight" valign="bottom"><a class="el" href="#a1">resolve</a> (const Value &amp;root) const</td></tr>
<tr class="memdesc:a1"><td class="mdescLeft">&#160;</td><td class="mdescRight">Resolves the path. <a href="#a1">More...</a></td></tr>
<tr class="separator:a1"><td class="memSeparator" colspan="2">&#160;</td></tr>
</table>
<h2 class="groupheader">Detailed Description</h2><div class="textblock"><p>Represents a path.</p></div></div>
<hr class="footer"/><address class="footer"><small>Generated by doxygen</small></address></body></html>"""


def test_doxygen_header_chrome_title_and_member_table() -> None:
    c = convert(DOXY, URL)
    out = c.markdown
    assert c.title == "Json::Path Class Reference"
    assert out.startswith("# Json::Path Class Reference\n\n## Public Member Functions\n\n| Public Member Functions |  |\n")
    assert "| const Value & | [resolve](https://docs.example.com/manual/page.html#a1) (const Value &root) const |" in out
    assert "|  | Resolves the path. [More...](https://docs.example.com/manual/page.html#a1) |" in out
    for leak in ("Project page", "Classes", "List of all members", "MyLib", "doxygen"):
        assert leak not in out, leak
    assert "## Detailed Description\n\nRepresents a path." in out


def test_link_bar_rule_keeps_content_link_lists() -> None:
    out = md('<main><h1>T</h1><p><a href="a.html">Alpha</a> | <a href="b.html">Beta</a></p></main>')
    assert "[Alpha](https://docs.example.com/manual/a.html) | [Beta]" in out


def test_table_with_heading_rows_and_other_block_cells_stays_readable() -> None:
    out = md("<main><table><tr><td><h3>Group</h3></td></tr><tr><td><ul><li>x</li></ul></td><td>y</td></tr>"
             "</table></main>")
    assert "### Group" in out and "- x" in out and "y" in out


def test_one_cell_signature_table_stays_a_table_but_layout_box_does_not() -> None:
    out = md('<main><table class="memname"><tr><td class="memname">bool Json::Features::strictRoot_ {false}</td>'
             "</tr></table></main>")
    assert out == "| bool Json::Features::strictRoot\\_ {false} |\n| --- |"
    out = md("<main><table><tr><td><p>First paragraph.</p><p>Second paragraph.</p></td></tr></table></main>")
    assert out == "First paragraph.\n\nSecond paragraph."


def test_line_code_keeps_only_line_children() -> None:
    html = ('<main><div class="fragment"><div class="line"><span class="lineno">  1</span>int a;</div>'
            '<div class="line"><span class="lineno">  2</span>a = 1;</div>'
            '<div class="ttc" id="x"><div class="ttname"><a href="#a">a</a></div>'
            '<div class="ttdef"><b>Definition:</b> x.h:1</div></div></div></main>')
    assert md(html) == "```\nint a;\na = 1;\n```"


def test_docbook_chapter_toc_kept() -> None:
    html = ('<body><div class="chapter"><h1>Chapter 9. Tips</h1><div class="toc"><p><strong>Table of Contents'
            '</strong></p><dl class="toc"><dt><span class="section"><a href="ch09.html#_a">9.1. Console tips</a>'
            '</span></dt></dl></div><p>Body text of the chapter.</p></div></body>')
    assert "[9.1. Console tips](https://docs.example.com/manual/ch09.html#_a)" in md(html)


def test_docutils_contents_topic_kept_in_both_writers_forms() -> None:
    # `.. contents:: :local:` - the HTML5 writer (Sphinx >= 4) writes a <nav>, the older
    # one a div.topic; both are the document's own table of contents.
    body = ('<ul class="simple"><li><p><a class="reference internal" href="#exit-codes" id="id2">Exit Codes</a>'
            '</p></li></ul>')
    for box in ('<nav class="contents local" id="contents">{}</nav>', '<div class="contents local topic" id="contents">{}</div>'):
        html = ('<body><nav class="bd-links"><a href="/a.html">A page</a></nav><article class="bd-article">'
                '<section id="topics"><h1>General Topics</h1>' + box.format(body) +
                '<section id="exit-codes"><h2>Exit Codes</h2><p>An exit code is returned to the shell.</p>'
                '</section></section></article></body>')
        out = md(html)
        assert out.startswith("# General Topics\n\n- [Exit Codes](https://docs.example.com/manual/page.html#exit-codes)"), out
        assert "A page" not in out


def test_pre_wrapped_in_inline_code_is_a_code_block() -> None:
    html = ('<main><div class="block">E.g.: <code><pre>Jsoup.connect(url)\n .requestBody(json)\n .post();</pre></code>'
            " If any data is supplied.</div></main>")
    assert md(html) == "E.g.:\n\n```\nJsoup.connect(url)\n .requestBody(json)\n .post();\n```\n\nIf any data is supplied."
