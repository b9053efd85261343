"""Structure-aware rules, one distilled case per class of page from issue 16: each
would lose or garble content on a generator we were not tuned for."""

from processor.convert import convert
from processor.convert.classify import classify
from processor.convert.parse import parse

URL = "https://site.test/docs/page.html"


def md(body: str, head: str = "") -> str:
    return convert(f"<html><head>{head}</head><body>{body}</body></html>", URL).markdown


def test_route_class_with_a_chrome_word_keeps_the_page() -> None:
    # VitePress puts the route in the content's class: "_docs_api_Cookies" has "cookies" in it
    page = ('<a href="#VPContent" class="VPSkipLink visually-hidden">Skip to content</a>'
            '<div class="VPDoc"><div class="aside"><nav class="outline"><a href="#a">On this page</a></nav></div>'
            '<main class="main"><div class="vp-doc _docs_api_Cookies"><h1 id="cookies">Cookies</h1>'
            "<p>Read and write cookies of the request with the cookies API, described here in full.</p>"
            "<h2>set()</h2><p>Sets a cookie on the response, with its options.</p></div></main></div>")
    out = md(page)
    assert out.startswith("# Cookies") and "Sets a cookie" in out and "Skip to content" not in out


def test_details_summary_heading_stays_a_heading_and_source_box_is_apart() -> None:
    # rustdoc: impl blocks and methods are <details><summary><section><h3 class="code-header">
    page = ('<main><h1>Struct Foo</h1><details class="toggle implementors-toggle" open><summary>'
            '<section id="impl-Clone" class="impl"><a class="src rightside" href="../src/foo.rs.html#10">Source</a>'
            '<a href="#impl-Clone" class="anchor">§</a><h3 class="code-header">impl Clone for Foo</h3></section>'
            '</summary><div class="impl-items"><details class="toggle method-toggle" open><summary>'
            '<section id="method.clone" class="method"><span class="rightside"><span class="since">1.0.0</span> · '
            '<a class="src" href="../src/foo.rs.html#12">Source</a></span><h4 class="code-header">fn '
            '<a href="#method.clone" class="fn">clone</a>(&amp;self) -&gt; Foo</h4></section></summary>'
            '<div class="docblock"><p>Returns a copy of the value.</p></div></details></div></details></main>')
    out = md(page)
    assert "\n### impl Clone for Foo\n" in out
    assert "\n#### fn clone(&self) -> Foo\n" in out  # its link to itself is a permalink
    assert "1.0.0 · [Source](https://site.test/src/foo.rs.html#12)" in out
    assert "**" not in out  # no summary turned into bold text


def test_toggle_labels_of_details_are_not_content() -> None:
    page = ('<main><h1>Notebook</h1><p>Some text before the cell, long enough to be the page.</p>'
            '<details class="hide above-input"><summary aria-label="Toggle hidden content">'
            '<span class="collapsed">Show code cell content</span><span class="expanded">Hide code cell content'
            '</span></summary><div class="cell_input"><pre>import numpy as np</pre></div></details>'
            '<details class="toggle top-doc" open><summary class="hideme"><span>Expand description</span></summary>'
            "<p>The description.</p></details></main>")
    out = md(page)
    assert "Show code" not in out and "Hide code" not in out and "Expand description" not in out
    assert "```\nimport numpy as np\n```" in out and "The description." in out


def test_source_links_sit_beside_the_signature_not_inside_it() -> None:
    page = ('<main><h1>datetime</h1><dl class="py class"><dt class="sig sig-object py" id="datetime.date">'
            '<em class="property">class </em><span class="sig-prename">datetime.</span><span class="sig-name">date'
            '</span><a class="reference internal" href="_modules/datetime.html#date"><span class="viewcode-link">'
            '<span class="pre">[source]</span></span></a></dt><dd><p>A date.</p></dd></dl></main>')
    out = md(page)
    assert "**`class datetime.date`** [\\[source\\]](https://site.test/docs/_modules/datetime.html#date)" in out


def test_hidden_by_the_page_is_dropped() -> None:
    page = ('<main><h1>T</h1><p>Visible text <span class="sr-only">(opens in a new tab)</span> stays.</p>'
            '<p class="hidden md:block">Shown on wide screens.</p><p class="hidden">Never shown.</p>'
            '<p class="d-none d-lg-block">Bootstrap wide.</p><div class="secret">Hidden by the page style.</div>'
            '<div aria-hidden="true">decoration</div></main>')
    out = md(page, head="<style>.secret { display: none }</style>")
    assert "Visible text stays." in out and "Shown on wide screens." in out and "Bootstrap wide." in out
    for gone in ("opens in a new tab", "Never shown", "Hidden by the page style", "decoration"):
        assert gone not in out


