"""Benchmark: Docspasta's converter vs. markdownify, html2text and trafilatura.

Converts every HTML page of a page set and prints pages/second on one core (CPU
seconds of the converting process, `time.process_time`) per converter and per set,
plus our speed relative to each peer. The page sets:

  shared     the shared/eval corpora (shared/eval/corpora.sh into $DOCS_CORPORA,
             default /tmp/docs-corpora): flask, requests, mkdocs, nodejs, git
  gen        the generator sites of bench/generators (Material, Furo, Book, rustdoc),
             when built ($DOCS_CORPORA/x/gen-*/site)
  generated  the generated Sphinx-like site of bench/sites (`--generated N` pages,
             written to a temp dir; 0 = left out)

Docspasta is timed as a conversion worker runs it in a crawl (`--mode worker`, the
default): per site, pages in order, the size pre-check (processor/limits.py), then
`convert` with the site's template as the processor hands it over (template.py:
learned from the first pages, which are converted again once it is ready). `--mode
convert` times `convert(html, url)` alone. A tree without those modules (a checkout
from before them) is timed with what it has: `convert` per page.

Before/after in one run: `--tree NAME=DIR` (repeatable) times the converter of another
checkout (e.g. `git worktree add /tmp/base 9eae5c8`) with this script, each tree in its
own child process, alternating round by round (`--repeat`), the best round kept.
`--dump DIR` writes each page's Markdown (as the worker mode stores it) under DIR/NAME/
for a byte-for-byte diff between trees.

    PYTHONPATH=. bench/.venv/bin/python bench/convert/run.py --tree before=/work/wt/baseline --repeat 3
    bench/.venv/bin/python bench/convert/run.py --only-docspasta --tree main=/work/main --dump /tmp/md --repeat 1
    diff -r /tmp/md/docspasta /tmp/md/main
"""

from __future__ import annotations

import argparse
import glob
import inspect
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent.parent.parent

CORPORA = {
    "python-flask-doc": "usr/share/doc/python-flask-doc/html",
    "python-requests-doc": "usr/share/doc/python-requests-doc/html",
    "mkdocs-doc": "usr/share/doc/mkdocs/html",
    "nodejs-doc": "usr/share/doc/nodejs/api",
    "git-doc": "usr/share/doc/git-doc",
}
GEN = {name: "site" for name in ("gen-material", "gen-furo", "gen-book", "gen-rustdoc")}
SETS = ("shared", "gen", "generated")
BASE = "http://127.0.0.1:8000/"

Site = tuple[str, str, list[tuple[str, bytes]]]  # (set, site name, [(url, html bytes)])


def _files(top: str, limit: int) -> list[tuple[str, bytes]]:
    files = sorted(glob.glob(os.path.join(top, "**", "*.html"), recursive=True))
    files = [f for f in files if os.path.isfile(f)][: limit or None]
    out = []
    for f in files:
        with open(f, "rb") as fh:
            out.append((BASE + os.path.relpath(f, top), fh.read()))
    return out


def load_sites(corpora: str, limit: int, sets: list[str], generated_dir: str) -> list[Site]:
    sites: list[Site] = []
    if "shared" in sets:
        for name, rel in CORPORA.items():
            pages = _files(os.path.join(corpora, "x", name, rel), limit)
            if pages:
                sites.append(("shared", name, pages))
    if "gen" in sets:
        for name, rel in GEN.items():
            pages = _files(os.path.join(corpora, "x", name, rel), limit)
            if pages:
                sites.append(("gen", name, pages))
    if "generated" in sets and generated_dir:
        sites.append(("generated", "generated", _files(generated_dir, limit)))
    return sites


# -- the child: one tree's converter -------------------------------------------


