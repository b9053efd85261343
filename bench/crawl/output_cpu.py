"""CPU of the CLI's output step (docspasta/outputs.py write_pages: page index, JSONL, the
combined document, and with --all the --dir mirror and --llms files) over the pages of a
crawl's JSONL, in the order given, without the crawl: the step runs after the crawl in
the main process, so its time is serial.

  .venv/bin/python bench/crawl/output_cpu.py PAGES.jsonl [...] [--out DIR] [--rounds 5] [--all]
  .venv/bin/python bench/crawl/output_cpu.py PAGES.jsonl [...] --trees A B [--rounds 5] [--all]

Prints the best round's CPU per page and the first round's (which pays the imports the
step does on first use, as a crawl does); with --out the outputs are kept (diff -r two
runs for output identity). With --trees each round runs in a fresh interpreter on each
tree's code in turn (A B A B ..., PYTHONPATH=tree), and the medians of CPU (every
thread's) and wall time are compared.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

FIELDS = ("url", "title", "markdown", "word_count", "token_estimate", "description", "depth")


def run_once(path: Path, out: Path, *, everything: bool) -> tuple[float, float]:
    """(CPU, wall) seconds of one write_pages over the pages of ``path`` (outputs into
    ``out``); the CPU is the process's, every thread's."""
    from docspasta import bundle
    from docspasta.outputs import Outputs, PageTargets, write_pages

    rows = [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]

    async def pages() -> AsyncIterator[bundle.PageDoc]:
        for r in rows:
            yield bundle.PageDoc(**{k: r[k] for k in FIELDS if k in r})

    targets = PageTargets(output=out / f"{path.stem}.md", jsonl=out / f"{path.stem}.jsonl",
                          mirror=out / f"{path.stem}-dir" if everything else None,
                          llms=out / f"{path.stem}-llms" if everything else None)
    outputs = Outputs()
    t, wall = time.process_time(), time.perf_counter()
    asyncio.run(write_pages(targets, pages(), outputs, source_url=rows[0]["url"], notes=[]))
    outputs.commit()
    return time.process_time() - t, time.perf_counter() - wall


def compare(args: argparse.Namespace) -> None:
    """Each round a fresh interpreter per tree (its imports counted), alternated."""
    times: dict[str, dict[str, list[tuple[float, float]]]] = {str(t): {} for t in args.trees}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.rounds):
            for tree in args.trees:
                env = dict(os.environ, PYTHONPATH=str(tree))
                cmd = [sys.executable, "-P", __file__, "--child", "--out", tmp, *map(str, args.jsonl)]
                if args.all:
                    cmd.append("--all")
                done = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
                for line in done.stdout.splitlines():
                    name, cpu, wall = line.split()
                    times[str(tree)].setdefault(name, []).append((float(cpu), float(wall)))
    first = str(args.trees[0])
    for name in times[first]:
        for i, what in enumerate(("CPU", "wall")):
            medians = {t: statistics.median(r[i] for r in v[name]) for t, v in times.items()}
            cells = ", ".join(f"{t}: {m:.0f} ms" for t, m in medians.items())
            ratios = ", ".join(f"{m / medians[first]:.2f}" for m in medians.values())
            print(f"{name}: median {what} of {args.rounds} fresh rounds: {cells} (ratios {ratios})")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("jsonl", nargs="+", type=Path)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--all", action="store_true", help="also the --dir mirror and the --llms files")
    ap.add_argument("--trees", nargs="+", type=Path, help="compare these source trees, alternated")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.trees:
        compare(args)
        return
    if args.child:
        for path in args.jsonl:
            cpu, wall = run_once(path, args.out, everything=args.all)
            print(path.stem, f"{cpu * 1000:.1f}", f"{wall * 1000:.1f}")
        return
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        for path in args.jsonl:
            rounds = [run_once(path, out, everything=args.all)[0] for _ in range(args.rounds)]
            pages = sum(1 for line in path.open(encoding="utf-8") if line.strip())
            print(f"{path.stem}: {pages} pages, best of {args.rounds}: {min(rounds) * 1000:.0f} ms CPU, "
                  f"{min(rounds) * 1000 / pages:.3f} ms a page; first round {rounds[0] * 1000:.0f} ms")


if __name__ == "__main__":
    main()
