"""Generated, deterministic documentation sites for the crawl benchmark (bench/crawl).

  python bench/sites/generate.py [--kind sphinx|heavy|small] N [DIR]   # prints DIR (default: a temp dir)

``sphinx`` (``generate``, the 1k/5k/10k/50k sites): a Sphinx-like site of N pages in a
tree of at most ``FANOUT`` children per node (index.html -> sNN/index.html -> ... ->
pNN.html); every page has a header, a sidebar (the local toctree, see ``_Tree.sidebar``),
breadcrumbs, prev/next links in document order, a footer, and content: headings,
paragraphs with inline code and links (parent, siblings, a top-level section), code
blocks, a table and a note admonition. Depth grows as log32(N): 2 at 1k, 3 at 10k, 4 at 50k.

``heavy`` (``generate_heavy``, ~500 pages): long API reference pages as Sphinx autodoc
writes them: 25-45 signatures (``dl.py.function``/``class`` with typed parameters linked
to other pages), field lists, 8-20 code blocks, 2-4 tables of 30-80 rows, 200+ links
each (a module toctree sidebar, cross-references); 60-250 KB of HTML per page.

``small`` (``generate_small``, 1,000+ pages): a chunked DocBook manual (the xsltproc
``chunk.xsl`` layout): index.html with the whole table of contents, chapter pages with
their section TOC, 1-3 KB section pages of a few paragraphs, a programlisting or a note
now and then; a navheader (Prev / chapter / Next) and a navfooter (Prev / Up / Next /
Home) on every page, no sidebar.

The same kind and N always write the same bytes.
"""


from __future__ import annotations

import argparse
import html
import posixpath
import random
import sys
import tempfile
from pathlib import Path

WORDS = ("the a an of to in for on with by from as is are be can this that which each every "
         "request response server client page site document markdown crawler process queue event "
         "job worker handler config option value default returns raises argument parameter module "
         "function method class instance attribute object list dict string bytes integer timeout "
         "retry limit session connection cache index table header footer section example note "
         "warning install run build deploy test release version update change support use call").split()
IDENTS = ("app.run", "Config.from_env", "Session.get", "render_template", "url_for", "max_pages",
          "JobOptions", "load_settings", "asyncio.gather", "ProcessPoolExecutor", "os.environ",
          "json.loads", "Path.read_text", "timeout_seconds", "Response.status", "Request.headers")


def sentence(rng: random.Random, links: list[tuple[str, str]]) -> str:
    n = rng.randint(8, 20)
    words = [rng.choice(WORDS) for _ in range(n)]
    if rng.random() < 0.5:
        words[rng.randrange(n)] = f"<code class=\"docutils literal\"><span class=\"pre\">{rng.choice(IDENTS)}</span></code>"
    if links and rng.random() < 0.4:
        href, title = rng.choice(links)
        words[rng.randrange(n)] = f'<a class="reference internal" href="{href}">{html.escape(title)}</a>'
    text = " ".join(words)
    return text[0].upper() + text[1:] + "."


def paragraph(rng: random.Random, links: list[tuple[str, str]]) -> str:
    return "<p>" + " ".join(sentence(rng, links) for _ in range(rng.randint(3, 6))) + "</p>"


def code_block(rng: random.Random) -> str:
    lines = []
    for i in range(rng.randint(4, 12)):
        ident = rng.choice(IDENTS)
        lines.append(f'<span class="n">result_{i}</span> <span class="o">=</span> '
                     f'<span class="n">{ident}</span><span class="p">(</span>'
                     f'<span class="s2">"{rng.choice(WORDS)}"</span><span class="p">)</span>')
    return ('<div class="highlight-python notranslate"><div class="highlight"><pre><span></span>'
            + "\n".join(lines) + "\n</pre></div></div>")


