"""SSE fan-out benchmark: per-event delay from the orchestrator's emit time to an SSE
client's socket, with 1 to N concurrent clients on ONE bridge process.

Processes, all on loopback: a real redis-server; the event source (bench/sse/source.py,
a gRPC server speaking the Orchestrator contract whose job emits a crawl's event mix at
``--rate`` events/s); one bridge (``python -m bridge``: its pump copies the job's
JobEvents into Redis, its per-job feed reads Redis and fans out); and the clients in
``--procs`` separate load-generator processes (bench/sse/loadgen.py: raw asyncio
Protocols parsing only ``id:`` and the timestamp). For each client count a new job is
created, every client connects and receives the first event, and only then does the
source start emitting, so every measured event is a live one.

    .venv/bin/python bench/sse/run.py [--clients 1,1000,2000,5000] [--rate 100] [--seconds 10]
        [--procs 4] [--http 1.1] [--json FILE]

Reported per client count: p50 / p99 / max of the delay over every (event, client)
delivery, clients connected, errors (failed connects, gaps, missing terminal event),
and the CPU seconds (and % of one core) of the bridge, the load generators, Redis and
the source during the measured window, the bridge's and the generators' CPU seconds per
million deliveries (what the fan-out costs; comparable across loads, unlike the
delays), and the 1-minute load average when the window began and ended. The soft file-descriptor limit is raised to the
hard one for this process tree only.

The bridge, the source and each generator start in their own session, as separate
services would: with Linux's autogroup scheduling (on here) every session gets one
fair share of the CPUs, so in one shared session the generators would take the
bridge's CPU and the number would measure the pair (``--no-sessions`` does that). ``--autogroup-nice -10`` (root) gives each of those
sessions that nice value: on a machine shared with other work it approximates the
bench having the machine (or a CPU reservation) to itself; label such runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import resource
import signal
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

HERE = Path(__file__).resolve().parent
TICKS = os.sysconf("SC_CLK_TCK")
P99_BAR_MS = {1: 50.0}
DEFAULT_P99_BAR_MS = 250.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process, from /proc (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@dataclass
class Result:
    clients: int
    rate: float
    seconds: float
    bridge: str = "this tree"
    ready: int = 0
    failed: int = 0
    incomplete: int = 0
    gaps: int = 0
    events: int = 0
    writes: int = 0  # reads the generators made: at most one per (pass, client), the bridge's sends
    max_ms: float = 0.0
    hist: dict[int, int] = field(default_factory=dict)
    bucket_ms: float = 0.1
    wall: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)
    bridge_rss: float = 0.0
    errors: dict[str, int] = field(default_factory=dict)
    connect_seconds: float = 0.0
    load: tuple[float, float] = (0.0, 0.0)  # 1-minute load average when the window began and ended
    to_redis: list[float] = field(default_factory=list)
    slowest: list[tuple[float, int]] = field(default_factory=list)

    def redis_pct(self, q: float) -> float:
        if not self.to_redis:
            return math.nan
        data = sorted(self.to_redis)
        return data[min(len(data) - 1, max(0, math.ceil(q * len(data)) - 1))]

    def pct(self, q: float) -> float:
        total = sum(self.hist.values())
        if not total:
            return math.nan
        rank = max(1, math.ceil(q * total))  # nearest rank
        seen = 0
        for bucket in sorted(self.hist):
            seen += self.hist[bucket]
            if seen >= rank:
                return (bucket + 1) * self.bucket_ms  # the bucket's upper edge: never flatters
        return self.max_ms

    def per_million(self, process: str) -> float:
        """CPU seconds of ``process`` per million (event, client) deliveries: what the
        fan-out costs, comparable across client counts and loads."""
        return self.cpu.get(process, 0.0) / self.events * 1e6 if self.events else math.nan

    @property
    def error_count(self) -> int:
        return self.failed + self.incomplete + self.gaps

    @property
    def bar_ms(self) -> float:
        return P99_BAR_MS.get(self.clients, DEFAULT_P99_BAR_MS)

    @property
    def met(self) -> bool:
        return self.error_count == 0 and self.ready == self.clients and self.pct(0.99) < self.bar_ms

    def as_dict(self) -> dict[str, Any]:
        return {"bridge": self.bridge, "clients": self.clients, "rate": self.rate, "seconds": self.seconds,
                "connected": self.ready,
                "failed": self.failed, "incomplete": self.incomplete, "gaps": self.gaps,
                "deliveries": self.events, "p50_ms": self.pct(0.5), "p99_ms": self.pct(0.99),
                "max_ms": self.max_ms, "wall_s": self.wall, "cpu_s": self.cpu, "bridge_rss_mib": self.bridge_rss,
                "bridge_cpu_s_per_million": self.per_million("bridge"),
                "generators_cpu_s_per_million": self.per_million("generators"), "load": self.load,
                "client_reads": self.writes,
                "bridge_cpu_us_per_client_read": self.cpu.get("bridge", 0.0) / self.writes * 1e6 if self.writes else None,
                "errors": self.errors, "p99_bar_ms": self.bar_ms, "met": self.met}


@dataclass
class BridgeProc:
    label: str
    proc: asyncio.subprocess.Process
    base: str


class Bench:
    def boost(self, pid: int) -> None:
        """``--autogroup-nice``: the nice value of the autogroup (session) of ``pid``."""
        if self.args.autogroup_nice is not None and pid:
            Path(f"/proc/{pid}/autogroup").write_text(str(self.args.autogroup_nice))

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.bridges: dict[str, BridgeProc] = {}
        self.source: asyncio.subprocess.Process | None = None
        self.redis_pid = 0
        self.redis_socket = ""

    async def start(self, redis: EmbeddedRedis) -> None:
        proc = getattr(redis, "_proc", None)
        self.redis_pid = proc.pid if proc is not None else 0
        self.redis_socket = redis.socket_path
        self.boost(self.redis_pid)
        self.source = await asyncio.create_subprocess_exec(
            sys.executable, str(HERE / "source.py"), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            start_new_session=self.args.sessions)
        self.boost(self.source.pid)
        assert self.source.stdout is not None
        source_port = int((await self.source.stdout.readline()).decode())
        trees = {"this tree": ROOT}
        if self.args.before:
            trees["before"] = self.args.before.resolve()
        for label, tree in trees.items():
            self.bridges[label] = await self.start_bridge(label, tree, redis.url, source_port)

    async def start_bridge(self, label: str, tree: Path, redis_url: str, source_port: int) -> BridgeProc:
        """``python -m bridge`` of ``tree`` (this interpreter, that tree's code)."""
        port = free_port()
        env = {**os.environ, "PYTHONPATH": str(tree), "REDIS_URL": redis_url, "BRIDGE_PORT": str(port),
               "BRIDGE_HOST": "127.0.0.1", "ORCHESTRATOR_TARGET": f"127.0.0.1:{source_port}",
               "PROCESSOR_TARGET": f"127.0.0.1:{source_port}",
               "BRIDGE_RATE_LIMIT_BURST": "100000", "BRIDGE_RATE_LIMIT_PER_MINUTE": "100000",
               "LOG_LEVEL": "warning"}
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bridge", cwd=str(tree), env=env,
                                                    start_new_session=self.args.sessions)
        self.boost(proc.pid)
        bridge = BridgeProc(label, proc, f"http://127.0.0.1:{port}")
        async with aiohttp.ClientSession() as http:
            for _ in range(300):
                try:
                    async with http.get(f"{bridge.base}/healthz") as r:
                        if r.status == 200:
                            return bridge
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError(f"the bridge of {tree} did not become healthy")

    async def stop(self) -> None:
        for proc in [b.proc for b in self.bridges.values()] + [self.source]:
            if proc is not None and proc.returncode is None:
                if proc is self.source and proc.stdin is not None:
                    proc.stdin.close()
                proc.terminate()
                await proc.wait()

    async def probe(self, job_id: str, result: Result) -> None:
        """The first stage alone: emit time -> the event visible in the job's Redis stream
        (one XREAD client here, beside the bridge's)."""
        key, last = f"docspasta:job:{{{job_id}}}:events", "0-0"
        client = aioredis.Redis(unix_socket_path=self.redis_socket)
        try:
            while True:
                found: Any = await client.xread({key: last}, block=1000, count=1000)
                now = time.time()
                for _key, entries in found or []:
                    for entry_id, fields in entries:
                        last = entry_id
                        data = json.loads(fields[b"d"])
                        if data["sequence"] > 1:
                            result.to_redis.append((now - datetime.fromisoformat(data["timestamp"]).timestamp()) * 1000)
                        if fields[b"e"] == b"job_completed":
                            return
        finally:
            await client.aclose()

    async def phase(self, clients: int, label: str) -> Result:
        args = self.args
        bridge = self.bridges[label]
        assert self.source is not None and self.source.stdin is not None
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{bridge.base}/api/jobs", json={"url": "https://bench.example/docs/"}) as resp:
                job = await resp.json()
                if resp.status != 201:
                    raise RuntimeError(f"job creation failed: {resp.status} {job}")
        path = f"{job['urls']['events']}?token={job['token']}"
        procs = max(1, min(args.procs, clients))
        shares = [clients // procs + (1 if i < clients % procs else 0) for i in range(procs)]
        deadline = 90 + clients / 40 + args.seconds * 3
        gens = [await asyncio.create_subprocess_exec(
            sys.executable, str(HERE / "loadgen.py"), "--port", bridge.base.rsplit(":", 1)[1], "--path", path,
            "--connections", str(share), "--http", args.http, "--poll-interval", str(args.poll_interval),
            "--deadline", str(deadline),
            stdout=asyncio.subprocess.PIPE, limit=64 * 1024 * 1024, start_new_session=args.sessions)
            for share in shares]
        for gen in gens:
            self.boost(gen.pid)
        result = Result(clients=clients, rate=args.rate, seconds=args.seconds, bridge=label)

        async def line(gen: asyncio.subprocess.Process) -> dict[str, Any]:
            assert gen.stdout is not None
            raw = await gen.stdout.readline()
            if not raw:
                raise RuntimeError("a load generator exited early")
            return dict(json.loads(raw))

        try:
            readies = await asyncio.gather(*(line(g) for g in gens))
            result.ready = sum(r["ready"] for r in readies)
            result.connect_seconds = max(r["connect_seconds"] for r in readies)
            await asyncio.sleep(1.0)  # let the accept/handshake work settle before measuring
            pids = {"bridge": [bridge.proc.pid], "generators": [],
                    "redis": [self.redis_pid] if self.redis_pid else [], "source": [self.source.pid]}
            before = {k: sum(cpu_seconds(p) for p in v) for k, v in pids.items()}
            load_before = os.getloadavg()[0]
            started = time.monotonic()
            self.source.stdin.write(f"go {job['job_id']} {args.rate} {args.seconds}\n".encode())
            await self.source.stdin.drain()
            probe = asyncio.create_task(self.probe(job["job_id"], result))
            reports = await asyncio.gather(*(line(g) for g in gens))
            result.wall = time.monotonic() - started
            after = {k: sum(cpu_seconds(p) for p in v) for k, v in pids.items() if k != "generators"}
            # Each generator reports its own CPU when its streams ended, before it works
            # out the delays (that part never competes with the bridge).
            before["generators"] = sum(r["cpu_s"] for r in readies)
            after["generators"] = sum(r["cpu_s"] for r in reports)
            result.cpu = {k: round(after[k] - before[k], 2) for k in pids}
            result.load = (load_before, os.getloadavg()[0])
            result.bridge_rss = rss_mib(bridge.proc.pid)
            await asyncio.wait_for(probe, timeout=30)
        finally:
            for gen in gens:
                if gen.returncode is None:
                    gen.terminate()
                await gen.wait()
        for r in reports:
            result.failed += r["failed"]
            result.incomplete += r["incomplete"]
            result.gaps += r["gaps"]
            result.events += r["events"]
            result.writes += r["reads"]
            result.max_ms = max(result.max_ms, r["max_ms"])
            result.slowest = sorted(result.slowest + [tuple(x) for x in r["slowest"]])[-5:]
            result.bucket_ms = r["bucket_ms"]
            for k, v in r["hist"].items():
                result.hist[int(k)] = result.hist.get(int(k), 0) + v
            for k, v in r["errors"].items():
                result.errors[k] = result.errors.get(k, 0) + v
        result.failed += clients - result.ready - sum(r["failed"] for r in reports)
        return result


def table(results: list[Result]) -> str:
    rows = ["| bridge | clients | connected | events/s | deliveries | p50 ms | p99 ms | max ms | errors | "
            "bridge CPU s (% core) | bridge CPU s / M deliveries | generators CPU s (/ M) | redis CPU s | "
            "source CPU s | bridge RSS MiB | load avg | p99 bar |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in results:
        share = 100 * r.cpu.get("bridge", 0) / r.wall if r.wall else 0
        rows.append(f"| {r.bridge} | {r.clients:,} | {r.ready:,} | {r.rate:g} | {r.events:,} | {r.pct(0.5):.1f} | "
                    f"{r.pct(0.99):.1f} | {r.max_ms:.1f} | {r.error_count} | {r.cpu.get('bridge', 0):.2f} "
                    f"({share:.0f} %) | {r.per_million('bridge'):.2f} | {r.cpu.get('generators', 0):.2f} "
                    f"({r.per_million('generators'):.2f}) | {r.cpu.get('redis', 0):.2f} | "
                    f"{r.cpu.get('source', 0):.2f} | {r.bridge_rss:.0f} | {r.load[0]:.1f}–{r.load[1]:.1f} | "
                    f"< {r.bar_ms:.0f} ms: {'met' if r.met else 'NOT met'} |")
    return "\n".join(rows)


async def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", default="1,1000,2000,5000", help="comma-separated client counts, one job each")
    ap.add_argument("--rate", type=float, default=100.0, help="events per second the job emits")
    ap.add_argument("--seconds", type=float, default=10.0, help="how long the job emits")
    ap.add_argument("--procs", type=int, default=4, help="load-generator processes (clients split evenly)")
    ap.add_argument("--http", choices=["1.0", "1.1"], default="1.1")
    ap.add_argument("--poll-interval", type=float, default=0.002, help="load generators: sleep between polls (s)")
    ap.add_argument("--no-sessions", dest="sessions", action="store_false",
                    help="keep every process in this session (one autogroup: the generators then take CPU "
                         "from the bridge's share)")
    ap.add_argument("--autogroup-nice", type=int, metavar="N",
                    help="give every session of the bench (bridge, generators, Redis, source) this autogroup nice "
                         "value (root for N < 0): on a shared machine, close to having it to itself")
    ap.add_argument("--before", type=Path, help="also run the bridge of this tree (e.g. a `git worktree` of an "
                    "older commit), alternately with this one, on the same Redis, source and generators")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()
    counts = [int(c) for c in args.clients.split(",") if c.strip()]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = max(counts) + 512
    if hard < need:
        print(f"the hard file-descriptor limit ({hard}) is below {need}: lower --clients", file=sys.stderr)
        return 2
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # inherited by the bridge and the generators
    results: list[Result] = []
    bench = Bench(args)
    # SIGTERM (or Ctrl-C) ends the run through the finally blocks: no process is left behind.
    task = asyncio.current_task()
    assert task is not None
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, task.cancel)
    async with EmbeddedRedis() as redis:
        try:
            await bench.start(redis)
            labels = list(bench.bridges)
            for i, n in enumerate(counts):
                # Alternate which bridge goes first, so neither always gets the quieter moment.
                for label in labels if i % 2 == 0 else labels[::-1]:
                    r = await bench.phase(n, label)
                    results.append(r)
                    print(f"  [{label}] {n:>6} clients: p50 {r.pct(0.5):.1f} ms  p99 {r.pct(0.99):.1f} ms  "
                          f"max {r.max_ms:.1f} ms  (to Redis p50 {r.redis_pct(0.5):.1f} "
                          f"p99 {r.redis_pct(0.99):.1f})  connected {r.ready}  errors {r.error_count} "
                          f"{r.errors or ''}  cpu {r.cpu}  wall {r.wall:.1f} s  "
                          f"connect {r.connect_seconds:.1f} s  reads per client {r.writes / max(1, r.ready):.0f} "
                          f"(bridge {r.cpu.get('bridge', 0) / max(1, r.writes) * 1e6:.1f} µs CPU per client read)  "
                          f"slowest (ms, seq) {r.slowest}", flush=True)
        finally:
            await bench.stop()
    print()
    print(table(results))
    print(f"\n{args.rate:g} events/s for {args.seconds:g} s per job, HTTP/{args.http}, {args.procs} load-generator "
          f"processes{'' if args.autogroup_nice is None else f', autogroup nice {args.autogroup_nice}'}; cpu cores {os.cpu_count()}, load average at the end {os.getloadavg()[0]:.1f}; "
          "percentiles: nearest rank over 0.1 ms buckets (upper edge)")
    if args.json:
        args.json.write_text(json.dumps([r.as_dict() for r in results], indent=2))
    return 0 if all(r.met for r in results) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
