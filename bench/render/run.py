"""Renderer benchmark: rendered pages per second, memory per open page, and the cost of
render=auto against render=never on a static site (one run, printed ratios).

    .venv/bin/python bench/render/run.py [--pages 48] [--static-pages 300] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import psutil
from aiohttp import web

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "bench", "sites"))

import generate  # noqa: E402

from docspasta.local import LocalStack  # noqa: E402
from docspasta.rpc import insecure_channel  # noqa: E402
from docspasta.v1 import orchestrator_pb2 as pb, renderer_pb2, renderer_pb2_grpc  # noqa: E402
from orchestrator.render import shell_reason  # noqa: E402
from orchestrator.settings import OrchestratorSettings  # noqa: E402
from processor.settings import ProcessorSettings  # noqa: E402
from renderer.server import create_server  # noqa: E402
from renderer.settings import RendererSettings  # noqa: E402
from tests.conftest import local_crawler_settings  # noqa: E402
from tests.renderer.sites import SpaSite  # noqa: E402
from tests.support.jobs import run_job  # noqa: E402


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


async def serve_dir(root: Path) -> tuple[web.AppRunner, int]:
    app = web.Application()
    app.router.add_static("/", root)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)
    await tcp.start()
    assert tcp._server is not None
    return runner, int(tcp._server.sockets[0].getsockname()[1])


async def auto_vs_never(n: int, rounds: int) -> None:
    """The generated Sphinx-like site (bench/sites): every page has scripts, so auto
    checks every page for a shell; none is one."""
    with tempfile.TemporaryDirectory(prefix="render-bench-") as tmp:
        generate.generate(n, Path(tmp))
        runner, port = await serve_dir(Path(tmp))
        times: dict[str, list[float]] = {"never": [], "auto": []}
        rendered = 0
        async with LocalStack(crawler=local_crawler_settings(), processor=replace(ProcessorSettings(), workers=1),
                              orchestrator=replace(OrchestratorSettings(), instance_id="bench")) as stack:
            for _ in range(rounds):
                for mode, value in (("never", pb.RENDER_MODE_NEVER), ("auto", pb.RENDER_MODE_AUTO)):
                    started = time.monotonic()
                    _, events = await run_job(stack, f"http://127.0.0.1:{port}/index.html", render_mode=value,
                                              max_pages=n + 10)
                    times[mode].append(time.monotonic() - started)
                    assert events[-1].WhichOneof("event") == "job_completed", events[-1]
                    rendered += sum(1 for e in events if e.WhichOneof("event") == "url_crawled"
                                    and e.url_crawled.rendered)
            browsers = sum(1 for h in stack.hosts if h.service_names == ["docspasta.v1.Renderer"])
        await runner.cleanup()
    # The check's own cost, measured alone on the same pages (deterministic, unlike a
    # shared machine's wall clock): shell_reason per page against a whole job per page.
    with tempfile.TemporaryDirectory(prefix="render-bench-") as tmp:
        generate.generate(n, Path(tmp))
        pages = [path.read_text() for path in Path(tmp).rglob("*.html")]
    started = time.perf_counter()
    for _ in range(5):
        for html in pages:
            shell_reason(html)
    check_ms = (time.perf_counter() - started) / (5 * len(pages)) * 1000
    job_ms = min(times["never"]) / len(pages) * 1000
    print(f"shell check alone: {check_ms:.3f} ms/page = {check_ms / job_ms:.2%} of a never job's {job_ms:.1f} ms/page")
    median = {mode: sorted(values)[len(values) // 2] for mode, values in times.items()}
    print(f"median of {rounds}: never {median['never']:.2f} s, auto {median['auto']:.2f} s, "
          f"auto/never = {median['auto'] / median['never']:.3f}")
    best = {mode: min(values) for mode, values in times.items()}
    total = {mode: sum(values) for mode, values in times.items()}
    print(f"static site (bench/sites generated, scripts on every page), {n} pages, {rounds} rounds alternated: "
          f"best never {best['never']:.2f} s, auto {best['auto']:.2f} s, auto/never = "
          f"{best['auto'] / best['never']:.3f} (sum of rounds: {total['auto'] / total['never']:.3f}); "
          f"pages rendered: {rendered}, renderer started: {browsers}")
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
