"""Renderer benchmark: rendered pages per second, memory per open page, and the cost of
render=auto against render=never on a static site (one run, printed ratios).

    .venv/bin/python bench/render/run.py [--pages 48] [--static-pages 300] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

import grpc
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
from tests.conftest import local_crawler_settings  # noqa: E402
from tests.renderer.sites import SpaSite  # noqa: E402
from tests.support.jobs import run_job  # noqa: E402


def chromium_pss(root: psutil.Process) -> int:
    """Proportional set size of the renderer's browser processes: shared pages split
    between the processes sharing them, so the sum is what the browser really costs."""
    total = 0
    for child in root.children(recursive=True):
        try:
            if "chrom" in child.name():
                total += child.memory_full_info().pss
        except psutil.Error:
            pass
    return total


def tree_cpu() -> float:
    """User + system CPU seconds of this process and every live child."""
    me = psutil.Process()
    total = 0.0
    for proc in (me, *me.children(recursive=True)):
        try:
            times = proc.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            pass
    return total


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def rendered_pages(n: int, parallel: int) -> None:
    """The renderer as deployed: its own process (python -m renderer), so measuring it
    never steals its event loop."""
    spa = await SpaSite(n_pages=n).start()
    port = free_port()
    env = {**os.environ, "RENDERER_BIND": f"127.0.0.1:{port}", "RENDERER_MAX_PAGES": str(parallel),
           "CRAWLER_ALLOW_PRIVATE_NETWORK": "true", "CRAWLER_ALLOWED_PORTS": "*", "LOG_LEVEL": "warning",
           "PYTHONPATH": ROOT}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "renderer", env=env, cwd=ROOT)
    channel = insecure_channel(f"127.0.0.1:{port}")
    stub = renderer_pb2_grpc.RendererStub(channel)
    try:
        for _ in range(120):
            try:
                await stub.Render(renderer_pb2.RenderRequest(url=spa.base + "/", job_id="warm"), timeout=120)
                break
            except grpc.aio.AioRpcError:
                await asyncio.sleep(0.5)
        root = psutil.Process(proc.pid)
        idle = await asyncio.to_thread(chromium_pss, root)
        peak = 0
        sem = asyncio.Semaphore(parallel)
        errors: Counter[str] = Counter()
        done = asyncio.Event()

        async def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, await asyncio.to_thread(chromium_pss, root))
                await asyncio.sleep(0.5)

        async def one(path: str) -> bool:
            async with sem:
                response = await stub.Render(renderer_pb2.RenderRequest(url=spa.base + path, job_id="bench"),
                                             timeout=120)
                if response.page.error:
                    errors[response.page.error_message[:120]] += 1
                return not response.page.error

        sampler = asyncio.create_task(sample())
        started = time.monotonic()
        ok = await asyncio.gather(*(one(p) for p in spa.paths()))
        seconds = time.monotonic() - started
        done.set()
        await sampler
        print(f"rendered pages: {sum(ok)}/{len(ok)} in {seconds:.2f} s = {sum(ok) / seconds:.2f} pages/s "
              f"({parallel} pages in flight, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f})")
        for message, count in errors.most_common(5):
            print(f"  failed x{count}: {message}")
        print(f"chromium PSS: browser with one idle context {idle / 2**20:.0f} MiB, peak {peak / 2**20:.0f} MiB "
              f"with {parallel} pages open, per open page {(peak - idle) / parallel / 2**20:.0f} MiB")
    finally:
        await channel.close(None)
        proc.terminate()
        await proc.wait()
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
        # CPU seconds of the whole stack (this process and its workers): what auto costs,
        # far steadier on a shared machine than the wall clock.
        cpu: dict[str, list[float]] = {"never": [], "auto": []}
        rendered = 0
        async with LocalStack(crawler=local_crawler_settings(), processor=replace(ProcessorSettings(), workers=1),
                              orchestrator=replace(OrchestratorSettings(), instance_id="bench")) as stack:
            for _ in range(rounds):
                for mode, value in (("never", pb.RENDER_MODE_NEVER), ("auto", pb.RENDER_MODE_AUTO)):
                    cpu_before = tree_cpu()
                    started = time.monotonic()
                    _, events = await run_job(stack, f"http://127.0.0.1:{port}/index.html", render_mode=value,
                                              max_pages=n + 10)
                    times[mode].append(time.monotonic() - started)
                    cpu[mode].append(tree_cpu() - cpu_before)
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
    cpu_total = {mode: sum(values) for mode, values in cpu.items()}
    print(f"CPU seconds of the stack over {rounds} rounds: never {cpu_total['never']:.2f}, auto {cpu_total['auto']:.2f}, "
          f"auto/never = {cpu_total['auto'] / cpu_total['never']:.3f}")


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