def docutils_table(head: list[str], rows: list[list[str]]) -> str:
    """A table as Sphinx (docutils) writes it: row-odd/row-even rows, each cell a paragraph."""
    body = "".join(f'<tr class="row-{"even" if i % 2 else "odd"}">' + "".join(f"<td><p>{c}</p></td>" for c in row)
                   + "</tr>" for i, row in enumerate(rows))
    header = "".join(f'<th class="head"><p>{h}</p></th>' for h in head)
    return (f'<table class="docutils align-default"><thead><tr class="row-odd">{header}</tr></thead>'
            f"<tbody>{body}</tbody></table>")


def table(rng: random.Random) -> str:
    rows = [[f'<code class="docutils literal"><span class="pre">{rng.choice(IDENTS)}</span></code>',
             rng.choice(WORDS), sentence(rng, [])] for _ in range(rng.randint(3, 7))]
    return docutils_table(["Name", "Type", "Description"], rows)


def layout(*, title: str, root: str, sidebar: str, crumbs: str, body: str, prev: tuple[str, str] | None,
           nxt: tuple[str, str] | None) -> str:
    rel = ""
    if nxt:
        rel += f'<li class="right"><a href="{nxt[0]}" title="{html.escape(nxt[1])}">next</a> |</li>'
    if prev:
        rel += f'<li class="right"><a href="{prev[0]}" title="{html.escape(prev[1])}">previous</a> |</li>'
    related = (f'<div class="related" role="navigation" aria-label="related navigation"><h3>Navigation</h3><ul>'
               f'{rel}'
               f'<li class="nav-item nav-item-0"><a href="{root}index.html">Gen Docs 1.0</a> &#187;</li>{crumbs}'
               "</ul></div>")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8" />
<meta name="viewport" content="width=device-width, initial-scale=1.0" />
<title>{html.escape(title)} &#8212; Gen Docs 1.0 documentation</title>
<link rel="stylesheet" type="text/css" href="{root}_static/pygments.css" />
<link rel="stylesheet" type="text/css" href="{root}_static/alabaster.css" />
<script src="{root}_static/documentation_options.js"></script>
<script src="{root}_static/doctools.js"></script>
</head>
<body>
{related}
<div class="document">
<div class="documentwrapper"><div class="bodywrapper"><div class="body" role="main">
{body}
</div></div></div>
<div class="sphinxsidebar" role="navigation" aria-label="main navigation"><div class="sphinxsidebarwrapper">
<h3><a href="{root}index.html">Table of Contents</a></h3>
{sidebar}
<div id="searchbox" style="display: none" role="search"><h3 id="searchlabel">Quick search</h3>
<form class="search" action="{root}search.html" method="get"><input type="text" name="q" />
<input type="submit" value="Go" /></form></div>
</div></div>
<div class="clearer"></div>
</div>
{related}
<div class="footer" role="contentinfo">&#169; Copyright 2024, Gen Docs authors. Created using
<a href="https://www.sphinx-doc.org/">Sphinx</a> 7.2.6.</div>
</body>
</html>
"""


def relative(src: str, dst: str) -> str:
    """The href from page ``src`` to page ``dst`` (both relative to the site root, no
    '..'): posixpath.relpath's answer without its two getcwd() calls per link."""
    here = src.split("/")[:-1]
    there = dst.split("/")
    common = 0
    while common < len(here) and common < len(there) - 1 and here[common] == there[common]:
        common += 1
    return "../" * (len(here) - common) + "/".join(there[common:])


# Children per node of the sphinx kind's tree: a real toctree's fan-out (Python's
# library index has ~30 top-level chapters, a chapter tens of pages).
FANOUT = 32


