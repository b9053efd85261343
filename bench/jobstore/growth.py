"""What the orchestrator's per-job state costs per page as the job grows: the real
frontier, dedup and write-behind writer on a SQLite job store, driven as a crawl of a
tree site drives them, without the crawler, the processor or the network.

  .venv/bin/python bench/jobstore/growth.py [--pages 50000] [--window 5000] [--fanout 32]

Per page, as ``orchestrator/job.py`` does: pop the next URL, look up its links (its
siblings, its children, its parent, the home page and the top-level sections), push
the new ones, check its HTML digest and canonical claims, keep its text hash, mark it
done, two events of ~300 bytes; a commit every 25 pages. Prints the CPU milliseconds
per page (``process_time``: the event loop and aiosqlite's thread) of each window of
pages: flat rows mean nothing in this path grows with the job. Run with the project's
venv (PYTHONPATH = the tree).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from orchestrator.dedup import Dedup  # noqa: E402
from orchestrator.frontier import Frontier  # noqa: E402
from orchestrator.persist import JobWriter  # noqa: E402
from orchestrator.store.base import NewJob, StoredEvent  # noqa: E402
from orchestrator.store.sqlite import SqliteJobStore  # noqa: E402

EVENT = b"p" * 300
COMMIT_EVERY = 25


def url(i: int) -> str:
    return f"http://127.0.0.1:8000/s/{i // 1024}/{i // 32}/page{i}.html"


async def run(pages: int, window: int, fanout: int) -> None:
    def children(i: int) -> list[int]:  # a tree numbered breadth first
        return [c for c in range(i * fanout + 1, i * fanout + fanout + 1) if c < pages]

    top = list(range(1, min(fanout, pages)))
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteJobStore(path=str(Path(tmp) / "jobs.db"))
        await store.open()
        try:
            await store.create_job(NewJob(job_id="j", url=url(0), options=b""), owner="me", lease_seconds=3600,
                                   start=True, first_events=lambda _: [StoredEvent(1, "stream_connected", b"")])
            writer = JobWriter(store=store, job_id="j", owner="me", snapshot=lambda: (b"t" * 60, b"c" * 200),
                               on_cancel=lambda: None, on_lost=lambda: None)
            frontier = Frontier(job_id="j", store=store, writer=writer)
            dedup = Dedup(job_id="j", store=store, writer=writer)
            frontier.push(url(0), url(0), 0)
            sequence, done, t0 = 1, 0, time.process_time()
            while len(frontier):
                if frontier.needs_refill():
                    await frontier.refill()
                item = frontier.pop()
                if item is None:
                    await frontier.refill()
                    continue
                i = int(item.key.rsplit("page", 1)[1].removesuffix(".html"))
                parent = (i - 1) // fanout if i else 0
                links = [url(j) for j in [*children(parent), *children(i), parent, 0, *top]]
                found = await frontier.lookup(links)
                for link in links:
                    if link not in found and frontier.peek(link) is None:
                        frontier.push(link, link, item.depth + 1)
                await dedup.same_html(f"<p>page {i}</p>", item.key)
                await dedup.has_claims(item.key)
                dedup.keep(item.key, i.to_bytes(16, "big"))
                frontier.done(item)
                for _ in range(2):
                    sequence += 1
                    writer.event(StoredEvent(sequence, "url_processed", EVENT))
                done += 1
                if done % COMMIT_EVERY == 0:
                    await writer.flush()
                if done % window == 0:
                    now = time.process_time()
                    print(f"{done:8d} pages  {1000 * (now - t0) / window:6.3f} CPU ms a page", flush=True)
                    t0 = now
            await writer.flush()
        finally:
            await store.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=50_000)
    ap.add_argument("--window", type=int, default=5000)
    ap.add_argument("--fanout", type=int, default=32)
    args = ap.parse_args()
    asyncio.run(run(args.pages, args.window, args.fanout))


if __name__ == "__main__":
    main()
