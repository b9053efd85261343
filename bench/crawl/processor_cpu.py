"""The processor service alone: CPU microseconds per Process call in the processor
process (its conversion workers excluded), and wall clock per page.

  .venv/bin/python bench/crawl/processor_cpu.py DIR [--tree NAME=PATH ...] [--rounds 3] [--concurrency 16]

Every .html file under DIR (bench/sites/generate.py's output, a shared/eval corpus root)
is read once. Per round and tree, a fresh `python -m processor` (that tree's venv and
code, a temporary SQLite page store, PROCESSOR_WORKERS=2) gets one Process call per
page, `--concurrency` at a time, as the orchestrator sends them (order, depth,
omit_markdown). The processor process's CPU (psutil, user + system; its workers are
other processes) is read after a warm-up of 50 pages (start-up, imports, the first
template) and after the rest; the figure is the difference per page. The trees'
rounds alternate. What it measures is the plumbing around conversion: the gRPC call,
the worker hop, the page store, the site template.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc
import psutil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))

from docspasta.v1 import processor_pb2, processor_pb2_grpc  # noqa: E402
from trees import free_port, tree_arguments, tree_python  # noqa: E402

WARM_UP_PAGES = 50


def start_processor(tree: Path, database: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    python = tree_python(tree)
    env = {**os.environ, "PROCESSOR_BIND": f"127.0.0.1:{port}", "DATABASE_URL": f"sqlite:///{database}",
           "PROCESSOR_WORKERS": "2", "LOG_LEVEL": "warning", "PYTHONPATH": str(tree)}
    return subprocess.Popen([str(python), "-m", "processor"], cwd=str(tree), env=env), port


async def process_all(port: int, pages: list[tuple[str, str]], concurrency: int, *, job_id: str,
                      first_order: int = 1) -> int:
    """Process calls for ``pages`` (url, html); the number answered with an error."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}", options=[
            ("grpc.max_send_message_length", 64 * 2**20)]) as channel:
        stub = processor_pb2_grpc.ProcessorStub(channel)
        await asyncio.wait_for(channel.channel_ready(), 60)
        slots = asyncio.Semaphore(concurrency)
        failed = 0

        async def one(order: int, url: str, html: str) -> None:
            nonlocal failed
            async with slots:
                try:
                    await stub.Process(processor_pb2.ProcessRequest(
                        job_id=job_id, url=url, html=html, order=order, depth=1, omit_markdown=True),
                        metadata=(("x-job-id", job_id), ("x-request-id", f"{job_id}.{order}")), timeout=120)
                except grpc.aio.AioRpcError:
                    failed += 1

        await asyncio.gather(*(one(first_order + i, url, html) for i, (url, html) in enumerate(pages)))
        return failed


def main() -> int:
    ap = tree_arguments(__doc__)
    args = ap.parse_args()
    trees = [tuple(t.split("=", 1)) for t in args.tree] or [("this", str(ROOT))]
    files = sorted(args.site.rglob("*.html"))
    if args.limit:
        files = files[:args.limit]
    pages = [(f"http://docs.test/{f.relative_to(args.site).as_posix()}", f.read_text("utf-8", "replace"))
             for f in files]
    warm, measured = pages[:WARM_UP_PAGES], pages[WARM_UP_PAGES:]
    cpu: dict[str, list[float]] = {name: [] for name, _ in trees}
    for r in range(args.rounds):
        for name, path in trees[r % len(trees):] + trees[:r % len(trees)]:
            with tempfile.TemporaryDirectory() as tmp:
                proc, port = start_processor(Path(path), Path(tmp) / "pages.db")
                try:
                    job = f"bench-{r}"
                    asyncio.run(process_all(port, warm, args.concurrency, job_id=job))
                    ps = psutil.Process(proc.pid)
                    before = sum(ps.cpu_times()[:2])
                    t0 = time.monotonic()
                    failed = asyncio.run(process_all(port, measured, args.concurrency, job_id=job,
                                                     first_order=len(warm) + 1))
                    wall = time.monotonic() - t0
                    used = sum(ps.cpu_times()[:2]) - before
                finally:
                    proc.terminate()
                    proc.wait(30)
            cpu[name].append(used)
            print(f"  round {r + 1} {name:10} {len(measured)} pages {wall:6.1f} s wall "
                  f"({wall / len(measured) * 1e6:.0f} µs/page), processor CPU {used:6.2f} s = "
                  f"{used / len(measured) * 1e6:.0f} µs/page, {failed} failed", file=sys.stderr, flush=True)
    print(f"{args.site}: {len(measured)} pages, processor CPU µs/page per round: " + "; ".join(
        f"{name} " + ", ".join(f"{v / len(measured) * 1e6:.0f}" for v in values) for name, values in cpu.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
