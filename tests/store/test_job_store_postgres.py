"""The job store contract (tests/orchestrator/store_contract.py) on a real, throwaway
PostgreSQL, and what only the PostgreSQL backend promises: LISTEN/NOTIFY wake-ups
across replicas, polling when the listening connection is lost, one job per
request_id and one owner per job however many replicas race, the database's clock for
leases, and sharing a database with the page store."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import asyncpg
import pytest

from orchestrator.store import open_job_store
from orchestrator.store.base import RUNNING, Batch, NewJob, StoredEvent
from orchestrator.store.postgres import CHANNEL, MIGRATIONS, VERSION_TABLE, PostgresJobStore
from tests.orchestrator.store_contract import JobStoreContract, MakeStore, ev, first, new_job
from tests.store.postgres_server import PostgresServer


@pytest.fixture
async def dsn(pg_server: PostgresServer) -> AsyncIterator[str]:
    async with pg_server.database("jobs") as url:
        yield url


class TestPostgresJobStore(JobStoreContract):
    @pytest.fixture
    def make_store(self, dsn: str) -> MakeStore:
        return lambda: PostgresJobStore(dsn=dsn, max_size=4, poll_seconds=0.1)


async def sees(store: PostgresJobStore, job_id: str, sequence: int) -> None:
    """Tails like JobEvents does until ``sequence`` is stored. A wake-up may come early
    (it means "may have changed"): read, wait, read again."""
    while not await store.events(job_id, after_sequence=sequence - 1, limit=1):
        await store.wait_for_events(job_id, after_sequence=sequence - 1, timeout=60)


@pytest.fixture
async def replicas(dsn: str) -> AsyncIterator[list[PostgresJobStore]]:
    # A long listen poll: a prompt wake-up below can only come from NOTIFY.
    stores = [PostgresJobStore(dsn=dsn, max_size=3, poll_seconds=0.1, listen_poll_seconds=60) for _ in range(4)]
    for store in stores:
        await store.open()
    yield stores
    for store in stores:
        await store.close()


async def test_open_job_store_picks_postgres(dsn: str) -> None:
    store = open_job_store(dsn)
    assert isinstance(store, PostgresJobStore)
    await store.open()
    try:
        assert await store.live_jobs() == []
    finally:
        await store.close()


async def test_notify_wakes_a_waiter_on_another_replica(replicas: list[PostgresJobStore]) -> None:
    writer, reader = replicas[0], replicas[1]
    await writer.create_job(new_job("j"), owner="r1", lease_seconds=30, start=True, first_events=first)
    delays = []
    for sequence in range(2, 7):
        waiter = asyncio.create_task(sees(reader, "j", sequence))
        await asyncio.sleep(0.05)  # let it start waiting (any order is correct; this times the wake-up)
        began = time.monotonic()
        await writer.commit(Batch(job_id="j", owner="r1", events=[ev(sequence)]))
        await asyncio.wait_for(waiter, 30)
        delays.append(time.monotonic() - began)
    # Far below the 60 s listen poll: NOTIFY woke it (generous for a loaded machine).
    assert max(delays) < 10, delays


async def test_lost_listener_falls_back_to_polling_then_listens_again(dsn: str) -> None:
    writer = PostgresJobStore(dsn=dsn, max_size=2)
    reader = PostgresJobStore(dsn=dsn, max_size=2, poll_seconds=0.1, listen_poll_seconds=60)
    await writer.open()
    await reader.open()
    admin = await asyncpg.connect(dsn)
    try:
        await writer.create_job(new_job("j"), owner="r1", lease_seconds=30, start=True, first_events=first)
        # Cut the reader's listening connection, as a failover or a network blip would.
        killed = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid IN (SELECT pid FROM pg_stat_activity "
            "WHERE query LIKE 'LISTEN %' OR query = 'SELECT 1')")
        assert killed >= 1

        async def noticed() -> None:
            while reader.listening:
                await asyncio.sleep(0.05)

        await asyncio.wait_for(noticed(), 30)
        # While it is down (or just back), a commit still reaches the waiter within the poll.
        waiter = asyncio.create_task(sees(reader, "j", 2))
        await writer.commit(Batch(job_id="j", owner="r1", events=[ev(2)]))
        await asyncio.wait_for(waiter, 30)

        deadline = time.monotonic() + 60
        while not reader.listening:
            assert time.monotonic() < deadline, "the listener did not reconnect"
            await asyncio.sleep(0.1)
        # Listening again: a prompt wake-up, not the 60 s poll.
        waiter = asyncio.create_task(sees(reader, "j", 3))
        await asyncio.sleep(0.05)
        await writer.commit(Batch(job_id="j", owner="r1", events=[ev(3)]))
        await asyncio.wait_for(waiter, 30)  # far below the 60 s poll
    finally:
        await admin.close()
        await reader.close()
        await writer.close()


async def test_racing_replicas_create_one_job_per_request_id(replicas: list[PostgresJobStore]) -> None:
    results = await asyncio.gather(*(
        store.create_job(new_job(f"job-{i}-{n}", f"req-{n}"), owner=f"r{i}", lease_seconds=30, start=True,
                         first_events=first)
        for n in range(5) for i, store in enumerate(replicas)))
    by_request: dict[str, set[str]] = {}
    for record, _ in results:
        by_request.setdefault(record.request_id, set()).add(record.job_id)
    assert all(len(ids) == 1 for ids in by_request.values()), by_request
    assert sum(created for _, created in results) == 5
    # Queue positions stay distinct and ordered under the race.
    positions = [j.queue_position for j in await replicas[0].live_jobs()]
    assert len(set(positions)) == len(positions) == 5


async def test_racing_replicas_claim_each_orphan_once(replicas: list[PostgresJobStore]) -> None:
    for n in range(40):
        await replicas[0].create_job(new_job(f"j{n:02d}"), owner="gone", lease_seconds=30, start=True,
                                     first_events=first)
        await replicas[0].release_lease(f"j{n:02d}", owner="gone")
    rounds = await asyncio.gather(*(
        store.claim_jobs(owner=f"r{i}", lease_seconds=30, limit=7) for _ in range(3)
        for i, store in enumerate(replicas)))
    claimed = [(j.job_id, j.owner) for batch in rounds for j in batch]
    assert sorted(job for job, _ in claimed) == [f"j{n:02d}" for n in range(40)]
    stored = {j.job_id: j.owner for j in await replicas[0].live_jobs()}
    assert stored == dict(claimed)


async def test_commit_waits_for_a_racing_claim_and_is_then_fenced(replicas: list[PostgresJobStore]) -> None:
    old, new = replicas[0], replicas[1]
    await old.create_job(new_job("j"), owner="old", lease_seconds=0.3, start=True, first_events=first)

    async def adopt() -> None:
        while not await new.claim_jobs(owner="new", lease_seconds=30, limit=1):
            await asyncio.sleep(0.05)

    await asyncio.wait_for(adopt(), 30)
    # The old owner's next write changes nothing, however it interleaves.
    writes = await asyncio.gather(old.commit(Batch(job_id="j", owner="old", events=[ev(2, "url_processed")])),
                                  new.commit(Batch(job_id="j", owner="new", events=[ev(2, "job_resumed")])),
                                  return_exceptions=True)
    assert isinstance(writes[0], Exception) and writes[1] == RUNNING, writes
    assert [e.name for e in await new.events("j", after_sequence=0, limit=10)] == ["stream_connected", "job_resumed"]


async def test_leases_follow_the_database_clock(dsn: str, replicas: list[PostgresJobStore]) -> None:
    record, _ = await replicas[0].create_job(new_job("j"), owner="r1", lease_seconds=30, start=True,
                                             first_events=first)
    conn = await asyncpg.connect(dsn)
    try:
        db_now = float(await conn.fetchval("SELECT extract(epoch FROM clock_timestamp())"))
    finally:
        await conn.close()
    assert abs(record.lease_expires_at - 30 - db_now) < 10
    assert record.created_at == record.started_at


async def test_shares_a_database_with_the_page_store(dsn: str) -> None:
    """Each store keeps its schema version in its own table."""
    from processor.store.postgres import PostgresStore

    pages, jobs = PostgresStore(dsn=dsn, max_size=2), PostgresJobStore(dsn=dsn, max_size=2)
    await pages.open()
    await jobs.open()
    try:
        assert await jobs.live_jobs() == [] and await pages.count("x") == 0
    finally:
        await jobs.close()
        await pages.close()
    conn = await asyncpg.connect(dsn)
    try:
        versions = [r[0] for r in await conn.fetch(f"SELECT version FROM {VERSION_TABLE} ORDER BY version")]
        assert versions == list(range(1, len(MIGRATIONS) + 1))
        assert await conn.fetchval("SELECT count(*) FROM schema_migrations") >= 1
    finally:
        await conn.close()


async def test_text_with_nul_and_large_batches(replicas: list[PostgresJobStore]) -> None:
    """URLs come from the outside world; a batch may carry thousands of rows."""
    from orchestrator.store.base import FrontierEntry, HashEntry, HASH_HTML

    store = replicas[0]
    await store.create_job(NewJob(job_id="j", url="http://x/\0", options=b""), owner="r1", lease_seconds=30,
                           start=True, first_events=first)
    rows = [FrontierEntry(key=f"http://x/{i}", url=f"http://x/{i}", depth=1, order=i) for i in range(5000)]
    events = [StoredEvent(s, "urls_discovered", b"\x00\xff" * 100) for s in range(2, 2002)]
    await store.commit(Batch(job_id="j", owner="r1", events=events, frontier=rows,
                             hashes=[HashEntry(HASH_HTML, f"h{i}") for i in range(3000)]))
    assert (await store.frontier_summary("j")).counts == {"queued": 5000}
    assert len(await store.events("j", after_sequence=0, limit=5000)) == 2001
    job = await store.get_job("j")
    assert job is not None and job.url == "http://x/\ufffd" and job.last_sequence == 2001
    assert CHANNEL  # the channel name is part of the documented schema