def _worker_run(sites: list[Site], mode: str, dump: str) -> dict[str, float]:
    """CPU seconds per set, converting as a worker does (see the docstring)."""
    from processor.convert import convert

    try:
        from processor.convert.template import SiteTemplate
        from processor.limits import PageLimits, check
    except ImportError:  # a tree from before the template pass and the pre-check
        SiteTemplate = None  # type: ignore[assignment,misc]  # noqa: N806
    try:
        from processor.convert.template import changes
    except ImportError:  # a tree that converts every page held while learning again
        def changes(probe: object, before: object, after: object) -> bool:
            return True
    if mode == "convert":
        SiteTemplate = None  # type: ignore[assignment,misc]  # noqa: N806
    # A tree whose pre-check leaves the depth to the converter's tree (as its pool does):
    # each conversion checks, as in the pool.
    on_tree = SiteTemplate is not None and "on_tree" in inspect.signature(check).parameters
    if SiteTemplate is not None:
        limits = PageLimits()
        plain = convert

        def convert_page(html: str, url: str, keys: frozenset[int] | None = None) -> Any:
            if on_tree:
                return plain(html, url, keys, guard=check(html, limits, on_tree=True))
            return plain(html, url, keys)
    texts = [(group, name, [(url, data.decode("utf-8", "replace")) for url, data in pages])
             for group, name, pages in sites]  # the processor receives text (a proto string)
    seconds: dict[str, float] = {}
    stored: dict[tuple[str, str], object] = {}
    for group, name, pages in texts:
        t0 = time.process_time()
        if SiteTemplate is None:
            for url, html in pages:
                stored[name, url] = convert(html, url)
        else:
            template = SiteTemplate()
            held: list[tuple[str, str, object]] = []
            for url, html in pages:
                if not on_tree:
                    check(html, limits)
                keys = template.template()
                result = convert_page(html, url, keys)
                became_ready = template.add(result.template_keys)
                probe = getattr(result, "template_probe", None)
                if keys is None:
                    if template.ready:
                        if changes(probe, None, template.template()):
                            result = convert_page(html, url, template.template())
                    elif probe is None or probe:
                        held.append((url, html, probe))
                stored[name, url] = result
                if became_ready:  # the pages held while learning, converted again (as service.py)
                    now = template.template()
                    for h_url, h_html, h_probe in held:
                        if not changes(h_probe, None, now):
                            continue
                        again = convert_page(h_html, h_url, now)
                        if again.template_removed:
                            stored[name, h_url] = again
                    held = []
        seconds[group] = seconds.get(group, 0.0) + time.process_time() - t0
    if dump:
        with open(os.path.join(dump, "pages.jsonl"), "w", encoding="utf-8") as meta:
            for (name, url), r in stored.items():
                path = Path(dump) / name / (url[len(BASE):] + ".md")
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(r.markdown, encoding="utf-8")  # type: ignore[attr-defined]
                fields = ("title", "word_count", "token_estimate", "description", "template_removed")
                meta.write(json.dumps({"site": name, "url": url,
                                       **{f: getattr(r, f, None) for f in fields}}) + "\n")
    return seconds


def child(args: argparse.Namespace) -> int:
    sys.path.insert(0, args.child)
    sites = load_sites(args.corpora, args.limit, args.set, args.generated_dir)
    if args.dump:
        os.makedirs(args.dump, exist_ok=True)
    print(json.dumps(_worker_run(sites, args.mode, args.dump)))
    return 0


# -- the parent -----------------------------------------------------------------


def peers() -> dict[str, Callable[[str, bytes], object]]:
    out: dict[str, Callable[[str, bytes], object]] = {}
    try:
        import markdownify

        out["markdownify"] = lambda url, data: markdownify.markdownify(data.decode("utf-8", "replace"))
    except ImportError:
        pass
    try:
        import html2text

        def h2t(url: str, data: bytes) -> str:
            h = html2text.HTML2Text(baseurl=url)
            h.body_width = 0
            return h.handle(data.decode("utf-8", "replace"))

        out["html2text"] = h2t
    except ImportError:
        pass
    try:
        import trafilatura

        out["trafilatura"] = lambda url, data: trafilatura.extract(
            data.decode("utf-8", "replace"), url=url, output_format="markdown", include_links=True,
            include_tables=True, include_formatting=True)
    except ImportError:
        pass
    return out


