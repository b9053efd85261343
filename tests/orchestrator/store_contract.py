"""The job store contract, backend-agnostic: a test class per backend subclasses
``JobStoreContract`` and provides the ``make_store`` fixture (a factory of unopened
stores on one fresh database)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import pytest

from orchestrator.store.base import (CANCELLED, CANCELLING, COMPLETED, F_DONE, F_IN_FLIGHT, F_QUEUED, F_SKIPPED,
                                     HASH_CLAIM, HASH_HTML, QUEUED, RUNNING, Batch, Finish, FrontierEntry, HashEntry,
                                     JobStore, LeaseLost, NewJob, StoredEvent)

MakeStore = Callable[[], JobStore]


def ev(sequence: int, name: str = "progress") -> StoredEvent:
    return StoredEvent(sequence, name, f"{name}#{sequence}".encode())


def new_job(job_id: str, request_id: str = "") -> NewJob:
    return NewJob(job_id=job_id, request_id=request_id, request_hash="h", url=f"http://example.test/{job_id}/",
                  options=b"opts", totals=b"t0", checkpoint=b"{}")


def first(position: int) -> list[StoredEvent]:
    return [ev(1, "stream_connected")] + ([ev(2, "job_queued")] if position else [])


async def wait_until(condition: Callable[[], object], deadline: float = 30.0) -> None:
    end = time.monotonic() + deadline
    while not await condition():  # type: ignore[misc]
        assert time.monotonic() < end, "condition not met in time"
        await asyncio.sleep(0.02)


class JobStoreContract:
    @pytest.fixture
    async def store(self, make_store: MakeStore) -> AsyncIterator[JobStore]:
        store = make_store()
        await store.open()
        yield store
        await store.close()

    @pytest.fixture
    async def other(self, make_store: MakeStore) -> AsyncIterator[JobStore]:
        """A second store on the same database (another replica)."""
        store = make_store()
        await store.open()
        yield store
        await store.close()

    async def test_create_starts_or_queues_in_order(self, store: JobStore) -> None:
        positions: list[int] = []

        def events(position: int) -> list[StoredEvent]:
            positions.append(position)
            return first(position)

        a, created = await store.create_job(new_job("a"), owner="r1", lease_seconds=30, start=True,
                                            first_events=events)
        assert created and a.state == RUNNING and a.owner == "r1" and a.started_at and a.last_sequence == 1
        b, _ = await store.create_job(new_job("b"), owner="r1", lease_seconds=30, start=False, first_events=events)
        # A replica with room still queues behind a waiting job: the queue is fair.
        c, _ = await store.create_job(new_job("c"), owner="r1", lease_seconds=30, start=True, first_events=events)
        assert (b.state, c.state) == (QUEUED, QUEUED) and b.owner == "" and c.last_sequence == 2
        assert positions == [0, 1, 2]
        assert b.queue_position < c.queue_position
        got = await store.get_job("b")
        assert got is not None and got.url == "http://example.test/b/" and got.options == b"opts"
        assert await store.get_job("nope") is None
        assert [e.name for e in await store.events("c", after_sequence=0, limit=10)] == ["stream_connected",
                                                                                         "job_queued"]
        assert {j.job_id for j in await store.live_jobs()} == {"a", "b", "c"}

    async def test_request_id_returns_the_same_job(self, store: JobStore) -> None:
        one, created = await store.create_job(new_job("j1", "req-1"), owner="r1", lease_seconds=30, start=True,
                                              first_events=first)
        two, again = await store.create_job(new_job("j2", "req-1"), owner="r1", lease_seconds=30, start=True,
                                            first_events=first)
        assert created and not again and two.job_id == "j1" and two.request_id == "req-1"
        assert await store.get_job("j2") is None
        # No request id: always a new job.
        x, _ = await store.create_job(new_job("x"), owner="r1", lease_seconds=30, start=True, first_events=first)
        y, _ = await store.create_job(new_job("y"), owner="r1", lease_seconds=30, start=True, first_events=first)
        assert x.job_id != y.job_id

    async def test_commit_is_fenced_by_the_lease(self, store: JobStore) -> None:
        await store.create_job(new_job("j"), owner="r1", lease_seconds=30, start=True, first_events=first)
        state = await store.commit(Batch(job_id="j", owner="r1", events=[ev(2), ev(3)], totals=b"t3"))
        assert state == RUNNING
        with pytest.raises(LeaseLost):
            await store.commit(Batch(job_id="j", owner="r2", events=[ev(4)]))
        with pytest.raises(LeaseLost):  # a gap or a repeat is refused too
            await store.commit(Batch(job_id="j", owner="r1", events=[ev(3)]))
        job = await store.get_job("j")
        assert job is not None and job.last_sequence == 3 and job.totals == b"t3"
        assert [e.sequence for e in await store.events("j", after_sequence=0, limit=100)] == [1, 2, 3]
        assert [e.payload for e in await store.events("j", after_sequence=1, limit=1)] == [b"progress#2"]
        # Cancel is seen by the owner at its next commit.
        cancelling = await store.request_cancel("j")
        assert cancelling is not None and cancelling.state == CANCELLING
        assert await store.commit(Batch(job_id="j", owner="r1", events=[ev(4)])) == CANCELLING
        done = await store.commit(Batch(job_id="j", owner="r1", events=[ev(5, "job_cancelled")],
                                        finish=Finish(state=CANCELLED)))
        assert done == CANCELLED
        job = await store.get_job("j")
        assert job is not None and job.state == CANCELLED and job.owner == "" and job.finished_at
        with pytest.raises(LeaseLost):  # nobody writes a finished job
            await store.commit(Batch(job_id="j", owner="r1", events=[ev(6)]))
        assert (await store.request_cancel("j")).state == CANCELLED  # type: ignore[union-attr]
        assert await store.request_cancel("nope") is None
        assert await store.live_jobs() == []

    async def test_a_write_cancelled_at_any_point_leaves_the_store_writable(self, store: JobStore) -> None:
        """A caller cancelled in the middle of a write (a replica stopping, a deadline)
        must not leave a transaction open behind it: every later write would fail."""
        await store.create_job(new_job("j"), owner="r1", lease_seconds=30, start=True, first_events=first)
        sequence = 1
        for steps in range(12):  # cancel after 0, 1, 2 ... turns of the event loop
            task = asyncio.create_task(store.commit(Batch(job_id="j", owner="r1", events=[ev(sequence + 1)])))
            for _ in range(steps):
                await asyncio.sleep(0)
            task.cancel()
            try:
                await task
                sequence += 1  # it finished before the cancel
            except asyncio.CancelledError:
                pass
            # The commit either happened whole or not at all, and the next one works.
            sequence = (await store.get_job("j")).last_sequence  # type: ignore[union-attr]
            assert await store.commit(Batch(job_id="j", owner="r1", events=[ev(sequence + 1)])) == RUNNING
            sequence += 1
        assert [e.sequence for e in await store.events("j", after_sequence=0, limit=100)] == \
            list(range(1, sequence + 1))

    async def test_claims_orphans_first_then_queue_order_and_never_twice(self, store: JobStore,
                                                                        other: JobStore) -> None:
        await store.create_job(new_job("run"), owner="r1", lease_seconds=30, start=True, first_events=first)
        for name in ("q1", "q2", "q3"):
            await store.create_job(new_job(name), owner="r1", lease_seconds=30, start=False, first_events=first)
        # A held lease is not claimable; a released one is, before the queue.
        assert [j.job_id for j in await other.claim_jobs(owner="r2", lease_seconds=30, limit=1)] == ["q1"]
        await store.release_lease("run", owner="r1")
        orphan = await store.get_job("run")
        assert orphan is not None and orphan.state == RUNNING and orphan.owner == ""
        claimed = await other.claim_jobs(owner="r2", lease_seconds=30, limit=2)
        assert [j.job_id for j in claimed] == ["run", "q2"]
        assert all(j.owner == "r2" and j.state == RUNNING and j.started_at for j in claimed)
        # Only among the given ids.
        assert await store.claim_jobs(owner="r1", lease_seconds=30, limit=5, job_ids=["run", "q1"]) == []
        # Concurrent claims by two replicas take each job once.
        for i in range(6):
            await store.create_job(new_job(f"c{i}"), owner="r1", lease_seconds=30, start=False, first_events=first)
        a, b = await asyncio.gather(store.claim_jobs(owner="r1", lease_seconds=30, limit=5),
                                    other.claim_jobs(owner="r2", lease_seconds=30, limit=5))
        ids = [j.job_id for j in a + b]
        assert sorted(ids) == sorted(["q3", *(f"c{i}" for i in range(6))]) and len(set(ids)) == len(ids)

    async def test_expired_lease_is_adopted_and_the_old_owner_fenced(self, store: JobStore,
                                                                    other: JobStore) -> None:
        # 1.5 s: a create and a claim on a loaded 2-core machine can take longer than 0.2 s.
        await store.create_job(new_job("j"), owner="r1", lease_seconds=1.5, start=True, first_events=first)
        assert await other.claim_jobs(owner="r2", lease_seconds=30, limit=1) == []

        async def adopted() -> bool:
            return bool(await other.claim_jobs(owner="r2", lease_seconds=30, limit=1))

        await wait_until(adopted)
        assert await store.renew_leases(owner="r1", job_ids=["j"], lease_seconds=30) == set()
        assert await other.renew_leases(owner="r2", job_ids=["j", "nope"], lease_seconds=30) == {"j"}
        with pytest.raises(LeaseLost):
            await store.commit(Batch(job_id="j", owner="r1", events=[ev(2)]))
        assert await other.commit(Batch(job_id="j", owner="r2", events=[ev(2, "job_resumed")])) == RUNNING

    async def test_frontier_rows(self, store: JobStore, other: JobStore) -> None:
        await store.create_job(new_job("j"), owner="r1", lease_seconds=30, start=True, first_events=first)
        rows = [FrontierEntry(key=f"k{i}", url=f"u{i}", depth=i % 3, order=i, discovered_from="src") for i in range(9)]
        rows.append(FrontierEntry(key="bad", url="bad", depth=1, order=9, state=F_SKIPPED, reason="trap"))
        await store.commit(Batch(job_id="j", owner="r1", frontier=rows))
        queued = await other.frontier_queued("j", after=(-1, -1), limit=100)
        assert [(r.depth, r.order) for r in queued] == sorted((i % 3, i) for i in range(9))
        assert [r.key for r in await other.frontier_queued("j", after=(1, 4), limit=2)] == ["k7", "k2"]
        # Upsert: a later state wins, within a batch too.
        await store.commit(Batch(job_id="j", owner="r1", frontier=[
            FrontierEntry(key="k0", url="u0", depth=0, order=0, state=F_IN_FLIGHT, attempts=1),
            FrontierEntry(key="k1", url="u1", depth=1, order=1, state=F_IN_FLIGHT, attempts=1),
            FrontierEntry(key="k1", url="u1", depth=1, order=1, state=F_DONE, attempts=1)]))
        found = await other.frontier_lookup("j", ["k0", "k1", "bad", "missing"])
        assert {k: (v.state, v.reason, v.attempts) for k, v in found.items()} == {
            "k0": (F_IN_FLIGHT, "", 1), "k1": (F_DONE, "", 1), "bad": (F_SKIPPED, "trap", 0)}
        assert found["k0"].discovered_from == ""
        summary = await other.frontier_summary("j")
        assert summary.counts == {F_QUEUED: 7, F_IN_FLIGHT: 1, F_DONE: 1, F_SKIPPED: 1} and summary.max_order == 9
        scan = await other.frontier_scan("j", after_key="k5", limit=10)
        assert [r.key for r in scan] == ["k6", "k7", "k8"]
        with pytest.raises(LeaseLost):
            await other.requeue_in_flight("j", owner="r2")
        assert await store.requeue_in_flight("j", owner="r1") == 1
        assert (await store.frontier_summary("j")).counts[F_QUEUED] == 8
        # Many keys at once (backends chunk their parameters).
        many = [f"m{i}" for i in range(1500)]
        await store.commit(Batch(job_id="j", owner="r1", frontier=[
            FrontierEntry(key=k, url=k, depth=1, order=100 + i) for i, k in enumerate(many)]))
        assert len(await other.frontier_lookup("j", many + ["zz"])) == 1500

    async def test_hashes(self, store: JobStore) -> None:
        await store.create_job(new_job("j"), owner="r1", lease_seconds=30, start=True, first_events=first)
        await store.commit(Batch(job_id="j", owner="r1", hashes=[
            HashEntry(HASH_HTML, "aa"), HashEntry(HASH_HTML, "aa"), HashEntry(HASH_CLAIM, "/x", b"t1"),
            HashEntry(HASH_CLAIM, "/x", b"t2")]))
        await store.commit(Batch(job_id="j", owner="r1", hashes=[HashEntry(HASH_HTML, "aa")]))  # ignored
        assert await store.hash_lookup("j", HASH_HTML, ["aa", "bb"]) == {"aa": [b""]}
        claims = await store.hash_lookup("j", HASH_CLAIM, ["/x"])
        assert sorted(claims["/x"]) == [b"t1", b"t2"]
        assert await store.hash_lookup("j", HASH_CLAIM, ["aa"]) == {}

    async def test_wait_for_events_wakes_on_commit(self, store: JobStore, other: JobStore) -> None:
        await store.create_job(new_job("j"), owner="r1", lease_seconds=30, start=True, first_events=first)
        began = time.monotonic()
        await other.wait_for_events("j", after_sequence=0, timeout=10)  # already there: at once
        assert time.monotonic() - began < 5
        waiter = asyncio.create_task(other.wait_for_events("j", after_sequence=1, timeout=30))
        await asyncio.sleep(0.05)
        await store.commit(Batch(job_id="j", owner="r1", events=[ev(2)]))
        await asyncio.wait_for(waiter, 10)
        assert [e.sequence for e in await other.events("j", after_sequence=1, limit=10)] == [2]
        began = time.monotonic()
        await other.wait_for_events("j", after_sequence=2, timeout=0.2)  # nothing new: the timeout
        assert time.monotonic() - began < 5

    async def test_queued_job_cancelled_without_an_owner(self, store: JobStore) -> None:
        await store.create_job(new_job("q"), owner="r1", lease_seconds=30, start=False, first_events=first)
        assert not await store.append_unowned("q", state=RUNNING, events=[ev(3)])
        assert await store.append_unowned("q", state=QUEUED, events=[ev(3, "job_cancelled")],
                                          finish=Finish(state=CANCELLED))
        job = await store.get_job("q")
        assert job is not None and job.state == CANCELLED and job.last_sequence == 3 and job.finished_at
        assert await store.claim_jobs(owner="r1", lease_seconds=30, limit=5) == []

    async def test_retention_deletes_finished_jobs_only(self, store: JobStore) -> None:
        for name in ("old", "live"):
            await store.create_job(new_job(name), owner="r1", lease_seconds=30, start=True, first_events=first)
            await store.commit(Batch(job_id=name, owner="r1", events=[ev(2)],
                                     frontier=[FrontierEntry(key="k", url="u", depth=0, order=0)],
                                     hashes=[HashEntry(HASH_HTML, "aa")]))
        await store.commit(Batch(job_id="old", owner="r1", events=[ev(3, "job_completed")],
                                 finish=Finish(state=COMPLETED)))
        assert await store.delete_finished(finished_before=time.time() - 3600) == 0
        assert await store.delete_finished(finished_before=time.time() + 1) == 1
        assert await store.get_job("old") is None
        assert await store.events("old", after_sequence=0, limit=10) == []
        assert await store.frontier_lookup("old", ["k"]) == {}
        assert await store.hash_lookup("old", HASH_HTML, ["aa"]) == {}
        assert await store.get_job("live") is not None and await store.frontier_lookup("live", ["k"])

    async def test_reopen_keeps_everything(self, make_store: MakeStore) -> None:
        store = make_store()
        await store.open()
        await store.create_job(new_job("j", "r"), owner="r1", lease_seconds=30, start=True, first_events=first)
        await store.commit(Batch(job_id="j", owner="r1", events=[ev(2)]))
        await store.close()
        again = make_store()
        await again.open()  # the migrations do not run twice
        try:
            job = await again.get_job("j")
            assert job is not None and job.last_sequence == 2 and job.request_id == "r"
        finally:
            await again.close()
