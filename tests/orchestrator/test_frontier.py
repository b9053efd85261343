"""The store-backed frontier and dedup on a real SQLite job store: shallow first per
ready host, the bounded window and its refills, the bounded seen cache, dedup across
cache evictions and across a resume."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from orchestrator.cache import BoundedCache
from docspasta.texthash import text_hash
from orchestrator.dedup import Dedup
from orchestrator.frontier import Frontier
from orchestrator.keyfilter import KeyFilter
from orchestrator.persist import JobWriter
from orchestrator.store.base import F_DONE, F_IN_FLIGHT, FrontierEntry, NewJob, StoredEvent
from orchestrator.store.sqlite import SqliteJobStore


class Owned:
    def __init__(self, store: SqliteJobStore, writer: JobWriter) -> None:
        self.store = store
        self.writer = writer

    def frontier(self, **kwargs: int) -> Frontier:
        return Frontier(job_id="j", store=self.store, writer=self.writer, **kwargs)


@pytest.fixture
async def owned(tmp_path: Path) -> AsyncIterator[Owned]:
    store = SqliteJobStore(path=str(tmp_path / "jobs.db"))
    await store.open()
    await store.create_job(NewJob(job_id="j", url="https://a.com/", options=b""), owner="me", lease_seconds=60,
                           start=True, first_events=lambda _: [StoredEvent(1, "stream_connected", b"")])
    writer = JobWriter(store=store, job_id="j", owner="me", snapshot=lambda: (b"", b"{}"),
                       on_cancel=lambda: None, on_lost=lambda: None)
    yield Owned(store, writer)
    await store.close()


async def test_shallow_first_among_ready_hosts(owned: Owned) -> None:
    frontier = owned.frontier()
    frontier.push("https://a.com/1", "https://a.com/1", 2)
    frontier.push("https://b.com/1", "https://b.com/1", 3)
    frontier.push("https://a.com/0", "https://a.com/0", 1)
    known = frontier.peek("https://a.com/0")
    assert known is not None and known.taken
    assert set(await frontier.lookup(["https://a.com/0", "https://a.com/9"])) == {"https://a.com/0"}
    first = frontier.pop(ready=lambda host: host != "a.com")
    assert first is not None and first.key == "https://b.com/1"
    assert [i.key for i in (frontier.pop(), frontier.pop()) if i] == ["https://a.com/0", "https://a.com/1"]
    assert frontier.pop() is None and len(frontier) == 0
    await owned.writer.flush()
    rows = await owned.store.frontier_lookup("j", ["https://a.com/0", "https://b.com/1"])
    assert {r.state for r in rows.values()} == {F_IN_FLIGHT}


async def test_window_stays_bounded_and_refills_in_order(owned: Owned) -> None:
    frontier = owned.frontier(window=10, seen_cache=1000)
    keys = [f"https://a.com/{depth}/{i}" for depth in (3, 2, 1) for i in range(20)]
    for key in keys:
        frontier.push(key, key, int(key.split("/")[3]))
        assert frontier.window_len <= 20  # twice the window at most
    assert len(frontier) == 60
    taken = []
    while len(frontier):
        if frontier.needs_refill():
            await frontier.refill()
        item = frontier.pop()
        if item is None:
            await frontier.refill()
            continue
        taken.append((item.depth, item.order))
        frontier.done(item)
        assert frontier.window_len <= 20
    assert taken == sorted(taken) and len(taken) == 60 and len(set(taken)) == 60
    await owned.writer.flush()
    assert (await owned.store.frontier_summary("j")).counts == {F_DONE: 60}


async def test_seen_cache_is_bounded_and_misses_ask_the_store(owned: Owned) -> None:
    frontier = owned.frontier(window=5, seen_cache=20)
    keys = [f"https://a.com/p{i}" for i in range(200)]
    for key in keys:
        assert not await frontier.lookup([key])
        frontier.push(key, key, 1)
    assert len(frontier.known) <= 20 and not frontier.known.complete
    await owned.writer.flush()
    found = await frontier.lookup(keys + ["https://a.com/new"])
    assert set(found) == set(keys)
    assert "https://a.com/new" not in found
    assert len(frontier.known) <= 20
    assert not await frontier.mark_seen(keys[0], keys[0], source="x")
    assert await frontier.mark_seen("https://a.com/alias", "https://a.com/alias", source="x")
    assert await frontier.mark_seen("https://a.com/alias", "https://a.com/alias", source="x")  # x again
    assert not await frontier.mark_seen("https://a.com/alias", "https://a.com/alias", source="y")


async def test_restore_requeues_in_flight_and_warms_the_cache(owned: Owned) -> None:
    frontier = owned.frontier()
    for i in range(5):
        frontier.push(f"https://a.com/{i}", f"https://a.com/{i}", 1)
    first, second = frontier.pop(), frontier.pop()
    assert first and second
    frontier.done(first)
    await owned.writer.flush()
    assert await owned.store.requeue_in_flight("j", owner="me") == 1
    again = owned.frontier()
    rows: list[object] = []
    await again.restore(seen_count=0, on_row=rows.append)
    assert len(rows) == 5  # every stored row, for rebuilding per-URL state (trap counters)
    assert len(again) == 4 and again.seen_count == 5 and again.known.complete
    order = []
    while len(again):
        await again.refill()
        item = again.pop()
        assert item is not None
        order.append(item.key)
    assert order == [f"https://a.com/{i}" for i in range(1, 5)]
    assert second.key in order and first.key not in order


async def test_dedup_through_the_store_after_evictions(owned: Owned) -> None:
    dedup = Dedup(job_id="j", store=owned.store, writer=owned.writer, cache_size=10)
    pages = [f"<p>page {i}</p>" for i in range(50)]
    for i, html in enumerate(pages):
        assert not await dedup.same_html(html, f"k{i}")
    await owned.writer.flush()
    assert all([await dedup.same_html(html, "other") for html in pages])
    # The same page again (fetched once more after a resume) is not its own duplicate.
    assert not any([await dedup.same_html(html, f"k{i}") for i, html in enumerate(pages)])
    home, other = text_hash("<p>Home</p>"), text_hash("<p>Other</p>")
    dedup.keep("https://e.com/", home)
    assert not await dedup.canonical_duplicate("https://e.com/a", "https://e.com/", other)  # points home: kept
    assert await dedup.canonical_duplicate("https://e.com/b", "https://e.com/", home)
    assert not await dedup.canonical_duplicate("https://e.com/c", "https://e.com/t", other)  # not fetched yet
    assert await dedup.claimed("https://e.com/t", other) and not await dedup.claimed("https://e.com/t", home)
    await owned.writer.flush()
    fresh = Dedup(job_id="j", store=owned.store, writer=owned.writer, complete=False)  # a resumed job
    assert await fresh.same_html(pages[0], "other") and not await fresh.same_html(pages[0], "k0") and await fresh.has_claims("https://e.com/t")
    assert await fresh.claimed("https://e.com/t", other)


class CountingStore(SqliteJobStore):
    """The real SQLite store, counting the lookups that reach it."""

    lookups = 0

    async def frontier_lookup(self, job_id: str, keys: Sequence[str]) -> dict[str, FrontierEntry]:
        self.lookups += 1
        return await super().frontier_lookup(job_id, keys)

    async def hash_lookup(self, job_id: str, kind: str, keys: Sequence[str]) -> dict[str, list[bytes]]:
        self.lookups += 1
        return await super().hash_lookup(job_id, kind, keys)


@pytest.mark.parametrize("pages", [300, 3000])
async def test_new_keys_past_the_cache_size_cost_no_store_query(tmp_path: Path, pages: int) -> None:
    """A job many times the caches' size: each page's new links and its new HTML digest
    are known absent without asking the store, so store lookups per page do not grow
    with the job (before the key filter: one or more per page once a cache had evicted)."""
    store = CountingStore(path=str(tmp_path / "jobs.db"))
    await store.open()
    try:
        await store.create_job(NewJob(job_id="j", url="https://a.com/", options=b""), owner="me", lease_seconds=60,
                               start=True, first_events=lambda _: [StoredEvent(1, "stream_connected", b"")])
        writer = JobWriter(store=store, job_id="j", owner="me", snapshot=lambda: (b"", b"{}"),
                           on_cancel=lambda: None, on_lost=lambda: None)
        frontier = Frontier(job_id="j", store=store, writer=writer, window=50, seen_cache=100)
        dedup = Dedup(job_id="j", store=store, writer=writer, cache_size=50)
        for page in range(pages):
            children = [f"https://a.com/p{page}/c{i}" for i in range(3)]
            found = await frontier.lookup(children)
            assert not found
            for key in children:
                frontier.push(key, key, 1)
            assert not await dedup.same_html(f"<p>page {page}</p>", f"https://a.com/p{page}")
            assert not await dedup.has_claims(f"https://a.com/p{page}")
            if page % 50 == 0:
                await writer.flush()
        assert not frontier.known.complete  # the caches did evict
        # A false positive of the filter costs a query: about 1 key in 400.
        assert store.lookups <= max(3, pages // 100)
        await writer.flush()
        # Evicted keys are still found, through the store.
        assert set(await frontier.lookup(["https://a.com/p0/c0", "https://a.com/new"])) == {"https://a.com/p0/c0"}
        assert await dedup.same_html("<p>page 0</p>", "https://a.com/other")
    finally:
        await store.close()


def test_key_filter_has_no_false_negatives_and_few_false_positives() -> None:
    keys = [f"https://a.com/section/{i}/page.html" for i in range(100_000)]
    f = KeyFilter(layer_keys=4096)  # small layers: many of them by the end
    for key in keys:
        f.add(key)
    assert all(key in f for key in keys)
    false = sum(f"https://b.com/{i}" in f for i in range(100_000))
    assert false < 2000  # < 2 % with 5 layers
    assert f.nbytes < 4 * len(keys)


def test_bounded_cache_evicts_the_oldest_key_first() -> None:
    cache = BoundedCache[int](3)
    for i, key in enumerate("abc"):
        cache.put(key, i)
    cache.put("a", 9)  # an update keeps its place
    assert cache.complete and not cache.ask_store("z")
    cache.put("d", 3)
    assert "a" not in cache and cache.get("b") == 1 and cache.get("d") == 3 and len(cache) == 3
    assert not cache.complete and cache.ask_store("a") and not cache.ask_store("z")
    cache.put("a", 4)
    cache.put("e", 5)
    assert {k for k in "abcde" if k in cache} == {"d", "a", "e"}  # b, then c: the oldest first
