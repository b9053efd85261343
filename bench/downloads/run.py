"""Bridge memory while downloading a big job (issue 11: under 150 MiB for 20k pages).

Generates N pages straight into a SQLite page store (tests/bridge/pagegen.py: nested
paths, headings, code, links; no crawl), serves them with a real processor (in this
process), registers the job in a real redis-server, starts ``python -m bridge`` as its
own process and downloads every output through it while sampling the bridge's RSS
(/proc/PID/status VmRSS every 20 ms; VmHWM, the kernel's peak, at the end), each
download through a fresh bridge process. RSS in MiB.

    .venv/bin/python bench/downloads/run.py [--pages 20000] [--before PATH]

``--before PATH``: also run a bridge from another tree (e.g. ``git archive`` of an
older commit unpacked in PATH) on the same data, alternately, for a before/after table.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import redis.asyncio as aioredis  # noqa: E402

from bridge.auth import token_hash  # noqa: E402
from bridge.buffer import EventBuffer  # noqa: E402
from bridge.redis_embedded import EmbeddedRedis  # noqa: E402
from processor.server import create_server as create_processor  # noqa: E402
from processor.settings import ProcessorSettings  # noqa: E402
from tests.bridge.pagegen import fill_sqlite  # noqa: E402
from tests.bridge.procs import BridgeProcess  # noqa: E402

JOB = "bench-0123456789abcdef"
TOKEN = "bench-download-token"
SOURCE = "https://docs.example.com"
DOWNLOADS = ("markdown", "pages", "llms.txt", "llms-full.txt", "archive.zip")


def status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


async def download(http: aiohttp.ClientSession, base: str, name: str, pid: int) -> tuple[int, float, float, int]:
    """(bytes, seconds, peak RSS MiB sampled during it, HTTP status)."""
    peak = 0
    done = asyncio.Event()

    async def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, status_kib(pid, "VmRSS"))
            await asyncio.sleep(0.02)

    sampler = asyncio.create_task(sample())
    started = time.monotonic()
    size = 0
    async with http.get(f"{base}/api/jobs/{JOB}/{name}", headers={"Authorization": f"Bearer {TOKEN}"},
                        timeout=aiohttp.ClientTimeout(total=3600)) as resp:
        async for chunk in resp.content.iter_chunked(1 << 16):
            size += len(chunk)
        status = resp.status
    seconds = time.monotonic() - started
    done.set()
    await sampler
    return size, seconds, peak / 1024, status


async def run_bridge(root: Path, env: dict[str, str], http: aiohttp.ClientSession, label: str) -> None:
    """Each download through a fresh bridge process, so each peak is that download's own
    (Python rarely gives freed memory back, so a second download would show the first's)."""
    print(f"\n{label} ({root})")
    print(f"{'download':<15} {'MiB out':>9} {'s':>7} {'idle RSS':>9} {'peak RSS':>9} {'VmHWM':>7}  status")
    for name in DOWNLOADS:
        proc = BridgeProcess(env, root=root)
        await proc.start(timeout=300)  # a bridge starting on a loaded machine
        try:
            assert proc.proc is not None
            pid = proc.proc.pid
            idle = status_kib(pid, "VmRSS") / 1024
            size, seconds, peak, status = await download(http, proc.base, name, pid)
            hwm = status_kib(pid, "VmHWM") / 1024
            print(f"{name:<15} {size / 2**20:>9.1f} {seconds:>7.1f} {idle:>9.0f} {peak:>9.0f} {hwm:>7.0f}  {status}",
                  flush=True)
        finally:
            await proc.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=20_000)
    parser.add_argument("--before", type=Path, help="another source tree whose bridge to measure too")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="docspasta-dl-bench-") as tmp:
        path = f"{tmp}/pages.db"
        started = time.monotonic()
        await fill_sqlite(path, JOB, SOURCE, args.pages)
        print(f"{args.pages} pages generated into {path} ({Path(path).stat().st_size / 2**20:.0f} MiB) "
              f"in {time.monotonic() - started:.0f} s")
        settings = replace(ProcessorSettings(), bind="127.0.0.1:0", database_url=f"sqlite:///{path}", workers=1)
        host, port = await create_processor(settings)
        async with EmbeddedRedis() as redis_server:
            redis = aioredis.from_url(redis_server.url, decode_responses=True)
            buf = EventBuffer(redis, prefix="docspasta:", maxlen=100, retention_seconds=3600, job_ttl_seconds=3600)
            await buf.create_job(JOB, token_hash=token_hash(TOKEN), url=f"{SOURCE}/docs/",
                                 orchestrator="127.0.0.1:9", timeout_seconds=30)
            await buf.append_raw(JOB, 1, "job_completed", "{}")
            await redis.aclose()
            env = {"REDIS_URL": redis_server.url, "PROCESSOR_TARGET": f"127.0.0.1:{port}",
                   "ORCHESTRATOR_TARGET": "127.0.0.1:9", "LOG_LEVEL": "info", "BRIDGE_LIST_PAGES_TIMEOUT": "3600"}
            async with aiohttp.ClientSession() as http:
                await run_bridge(ROOT, env, http, "this tree")
                if args.before is not None:
                    await run_bridge(args.before.resolve(), env, http, "before")
        await host.stop(0)


if __name__ == "__main__":
    asyncio.run(main())
