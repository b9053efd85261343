"""Small hand-written pages mimicking common documentation generators."""

MATERIAL = """<!doctype html><html><head><title>Setup - MyLib Docs</title></head><body>
<header class="md-header"><nav class="md-header__inner"><a href="/">MyLib</a>
<div class="md-search"><form class="md-search__form"><input placeholder="Search"></form></div></nav></header>
<div class="md-container"><main class="md-main"><div class="md-main__inner md-grid">
<div class="md-sidebar md-sidebar--primary"><nav class="md-nav md-nav--primary"><ul><li><a href="/a/">Alpha page</a></li><li><a href="/b/">Beta page</a></li></ul></nav></div>
<div class="md-sidebar md-sidebar--secondary"><nav class="md-nav md-nav--secondary"><label>Table of contents</label><ul><li><a href="#install">Install</a></li></ul></nav></div>
<div class="md-content"><article class="md-content__inner md-typeset">
<a href="https://github.com/x/edit/main/docs/setup.md" title="Edit this page" class="md-content__button md-icon">Edit</a>
<h1 id="setup">Setup<a class="headerlink" href="#setup" title="Permanent link">&para;</a></h1>
<p>Install the package with pip before anything else happens.</p>
<div class="admonition warning"><p class="admonition-title">Careful</p><p>Use a virtualenv.</p></div>
<details class="note"><summary>Expand me</summary><p>Hidden details text.</p></details>
<h2 id="install">Install<a class="headerlink" href="#install">&para;</a></h2>
<div class="highlight"><table class="highlighttable"><tr><td class="linenos"><div class="linenodiv"><pre>1
2</pre></div></td><td class="code"><div><pre><span></span><code><span class="n">pip</span> install mylib
mylib --version
</code></pre></div></td></tr></table></div>
<div class="tabbed-set"><div class="tabbed-content"><div class="tabbed-block"><p>Tab one body</p></div></div></div>
</article></div></div></main>
<footer class="md-footer"><nav class="md-footer__inner"><a href="/prev/">Previous chapter</a></nav><div class="md-copyright">Copyright 2024 Footer Corp</div></footer>
</div></body></html>"""

DOCUSAURUS = """<html><head><title>Intro | Docu Site</title><meta name="description" content="Learn the basics of Docu in five minutes."></head><body>
<nav class="navbar navbar--fixed-top"><a class="navbar__brand" href="/">Docu</a><a class="navbar__item" href="/blog">Blog</a></nav>
<div class="main-wrapper"><div class="docPage"><aside class="theme-doc-sidebar-container"><nav class="menu"><ul class="theme-doc-sidebar-menu menu__list"><li><a class="menu__link" href="/docs/intro">Intro sidebar link</a></li></ul></nav></aside>
<main class="docMainContainer"><div class="container"><div class="row"><div class="col">
<nav aria-label="Breadcrumbs" class="theme-doc-breadcrumbs"><ul class="breadcrumbs"><li><a href="/">Home crumb</a></li></ul></nav>
<div class="theme-doc-toc-mobile tocCollapsible"><button>On this page</button></div>
<article><div class="theme-doc-markdown markdown"><header><h1>Intro</h1></header>
<p>Docusaurus pages start with a paragraph of prose. It has two sentences.</p>
<div class="theme-admonition theme-admonition-tip alert alert--success admonition_xyz"><div class="admonitionHeading_abc"><span class="admonitionIcon_q"><svg><path d="M0"/></svg></span>tip</div><div class="admonitionContent_def"><p>Use the CLI.</p></div></div>
<h2 id="code">Code<a href="#code" class="hash-link" aria-label="Direct link to Code">&#8203;</a></h2>
<div class="language-js codeBlockContainer"><div class="codeBlockContent"><pre class="prism-code language-js"><code><span class="token-line"><span class="token keyword">const</span> a = 1;<br></span><span class="token-line"><br></span><span class="token-line">console.log(a);<br></span></code></pre><div class="buttonGroup"><button aria-label="Copy code to clipboard">Copy</button></div></div></div>
<div class="tabs-container"><ul role="tablist" class="tabs"><li role="tab">npm</li><li role="tab">yarn</li></ul>
<div role="tabpanel" class="tabItem"><p>npm install docu</p></div><div role="tabpanel" class="tabItem" hidden><p>yarn add docu</p></div></div>
</div><footer class="theme-doc-footer"><a href="https://github.com/edit">Edit this page</a></footer></article>
<nav class="pagination-nav"><a class="pagination-nav__link" href="/docs/next">Next page</a></nav>
</div><div class="col col--3"><div class="tableOfContents"><ul class="table-of-contents"><li><a href="#code">Code toc</a></li></ul></div></div></div></div></main></div></div>
<footer class="footer"><div>Copyright Docu footer</div></footer></body></html>"""