class _Tree:
    """N pages as a heap-ordered tree: node i's children are FANOUT*i+1 .. FANOUT*i+FANOUT
    (those under n), so the same N always gives the same tree and every node has at most
    FANOUT children. A node with children is a directory's index.html."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.parent = [-1] + [(i - 1) // FANOUT for i in range(1, n)]
        self.children = [list(range(FANOUT * i + 1, min(n, FANOUT * i + FANOUT + 1))) for i in range(n)]
        self.path = [""] * n
        self.title = [""] * n
        self.depth = [0] * n
        self.path[0] = "index.html"
        self.title[0] = "Gen Docs"
        for i in range(1, n):  # parents come before children in heap order
            p = self.parent[i]
            pos = (i - 1) % FANOUT
            d = posixpath.dirname(self.path[p])
            self.path[i] = posixpath.join(d, f"s{pos:02d}/index.html" if self.children[i] else f"p{pos:02d}.html")
            self.depth[i] = self.depth[p] + 1
            w1, w2 = WORDS[(i * 7) % len(WORDS)].title(), WORDS[(i * 13 + self.depth[i]) % len(WORDS)]
            self.title[i] = (f"Section {i}: {w1} {w2}" if self.children[i] else f"{w1} {w2} {i}")
        # Document order (Sphinx's prev/next): depth-first, children in order.
        self.order: list[int] = []
        stack = [0]
        while stack:
            i = stack.pop()
            self.order.append(i)
            stack.extend(reversed(self.children[i]))
        self.rank = {node: r for r, node in enumerate(self.order)}

    def href(self, src: int, dst: int) -> str:
        return relative(self.path[src], self.path[dst])

    def ancestors(self, i: int) -> list[int]:
        chain = []
        while i > 0:
            chain.append(i)
            i = self.parent[i]
        return chain[::-1]  # top-level section first

    def sidebar(self, i: int) -> str:
        """The local toctree: the top-level sections, and under the current one the
        current page's siblings with the current page's children below it.

        Why not the whole tree or sqrt(N) sections of sqrt(N) pages (this generator's
        layout until 2026-12): real Sphinx themes (alabaster, the Read the Docs theme with
        collapse_navigation, pydata's section nav) show the top level and the current
        page's neighbourhood, so a page's navigation is bounded by the toctree's fan-out,
        not by the size of the site; the old layout's 2*sqrt(N) links per page (63 at 1k,
        447 at 50k) made a 50k page ~1.6x the work of a 1k page and measured page size
        where the flat-pages/s bar means job size. Here a page links ~FANOUT..3*FANOUT
        sidebar entries at any N."""
        def item(node: int, level: int, sub: str = "") -> str:
            cls = " current" if node == i or sub else ""
            return (f'<li class="toctree-l{level}{cls}"><a class="reference internal" href="{self.href(i, node)}">'
                    f"{html.escape(self.title[node])}</a>{sub}</li>")

        chain = self.ancestors(i)
        local = ""
        if chain:
            me = "<ul>" + "".join(item(c, 3) for c in self.children[i]) + "</ul>" if self.children[i] else ""
            if len(chain) == 1:
                local = me
            else:
                local = "<ul>" + "".join(item(s, 2, me if s == i else "") for s in self.children[self.parent[i]]) + "</ul>"
        top = self.children[0]
        return ('<ul class="current">' + "".join(item(t, 1, local if chain and t == chain[0] else "") for t in top)
                + "</ul>")


def generate(n: int, out: Path) -> int:
    """Writes exactly n pages of the sphinx kind under out; returns n."""
    n = max(n, 3)
    tree = _Tree(n)
    out.mkdir(parents=True, exist_ok=True)
    top = tree.children[0]
    for i in range(n):
        rng = random.Random(i * 100_003 + 11)
        root = "../" * tree.path[i].count("/")
        h = tree.href
        links = [(h(i, 0), "Gen Docs")]
        if i:
            p = tree.parent[i]
            links.append((h(i, p), tree.title[p]))
            sib = tree.children[p]
            links += [(h(i, q), tree.title[q]) for q in rng.sample(sib, min(3, len(sib)))]
        other = top[rng.randrange(len(top))]
        links.append((h(i, other), tree.title[other]))
        anchor = f"page-{i}"
        parts = [f'<section id="{anchor}"><h1>{html.escape(tree.title[i])}<a class="headerlink" href="#{anchor}">¶</a></h1>',
                 paragraph(rng, links)]
        if tree.children[i]:
            parts.append('<div class="toctree-wrapper compound"><ul>'
                         + "".join(f'<li class="toctree-l1"><a class="reference internal" href="{h(i, c)}">'
                                   f"{html.escape(tree.title[c])}</a></li>" for c in tree.children[i])
                         + "</ul></div>")
        else:
            for k in range(rng.randint(2, 4)):
                parts.append(f'<section id="{anchor}-{k}"><h2>{html.escape(sentence(rng, [])[:40])}'
                             f'<a class="headerlink" href="#{anchor}-{k}">¶</a></h2>')
                parts.append(paragraph(rng, links))
                if rng.random() < 0.7:
                    parts.append(code_block(rng))
                parts.append(paragraph(rng, links))
                if k == 1:
                    parts.append(table(rng))
                if k == 0:
                    parts.append('<div class="admonition note"><p class="admonition-title">Note</p>'
                                 + paragraph(rng, links) + "</div>")
                parts.append("</section>")
        parts.append("</section>")
        r = tree.rank[i]
        prev = (h(i, tree.order[r - 1]), tree.title[tree.order[r - 1]]) if r else None
        nxt = (h(i, tree.order[r + 1]), tree.title[tree.order[r + 1]]) if r + 1 < n else None
        crumbs = "".join(f'<li class="nav-item nav-item-{k + 1}"><a href="{h(i, a)}">{html.escape(tree.title[a])}</a>'
                         " &#187;</li>" for k, a in enumerate(tree.ancestors(i)[:-1]))
        path = out / tree.path[i]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(layout(title=tree.title[i], root=root, sidebar=tree.sidebar(i), crumbs=crumbs,
                               body="".join(parts), prev=prev, nxt=nxt))
    return n


# -- heavy: long API reference pages -------------------------------------------

TYPES = ("str", "int", "float", "bool", "bytes", "None", "Path", "Mapping", "Sequence", "Iterable", "Callable")


def _ident(rng: random.Random) -> str:
    return "_".join(rng.choice(WORDS) for _ in range(rng.randint(1, 3))).replace("-", "_")


def generate_heavy(n: int, out: Path) -> int:
    """Writes exactly n pages: index.html, G module groups (gNN/index.html) and their API
    pages (gNN/mod_NNN.html); returns n."""
    n = max(n, 3)
    groups = max(1, min(12, (n - 1) // 40))
    rest = n - 1 - groups
    per = [rest // groups + (1 if g < rest % groups else 0) for g in range(groups)]
    pages = [(g, m) for g in range(groups) for m in range(per[g])]
    names = {(g, m): f"pkg.{WORDS[(g * 11) % len(WORDS)]}_{g}.{WORDS[(m * 7 + g) % len(WORDS)]}{m}"
             for g, m in pages}
    classes = {key: [f"{w.title()}{k}" for k, w in enumerate(WORDS[(key[1] * 3) % 40:(key[1] * 3) % 40 + 6])]
               for key in pages}
    out.mkdir(parents=True, exist_ok=True)

    def href(src: tuple[int, int] | None, dst: tuple[int, int] | None, anchor: str = "") -> str:
        # src/dst None: index.html; (g, -1): the group's index.
        frag = f"#{anchor}" if anchor else ""
        if dst is None:
            target = "index.html"
        else:
            target = f"g{dst[0]:02d}/" + ("index.html" if dst[1] < 0 else f"mod_{dst[1]:03d}.html")
        return relative("index.html" if src is None else f"g{src[0]:02d}/x.html", target) + frag

    def sidebar(src: tuple[int, int] | None, current: int | None) -> str:
        items = []
        for g in range(groups):
            sub = ""
            if g == current:
                sub = "<ul>" + "".join(f'<li class="toctree-l2"><a class="reference internal" href="{href(src, (g, m))}">'
                                       f"<code class=\"xref py py-mod docutils literal notranslate\"><span class=\"pre\">"
                                       f"{names[(g, m)]}</span></code></a></li>" for m in range(per[g])) + "</ul>"
            items.append(f'<li class="toctree-l1{" current" if g == current else ""}"><a class="reference internal" '
                         f'href="{href(src, (g, -1))}">Package {g}: {WORDS[(g * 11) % len(WORDS)]}</a>{sub}</li>')
        return '<ul class="current">' + "".join(items) + "</ul>"

    def xref(rng: random.Random, src: tuple[int, int]) -> str:
        dst = pages[rng.randrange(len(pages))]
        cls = rng.choice(classes[dst])
        return (f'<a class="reference internal" href="{href(src, dst, names[dst] + "." + cls)}" '
                f'title="{names[dst]}.{cls}"><code class="xref py py-class docutils literal notranslate">'
                f'<span class="pre">{cls}</span></code></a>')

    def signature(rng: random.Random, key: tuple[int, int], k: int) -> str:
        mod = names[key]
        kind = "class" if k % 5 == 0 else ("method" if k % 5 in (2, 3) else "function")
        name = classes[key][k // 5 % 6] if kind == "class" else _ident(rng) + (str(k) if k > 6 else "")
        full = f"{mod}.{name}"
        params = []
        fields = []
        for _ in range(rng.randint(1, 6)):
            arg = _ident(rng)
            typ = xref(rng, key) if rng.random() < 0.6 else f'<span class="pre">{rng.choice(TYPES)}</span>'
            default = (f'<span class="o"><span class="pre">=</span></span><span class="default_value">'
                       f'<span class="pre">{rng.choice(("None", "0", "True", "DEFAULT"))}</span></span>'
                       if rng.random() < 0.4 else "")
            params.append(f'<em class="sig-param"><span class="n"><span class="pre">{arg}</span></span>'
                          f'<span class="p"><span class="pre">:</span></span><span class="w"> </span>'
                          f'<span class="n">{typ}</span>{default}</em>')
            fields.append(f"<li><p><strong>{arg}</strong> ({typ}) – {sentence(rng, [])}</p></li>")
        ret = xref(rng, key)
        parts = [f'<dl class="py {kind}"><dt class="sig sig-object py" id="{full}">'
                 + (f'<em class="property"><span class="pre">{kind}</span><span class="w"> </span></em>'
                    if kind == "class" else "")
                 + f'<span class="sig-prename descclassname"><span class="pre">{mod}.</span></span>'
                 f'<span class="sig-name descname"><span class="pre">{name}</span></span>'
                 '<span class="sig-paren">(</span>' + '<span class="w"> </span>, '.join(params)
                 + f'<span class="sig-paren">)</span><span class="sig-return"><span class="sig-return-icon">&#x2192;</span>'
                 f'<span class="sig-return-typehint">{ret}</span></span>'
                 f'<a class="headerlink" href="#{full}" title="Link to this definition">¶</a></dt><dd>',
                 paragraph(rng, [(href(key, pages[rng.randrange(len(pages))]), "see")]),
                 '<dl class="field-list simple"><dt class="field-odd">Parameters<span class="colon">:</span></dt>'
                 f'<dd class="field-odd"><ul class="simple">{"".join(fields)}</ul></dd>'
                 '<dt class="field-even">Returns<span class="colon">:</span></dt>'
                 f'<dd class="field-even"><p>{sentence(rng, [])}</p></dd>'
                 '<dt class="field-odd">Return type<span class="colon">:</span></dt>'
                 f'<dd class="field-odd"><p>{ret}</p></dd>'
                 '<dt class="field-even">Raises<span class="colon">:</span></dt>'
                 f'<dd class="field-even"><p>{xref(rng, key)} – {sentence(rng, [])}</p></dd></dl>']
        if rng.random() < 0.6:
            parts.append(code_block(rng))
        if rng.random() < 0.3:
            parts.append('<div class="admonition seealso"><p class="admonition-title">See also</p><p>'
                         + ", ".join(xref(rng, key) for _ in range(rng.randint(2, 6))) + "</p></div>")
        if rng.random() < 0.2:
            parts.append('<div class="versionchanged"><p><span class="versionmodified changed">Changed in version '
                         f'3.{rng.randint(1, 12)}: </span>{sentence(rng, [])}</p></div>')
        parts.append("</dd></dl>")
        return "".join(parts)

    def big_table(rng: random.Random, key: tuple[int, int]) -> str:
        rows = [[xref(rng, key),
                 f'<code class="docutils literal notranslate"><span class="pre">{rng.choice(TYPES)}</span></code>',
                 f'<code class="docutils literal notranslate"><span class="pre">{rng.randint(0, 9999)}</span></code>',
                 sentence(rng, [])] for _ in range(rng.randint(20, 50))]
        return docutils_table(["Name", "Type", "Default", "Description"], rows)

    title_idx = "Package API reference"
    body = (f'<section id="api"><h1>{title_idx}<a class="headerlink" href="#api">¶</a></h1>'
            + paragraph(random.Random(5), []) + '<div class="toctree-wrapper compound"><ul>'
            + "".join(f'<li class="toctree-l1"><a class="reference internal" href="{href(None, (g, -1))}">Package {g}</a>'
                      "<ul>" + "".join(f'<li class="toctree-l2"><a class="reference internal" href="{href(None, (g, m))}">'
                                      f"{names[(g, m)]}</a></li>" for m in range(per[g])) + "</ul></li>"
                      for g in range(groups)) + "</ul></div></section>")
    (out / "index.html").write_text(layout(title=title_idx, root="", sidebar=sidebar(None, None), crumbs="", body=body,
                                           prev=None, nxt=(href(None, (0, -1)), "Package 0")))
    flat = [x for g in range(groups) for x in [(g, -1), *((g, m) for m in range(per[g]))]]
    for r, key in enumerate(flat):
        g, m = key
        d = out / f"g{g:02d}"
        d.mkdir(exist_ok=True)
        rng = random.Random(g * 100_003 + m * 17 + 5)
        prev = (href(key, flat[r - 1]), "previous") if r else (href(key, None), title_idx)
        nxt = (href(key, flat[r + 1]), "next") if r + 1 < len(flat) else None
        crumbs = f'<li class="nav-item nav-item-1"><a href="{href(key, (g, -1))}">Package {g}</a> &#187;</li>'
        if m < 0:
            body = (f'<section id="package-{g}"><h1>Package {g}<a class="headerlink" href="#package-{g}">¶</a></h1>'
                    + paragraph(rng, [(href(key, None), title_idx)]) + '<div class="toctree-wrapper compound"><ul>'
                    + "".join(f'<li class="toctree-l1"><a class="reference internal" href="{href(key, (g, q))}">'
                              f"{names[(g, q)]}</a></li>" for q in range(per[g])) + "</ul></div></section>")
            (d / "index.html").write_text(layout(title=f"Package {g}", root="../", sidebar=sidebar(key, g),
                                                 crumbs="", body=body, prev=prev, nxt=nxt))
            continue
        mod = names[key]
        sid = mod.replace(".", "-")
        parts = [f'<section id="module-{mod}"><span id="{sid}"></span><h1><code class="xref py py-mod docutils literal '
                 f'notranslate"><span class="pre">{mod}</span></code> — {html.escape(sentence(rng, [])[:50])}'
                 f'<a class="headerlink" href="#module-{mod}">¶</a></h1>',
                 f'<p><strong>Source code:</strong> <a class="reference external" href="https://example.invalid/src/'
                 f'{mod.replace(".", "/")}.py">src/{mod.replace(".", "/")}.py</a></p>',
                 paragraph(rng, [(href(key, (g, -1)), f"Package {g}")]), paragraph(rng, [])]
        entries = rng.randint(15, 30)
        tables = set(rng.sample(range(entries), rng.randint(1, 3)))
        for k in range(entries):
            if k % 8 == 0:
                parts.append(f'<section id="{sid}-{k}"><h2>{html.escape(sentence(rng, [])[:40])}'
                             f'<a class="headerlink" href="#{sid}-{k}">¶</a></h2>' + paragraph(rng, []))
            parts.append(signature(rng, key, k))
            if k in tables:
                parts.append(big_table(rng, key))
            if k % 8 == 7 or k == entries - 1:
                parts.append("</section>")
        parts.append("</section>")
        (d / f"mod_{m:03d}.html").write_text(layout(title=mod, root="../", sidebar=sidebar(key, g), crumbs=crumbs,
                                                   body="".join(parts), prev=prev, nxt=nxt))
    return n


# -- small: a chunked DocBook manual -------------------------------------------

def generate_small(n: int, out: Path) -> int:
    """Writes exactly n pages: index.html (the whole TOC), C chapters (chNN.html) and
    their sections (chNNsMM.html), all in one directory as chunk.xsl writes them."""
    n = max(n, 3)
    chapters = max(1, min(40, (n - 1) // 30))
    rest = n - 1 - chapters
    per = [rest // chapters + (1 if c < rest % chapters else 0) for c in range(chapters)]
    book = "The Gen Tool Manual"
    ctitle = [f"{WORDS[(c * 5) % len(WORDS)].title()} and {WORDS[(c * 9 + 2) % len(WORDS)]}" for c in range(chapters)]
    stitle = [[f"{WORDS[(c + s * 7) % len(WORDS)].title()} {WORDS[(c * 3 + s) % len(WORDS)]}" for s in range(per[c])]
              for c in range(chapters)]
    # Document order: index, ch1, its sections, ch2, ...
    flat: list[tuple[int, int]] = [(-1, -1)]
    for c in range(chapters):
        flat += [(c, -1), *((c, s) for s in range(per[c]))]

    def file(key: tuple[int, int]) -> str:
        c, s = key
        return "index.html" if c < 0 else (f"ch{c + 1:02d}.html" if s < 0 else f"ch{c + 1:02d}s{s + 1:02d}.html")

    def label(key: tuple[int, int]) -> str:
        c, s = key
        if c < 0:
            return book
        return f"Chapter {c + 1}. {ctitle[c]}" if s < 0 else f"{c + 1}.{s + 1}. {stitle[c][s]}"

    def up(key: tuple[int, int]) -> tuple[int, int]:
        return (-1, -1) if key[1] < 0 else (key[0], -1)

    out.mkdir(parents=True, exist_ok=True)
    for r, key in enumerate(flat):
        c, s = key
        rng = random.Random(c * 100_003 + s * 31 + 3)
        prev = flat[r - 1] if r else None
        nxt = flat[r + 1] if r + 1 < len(flat) else None
        chapter = "" if c < 0 else f"Chapter {c + 1}. {html.escape(ctitle[c])}"
        def nav(rel: str, key: tuple[int, int] | None, text: str) -> str:
            return f'<a accesskey="{rel}" href="{file(key)}">{text}</a>' if key is not None else ""

        home = '<a accesskey="h" href="index.html">Home</a>' if c >= 0 else ""
        head_row = (f'<td width="20%" align="left">{nav("p", prev, "Prev")}&#160;</td>'
                    f'<th width="60%" align="center">{chapter}</th>'
                    f'<td width="20%" align="right">&#160;{nav("n", nxt, "Next")}</td>')
        navheader = (f'<div class="navheader"><table width="100%" summary="Navigation header"><tr>'
                     f'<th colspan="3" align="center">{html.escape(label(key))}</th></tr><tr>{head_row}</tr></table>'
                     '<hr /></div>')
        navfooter = ('<div class="navfooter"><hr /><table width="100%" summary="Navigation footer"><tr>'
                     f'<td width="40%" align="left">{nav("p", prev, "Prev")}&#160;</td>'
                     f'<td width="20%" align="center">{nav("u", up(key), "Up") if c >= 0 else ""}</td>'
                     f'<td width="40%" align="right">&#160;{nav("n", nxt, "Next")}</td></tr><tr>'
                     f'<td width="40%" align="left" valign="top">{html.escape(label(prev)) if prev else ""}&#160;</td>'
                     f'<td width="20%" align="center">{home}</td>'
                     f'<td width="40%" align="right" valign="top">&#160;{html.escape(label(nxt)) if nxt else ""}</td>'
                     "</tr></table></div>")

        def para(links: list[tuple[str, str]]) -> str:
            # DocBook's markup for inline code and cross-references.
            return (paragraph(rng, links).replace('<code class="docutils literal"><span class="pre">', '<code class="literal">')
                    .replace("</span></code>", "</code>").replace('class="reference internal"', 'class="xref"'))

        def xrefs() -> list[tuple[str, str]]:
            picks = [flat[rng.randrange(1, len(flat))] for _ in range(2)]
            return [(file(p), label(p)) for p in picks]

        if c < 0:
            toc = "".join(f'<dt><span class="chapter"><a href="{file((cc, -1))}">{html.escape(label((cc, -1)))}</a></span></dt>'
                          "<dd><dl>" + "".join(f'<dt><span class="section"><a href="{file((cc, ss))}">'
                                               f"{html.escape(label((cc, ss)))}</a></span></dt>" for ss in range(per[cc]))
                          + "</dl></dd>" for cc in range(chapters))
            body = (f'<div class="book"><div class="titlepage"><div><div><h1 class="title"><a id="idm1"></a>{book}</h1>'
                    '</div><div><p class="copyright">Copyright © 2024 The Gen authors</p></div></div><hr /></div>'
                    f'<div class="toc"><p><b>Table of Contents</b></p><dl class="toc">{toc}</dl></div></div>')
        elif s < 0:
            toc = "".join(f'<dt><span class="section"><a href="{file((c, ss))}">{html.escape(label((c, ss)))}</a></span></dt>'
                          for ss in range(per[c]))
            body = (f'<div class="chapter"><div class="titlepage"><div><div><h1 class="title"><a id="ch{c + 1}"></a>'
                    f'{html.escape(label(key))}</h1></div></div></div><div class="toc"><p><b>Table of Contents</b></p>'
                    f'<dl class="toc">{toc}</dl></div>{para(xrefs())}</div>')
        else:
            parts = [f'<div class="section"><div class="titlepage"><div><div><h2 class="title" style="clear: both">'
                     f'<a id="s{c + 1}-{s + 1}"></a>{html.escape(label(key))}</h2></div></div></div>']
            for _ in range(rng.randint(1, 3)):
                parts.append(para(xrefs()))
            roll = rng.random()
            if roll < 0.3:
                cmd = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4)))
                parts.append(f'<pre class="screen"><code class="prompt">$</code> <strong class="userinput"><code>gen '
                             f"{cmd}</code></strong>\n{sentence(rng, [])}</pre>")
            elif roll < 0.45:
                parts.append('<div class="note" style="margin-left: 0.5in; margin-right: 0.5in;"><h3 class="title">Note'
                             f"</h3>{para([])}</div>")
            elif roll < 0.6:
                parts.append('<div class="itemizedlist"><ul class="itemizedlist" style="list-style-type: disc; ">'
                             + "".join(f'<li class="listitem"><p><code class="option">--{_ident(rng)}</code>: '
                                       f"{sentence(rng, [])}</p></li>" for _ in range(rng.randint(2, 5)))
                             + "</ul></div>")
            parts.append("</div>")
            body = "".join(parts)
        page = (f'<html><head><meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />'
                f"<title>{html.escape(label(key))}</title>"
                '<link rel="stylesheet" type="text/css" href="docbook.css" />'
                '<meta name="generator" content="DocBook XSL Stylesheets Vsnapshot" />'
                f'<link rel="home" href="index.html" title="{book}" />'
                + (f'<link rel="up" href="{file(up(key))}" title="{html.escape(label(up(key)))}" />' if c >= 0 else "")
                + (f'<link rel="prev" href="{file(prev)}" title="{html.escape(label(prev))}" />' if prev else "")
                + (f'<link rel="next" href="{file(nxt)}" title="{html.escape(label(nxt))}" />' if nxt else "")
                + f'</head><body>{navheader}{body}{navfooter}</body></html>\n')
        (out / file(key)).write_text(page)
    return n


KINDS = {"sphinx": generate, "heavy": generate_heavy, "small": generate_small}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kind", choices=KINDS, default="sphinx")
    ap.add_argument("n", type=int, nargs="?", default=1000)
    ap.add_argument("dir", nargs="?")
    args = ap.parse_args()
    out = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix=f"docsite-{args.kind}-{args.n}-"))
    KINDS[args.kind](args.n, out)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
