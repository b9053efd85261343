"""Benchmark: Docspasta's converter vs. markdownify, html2text and trafilatura.

Converts every HTML page of the evaluation corpora (downloaded by
shared/eval/corpora.sh into $DOCS_CORPORA, default /tmp/docs-corpora) and prints
pages/second on one core for each converter, plus our speed relative to each peer.
Peers are optional; install them in a separate venv, e.g.

    python3 -m venv /tmp/benchvenv
    /tmp/benchvenv/bin/pip install lxml markdownify html2text trafilatura
    PYTHONPATH=/work/main /tmp/benchvenv/bin/python bench/convert/run.py [--limit N] [--repeat R]

Before/after in one run: `--tree NAME=DIR` (repeatable) also times the converter of
another checkout (e.g. `git worktree add /tmp/base main`), each in its own child
process, alternating with this tree round by round (`--repeat`), best round kept.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))

from processor.convert import convert  # noqa: E402

CORPORA = {
    "python-flask-doc": "usr/share/doc/python-flask-doc/html",
    "python-requests-doc": "usr/share/doc/python-requests-doc/html",
    "mkdocs-doc": "usr/share/doc/mkdocs/html",
    "nodejs-doc": "usr/share/doc/nodejs/api",
    "git-doc": "usr/share/doc/git-doc",
}
BASE = "http://127.0.0.1:8000/"


def load_pages(root: str, limit: int | None) -> list[tuple[str, bytes]]:
    pages = []
    for name, rel in CORPORA.items():
        top = os.path.join(root, "x", name, rel)
        files = sorted(glob.glob(os.path.join(top, "**", "*.html"), recursive=True))
        files = [f for f in files if os.path.isfile(f)][: limit or None]
        for f in files:
            with open(f, "rb") as fh:
                pages.append((BASE + os.path.relpath(f, top), fh.read()))
    return pages


def converters() -> dict[str, Callable[[str, bytes], object]]:
    out: dict[str, Callable[[str, bytes], object]] = {"docspasta": lambda url, data: convert(data, url)}
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpora", default=os.environ.get("DOCS_CORPORA", "/tmp/docs-corpora"))
    ap.add_argument("--limit", type=int, default=0, help="max pages per corpus (0 = all)")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--tree", action="append", default=[], metavar="NAME=DIR",
                    help="also time the converter of another checkout")
    ap.add_argument("--only-docspasta", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    pages = load_pages(args.corpora, args.limit)
    if args.only_docspasta:  # child of --tree: one timing of this interpreter's converter
        t = time.process_time()
        for url, data in pages:
            convert(data, url)
        print(json.dumps({"seconds": time.process_time() - t}))
        return 0
    if not pages:
        print(f"no pages under {args.corpora}/x/*: run shared/eval/corpora.sh first", file=sys.stderr)
        return 1
    mb = sum(len(d) for _, d in pages) / 1e6
    print(f"{len(pages)} pages, {mb:.1f} MB of HTML, single process (pages/s = per core)\n")
    rates: dict[str, float] = {}
    trees = [t.split("=", 1) for t in args.tree]
    if trees:
        here = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
        best_of: dict[str, float] = {}
        for _ in range(args.repeat):
            for name, tree in [("docspasta", here), *trees]:
                env = {**os.environ, "PYTHONPATH": tree}
                out = subprocess.run([sys.executable, os.path.join(tree, "bench", "convert", "run.py"),
                                      "--only-docspasta", "--corpora", args.corpora, "--limit", str(args.limit)],
                                     env=env, capture_output=True, text=True, check=True)
                sec = json.loads(out.stdout.strip().splitlines()[-1])["seconds"]
                best_of[name] = min(best_of.get(name, float("inf")), sec)
        for name, sec in best_of.items():
            rates[name] = len(pages) / sec
    for name, fn in converters().items():
        if trees and name == "docspasta":
            continue
        best = float("inf")
        for _ in range(args.repeat):
            t = time.process_time()
            for url, data in pages:
                try:
                    fn(url, data)
                except Exception:  # noqa: BLE001 - a peer failing on a page still took the time
                    pass
            best = min(best, time.process_time() - t)
        rates[name] = len(pages) / best if best > 0 else float("inf")
    ours = rates["docspasta"]
    print("| converter | pages/s/core | MB/s | docspasta speed-up |\n|---|---|---|---|")
    for name, r in rates.items():
        print(f"| {name} | {r:.1f} | {r * mb / len(pages):.2f} | {ours / r:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