VITEPRESS = """<html><head><title>Getting Started | VitePress</title></head><body><div id="app"><div class="Layout">
<header class="VPNav"><div class="VPNavBar"><a class="title" href="/">VP Brand</a></div></header>
<aside class="VPSidebar"><nav><a href="/guide/">Guide sidebar</a></nav></aside>
<div class="VPContent"><div class="VPDoc"><div class="container"><div class="aside"><div class="VPDocAsideOutline"><div class="outline-title">On this page</div><a href="#a">Outline link</a></div></div>
<div class="content"><div class="content-container"><main class="main"><div class="vp-doc _guide_getting-started">
<h1 id="getting-started">Getting Started <a class="header-anchor" href="#getting-started" aria-label="Permalink">&#8203;</a></h1>
<p>VitePress is a static site generator designed for building content.</p>
<div class="tip custom-block"><p class="custom-block-title">TIP</p><p>Node 18 is required.</p></div>
<div class="language-sh vp-adaptive-theme"><button title="Copy Code" class="copy"></button><span class="lang">sh</span><pre class="shiki"><code><span class="line"><span>$ npm add -D vitepress</span></span>
<span class="line"><span>$ npx vitepress init</span></span></code></pre></div>
</div></main><footer class="VPDocFooter"><div class="edit-info"><a href="https://github.com/edit">Edit this page on GitHub</a></div><nav class="prev-next"><a href="/next">Next page footer</a></nav></footer></div></div></div></div></div>
<footer class="VPFooter"><p>Released under the MIT License.</p></footer></div></div></body></html>"""

RUSTDOC = """<html><head><title>Vec in std::vec - Rust</title></head><body class="rustdoc struct">
<nav class="sidebar"><div class="sidebar-elems"><h2><a href="#implementations">Methods sidebar</a></h2></div></nav>
<main><div class="width-limiter"><rustdoc-search></rustdoc-search><section id="main-content" class="content">
<div class="main-heading"><h1>Struct <a href="index.html">std</a>::<wbr><a href="#">Vec</a><button id="copy-path" title="Copy item path">Copy</button></h1><span class="out-of-band"><a class="src" href="../../src/alloc/vec/mod.rs.html#397">source</a></span></div>
<pre class="rust item-decl"><code>pub struct Vec&lt;T&gt; { /* private fields */ }</code></pre>
<details class="toggle top-doc" open><summary class="hideme"><span>Expand description</span></summary><div class="docblock"><p>A contiguous growable array type, written as <code>Vec&lt;T&gt;</code>.</p>
<h2 id="examples"><a class="doc-anchor" href="#examples">§</a>Examples</h2>
<div class="example-wrap"><pre class="rust rust-example-rendered"><code><span class="kw">let </span><span class="kw-2">mut </span>vec = Vec::new();
vec.push(<span class="number">1</span>);</code></pre></div></div></details>
</section></div></main></body></html>"""

