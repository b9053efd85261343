"""The site template pass: keys per block, the per-job learning table, stripping at the
edges of the main content."""

import json
import subprocess
import sys
from collections.abc import Iterable

from processor.convert import convert
from processor.convert.template import SiteTemplate, TemplateRegistry, changes

TOPICS = ["install", "configure", "deploy", "upgrade", "monitor", "backup", "restore", "tune", "debug", "extend"]


def themed(topic: str, day: int) -> str:
    """A page of a site with its own theme: no semantic elements, no chrome class words."""
    return f"""<html><head><title>{topic} - Proj</title></head><body>
<div class="hd"><h1 class="site">Proj 4.2 documentation</h1></div>
<div class="bar"><a href="/index.html">Home</a> | <a href="/contents.html">Table of contents</a> |
<a href="/genindex.html">Index</a> | <a href="/py-modindex.html">Modules</a></div>
<div class="doc"><h1>How to {topic}</h1>
<p>This page explains how to {topic} a Proj cluster, step by step, with examples.</p>
<div class="stab">Stability: 2 - Stable</div>
<p>Run <code>proj {topic}</code> and read its report about the {topic} step carefully.</p>
<div class="sect"><h2>See also</h2><p>The reference of every {topic} option.</p></div>
<div class="sect"><h2>License</h2><p>Proj is free software under the MIT license, see the file.</p></div>
</div>
<div class="ft">Last update: Dec {day:02d}, 2026. Created using Sphinx 7.2.6.</div>
</body></html>"""


def learn(pages: Iterable[tuple[str, str]]) -> SiteTemplate:
    """The template learned from (html, url) pairs, as the processor learns a site's."""
    t = SiteTemplate()
    for html, url in pages:
        t.add(convert(html, url).template_keys)
    return t


def learned(pages: int = 10) -> SiteTemplate:
    return learn((themed(topic, i + 1), f"http://proj.test/{topic}.html") for i, topic in enumerate(TOPICS[:pages]))


def test_template_strips_the_theme_and_keeps_the_page() -> None:
    t = learned()
    keys = t.template()
    assert keys
    page = themed("migrate", 30)
    plain = convert(page, "http://proj.test/migrate.html").markdown
    assert "Proj 4.2 documentation" in plain and "Table of contents" in plain and "Last update" in plain
    out = convert(page, "http://proj.test/migrate.html", keys)
    md = out.markdown
    assert out.template_removed >= 3
    for chrome in ("Proj 4.2 documentation", "Table of contents", "Modules", "Last update"):
        assert chrome not in md
    # what is unique stays, and so does repeated text between the page's own text,
    # and a repeated closing section (heading + text) of the document
    assert md.startswith("# How to migrate")
    assert "Stability: 2 - Stable" in md
    assert "## License" in md and "MIT license" in md


def test_template_not_used_before_enough_pages() -> None:
    t = learned(pages=7)
    assert not t.ready and t.template() is None
    assert t.add(convert(themed("x", 9), "http://proj.test/x.html").template_keys)  # the 8th page
    assert t.ready and t.template()


