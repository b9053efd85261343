"""Bridge event latency and fan-out benchmark (loopback only, bounded in time and count).

Measures the delay from an event leaving the orchestrator (the event's timestamp, set
when the orchestrator appends it) to its arrival at an SSE client, through the gRPC
JobEvents stream, the bridge's pump, Redis (XADD, then one XREAD loop per job per
bridge process) and the SSE fan-out. Processes: a synthetic orchestrator
(bench/events/source.py: the real contract, events at a fixed rate, no crawling), one
bridge (``python -m bridge``), a real redis-server, and the clients in this process.

    .venv/bin/python bench/events/run.py [--quick] [--max-clients 5000] [--budget 240]

p50/p99 at 1, 100 and 1,000 concurrent clients on one job, then a ramp for the most
clients one bridge process holds with p99 < 250 ms. All processes share this machine's
CPUs, so client-side parsing is included in the delay (it overstates, never flatters).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import redis.asyncio as aioredis  # noqa: E402

from bridge.redis_embedded import EmbeddedRedis  # noqa: E402

P99_LIMIT_MS = 250.0
TS_KEY = b'"timestamp":"'


@dataclass
class Phase:
    clients: int
    connected: int = 0
    failed: int = 0
    incomplete: int = 0
    samples: list[float] = field(default_factory=list)
    redis_samples: list[float] = field(default_factory=list)
    rss_mb: float = 0.0
    seconds: float = 0.0

    def pct(self, q: float, redis: bool = False) -> float:
        data = self.redis_samples if redis else self.samples
        if not data:
            return float("nan")
        s = sorted(data)
        return s[min(len(s) - 1, int(q * len(s)))] * 1000

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.incomplete == 0 and self.pct(0.99) < P99_LIMIT_MS


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


async def client(http: aiohttp.ClientSession, url: str, token: str, connected: asyncio.Event,
                 ready: list[int], phase: Phase, expected: int, window: list[float]) -> None:
    try:
        async with http.get(url, params={"token": token}, timeout=aiohttp.ClientTimeout(total=None,
                                                                                         sock_read=60)) as resp:
            if resp.status != 200:
                phase.failed += 1
                return
            phase.connected += 1
            ready[0] += 1
            if ready[0] >= phase.clients:
                connected.set()
            got = 0
            buf = b""
            async for chunk in resp.content.iter_any():
                now = time.time()
                buf += chunk
                while True:
                    i = buf.find(TS_KEY)
                    if i < 0:
                        break
                    j = i + len(TS_KEY)
                    end = buf.find(b'"', j)
                    if end < 0:
                        break
                    ts = datetime.fromisoformat(buf[j:end].decode()).timestamp()
                    buf = buf[end:]
                    got += 1
                    if window[0] and ts >= window[0]:
                        phase.samples.append(now - ts)
                keep = buf.rfind(b"\n\n")
                if keep >= 0:
                    buf = buf[keep:]
            if got < expected:
                phase.incomplete += 1
    except (aiohttp.ClientError, OSError, asyncio.TimeoutError):
        phase.failed += 1


async def redis_probe(redis: aioredis.Redis, job_id: str, phase: Phase, window: list[float]) -> None:
    """The first stage alone: event timestamp -> visible in the Redis stream."""
    key, last = f"docspasta:job:{{{job_id}}}:events", "0-0"
    while True:
        result: Any = await redis.xread({key: last}, block=1000, count=100)
        now = time.time()
        for _key, entries in result or []:
            for entry_id, fields in entries:
                last = entry_id
                ts = datetime.fromisoformat(json.loads(fields[b"d"])["timestamp"]).timestamp()
                if window[0] and ts >= window[0]:
                    phase.redis_samples.append(now - ts)
                if fields[b"e"].startswith(b"job_"):
                    return


async def run_phase(http: aiohttp.ClientSession, base: str, n: int, bridge_pid: int,
                    redis: aioredis.Redis) -> Phase:
    rate = max(5, min(50, 5000 // max(n, 1)))
    seconds = 6
    start_after = max(1.5, n / 150)  # every client connects before the first measured event
    query = f"rate={rate}&seconds={seconds}&start_after={start_after}"
    async with http.post(f"{base}/api/jobs", json={"url": f"https://bench.example/?{query}"}) as resp:
        job = await resp.json()
        assert resp.status == 201, job
    url = base + job["urls"]["events"]
    phase = Phase(clients=n)
    connected = asyncio.Event()
    ready = [0]
    window = [0.0]
    expected = 2 + rate * seconds - 1  # stream_connected, progress events, terminal (a little slack)
    gate = asyncio.Semaphore(200)
    started = time.time()

    async def one() -> None:
        async with gate:
            pass
        await client(http, url, job["token"], connected, ready, phase, expected, window)

    tasks = [asyncio.create_task(one()) for _ in range(n)]
    tasks.append(asyncio.create_task(redis_probe(redis, job["job_id"], phase, window)))
    try:
        await asyncio.wait_for(connected.wait(), timeout=start_after + 30)
    except TimeoutError:
        pass
    window[0] = time.time()  # only events created after every client is connected
    await asyncio.wait(tasks, timeout=start_after + seconds + 60)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    phase.seconds = time.time() - started
    phase.rss_mb = rss_mb(bridge_pid)
    return phase


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="1, 100 and 1,000 clients only")
    parser.add_argument("--max-clients", type=int, default=5000)
    parser.add_argument("--budget", type=float, default=180.0, help="no new phase after this many seconds")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    deadline = time.monotonic() + args.budget

    async with EmbeddedRedis() as redis:
        source = await asyncio.create_subprocess_exec(
            sys.executable, str(ROOT / "bench/events/source.py"), stdout=asyncio.subprocess.PIPE)
        assert source.stdout is not None
        source_port = int((await source.stdout.readline()).decode())
        port = free_port()
        env = {**os.environ, "PYTHONPATH": str(ROOT), "REDIS_URL": redis.url, "BRIDGE_PORT": str(port),
               "ORCHESTRATOR_TARGET": f"127.0.0.1:{source_port}", "BRIDGE_RATE_LIMIT_BURST": "1000",
               "BRIDGE_RATE_LIMIT_PER_MINUTE": "6000", "LOG_LEVEL": "warning"}
        bridge = await asyncio.create_subprocess_exec(sys.executable, "-m", "bridge", cwd=str(ROOT), env=env)
        base = f"http://127.0.0.1:{port}"
        results: list[Phase] = []
        probe = aioredis.Redis(unix_socket_path=redis.socket_path)
        try:
            connector = aiohttp.TCPConnector(limit=0, force_close=False)
            async with aiohttp.ClientSession(connector=connector) as http:
                for _ in range(200):
                    try:
                        async with http.get(f"{base}/healthz") as r:
                            if r.status == 200:
                                break
                    except aiohttp.ClientError:
                        await asyncio.sleep(0.1)
                counts = [1, 100, 1000]
                if not args.quick:
                    counts += [c for c in (2000, 3000, 4000, 5000, 7500, 10000) if c <= args.max_clients]
                for n in counts:
                    if results and time.monotonic() > deadline:
                        print(f"(time budget reached before {n} clients)")
                        break
                    phase = await run_phase(http, base, n, bridge.pid, probe)
                    results.append(phase)
                    print(f"  {n:>6} clients: p50 {phase.pct(0.5):7.1f} ms  p99 {phase.pct(0.99):7.1f} ms  "
                          f"(to Redis p50 {phase.pct(0.5, True):.1f} p99 {phase.pct(0.99, True):.1f})  "
                          f"failed {phase.failed} incomplete {phase.incomplete}  samples {len(phase.samples)}  "
                          f"bridge RSS {phase.rss_mb:.0f} MB  ({phase.seconds:.0f} s)", flush=True)
                    if n > 1000 and not phase.ok:
                        break
        finally:
            bridge.terminate()
            await bridge.wait()
            source.terminate()
            await source.wait()
            await probe.aclose()

    print()
    print("| clients | p50 ms | p99 ms | to-Redis p50/p99 ms | failed | samples | bridge RSS MB |")
    print("|--------:|-------:|-------:|--------------------:|-------:|--------:|--------------:|")
    for p in results:
        print(f"| {p.clients:>7} | {p.pct(0.5):6.1f} | {p.pct(0.99):6.1f} | "
              f"{p.pct(0.5, True):8.1f} / {p.pct(0.99, True):7.1f} | {p.failed + p.incomplete:>6} | "
              f"{len(p.samples):>7} | {p.rss_mb:>13.0f} |")
    held = [p.clients for p in results if p.ok]
    print(f"\nmost concurrent SSE clients on one bridge process with p99 < {P99_LIMIT_MS:.0f} ms: "
          f"{max(held) if held else 0} (tried up to {max(p.clients for p in results)})")
    print(f"cpu cores: {os.cpu_count()}, load average at the end: {os.getloadavg()[0]:.1f}, "
          f"python {sys.version.split()[0]}; percentiles: nearest rank")


if __name__ == "__main__":
    asyncio.run(main())