JAVADOC = """<html><head><title>ArrayList (Java SE 17 &amp; JDK 17)</title></head><body class="class-declaration-page">
<div class="flex-box"><header role="banner" class="flex-header"><nav role="navigation"><div class="top-nav" id="navbar-top"><ul class="nav-list"><li><a href="../../../index.html">Overview nav</a></li></ul></div>
<div class="sub-nav"><ul class="sub-nav-list"><li>Summary:&nbsp;</li></ul><div class="nav-list-search"><label for="search-input">SEARCH:</label><input type="text" id="search-input"></div></div></nav></header>
<div class="flex-content"><main role="main"><div class="header"><div class="sub-title">Package <a href="package-summary.html">java.util</a></div><h1 title="Class ArrayList" class="title">Class ArrayList&lt;E&gt;</h1></div>
<section class="class-description" id="class-description"><div class="block">Resizable-array implementation of the <code>List</code> interface.</div></section>
<section class="method-summary" id="method-summary"><h2>Method Summary</h2><div class="summary-table three-column-summary"><table><tr><th>Modifier and Type</th><th>Method</th><th>Description</th></tr>
<tr><td><code>boolean</code></td><td><code><a href="#add(E)">add</a>(E&nbsp;e)</code></td><td>Appends the element | to the end.</td></tr></table></div></section>
<section class="detail" id="add(E)"><h3>add</h3><div class="member-signature"><span class="modifiers">public</span>&nbsp;<span class="return-type">boolean</span>&nbsp;<span class="element-name">add</span>(E&nbsp;e)</div>
<dl class="notes"><dt>Parameters:</dt><dd><code>e</code> - element to be appended</dd></dl></section>
</main><footer role="contentinfo"><p class="legal-copy">Copyright Oracle legal footer</p></footer></div></div></body></html>"""

DOXYGEN = """<html><head><title>MyProj: Foo Class Reference</title></head><body>
<div id="top"><div id="titlearea"><table><tr><td><div id="projectname">MyProj brand</div></td></tr></table></div>
<div id="main-nav"><ul id="main-menu" class="sm sm-dox"><li><a href="index.html">Main Page menu</a></li></ul></div></div>
<div id="nav-path" class="navpath"><ul><li class="navelem"><a href="classFoo.html">Foo path</a></li></ul></div>
<div class="header"><div class="summary"><a href="#pub-methods">Public Member Functions</a></div><div class="headertitle"><div class="title">Foo Class Reference</div></div></div>
<div class="contents"><a name="details" id="details"></a><h2 class="groupheader">Detailed Description</h2>
<div class="textblock"><p>Foo does things with bars and it does them well.</p>
<div class="fragment"><div class="line">Foo f;</div><div class="line">f.run(<span class="stringliteral">"x"</span>);</div></div></div></div>
<hr class="footer"/><address class="footer"><small>Generated by doxygen footer</small></address></body></html>"""

HUGO = """<html><head><title>Configure | Hugo Docsy</title></head><body class="td-page">
<header><nav class="js-navbar-scroll navbar"><a class="navbar-brand" href="/">Docsy brand</a></nav></header>
<div class="container-fluid td-outer"><div class="td-main"><div class="row flex-xl-nowrap">
<aside class="col-12 col-md-3 col-xl-2 td-sidebar d-print-none"><nav class="td-sidebar-nav"><a href="/docs/">Docs sidebar</a></nav></aside>
<aside class="d-none d-xl-block col-xl-2 td-sidebar-toc d-print-none"><div class="td-page-meta"><a href="https://github.com/edit">Edit this page</a></div><nav id="TableOfContents"><a href="#opts">Options toc</a></nav></aside>
<main class="col-12 col-md-9 col-xl-8 ps-md-5" role="main"><nav aria-label="breadcrumb" class="td-breadcrumbs"><ol class="breadcrumb"><li><a href="/docs/">Docs crumb</a></li></ol></nav>
<div class="td-content"><h1>Configure</h1><div class="lead">How to configure the site.</div>
<h2 id="opts">Options</h2><div class="highlight"><pre tabindex="0" class="chroma"><code class="language-toml" data-lang="toml"><span class="line"><span class="ln">1</span><span class="cl">baseURL = "https://example.org/"
</span></span><span class="line"><span class="ln">2</span><span class="cl">title = "Docs"
</span></span></code></pre></div>
<div class="td-page-meta__lastmod">Last modified March 1 lastmod</div></div></main></div></div></div>
<footer class="td-footer"><p>Copyright hugo footer</p></footer></body></html>"""

