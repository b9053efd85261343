"""The page store contract, run unchanged against SQLite and a real PostgreSQL."""

from __future__ import annotations

import asyncio
import random
from dataclasses import replace
from typing import Any

import pytest

from processor.store import PageStore, StoredPage, open_store
from processor.store.postgres import PostgresStore
from tests.store.conftest import Backend


def page(n: int, *, job_id: str = "job-a", order: int | None = None, url: str | None = None,
         markdown: str | None = None) -> StoredPage:
    return StoredPage(job_id=job_id, url=url or f"https://docs.example.com/p/{n}", order=n if order is None else order,
                      depth=n % 4, title=f"Page {n}", markdown=markdown or f"# Page {n}\n\nBody {n} ünïcødé ✓",
                      word_count=3 + n, token_estimate=5 + n, description=f"about {n}", content_hash=f"h{n}")


async def collect(store: PageStore, job_id: str = "job-a", **kw: int) -> list[StoredPage]:
    return [p async for p in store.pages(job_id, **kw)]


async def test_round_trip_keeps_every_field(store: PageStore) -> None:
    p = page(7, markdown="x" * 200_000 + "\n```\ncode\n```\n'quotes' \"and\" $1 ? %s \\ 😀")
    await store.put(p)
    assert await collect(store) == [p]
    assert await store.count("job-a") == 1


async def test_nul_characters_never_fail_a_write(store: PageStore) -> None:
    await store.put(page(1, markdown="a\0b"))
    [got] = await collect(store)
    assert got.markdown.replace("\0", "\ufffd") == "a\ufffdb"


async def test_upsert_is_idempotent_and_replaces(store: PageStore) -> None:
    p = page(1)
    for _ in range(3):
        await store.put(p)
    assert await store.count("job-a") == 1
    newer = replace(p, title="New title", markdown="# new", order=5, depth=2, content_hash="h-new")
    await store.put(newer)
    assert await collect(store) == [newer]
    assert await store.count("job-a") == 1


async def test_pages_come_back_by_crawl_order(store: PageStore) -> None:
    pages = [page(n) for n in range(1, 31)]
    # Same order twice: ties break by URL (byte order, so "B" < "a").
    pages += [page(100, order=15, url="https://docs.example.com/a-tie"),
              page(101, order=15, url="https://docs.example.com/B-tie")]
    shuffled = pages[:]
    random.Random(7).shuffle(shuffled)
    for p in shuffled:
        await store.put(p)
    got = await collect(store)
    assert [(p.order, p.url) for p in got] == sorted((p.order, p.url) for p in pages)
    assert len(got) == 32