def test_aside_in_the_article_is_kept_outside_is_chrome() -> None:
    page = ('<aside class="sidebar-drawer"><a href="/a">Nav A</a><a href="/b">Nav B</a></aside>'
            '<main><article class="bd-article"><h1>Guide</h1><p>The main text of the guide, long enough.</p>'
            '<aside class="margin sidebar"><p class="sidebar-title">Note</p><p>A margin note with code:</p>'
            "<pre>x = 1</pre></aside><p>More text.</p></article></main>")
    out = md(page)
    assert "A margin note with code:" in out and "```\nx = 1\n```" in out and "Nav A" not in out


def test_tabs_become_labelled_sections() -> None:
    material = ('<main><h1>Install</h1><div class="tabbed-set tabbed-alternate" data-tabs="1:2">'
                '<input checked id="__tabbed_1_1" name="__tabbed_1" type="radio"><input id="__tabbed_1_2" '
                'name="__tabbed_1" type="radio"><div class="tabbed-labels"><label for="__tabbed_1_1">pip</label>'
                '<label for="__tabbed_1_2">conda</label></div><div class="tabbed-content">'
                '<div class="tabbed-block"><pre><code>pip install x</code></pre></div>'
                '<div class="tabbed-block"><pre><code>conda install x</code></pre></div></div></div></main>')
    out = md(material)
    assert "pipconda" not in out
    assert out.index("**pip**") < out.index("pip install x") < out.index("**conda**") < out.index("conda install x")
    docusaurus = ('<main><h1>Run</h1><div class="tabs-container"><ul role="tablist" class="tabs">'
                  '<li role="tab" aria-controls="p-npm" id="t-npm">npm</li><li role="tab" aria-controls="p-yarn" '
                  'id="t-yarn">Yarn</li></ul><div class="margin-top--md"><div role="tabpanel" id="p-npm">'
                  '<p>npm start</p></div><div role="tabpanel" id="p-yarn" hidden><p>yarn start</p></div></div>'
                  "</div></main>")
    out = md(docusaurus)
    assert "**npm**\n\nnpm start\n\n**Yarn**\n\nyarn start" in out


def test_math_is_dollar_delimited_once() -> None:
    page = ('<main><h1>Bayes</h1><p>The posterior <span class="math notranslate nohighlight">\\(p(x|y)\\)</span>'
            ' and <span class="arithmatex">\\(a_1\\)</span>.</p><div class="math notranslate nohighlight" '
            'id="equation-bayes"><span class="eqno">(1)<a class="headerlink" href="#equation-bayes">¶</a></span>'
            "\\[p(x|y) = \\frac{p(y|x)p(x)}{p(y)}\\]</div></main>")
    out = md(page)
    assert "$p(x|y)$" in out and "$a_1$" in out and "\\\\(" not in out
    assert "$$\np(x|y) = \\frac{p(y|x)p(x)}{p(y)} \\tag{1}\n$$" in out


def test_sidenote_checkboxes_are_not_task_markers() -> None:
    page = ('<main><h1>T</h1><p>Text<label for="sn-1" class="margin-toggle sidenote-number"></label>'
            '<input type="checkbox" id="sn-1" class="margin-toggle"><span class="sidenote">A side note.</span>'
            ' goes on.</p><ul><li><input type="checkbox" checked> done item</li></ul></main>')
    out = md(page)
    assert "[ ]" not in out and "A side note." in out and "- [x] done item" in out


def test_code_line_wrappers_keep_blank_lines() -> None:
    # Expressive Code (Starlight): one div per line, an empty line is a div holding "\n"
    page = ('<main><h1>T</h1><figure class="frame"><pre data-language="js"><code>'
            '<div class="ec-line"><div class="code"><span>const a = 1;</span></div></div>'
            '<div class="ec-line"><div class="code">\n</div></div>'
            '<div class="ec-line"><div class="code"><span>console.log(a);</span></div></div>'
            "</code></pre></figure></main>")
    assert "```js\nconst a = 1;\n\nconsole.log(a);\n```" in md(page)


def test_nested_pre_keeps_its_language() -> None:
    page = ('<main><h1>T</h1><pre><pre class="playground"><code class="language-rust">fn main() {}'
            "</code></pre></pre></main>")
    assert "```rust\nfn main() {}\n```" in md(page)


def test_classify_is_the_only_pass_asking_class_words() -> None:
    root = parse('<html><body><main><div class="admonition warning"><p class="admonition-title">Careful</p>'
                 '<p>Text.</p></div><pre class="lang-go">x := 1</pre></main></body></html>')
    main = root.find(".//main")
    kinds = classify(main)
    div = main.find("div")
    assert kinds[div][0] == "admonition" and kinds[div][1][0] == "warning"
    assert kinds[main.find("pre")] == ("code", "go")
