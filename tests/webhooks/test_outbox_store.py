"""The webhook outbox in the job store, on SQLite and PostgreSQL: the receiver and the
first messages are stored with the job, messages go in with the commit of their
events (and not at all when the commit is refused), each job's messages are claimed
in order one at a time, two replicas never claim one message, a claim is fenced, and
retention deletes it all."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from docspasta.v1 import orchestrator_pb2 as pb
from docspasta.webhooks import WebhookSpec
from orchestrator.store import JobStore, open_job_store
from orchestrator.store.base import (COMPLETED, W_DELIVERED, W_FAILED, W_PENDING, Batch, Finish, LeaseLost,
                                     OutboxMessage, StoredEvent)
from tests.orchestrator.store_contract import ev, first, new_job

PROGRESS, COMPLETED_KIND = pb.WEBHOOK_EVENT_TYPE_JOB_PROGRESS, pb.WEBHOOK_EVENT_TYPE_JOB_COMPLETED
SPEC = WebhookSpec(url="https://hooks.example.test/x", secret="", events=frozenset({1, 2, 3, 5}),
                   progress_pages=7, progress_seconds=2.5)


def msg(sequence: int, kind: int = PROGRESS) -> OutboxMessage:
    return OutboxMessage(sequence=sequence, kind=kind, body=f'{{"n":{sequence}}}'.encode())


def queued_message(events: list[StoredEvent]) -> list[OutboxMessage]:
    return [msg(e.sequence, pb.WEBHOOK_EVENT_TYPE_JOB_QUEUED) for e in events if e.name == "job_queued"]


@pytest.fixture
async def stores(job_store_url: str) -> AsyncIterator[tuple[JobStore, JobStore]]:
    """Two stores on one database: two replicas."""
    a, b = open_job_store(job_store_url), open_job_store(job_store_url)
    await a.open()
    await b.open()
    yield a, b
    await b.close()
    await a.close()


async def running_job(store: JobStore, job_id: str, *, webhook: bool = True) -> None:
    job = new_job(job_id)
    job.webhook = SPEC if webhook else None
    await store.create_job(job, owner="r1", lease_seconds=60, start=True, first_events=first)


async def test_the_receiver_and_first_messages_are_stored_with_the_job(stores: tuple[JobStore, JobStore]) -> None:
    store, _ = stores
    await running_job(store, "a")  # RUNNING: no queued message
    job = new_job("b")
    job.webhook = SPEC
    record, created = await store.create_job(job, owner="r1", lease_seconds=60, start=False, first_events=first,
                                             outbox=queued_message)
    assert created and record.state == "queued"
    assert await store.webhook("b") == SPEC and await store.webhook("a") == SPEC
    assert [(d.sequence, d.kind, d.state) for d in await store.deliveries("b")] == [(2, 1, W_PENDING)]
    assert await store.deliveries("a") == []
    await running_job(store, "plain", webhook=False)
    assert await store.webhook("plain") is None


async def test_messages_commit_with_their_events_or_not_at_all(stores: tuple[JobStore, JobStore]) -> None:
    store, _ = stores
    await running_job(store, "j")
    await store.commit(Batch(job_id="j", owner="r1", events=[ev(2), ev(3)], outbox=[msg(3)]))
    # A refused commit (another owner; a gap in the sequence) writes none of its messages.
    with pytest.raises(LeaseLost):
        await store.commit(Batch(job_id="j", owner="r2", events=[ev(4)], outbox=[msg(4)]))
    with pytest.raises(LeaseLost):
        await store.commit(Batch(job_id="j", owner="r1", events=[ev(9)], outbox=[msg(9)]))
    # The same message again (a retried commit, an adopter repeating job.started) is ignored.
    await store.commit(Batch(job_id="j", owner="r1", events=[ev(4, "job_completed")],
                             outbox=[msg(3), msg(4, COMPLETED_KIND)], finish=Finish(state=COMPLETED)))
    rows = await store.deliveries("j")
    assert [(d.sequence, d.kind) for d in rows] == [(3, PROGRESS), (4, COMPLETED_KIND)]
    assert rows[0].body == b'{"n":3}' and all(d.state == W_PENDING and d.attempts == 0 for d in rows)


async def test_a_jobs_messages_are_claimed_in_order_one_at_a_time(stores: tuple[JobStore, JobStore]) -> None:
    store, _ = stores
    await running_job(store, "a")
    await running_job(store, "b")
    await store.commit(Batch(job_id="a", owner="r1", events=[ev(2), ev(3)], outbox=[msg(2), msg(3)]))
    await store.commit(Batch(job_id="b", owner="r1", events=[ev(2)], outbox=[msg(2)]))
    claimed = await store.claim_deliveries(owner="d1", limit=10, claim_seconds=60)
    assert sorted((d.job_id, d.sequence) for d in claimed) == [("a", 2), ("b", 2)]
    head = next(d for d in claimed if d.job_id == "a")
    assert head.url == SPEC.url and head.secret == "" and head.attempts == 0 and head.age_seconds >= 0
    # Claimed rows are not handed out again, and a's next waits for its head.
    assert await store.claim_deliveries(owner="d2", limit=10, claim_seconds=60) == []
    assert await store.record_delivery("a", 2, PROGRESS, owner="d1", state=W_DELIVERED, status=204)
    nxt = await store.claim_deliveries(owner="d2", limit=10, claim_seconds=60)
    assert [(d.job_id, d.sequence) for d in nxt] == [("a", 3)]


async def test_claims_are_fenced_expire_and_can_be_released(stores: tuple[JobStore, JobStore]) -> None:
    store, _ = stores
    await running_job(store, "a")
    await store.commit(Batch(job_id="a", owner="r1", events=[ev(2)], outbox=[msg(2)]))
    [row] = await store.claim_deliveries(owner="d1", limit=5, claim_seconds=0.2)
    # After the claim expires another dispatcher takes it; the first one's outcome is then refused.
    async def reclaimed() -> list[object]:
        return list(await store.claim_deliveries(owner="d2", limit=5, claim_seconds=60))
    got: list[object] = []
    for _ in range(300):
        got = await reclaimed()
        if got:
            break
        await asyncio.sleep(0.02)
    assert len(got) == 1
    assert not await store.record_delivery("a", 2, PROGRESS, owner="d1", state=W_DELIVERED)
    assert await store.release_deliveries(owner="d2") == 1
    [again] = await store.claim_deliveries(owner="d3", limit=5, claim_seconds=60)
    assert again.sequence == row.sequence
    # A retry: pending again, not due before its time, attempts and error kept.
    assert await store.record_delivery("a", 2, PROGRESS, owner="d3", state=W_PENDING, retry_in=3600, status=503,
                                       error="HTTP 503")
    assert await store.claim_deliveries(owner="d3", limit=5, claim_seconds=60) == []
    [state] = await store.deliveries("a")
    assert (state.state, state.attempts, state.last_status, state.last_error) == (W_PENDING, 1, 503, "HTTP 503")


async def test_two_replicas_never_claim_one_message(stores: tuple[JobStore, JobStore]) -> None:
    a, b = stores
    for i in range(40):
        await running_job(a, f"j{i}")
        await a.commit(Batch(job_id=f"j{i}", owner="r1", events=[ev(2)], outbox=[msg(2)]))
    got_a, got_b = await asyncio.gather(a.claim_deliveries(owner="A", limit=25, claim_seconds=60),
                                        b.claim_deliveries(owner="B", limit=25, claim_seconds=60))
    ids_a, ids_b = {d.job_id for d in got_a}, {d.job_id for d in got_b}
    assert not ids_a & ids_b and len(ids_a | ids_b) == 40


async def test_retention_deletes_the_webhook_and_its_outbox(stores: tuple[JobStore, JobStore]) -> None:
    store, _ = stores
    await running_job(store, "old")
    await store.commit(Batch(job_id="old", owner="r1", events=[ev(2, "job_completed")],
                             outbox=[msg(2, COMPLETED_KIND)], finish=Finish(state=COMPLETED)))
    [row] = await store.claim_deliveries(owner="d", limit=1, claim_seconds=60)
    await store.record_delivery(row.job_id, row.sequence, row.kind, owner="d", state=W_FAILED, error="HTTP 410")
    assert [d.state for d in await store.deliveries("old")] == [W_FAILED]
    import time
    assert await store.delete_finished(finished_before=time.time() + 3600) == 1
    assert await store.webhook("old") is None and await store.deliveries("old") == []
