"""Unit tests for each Markdown construct, on small hand-written snippets."""

from processor.convert import Converted, convert, token_estimate

URL = "https://site.test/docs/guide/page.html"


def md(body: str, url: str = URL) -> str:
    return convert(f"<html><body><main>{body}</main></body></html>", url).markdown


# -- code -------------------------------------------------------------------

def test_code_fence_language_variants() -> None:
    assert md('<pre><code class="language-rust">fn main() {}</code></pre>') == "```rust\nfn main() {}\n```"
    assert md('<pre class="lang-go">x := 1</pre>').startswith("```go\n")
    assert md('<div class="highlight-python notranslate"><div class="highlight"><pre>a = 1</pre></div></div>') == \
        "```python\na = 1\n```"
    assert md('<pre class="sourceCode haskell"><code>main = pure ()</code></pre>').startswith("```haskell\n")
    assert md('<pre class="brush: js; gutter: false">var a;</pre>').startswith("```js\n")
    assert md('<pre data-lang="yaml">a: 1</pre>').startswith("```yaml\n")
    assert md("<pre>plain</pre>") == "```\nplain\n```"


def test_code_verbatim_whitespace_spans_and_blank_lines() -> None:
    html = ('<pre><span class="k">def</span> <span class="nf">f</span>():\n\n    '
            '<span class="k">return</span>  1\n</pre>')
    assert md(html) == "```\ndef f():\n\n    return  1\n```"


def test_code_containing_backticks_gets_longer_fence() -> None:
    out = md("<pre>Use ```python\nfences```\n</pre>")
    assert out.startswith("````\n") and out.endswith("\n````")


def test_code_line_numbers_removed() -> None:
    html = ('<table class="highlighttable"><tr><td class="linenos"><pre>1\n2</pre></td>'
            '<td class="code"><pre>a\nb</pre></td></tr></table>')
    assert md(html) == "```\na\nb\n```"
    assert md('<pre><span class="lineno">1 </span>x = 1\n<span class="lineno">2 </span>y = 2</pre>') == \
        "```\nx = 1\ny = 2\n```"


def test_pre_with_several_code_children_keeps_all() -> None:
    html = '<pre><code class="language-mjs">import fs from "fs";</code><code class="language-cjs">const fs = require("fs");</code></pre>'
    out = md(html)
    assert 'import fs from "fs";' in out and 'const fs = require("fs");' in out
    assert out.startswith("```mjs")


def test_prompts_kept() -> None:
    assert md("<pre>&gt;&gt;&gt; 1 + 1\n2\n$ ls</pre>") == "```\n>>> 1 + 1\n2\n$ ls\n```"


def test_inline_code_and_backtick_escaping() -> None:
    assert md("<p>Call <code>f()</code> or <kbd>Ctrl</kbd> <samp>out</samp> <tt>tt</tt></p>") == \
        "Call `f()` or `Ctrl` `out` `tt`"
    assert md("<p><code>a`b</code></p>") == "``a`b``"
    assert md("<p><code>``x`</code></p>") == "``` ``x` ```"
    assert md('<p><code class="docutils literal"><span class="pre">a</span> <span class="pre">b</span></code></p>') == "`a b`"


# -- tables -----------------------------------------------------------------

def test_table_basic_with_header_and_escaping() -> None:
    html = ("<table><thead><tr><th>Name</th><th>Desc</th></tr></thead><tbody>"
            "<tr><td>a|b</td><td>line1<br>line2</td></tr></tbody></table>")
    assert md(html) == "| Name | Desc |\n| --- | --- |\n| a\\|b | line1<br>line2 |"


def test_table_without_th_uses_first_row_and_fills_colspan() -> None:
    html = "<table><tr><td>h1</td><td>h2</td><td>h3</td></tr><tr><td colspan='2'>wide</td><td>z</td></tr></table>"
    assert md(html) == "| h1 | h2 | h3 |\n| --- | --- | --- |\n| wide |  | z |"


def test_table_rowspan_keeps_columns_aligned() -> None:
    html = ("<table><tr><th>a</th><th>b</th></tr><tr><td rowspan='2'>x</td><td>1</td></tr>"
            "<tr><td>2</td></tr></table>")
    assert md(html).splitlines()[-1] == "|  | 2 |"


def test_layout_table_with_lists_and_code_keeps_text() -> None:
    html = ("<table><tr><td><ul><li>alpha</li><li>beta</li></ul></td><td><pre>code()</pre></td></tr>"
            "<tr><td><h3>Inner heading</h3><table><tr><td>n1</td><td>n2</td></tr></table></td></tr></table>")
    out = md(html)
    assert "- alpha\n- beta" in out and "```\ncode()\n```" in out and "### Inner heading" in out
    assert "| n1 | n2 |" in out