ASCIIDOC = """<html><head><title>git-foo(1)</title></head><body class="manpage">
<div id="header"><h1>git-foo(1) Manual Page</h1><h2>NAME</h2><div class="sectionbody"><p>git-foo - Do the foo thing</p></div></div>
<div id="content"><div class="sect1"><h2 id="_synopsis">SYNOPSIS</h2><div class="sectionbody"><div class="verseblock"><pre class="content"><em>git foo</em> [--bar]</pre></div></div></div>
<div class="sect1"><h2 id="_description">DESCRIPTION</h2><div class="sectionbody"><div class="paragraph"><p>This command does a lot of foo, and the description is the longest part of the page by far, with many words in it.</p></div>
<div class="dlist"><dl><dt class="hdlist1">--bar</dt><dd><p>Enable bar.</p></dd></dl></div></div></div></div>
<div id="footer"><div id="footer-text">Last updated 2024-01-01 footer</div></div></body></html>"""

SPHINX = """<html><head><title>API &#8212; Flasky Documentation (3.0.x)</title><base href="https://docs.example.org/en/"></head><body>
<div class="related" role="navigation"><h3>Navigation</h3><ul><li><a href="genindex.html">index related</a></li></ul></div>
<div class="document"><div class="documentwrapper"><div class="bodywrapper"><div class="body" role="main">
<section id="api"><h1>API<a class="headerlink" href="#api" title="Link to this heading">¶</a></h1>
<p>This part of the documentation covers all the interfaces of Flasky.</p>
<dl class="py class"><dt class="sig sig-object py" id="flasky.App"><em class="property"><span class="pre">class</span> </em><span class="sig-prename descclassname"><span class="pre">flasky.</span></span><span class="sig-name descname"><span class="pre">App</span></span><span class="sig-paren">(</span><em class="sig-param"><span class="n"><span class="pre">name</span></span></em><span class="sig-paren">)</span><a class="headerlink" href="#flasky.App" title="Link to this definition">¶</a></dt>
<dd><p>The app object implements a WSGI application.</p>
<div class="admonition note"><p class="admonition-title">Note</p><p>Create it in your main module.</p></div>
<div class="highlight-python notranslate"><div class="highlight"><pre><span></span><span class="kn">from</span> <span class="nn">flasky</span> <span class="kn">import</span> <span class="n">App</span>
<span class="n">app</span> <span class="o">=</span> <span class="n">App</span><span class="p">(</span><span class="vm">__name__</span><span class="p">)</span>
</pre></div></div>
<dl class="field-list simple"><dt class="field-odd">Parameters<span class="colon">:</span></dt><dd class="field-odd"><p><strong>name</strong> (<a class="reference external" href="https://docs.python.org/3/library/stdtypes.html#str" title="(in Python v3.12)"><em>str</em></a>) &#8211; the import name</p></dd></dl>
</dd></dl>
<p>See <a class="footnote-reference brackets" href="#id2" id="id1" role="doc-noteref"><span class="fn-bracket">[</span>1<span class="fn-bracket">]</span></a> and <span class="math notranslate nohighlight">\\(x^2 + y\\)</span>.</p>
<aside class="footnote-list brackets"><aside class="footnote brackets" id="id2" role="doc-footnote"><span class="label"><span class="fn-bracket">[</span><a role="doc-backlink" href="#id1">1</a><span class="fn-bracket">]</span></span><p>Footnote text here.</p></aside></aside>
</section></div></div></div>
<div class="sphinxsidebar" role="navigation"><div class="sphinxsidebarwrapper"><h3>Quick search</h3><div id="searchbox"><form><input name="q"></form></div><p>Sidebar blurb text</p></div></div></div>
<div class="footer">&#169; Copyright 2010 Pallets footer.</div></body></html>"""