async def test_after_order_and_limit_across_batches(store: PageStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("processor.store.postgres.PAGE_BATCH", 3)  # exercise keyset paging
    for n in range(1, 11):
        await store.put(page(n))
    for n in (20, 21, 22):  # three pages sharing order 5, straddling a batch boundary
        await store.put(page(n, order=5))
    everything = await collect(store)
    assert [p.order for p in everything] == [1, 2, 3, 4, 5, 5, 5, 5, 6, 7, 8, 9, 10]
    assert len({p.url for p in everything}) == 13
    assert [p.order for p in await collect(store, after_order=5)] == [6, 7, 8, 9, 10]
    assert [p.order for p in await collect(store, after_order=3, limit=4)] == [4, 5, 5, 5]
    assert await collect(store, limit=7) == everything[:7]
    assert await collect(store, after_order=10) == []
    assert await collect(store, after_order=0, limit=100) == everything


async def test_jobs_are_isolated_and_counted(store: PageStore) -> None:
    for n in range(1, 6):
        await store.put(page(n, job_id="job-a"))
    for n in range(1, 4):
        await store.put(page(n, job_id="job-b"))  # same URLs, another job
    assert await store.count("job-a") == 5
    assert await store.count("job-b") == 3
    assert await store.count("job-none") == 0
    assert {p.job_id for p in await collect(store, "job-b")} == {"job-b"}
    assert await collect(store, "job-none") == []


async def test_reopening_reruns_no_migration_and_keeps_data(backend: Backend) -> None:
    first = backend.make()
    await first.open()
    await first.put(page(1))
    await first.close()
    assert await backend.schema_version() == backend.migration_count
    for n in range(2, 4):
        again = backend.make()
        await again.open()
        try:
            assert await again.count("job-a") == n - 1
            await again.put(page(n))
        finally:
            await again.close()
    assert await backend.schema_version() == backend.migration_count


async def test_replicas_starting_together_migrate_once(backend: Backend) -> None:
    stores = [backend.make() for _ in range(4)]
    await asyncio.gather(*(s.open() for s in stores))
    try:
        await asyncio.gather(*(s.put(page(i)) for i, s in enumerate(stores, 1)))
        assert await stores[0].count("job-a") == 4
    finally:
        for s in stores:
            await s.close()
    assert await backend.schema_version() == backend.migration_count


async def test_concurrent_writers_never_duplicate_or_lose_a_page(backend: Backend) -> None:
    writers = [backend.make() for _ in range(3)]
    for w in writers:
        await w.open()
    try:
        # Every writer stores every page (retries and duplicates from several processors),
        # each with its own content; the last write of a page wins, whole.
        async def write(index: int, w: PageStore) -> None:
            for n in range(1, 41):  # crawl order starts at 1
                await w.put(page(n, markdown=f"version {index} of {n}"))
        await asyncio.gather(*(write(i, w) for i, w in enumerate(writers)))
        got = await collect(writers[0])
        assert await writers[1].count("job-a") == 40
        assert [p.order for p in got] == list(range(1, 41))
        for p in got:
            assert p.markdown in {f"version {i} of {p.order}" for i in range(3)}
            assert p.title == f"Page {p.order}"
    finally:
        for w in writers:
            await w.close()


async def test_closed_store_refuses_work(backend: Backend) -> None:
    s = backend.make()
    await s.open()
    await s.close()
    await s.close()  # twice is fine
    with pytest.raises(Exception):
        await s.count("job-a")


def test_open_store_picks_the_backend() -> None:
    assert isinstance(open_store("postgresql://u@db/docspasta"), PostgresStore)
    assert isinstance(open_store("postgres://u@db/docspasta"), PostgresStore)
    assert not isinstance(open_store("sqlite:///x.db"), PostgresStore)


async def test_postgres_refuses_a_newer_schema(pg_server: object, backend: Backend) -> None:
    if backend.name != "postgres":
        return  # SQLite tracks its version in PRAGMA user_version; nothing to refuse
    import asyncpg

    s = backend.make()
    await s.open()
    await s.close()
    dsn = s._dsn  # type: ignore[attr-defined]
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("INSERT INTO schema_migrations (version) VALUES (999)")
    finally:
        await conn.close()
    with pytest.raises(RuntimeError, match="newer than this code"):
        await backend.make().open()


async def test_sqlite_a_bad_row_in_a_shared_trip_fails_only_its_own_put(tmp_path: object) -> None:
    # Puts that share a trip are still independent: a row the database refuses (a NOT
    # NULL column without a value) fails its put, the others return stored.
    import sqlite3
    from pathlib import Path

    from processor.store.sqlite import SqliteStore

    store = SqliteStore(path=str(Path(str(tmp_path)) / "pages.db"), put_window=0.05)
    await store.open()
    try:
        bad = replace(page(3), title=None)  # type: ignore[arg-type]
        results = await asyncio.gather(*(store.put(bad if n == 3 else page(n)) for n in range(1, 6)),
                                       return_exceptions=True)
        assert isinstance(results[2], sqlite3.IntegrityError), results
        assert [r for i, r in enumerate(results) if i != 2] == [None] * 4, results
        assert await store.count("job-a") == 4
    finally:
        await store.close()


async def test_sqlite_puts_in_one_window_share_a_trip_and_each_returns_committed(tmp_path: object) -> None:
    # processor/store/sqlite.py: puts arriving together go to aiosqlite's thread in one
    # trip; each put returns only once its row is in the file (read by another connection),
    # a caller that gives up does not lose the others' rows, and close() writes what is queued.
    import sqlite3
    from pathlib import Path

    from processor.store.sqlite import SqliteStore

    path = str(Path(str(tmp_path)) / "pages.db")
    store = SqliteStore(path=path, put_window=0.05)
    await store.open()
    trips = 0
    executemany = store._conn().executemany

    async def counted(sql: str, rows: Any) -> Any:
        nonlocal trips
        trips += 1
        return await executemany(sql, rows)

    store._conn().executemany = counted  # type: ignore[method-assign]

    def stored() -> int:
        with sqlite3.connect(path) as other:
            return int(other.execute("SELECT count(*) FROM pages").fetchone()[0])

    try:
        given_up = asyncio.create_task(store.put(page(99)))
        puts = [asyncio.create_task(store.put(page(n))) for n in range(1, 11)]
        await asyncio.sleep(0)
        given_up.cancel()
        await asyncio.gather(*puts)
        assert trips == 1
        assert stored() == 11  # the cancelled caller's row too
        late = asyncio.create_task(store.put(page(12)))
        await asyncio.sleep(0)
    finally:
        await store.close()
    assert late.done() and late.exception() is None
    assert stored() == 12