# -- definition lists -------------------------------------------------------

def test_plain_definition_list() -> None:
    out = md("<dl><dt>term</dt><dd><p>first para</p><p>second para</p></dd><dt>t2</dt><dd>d2</dd></dl>")
    # GFM has no definition lists: the term in bold, the definition as plain paragraphs
    # (the ":   text" form shows its continuation paragraphs as code blocks there).
    assert out == "**term**\n\nfirst para\n\nsecond para\n\n**t2**\n\nd2"


def test_api_definition_list_signature_and_description() -> None:
    html = ('<dl class="py function"><dt class="sig sig-object py" id="m.f"><span class="sig-name">f</span>'
            '<span class="sig-paren">(</span><em class="sig-param">x</em><span class="sig-paren">)</span>'
            '<a class="headerlink" href="#m.f">¶</a></dt><dd><p>Does <em>f</em>.</p></dd></dl>')
    assert md(html) == "**`f(x)`**\n\nDoes *f*."


# -- admonitions, quotes, rules ---------------------------------------------

def test_admonitions() -> None:
    out = md('<div class="admonition warning"><p class="admonition-title">Warning</p><p>Be careful.</p>'
             '<ul><li>one</li></ul></div>')
    assert out == "> **Warning**\n>\n> Be careful.\n>\n> - one"
    assert md('<div class="note"><p>No title here.</p></div>') == "> **Note**\n>\n> No title here."
    assert md('<aside class="admonition tip"><p>Aside tip.</p></aside>').startswith("> **Tip**")
    assert md('<details class="warning"><summary>Open me</summary><p>Body</p></details>') == \
        "> **Open me**\n>\n> Body"


def test_blockquote_br_hr() -> None:
    assert md("<blockquote><p>q1</p><p>q2</p></blockquote>") == "> q1\n>\n> q2"
    assert md("<p>a<br>b</p><hr><p>c</p>") == "a\\\nb\n\n---\n\nc"


# -- headings and chrome ----------------------------------------------------

def test_headings_atx_without_permalinks() -> None:
    html = ('<h1>Title<a class="headerlink" href="#t">¶</a></h1><h2>Sub <a href="#s">#</a></h2>'
            '<h3>Three<a class="anchor" href="#x">🔗</a></h3><h6>Six</h6>')
    assert md(html) == "# Title\n\n## Sub\n\n### Three\n\n###### Six"


def test_heading_in_odd_places_gets_own_line() -> None:
    assert "\n## In link\n" in "\n" + md('<a href="/x"><h2>In link</h2><p>card</p></a>') + "\n"
    out = md("<ul><li><h3>Item heading</h3><p>text</p></li></ul>")
    assert out == "-\n  ### Item heading\n\n  text"  # CommonMark: a list item may open with a heading


def test_chrome_removed() -> None:
    html = ('<nav>Site nav</nav><div class="breadcrumbs">Home / Docs</div><p>Body text stays.</p>'
            '<div class="cookie-banner">Accept cookies</div><form><input value="q"><button>Go</button></form>'
            '<script>var x=1</script><style>p{}</style><noscript>nojs</noscript><template>tpl</template>'
            '<svg><text>svgtext</text></svg><div hidden>hidden text</div><div style="display: none">dn</div>'
            '<span aria-hidden="true">aria</span><button class="copybtn">Copy</button>'
            '<div class="toc"><a href="#a">toc entry</a></div><div class="edit-this-page"><a href="/e">Edit</a></div>')
    assert md(html) == "Body text stays."


# -- lists ------------------------------------------------------------------

def test_nested_lists_and_ordered_start() -> None:
    html = ("<ol start='3'><li>three<ul><li>nested<ol><li>deep</li></ol></li></ul></li>"
            "<li><p>four para</p><pre>code</pre></li></ol>")
    # Numbered as the page numbers them (start, then counting): a reader of the raw
    # text sees the numbers a browser shows.
    # An item holding a paragraph of its own makes the list loose (as CommonMark reads it).
    assert md(html) == ("3. three\n\n   - nested\n     1. deep\n\n4. four para\n\n   ```\n   code\n   ```")


def test_list_item_paragraph_continuation_indent() -> None:
    out = md("<ul><li><p>first</p><p>second</p></li><li>x</li></ul>")
    assert out == "- first\n\n  second\n\n- x"
    assert md("<ul><li>a<blockquote><p>b</p></blockquote></li><li>c</li></ul>") == "- a\n  > b\n- c"  # tight


# -- links, images, escaping ------------------------------------------------