def test_template_keys_are_the_same_in_every_process() -> None:
    """Workers are separate processes: a key must not depend on the process (no str hash)."""
    page = themed("install", 1)
    here = sorted(convert(page, "http://proj.test/install.html").template_keys)
    code = ("import json,sys; from processor.convert import convert; "
            "print(json.dumps(sorted(convert(sys.stdin.read(), 'http://proj.test/install.html').template_keys)))")
    other = subprocess.run([sys.executable, "-c", code], input=page, capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": "123", "PATH": ""}, cwd=sys.path[0] or ".")
    assert json.loads(other.stdout) == here


def test_dates_and_versions_fold_but_text_does_not() -> None:
    a = set(convert(themed("install", 1), "http://proj.test/a.html").template_keys)
    b = set(convert(themed("install", 28), "http://proj.test/a.html").template_keys)
    c = set(convert(themed("deploy", 1), "http://proj.test/a.html").template_keys)
    assert a == b  # only the date differs
    assert a != c


def test_every_date_form_folds_in_a_block_alone_or_among_others() -> None:
    # A block's dates are only folded where the page's text holds something a date
    # starts with (template._date_starts): every form _fold knows must be found, in a
    # short block of its own and inside a wider block around it.
    forms = [("2026-12-01", "2025-01-31"), ("1999", "2024"), ("01/12/26", "31.01.2025"), ("10:42", "9:05:33"),
             ("1st Dec", "21st Dec"), ("Dec 01", "Dec 9"), ("Jan. 9", "Jan. 12"), ("September 3", "September 30")]
    for one, other in forms:
        keys = []
        for date in (one, other):
            page = (f"<html><body><div class='doc'><p>The text of the page, the same on both.</p></div>"
                    f"<div class='ft'><p>Built {date} here</p><p>v</p></div></body></html>")
            keys.append(set(convert(page, "http://proj.test/a.html").template_keys))
        assert keys[0] == keys[1], (one, other)


def test_registry_evicts_least_recently_used() -> None:
    reg = TemplateRegistry(max_jobs=2)
    first = reg.get("a")
    reg.get("b")
    assert reg.get("a") is first
    reg.get("c")  # evicts b
    assert reg.get("a") is first
    assert reg.get("b") is not None and reg.get("b").pages == 0


def test_hold_is_bounded() -> None:
    t = SiteTemplate(hold_bytes=100)
    assert t.hold((1, 0, "http://x/a"), "x" * 60)
    assert not t.hold((2, 0, "http://x/b"), "x" * 60)
    assert [h.key for h in t.take_held()] == [(1, 0, "http://x/a")]
    assert t.take_held() == []


def docusaurus_like(topic: str) -> str:
    """A generator that renders each document into an <article>, and documents that all
    start with the same banner heading (fastify's docs: <h1 align="center">Fastify</h1>)."""
    return f"""<html><head><title>{topic} | Proj</title></head><body>
<nav class="navbar"><a href="/">Proj</a> <a href="/guides/">Guides</a></nav>
<main><article><div class="markdown"><h1 align="center">Proj</h1>
<h1>How to {topic}</h1><p>This page explains how to {topic} a Proj cluster, step by step.</p>
<p>Run <code>proj {topic}</code> and read its report about the {topic} step.</p></div></article></main>
</body></html>"""


def test_a_banner_heading_inside_the_article_is_the_documents_own() -> None:
    keys = learn((docusaurus_like(topic), f"http://proj.test/{topic}/") for topic in TOPICS).template()
    assert keys
    md = convert(docusaurus_like("migrate"), "http://proj.test/migrate/", keys).markdown
    assert md.startswith("# Proj\n\n# How to migrate"), md
    # outside an article, the same repeated h1 is the site's title (test above)


def test_probe_says_when_the_template_can_change_a_page() -> None:
    """A page converted before the template was ready is converted again only when the
    template holds a key its strip walk asked about: otherwise the result is the same."""
    t = learned()
    keys = t.template()
    assert keys
    themed_page = themed("migrate", 30)
    first = convert(themed_page, "http://proj.test/migrate.html")
    assert first.template_probe and changes(first.template_probe, None, keys)
    assert convert(themed_page, "http://proj.test/migrate.html", keys).template_removed
    # a page of another theme: its walk asks only about its own blocks
    other = docusaurus_like("migrate")
    plain = convert(other, "http://proj.test/migrate/")
    assert plain.template_probe and not changes(plain.template_probe, None, keys)
    again = convert(other, "http://proj.test/migrate/", keys)
    assert again == plain
    # under the same template nothing can change; an empty probe never changes
    assert not changes(first.template_probe, keys, keys)
    assert not changes((), None, keys)
    assert changes(first.template_probe, keys, None)


def bare_page(topic: str) -> str:
    """pandoc's standalone HTML: no <main>, no <article>; every document of the site
    starts with the same banner h1, its only h1 (sections are h2)."""
    return f"""<html><head><title>{topic}</title></head><body>
<nav id="TOC" role="doc-toc"><ul><li><a href="#steps">Steps</a></li></ul></nav>
<h1 align="center">Proj</h1>
<h2 id="steps">How to {topic}</h2><p>This page explains how to {topic} a Proj cluster, step by step.</p>
<p>Run <code>proj {topic}</code> and read its report about the {topic} step.</p>
</body></html>"""


def test_a_repeated_h1_that_is_the_pages_only_h1_is_its_title() -> None:
    keys = learn((bare_page(topic), f"http://proj.test/{topic}.html") for topic in TOPICS).template()
    assert keys
    md = convert(bare_page("migrate"), "http://proj.test/migrate.html", keys).markdown
    assert md.startswith("# Proj\n\n## How to migrate"), md


def pandoc_page(topic: str) -> str:
    """pandoc's standalone HTML of a document that starts with a banner h1 and then its
    title h1, both children of the bare <body>."""
    return f"""<html><head><title>{topic}</title></head><body>
<nav id="TOC" role="doc-toc"><ul><li><a href="#how-to-{topic}">How to {topic}</a></li></ul></nav>
<h1 style="text-align: center;">Proj</h1>
<h1 id="how-to-{topic}">How to {topic}</h1><p>This page explains how to {topic} a Proj cluster, step by step.</p>
<h2 id="steps">Steps</h2><p>Run <code>proj {topic}</code> and read its report about the {topic} step.</p>
</body></html>"""


def test_a_repeated_h1_beside_the_pages_own_h1_is_the_documents_banner() -> None:
    keys = learn((pandoc_page(topic), f"http://proj.test/{topic}.html") for topic in TOPICS).template()
    assert keys
    md = convert(pandoc_page("migrate"), "http://proj.test/migrate.html", keys).markdown
    assert md.startswith("# Proj\n\n# How to migrate"), md


def javadoc_page(name: str) -> str:
    """Javadoc 17: the page's heading group holds label lines above the title, the same
    on every page of a module ("Module proj.base")."""
    return f"""<html><head><title>{name}</title></head><body>
<header role="banner"><nav><a href="/index.html">Overview</a> <a href="/tree.html">Tree</a></nav></header>
<main role="main"><div class="header">
<div class="sub-title"><span class="module-label-in-type">Module</span>&nbsp;<a href="/m.html">proj.base</a></div>
<div class="sub-title"><span class="package-label-in-type">Package</span>&nbsp;<a href="p.html">proj.util</a></div>
<h1 title="Class {name}" class="title">Class {name}</h1></div>
<section class="class-description"><div class="block">The {name} class holds the {name} state of a cluster.</div>
</section></main></body></html>"""


def test_label_lines_of_the_pages_heading_group_are_kept() -> None:
    keys = learn((javadoc_page(t.title()), f"http://proj.test/p/{t}.html") for t in TOPICS).template()
    assert keys
    md = convert(javadoc_page("Migrate"), "http://proj.test/p/Migrate.html", keys).markdown
    assert md.startswith("Module [proj.base](http://proj.test/m.html)\n\nPackage [proj.util]"), md
    assert "# Class Migrate" in md


def test_the_template_is_every_key_on_enough_pages() -> None:
    # SiteTemplate.template looks only at the keys counted on min_pages pages (its
    # `frequent` set): the same keys as a scan of every count, for any settings, as the
    # site grows, with and without the cap on distinct keys.
    import random

    rng = random.Random(17)
    for min_pages, share, max_keys in ((4, 0.5, 200_000), (1, 0.1, 200_000), (0, 0.0, 200_000), (6, 0.3, 300),
                                       (2, 0.9, 50)):
        t = SiteTemplate(min_pages=min_pages, share=share, max_keys=max_keys)
        theme = [rng.getrandbits(63) for _ in range(30)]
        for page in range(1, 120):
            keys = [k for k in theme if rng.random() < 0.7] + [rng.getrandbits(63) for _ in range(40)]
            keys += [rng.choice(theme)] * 3  # a key twice on one page counts once
            t.add(keys)
            got = t.template()
            if page < t.learn_pages:
                assert got is None
                continue
            need = max(min_pages, int(t.pages * share + 0.999))
            # (recomputed as the site grows by a tenth: compared at each recomputation)
            if t._cache_pages == t.pages:
                assert got == frozenset(k for k, n in t.counts.items() if n >= need)
        assert len(t.counts) <= max_keys
