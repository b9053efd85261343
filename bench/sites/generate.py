"""A generated, deterministic documentation site of N pages (Sphinx-like chrome).

  python bench/sites/generate.py N [DIR]      # prints DIR (default: a new temp dir)

Layout: index.html -> S section indexes (sec-XXX/index.html) -> pages
(sec-XXX/page-YYYY.html), about sqrt(N) sections of about sqrt(N) pages. Every page
has a header, a sidebar (the top-level toctree: every section, plus the current
section's pages), breadcrumbs, prev/next links, a footer, and content: headings,
paragraphs with inline code and links (parent, siblings, other sections), code
blocks, a table and a note admonition. Every page is reachable from index.html
within depth 3 (well under the crawl's 20); the same N always writes the same bytes.
"""

from __future__ import annotations

import html
import math
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


def table(rng: random.Random) -> str:
    rows = "".join(
        f'<tr class="row-{"even" if i % 2 else "odd"}"><td><p><code class="docutils literal">'
        f'<span class="pre">{rng.choice(IDENTS)}</span></code></p></td><td><p>{rng.choice(WORDS)}</p></td>'
        f"<td><p>{sentence(rng, [])}</p></td></tr>"
        for i in range(rng.randint(3, 7)))
    return ('<table class="docutils align-default"><thead><tr class="row-odd"><th class="head"><p>Name</p></th>'
            '<th class="head"><p>Type</p></th><th class="head"><p>Description</p></th></tr></thead>'
            f"<tbody>{rows}</tbody></table>")


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


def generate(n: int, out: Path) -> int:
    """Writes exactly n pages (index + section indexes + pages) under out; returns n."""
    n = max(n, 3)
    sections = max(1, round(math.sqrt(n - 1)))
    # Pages per section so that 1 + sections + sum(pages) == n.
    rest = n - 1 - sections
    per = [rest // sections + (1 if i < rest % sections else 0) for i in range(sections)]
    titles = [f"Section {s}: {WORDS[(s * 7) % len(WORDS)].title()} {WORDS[(s * 13) % len(WORDS)]}"
              for s in range(sections)]
    page_titles = [[f"{WORDS[(s + p * 3) % len(WORDS)].title()} {WORDS[(s * 5 + p) % len(WORDS)]} {p}"
                    for p in range(per[s])] for s in range(sections)]

    def sidebar(root: str, current: int | None) -> str:
        items = []
        for s, t in enumerate(titles):
            sub = ""
            if s == current:
                sub = "<ul>" + "".join(f'<li class="toctree-l2"><a class="reference internal" '
                                       f'href="{root}sec-{s:03d}/page-{p:04d}.html">{html.escape(pt)}</a></li>'
                                       for p, pt in enumerate(page_titles[s])) + "</ul>"
            cls = " current" if s == current else ""
            items.append(f'<li class="toctree-l1{cls}"><a class="reference internal" '
                         f'href="{root}sec-{s:03d}/index.html">{html.escape(t)}</a>{sub}</li>')
        return '<ul class="current">' + "".join(items) + "</ul>"

    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(1234)
    body = ('<section id="gen-docs"><h1>Gen Docs<a class="headerlink" href="#gen-docs">¶</a></h1>'
            + paragraph(rng, []) + '<div class="toctree-wrapper compound"><ul>'
            + "".join(f'<li class="toctree-l1"><a class="reference internal" href="sec-{s:03d}/index.html">'
                      f"{html.escape(t)}</a></li>" for s, t in enumerate(titles)) + "</ul></div></section>")
    (out / "index.html").write_text(layout(title="Gen Docs", root="", sidebar=sidebar("", None), crumbs="",
                                           body=body, prev=None, nxt=("sec-000/index.html", titles[0])))
    written = 1
    for s in range(sections):
        d = out / f"sec-{s:03d}"
        d.mkdir(exist_ok=True)
        rng = random.Random(s * 100_003 + 7)
        body = (f'<section id="section-{s}"><h1>{html.escape(titles[s])}<a class="headerlink" '
                f'href="#section-{s}">¶</a></h1>' + paragraph(rng, [("../index.html", "Gen Docs")])
                + '<div class="toctree-wrapper compound"><ul>'
                + "".join(f'<li class="toctree-l1"><a class="reference internal" href="page-{p:04d}.html">'
                          f"{html.escape(pt)}</a></li>" for p, pt in enumerate(page_titles[s]))
                + "</ul></div></section>")
        prev = (f"../sec-{s - 1:03d}/index.html", titles[s - 1]) if s else ("../index.html", "Gen Docs")
        nxt = ("page-0000.html", page_titles[s][0]) if per[s] else None
        (d / "index.html").write_text(layout(title=titles[s], root="../", sidebar=sidebar("../", s),
                                             crumbs="", body=body, prev=prev, nxt=nxt))
        written += 1
        for p, pt in enumerate(page_titles[s]):
            rng = random.Random(s * 100_003 + p * 17 + 11)
            links = [("index.html", titles[s]), ("../index.html", "Gen Docs")]
            links += [(f"page-{q:04d}.html", page_titles[s][q]) for q in rng.sample(range(per[s]), min(3, per[s]))]
            other = rng.randrange(sections)
            links.append((f"../sec-{other:03d}/index.html", titles[other]))
            anchor = f"page-{s}-{p}"
            parts = [f'<section id="{anchor}"><h1>{html.escape(pt)}<a class="headerlink" href="#{anchor}">¶</a></h1>',
                     paragraph(rng, links)]
            for h in range(rng.randint(2, 4)):
                parts.append(f'<section id="{anchor}-{h}"><h2>{html.escape(sentence(rng, [])[:40])}'
                             f'<a class="headerlink" href="#{anchor}-{h}">¶</a></h2>')
                parts.append(paragraph(rng, links))
                if rng.random() < 0.7:
                    parts.append(code_block(rng))
                parts.append(paragraph(rng, links))
                if h == 1:
                    parts.append(table(rng))
                if h == 0:
                    parts.append('<div class="admonition note"><p class="admonition-title">Note</p>'
                                 + paragraph(rng, links) + "</div>")
                parts.append("</section>")
            parts.append("</section>")
            prev = (f"page-{p - 1:04d}.html", page_titles[s][p - 1]) if p else ("index.html", titles[s])
            nxt = (f"page-{p + 1:04d}.html", page_titles[s][p + 1]) if p + 1 < per[s] else (
                (f"../sec-{s + 1:03d}/index.html", titles[s + 1]) if s + 1 < sections else None)
            crumbs = (f'<li class="nav-item nav-item-1"><a href="index.html">{html.escape(titles[s])}</a> &#187;</li>')
            (d / f"page-{p:04d}.html").write_text(layout(title=pt, root="../", sidebar=sidebar("../", s),
                                                         crumbs=crumbs, body="".join(parts), prev=prev, nxt=nxt))
            written += 1
    return written


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(tempfile.mkdtemp(prefix=f"docsite-{n}-"))
    generate(n, out)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
