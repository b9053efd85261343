"""Issue 4, check 1: drop the SSE connection at 100+ random points during a real crawl
and resume with Last-Event-ID: every sequence exactly once, in order, terminal last."""

from __future__ import annotations

import random
import time
from datetime import datetime

import aiohttp

from docspasta.events import TERMINAL_EVENTS
from docspasta.local import LocalStack
from tests.bridge.conftest import BridgeFactory
from tests.bridge.support import SSEParser, create_job, read_all
from tests.support.site import FixtureSite, tree_site

MIN_DROPS_DURING_CRAWL = 100


async def test_random_drops_resume_without_gap_or_duplicate(
        stack: LocalStack, site: FixtureSite, make_bridge: BridgeFactory, http: aiohttp.ClientSession) -> None:
    site.pages.update(tree_site(70))
    site.delay = 0.08
    base = await make_bridge(stack)
    job = await create_job(http, base, site.url("/docs/"), concurrency=2, max_pages=70)
    events_url = base + job["urls"]["events"]
    rng = random.Random(20260422)
    received: list[tuple[int, str]] = []
    drop_times: list[float] = []
    terminal_at: float | None = None
    connections = 0
    while terminal_at is None:
        connections += 1
        assert connections < 3000, "too many reconnections"
        last = received[-1][0] if received else 0
        # The first connection resumes with the query parameter, every later one with the header.
        kwargs: dict[str, object] = {"params": {"token": job["token"]}}
        if last and connections % 7 == 0:
            kwargs["params"] = {"token": job["token"], "last_event_id": str(last)}
        elif last:
            kwargs["headers"] = {"Last-Event-ID": str(last)}
        budget = rng.randint(1, 700)  # drop after this many bytes: mid-line, mid-event, anywhere
        parser = SSEParser()
        async with http.get(events_url, **kwargs) as resp:  # type: ignore[arg-type]
            assert resp.status == 200
            read = 0
            async for chunk in resp.content.iter_any():
                chunk = chunk[:budget - read]
                read += len(chunk)
                for ev in parser.feed(chunk):
                    assert ev.id is not None
                    received.append((int(ev.id), ev.event))
                    if ev.event in TERMINAL_EVENTS:
                        terminal_at = datetime.fromisoformat(ev.json["timestamp"].replace("Z", "+00:00")).timestamp()
                if read >= budget:
                    drop_times.append(time.time())
                    resp.close()  # abort the connection, no clean end
                    break

    seqs = [s for s, _ in received]
    assert seqs == list(range(1, len(seqs) + 1)), "gap, duplicate or disorder"
    assert received[-1][1] in TERMINAL_EVENTS
    assert sum(name in TERMINAL_EVENTS for _, name in received) == 1
    assert received[-1][1] == "job_completed"
    during = sum(t < terminal_at for t in drop_times)
    print(f"drops during crawl {during} of {len(drop_times)}, events {len(seqs)}")
    assert during >= MIN_DROPS_DURING_CRAWL, f"only {during} drops before the job ended ({len(drop_times)} in all)"

    # After the end: a reconnect gets what it missed, then the stream closes.
    last = seqs[-1]
    status, tail = await read_all(http, events_url, params={"token": job["token"]},
                                  headers={"Last-Event-ID": str(last - 5)})
    assert status == 200 and [int(e.id or 0) for e in tail] == list(range(last - 4, last + 1))
    status, nothing = await read_all(http, events_url, params={"token": job["token"]},
                                     headers={"Last-Event-ID": str(last)})
    assert status == 200 and nothing == []
