"""CPU of the CLI's output step (docspasta/outputs.py write_pages: page index, JSONL, the
combined document) over the pages of a crawl's JSONL, in the order given, without the
crawl: the step runs after the crawl in the main process, so its time is serial.

  .venv/bin/python bench/crawl/output_cpu.py PAGES.jsonl [...] [--out DIR] [--rounds 5]

Prints the best round's CPU per page; with --out the outputs are kept (diff -r two runs
for output identity).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

from docspasta import bundle
from docspasta.outputs import Outputs, PageTargets, write_pages

FIELDS = ("url", "title", "markdown", "word_count", "token_estimate", "description", "depth")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("jsonl", nargs="+", type=Path)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        for path in args.jsonl:
            rows = [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]

            async def pages() -> AsyncIterator[bundle.PageDoc]:
                for r in rows:
                    yield bundle.PageDoc(**{k: r[k] for k in FIELDS if k in r})

            best = float("inf")
            for _ in range(args.rounds):
                outputs = Outputs()
                t = time.process_time()
                asyncio.run(write_pages(PageTargets(output=out / f"{path.stem}.md", jsonl=out / f"{path.stem}.jsonl"),
                                        pages(), outputs, source_url=rows[0]["url"], notes=[]))
                outputs.commit()
                best = min(best, time.process_time() - t)
            print(f"{path.stem}: {len(rows)} pages, best of {args.rounds}: {best * 1000:.0f} ms CPU, "
                  f"{best * 1000 / len(rows):.3f} ms a page")


if __name__ == "__main__":
    main()
