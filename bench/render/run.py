"""Renderer benchmark: rendered pages per second, memory per open page, and the cost of
render=auto against render=never on a static site (one run, printed ratios).

    .venv/bin/python bench/render/run.py [--pages 48] [--static-pages 300] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from dataclasses import replace

import psutil

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from docspasta.local import LocalStack  # noqa: E402
from docspasta.rpc import insecure_channel  # noqa: E402
from docspasta.v1 import orchestrator_pb2 as pb, renderer_pb2, renderer_pb2_grpc  # noqa: E402
from orchestrator.settings import OrchestratorSettings  # noqa: E402
from processor.settings import ProcessorSettings  # noqa: E402
from renderer.server import create_server  # noqa: E402
from renderer.settings import RendererSettings  # noqa: E402
from tests.conftest import local_crawler_settings  # noqa: E402
from tests.renderer.sites import SpaSite  # noqa: E402
from tests.support.jobs import run_job  # noqa: E402
from tests.support.site import FixtureSite, tree_site  # noqa: E402


def chromium_rss() -> int:
    """Resident memory of this process's browser processes (Playwright's driver excluded)."""
    total = 0
    for child in psutil.Process().children(recursive=True):
        try:
            if "chrom" in child.name():
                total += child.memory_info().rss
        except psutil.Error:
            pass
    return total


async def rendered_pages(n: int, parallel: int) -> None:
    spa = await SpaSite(n_pages=n).start()
    settings = replace(RendererSettings(), bind="127.0.0.1:0", max_pages=parallel, fetch=local_crawler_settings())
    host, port = await create_server(settings)
    channel = insecure_channel(f"127.0.0.1:{port}")
    stub = renderer_pb2_grpc.RendererStub(channel)
    try:
        await stub.Render(renderer_pb2.RenderRequest(url=spa.base + "/", job_id="warm"), timeout=120)
        idle = chromium_rss()
        peak = 0
        sem = asyncio.Semaphore(parallel)

        async def one(path: str) -> bool:
            nonlocal peak
            async with sem:
                task = asyncio.ensure_future(stub.Render(renderer_pb2.RenderRequest(url=spa.base + path,
                                                                                    job_id="bench"), timeout=120))
                while not task.done():
                    peak = max(peak, chromium_rss())
                    await asyncio.sleep(0.25)
                return not task.result().page.error

        started = time.monotonic()
        ok = await asyncio.gather(*(one(p) for p in spa.paths()))
        seconds = time.monotonic() - started
        print(f"rendered pages: {sum(ok)}/{len(ok)} in {seconds:.2f} s = {sum(ok) / seconds:.2f} pages/s "
              f"({parallel} pages in flight, {os.cpu_count()} CPUs)")
        print(f"chromium RSS: idle browser+context {idle / 2**20:.0f} MiB, peak {peak / 2**20:.0f} MiB, "
              f"per open page {(peak - idle) / parallel / 2**20:.0f} MiB")
    finally:
        await channel.close(None)
        await host.stop(1.0)
        await spa.stop()


async def auto_vs_never(n: int, rounds: int) -> None:
    site = await FixtureSite().start()
    site.pages.update(tree_site(n))
    times: dict[str, list[float]] = {"never": [], "auto": []}
    async with LocalStack(crawler=local_crawler_settings(), processor=replace(ProcessorSettings(), workers=1),
                          orchestrator=replace(OrchestratorSettings(), instance_id="bench")) as stack:
        for _ in range(rounds):
            for mode, value in (("never", pb.RENDER_MODE_NEVER), ("auto", pb.RENDER_MODE_AUTO)):
                started = time.monotonic()
                _, events = await run_job(stack, site.url("/docs/"), render_mode=value)
                times[mode].append(time.monotonic() - started)
                assert events[-1].WhichOneof("event") == "job_completed", events[-1]
        browsers = sum(1 for h in stack.hosts if h.service_names == ["docspasta.v1.Renderer"])
    await site.stop()
    best = {mode: min(values) for mode, values in times.items()}
    print(f"static site, {n} pages, best of {rounds}: never {best['never']:.2f} s, auto {best['auto']:.2f} s, "
          f"auto/never = {best['auto'] / best['never']:.3f} (renderer started: {browsers})")
    print("  all runs:", {m: [round(v, 2) for v in vs] for m, vs in times.items()})


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=48)
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--static-pages", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    await rendered_pages(args.pages, args.parallel)
    await auto_vs_never(args.static_pages, args.rounds)


if __name__ == "__main__":
    asyncio.run(main())