def test_links_absolute_with_fragment_and_javascript_dropped() -> None:
    out = md('<p><a href="../api.html#f">api</a> <a href="#local">here</a> <a href="javascript:void(0)">js</a> '
             '<a href="mailto:a@b.c">mail</a> <a href="https://x.org/a b(1)">sp</a></p>')
    assert "[api](https://site.test/docs/api.html#f)" in out
    assert "[here](https://site.test/docs/guide/page.html#local)" in out
    assert " js " in out and "javascript" not in out
    assert "[mail](mailto:a@b.c)" in out
    assert "[sp](<https://x.org/a b(1)>)" in out


def test_images_absolute() -> None:
    assert md('<p><img src="img/a.png" alt="A [pic]"></p>') == "![A \\[pic\\]](https://site.test/docs/guide/img/a.png)"
    assert md('<p><img data-src="/lazy.png" alt="L"></p>') == "![L](https://site.test/lazy.png)"


def test_escaping_is_minimal_but_safe() -> None:
    assert md("<p>snake_case and 2*3 and a * b</p>") == "snake_case and 2\\*3 and a * b"
    assert md("<p>_private [x] &lt;div&gt; back\\slash `tick`</p>") == \
        "\\_private \\[x\\] \\<div> back\\\\slash \\`tick\\`"
    assert md("<p># not heading</p><p>- not list</p><p>1. not ordered</p><p>&gt; not quote</p>") == \
        "\\# not heading\n\n\\- not list\n\n1\\. not ordered\n\n\\> not quote"


def test_whitespace_collapsed_in_prose_only() -> None:
    assert md("<p>a   b\n\n   c</p><pre>x   y\n\n\nz</pre>") == "a b c\n\n```\nx   y\n\n\nz\n```"


def test_emphasis() -> None:
    assert md("<p><strong>bold</strong> <em>it</em> <b> spaced </b>x<del>gone</del></p>") == \
        "**bold** *it* **spaced** x~~gone~~"


# -- footnotes and math -----------------------------------------------------

def test_footnotes_docutils_table_and_sup() -> None:
    html = ('<p>Text<a class="footnote-reference" href="#f1">[1]</a> and<sup><a href="#fn2">2</a></sup>.</p>'
            '<table class="docutils footnote" id="f1"><tbody><tr><td class="label">[1]</td><td>First note.</td></tr>'
            '</tbody></table><dl class="footnote"><dt class="label">[2]</dt><dd><p>Second note.</p></dd></dl>')
    out = md(html)
    assert "Text[1] and[2]." in out
    assert "**[1]** First note." in out and "**[2]** Second note." in out


def test_math() -> None:
    assert md('<p>Let <span class="math">\\(a_1 + b\\)</span>.</p>') == "Let $a_1 + b$."
    assert md('<div class="math">\\[E = mc^2\\]</div>') == "$$\nE = mc^2\n$$"
    katex = ('<p><span class="katex"><span class="katex-mathml"><math><semantics><mi>x</mi>'
             '<annotation encoding="application/x-tex">x^2</annotation></semantics></math></span>'
             '<span class="katex-html" aria-hidden="true">x2</span></span></p>')
    assert md(katex) == "$x^2$"
    assert md('<p><script type="math/tex">y</script></p>') == "$y$"


# -- output shape, API ------------------------------------------------------

def test_output_shape_no_double_blank_lines() -> None:
    out = md("<div><p>a</p><div></div><p> </p></div><div><div><p>b</p></div></div>")
    assert out == "a\n\nb"


def test_token_estimate_deterministic_and_plausible() -> None:
    text = "The quick brown fox jumps over the lazy dog.\n" * 10
    assert token_estimate(text) == token_estimate(text)
    assert 90 <= token_estimate(text) <= 130  # cl100k: 10 tokens per line
    assert token_estimate("") == 0
    c = convert("<p>hello world</p>", URL)
    assert c.word_count == 2 and c.token_estimate == token_estimate(c.markdown)


def test_converted_is_frozen_and_picklable() -> None:
    import pickle

    c = convert("<h1>T</h1><p>x</p>", URL)
    assert isinstance(c, Converted)
    assert pickle.loads(pickle.dumps(c)) == c
    try:
        c.title = "y"  # type: ignore[misc]
    except AttributeError:
        pass
    else:
        raise AssertionError("Converted must be frozen")


def test_bytes_input_with_charset() -> None:
    html = '<meta charset="iso-8859-1"><p>caf\xe9</p>'.encode("latin-1")
    assert convert(html, URL).markdown == "café"
    assert convert("<p>café</p>".encode(), URL).markdown == "café"