def _run_tree(name: str, tree: str, args: argparse.Namespace, generated_dir: str) -> dict[str, float]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", tree, "--corpora", args.corpora,
           "--limit", str(args.limit), "--mode", args.mode, "--generated-dir", generated_dir]
    for s in args.set:
        cmd += ["--set", s]
    if args.dump:
        cmd += ["--dump", os.path.join(args.dump, name)]
    env = {**os.environ, "PYTHONPATH": tree}
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if out.returncode:
        sys.stderr.write(out.stderr)
        raise SystemExit(f"tree {name} ({tree}) failed")
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpora", default=os.environ.get("DOCS_CORPORA", "/tmp/docs-corpora"))
    ap.add_argument("--limit", type=int, default=0, help="max pages per site (0 = all)")
    ap.add_argument("--repeat", type=int, default=1, help="rounds (trees alternate; best round kept)")
    ap.add_argument("--set", action="append", choices=SETS, help="page sets (default: all)")
    ap.add_argument("--generated", type=int, default=500, help="pages of the generated site (0: none)")
    ap.add_argument("--mode", choices=("worker", "convert"), default="worker")
    ap.add_argument("--tree", action="append", default=[], metavar="NAME=DIR",
                    help="also time the converter of another checkout")
    ap.add_argument("--only-docspasta", action="store_true", help="leave the peers out")
    ap.add_argument("--dump", default="", metavar="DIR", help="write each tree's Markdown under DIR/NAME/")
    ap.add_argument("--child", default="", help=argparse.SUPPRESS)
    ap.add_argument("--generated-dir", default="", help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.set = args.set or list(SETS)
    if args.child:
        return child(args)
    with tempfile.TemporaryDirectory(prefix="dp-convert-bench-") as tmp:
        generated_dir = ""
        if "generated" in args.set and args.generated > 0:
            sys.path.insert(0, str(HERE / "bench" / "sites"))
            import generate

            generated_dir = os.path.join(tmp, "generated")
            generate.generate(args.generated, Path(generated_dir))
        return _main(args, generated_dir)


def _main(args: argparse.Namespace, generated_dir: str) -> int:
    sites = load_sites(args.corpora, args.limit, args.set, generated_dir)
    if not sites:
        print(f"no pages under {args.corpora}/x/*: run shared/eval/corpora.sh first", file=sys.stderr)
        return 1
    groups = [g for g in SETS if any(s[0] == g for s in sites)]
    n_pages = {g: sum(len(p) for s, _, p in sites if s == g) for g in groups}
    mb = {g: sum(len(d) for s, _, p in sites if s == g for _, d in p) / 1e6 for g in groups}
    print(f"mode {args.mode}; single process (pages/s = per core, CPU seconds); "
          + ", ".join(f"{g}: {n_pages[g]} pages, {mb[g]:.1f} MB" for g in groups) + "\n")
    trees = [("docspasta", str(HERE)), *(tuple(t.split("=", 1)) for t in args.tree)]
    best: dict[str, dict[str, float]] = {name: {} for name, _ in trees}
    rounds: dict[str, list[float]] = {name: [] for name, _ in trees}
    for r in range(args.repeat):
        order = trees[r % len(trees):] + trees[:r % len(trees)]  # who goes first rotates
        for name, tree in order:
            sec = _run_tree(name, tree, args, generated_dir)
            rounds[name].append(sum(sec.values()))
            for g, s in sec.items():
                best[name][g] = min(best[name].get(g, float("inf")), s)
    if not args.only_docspasta:
        for name, fn in peers().items():
            best[name] = {}
            for _ in range(args.repeat):
                for g in groups:
                    t = time.process_time()
                    for s, _, pages in sites:
                        if s != g:
                            continue
                        for url, data in pages:
                            try:
                                fn(url, data)
                            except Exception:  # noqa: BLE001 - a peer failing on a page still took the time
                                pass
                    best[name][g] = min(best[name].get(g, float("inf")), time.process_time() - t)
    ours = best["docspasta"]
    head = " | ".join(f"{g} p/s" for g in groups)
    print(f"| converter | {head} | all p/s | CPU s (all) | docspasta speed-up |")
    print("|---|" + "---|" * (len(groups) + 3))
    total = sum(n_pages.values())
    for name, sec in best.items():
        cells = " | ".join(f"{n_pages[g] / sec[g]:.1f}" if sec.get(g) else "-" for g in groups)
        all_s = sum(sec.values())
        print(f"| {name} | {cells} | {total / all_s:.1f} | {all_s:.2f} | {all_s / sum(ours.values()):.2f}x |")
    if args.repeat > 1 or len(trees) > 1:
        print("\nCPU seconds per round (all sets): "
              + "; ".join(f"{name} " + ", ".join(f"{s:.2f}" for s in v) for name, v in rounds.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
