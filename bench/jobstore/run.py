"""The job store alone: what one write-behind commit costs, and how soon another
replica's JobEvents tail sees it, on SQLite and on a throwaway PostgreSQL 15.

  .venv/bin/python bench/jobstore/run.py [--commits 300] [--events 40] [--backend sqlite|postgres ...]

A commit is what a busy job writes per 50 ms flush (defaults: 40 events of ~1.2 KB,
as many frontier rows, 10 dedup hashes, totals and checkpoint), committed one after
the other by one writer; meanwhile a second store on the same database (another
replica: woken by LISTEN/NOTIFY on PostgreSQL, by the in-process wake-up on one SQLite
file) tails the job and records the delay from a commit's return until it has read
that commit's last event. Prints per backend: commit latency
p50/p99, commits/s and events/s for one writer, tail delay p50/p99.
Run with the project's venv (PYTHONPATH = the tree); PostgreSQL comes from
tests/store/postgres_server.py (Debian's postgresql, scripts/system-deps.sh).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from orchestrator.store.base import (HASH_HTML, Batch, FrontierEntry, HashEntry, JobStore, NewJob,  # noqa: E402
                                     StoredEvent)
from orchestrator.store.postgres import PostgresJobStore  # noqa: E402
from orchestrator.store.sqlite import SqliteJobStore  # noqa: E402

PAYLOAD = b"x" * 1200


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(writer: JobStore, reader: JobStore, *, commits: int, events: int) -> dict[str, float]:
    await writer.create_job(NewJob(job_id="bench", url="http://bench.test/", options=b""), owner="w",
                            lease_seconds=600, start=True,
                            first_events=lambda _p: [StoredEvent(1, "stream_connected", PAYLOAD)])
    committed: dict[int, float] = {}
    delays: list[float] = []
    done = asyncio.Event()

    async def tail() -> None:
        seen = 1
        while not done.is_set() or seen < max(committed, default=1):
            batch = await reader.events("bench", after_sequence=seen, limit=10_000)
            now = time.perf_counter()
            for e in batch:
                if e.sequence in committed:
                    delays.append(now - committed[e.sequence])
            if batch:
                seen = batch[-1].sequence
            else:
                await reader.wait_for_events("bench", after_sequence=seen, timeout=5)

    tailer = asyncio.create_task(tail())
    latencies = []
    sequence = 1
    began = time.perf_counter()
    for n in range(commits):
        batch_events = [StoredEvent(sequence + i + 1, "url_processed", PAYLOAD) for i in range(events)]
        frontier = [FrontierEntry(key=f"http://bench.test/{n}/{i}", url=f"http://bench.test/{n}/{i}", depth=2,
                                  order=n * events + i) for i in range(events)]
        hashes = [HashEntry(HASH_HTML, f"{n:08x}{i:08x}") for i in range(10)]
        t0 = time.perf_counter()
        await writer.commit(Batch(job_id="bench", owner="w", events=batch_events, frontier=frontier, hashes=hashes,
                                  totals=b"t" * 200, checkpoint=b"c" * 500))
        t1 = time.perf_counter()
        latencies.append(t1 - t0)
        committed[batch_events[-1].sequence] = t1
        sequence += events
    elapsed = time.perf_counter() - began
    done.set()
    await asyncio.wait_for(tailer, 60)
    return {"commit_p50_ms": 1000 * statistics.median(latencies), "commit_p99_ms": 1000 * quantile(latencies, 0.99),
            "commits_per_s": commits / elapsed, "events_per_s": commits * events / elapsed,
            "tail_p50_ms": 1000 * statistics.median(delays), "tail_p99_ms": 1000 * quantile(delays, 0.99)}


async def run_sqlite(args: argparse.Namespace) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "jobs.db")
        writer, reader = SqliteJobStore(path=path), SqliteJobStore(path=path)
        await writer.open()
        await reader.open()
        try:
            return await measure(writer, reader, commits=args.commits, events=args.events)
        finally:
            await reader.close()
            await writer.close()


async def run_postgres(args: argparse.Namespace, dsn: str) -> dict[str, float]:
    writer, reader = PostgresJobStore(dsn=dsn), PostgresJobStore(dsn=dsn)
    await writer.open()
    await reader.open()
    try:
        return await measure(writer, reader, commits=args.commits, events=args.events)
    finally:
        await reader.close()
        await writer.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--commits", type=int, default=300)
    ap.add_argument("--events", type=int, default=40, help="events (and frontier rows) per commit")
    ap.add_argument("--backend", action="append", choices=["sqlite", "postgres"], default=[])
    args = ap.parse_args()
    backends = args.backend or ["sqlite", "postgres"]
    results: dict[str, dict[str, float]] = {}
    if "sqlite" in backends:
        results["sqlite"] = asyncio.run(run_sqlite(args))
    if "postgres" in backends:
        from tests.store.postgres_server import PostgresServer

        with PostgresServer.start() as pg:
            async def on_fresh_database() -> dict[str, float]:
                async with pg.database("bench") as dsn:
                    return await run_postgres(args, dsn)

            results["postgres"] = asyncio.run(on_fresh_database())
    print(f"{args.commits} commits of {args.events} events + {args.events} frontier rows + 10 hashes, one writer; "
          "tail = another store following the job")
    print("| backend | commit p50 ms | commit p99 ms | commits/s | events/s | tail p50 ms | tail p99 ms |")
    print("|---|---|---|---|---|---|---|")
    for name, r in results.items():
        print(f"| {name} | {r['commit_p50_ms']:.1f} | {r['commit_p99_ms']:.1f} | {r['commits_per_s']:.0f} | "
              f"{r['events_per_s']:.0f} | {r['tail_p50_ms']:.1f} | {r['tail_p99_ms']:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
