"""The dispatcher against a real receiver on 127.0.0.1 and a real job store: signed
messages, retries after 5xx, 408/429 and timeouts with a stable webhook-id,
Retry-After honoured, other 4xx and redirects given up, a bounded give-up, and no
POST to a target the egress policy forbids (literal or resolved), with the reason
stored."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks import Webhook as ReferenceWebhook

from docspasta import metrics
from docspasta.v1 import orchestrator_pb2 as pb
from docspasta.webhooks import WebhookSpec, message_id
from orchestrator.store import JobStore, open_job_store
from orchestrator.store.base import W_DELIVERED, W_FAILED, W_PENDING, Batch, DeliveryRecord
from orchestrator.webhooks.dispatcher import Dispatcher
from orchestrator.webhooks.messages import message
from orchestrator.webhooks.settings import WebhookSettings
from tests.orchestrator.store_contract import ev, first, new_job
from tests.webhooks.conftest import Receiver, readme_verifier

# Fast retries, any loopback port: the receiver is a local server.
FAST = WebhookSettings(allow_private_network=True, allowed_ports=None, timeout_seconds=1.0, poll_seconds=0.05,
                       retry_base_seconds=0.05, retry_max_seconds=0.2, give_up_seconds=120.0)
PROGRESS = pb.WEBHOOK_EVENT_TYPE_JOB_PROGRESS
Start = Callable[..., Awaitable[Dispatcher]]


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[JobStore]:
    s = open_job_store(f"sqlite:///{tmp_path / 'jobs.db'}")
    await s.open()
    yield s
    await s.close()


@pytest.fixture
async def dispatch(store: JobStore) -> AsyncIterator[Start]:
    started: list[Dispatcher] = []

    async def start(settings: WebhookSettings = FAST, **overrides: Any) -> Dispatcher:
        d = Dispatcher(store=store, settings=replace(settings, **overrides), owner=f"d{len(started)}")
        d.start()
        started.append(d)
        return d

    yield start
    for d in started:
        await d.stop()


async def enqueue(store: JobStore, url: str, secret: str, job_id: str = "job-1", sequence: int = 2) -> bytes:
    """A running job with a webhook and one committed job.progress message; returns its body."""
    job = new_job(job_id)
    job.webhook = WebhookSpec(url=url, secret=secret)
    await store.create_job(job, owner="r1", lease_seconds=60, start=True, first_events=first)
    outgoing = message(PROGRESS, job_id=job_id, sequence=sequence, url="http://docs.test/", totals={"processed": 5})
    await store.commit(Batch(job_id=job_id, owner="r1", events=[ev(s) for s in range(2, sequence + 1)],
                             outbox=[outgoing]))
    return outgoing.body


async def settled(store: JobStore, job_id: str = "job-1", timeout: float = 60.0) -> DeliveryRecord:
    """The job's one message once it is no longer pending."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        [row] = await store.deliveries(job_id)
        if row.state != W_PENDING:
            return row
        assert loop.time() < end, f"message still pending: {row}"
        await asyncio.sleep(0.05)


async def test_a_message_is_delivered_signed(store: JobStore, dispatch: Start, receiver: Receiver,
                                             secret: str) -> None:
    body = await enqueue(store, receiver.url, secret)
    await dispatch()
    row = await settled(store)
    assert (row.state, row.attempts, row.last_status) == (W_DELIVERED, 1, 204)
    [hit] = receiver.hits
    assert hit.body == body and hit.headers["Content-Type"] == "application/json"
    assert hit.headers["webhook-id"] == message_id("job-1", 2, PROGRESS)
    readme_verifier()(secret, hit.headers, hit.body)  # the documented check
    data = ReferenceWebhook(secret).verify(hit.body, hit.headers)  # and the reference library's
    assert data["type"] == "job.progress" and data["data"]["job_id"] == "job-1" and data["data"]["sequence"] == 2


async def test_the_deployment_secret_signs_when_the_job_has_none(store: JobStore, dispatch: Start,
                                                                 receiver: Receiver, secret: str) -> None:
    await enqueue(store, receiver.url, "")
    await dispatch(secrets=(secret,))
    assert (await settled(store)).state == W_DELIVERED
    readme_verifier()(secret, receiver.hits[0].headers, receiver.hits[0].body)


async def test_5xx_408_and_429_are_retried_with_the_same_webhook_id(store: JobStore, dispatch: Start,
                                                                    receiver: Receiver, secret: str) -> None:
    receiver.script = [500, 503, 408, 429, 502]
    await enqueue(store, receiver.url, secret)
    await dispatch()
    row = await settled(store)
    assert (row.state, row.attempts, row.last_status) == (W_DELIVERED, 6, 204)
    assert [h.answered for h in receiver.hits] == [500, 503, 408, 429, 502, 204]
    assert len({h.headers["webhook-id"] for h in receiver.hits}) == 1  # the idempotency key
    assert len({h.body for h in receiver.hits}) == 1
    for hit in receiver.hits:  # each attempt is signed for its own timestamp
        readme_verifier()(secret, hit.headers, hit.body)


async def test_a_timeout_is_retried(store: JobStore, dispatch: Start, receiver: Receiver, secret: str) -> None:
    receiver.script = [("sleep", 5.0, 204)]  # longer than the 1 s deadline
    await enqueue(store, receiver.url, secret)
    await dispatch()
    row = await settled(store)
    assert row.state == W_DELIVERED and row.attempts == 2
    assert len(receiver.hits) == 2 and receiver.hits[0].headers["webhook-id"] == receiver.hits[1].headers["webhook-id"]
    [_, second] = receiver.hits
    readme_verifier()(secret, second.headers, second.body)


async def test_retry_after_is_honoured(store: JobStore, dispatch: Start, receiver: Receiver, secret: str) -> None:
    receiver.script = [(503, {"Retry-After": "2"})]
    await enqueue(store, receiver.url, secret)
    await dispatch(retry_max_seconds=30.0)  # backoff alone would retry within ~0.05 s
    assert (await settled(store)).state == W_DELIVERED
    first_hit, second_hit = receiver.hits
    assert second_hit.at - first_hit.at >= 1.9


@pytest.mark.parametrize("status", [400, 401, 404, 410, 301])
async def test_other_answers_end_the_message(store: JobStore, dispatch: Start, receiver: Receiver, secret: str,
                                             status: int) -> None:
    receiver.script = [(status, {"Location": "/elsewhere"}) if status == 301 else status]
    await enqueue(store, receiver.url, secret)
    await dispatch()
    row = await settled(store)
    assert (row.state, row.attempts, row.last_status) == (W_FAILED, 1, status)
    assert f"HTTP {status}" in row.last_error
    assert len(receiver.hits) == 1


async def test_a_message_is_given_up_after_a_bounded_time(store: JobStore, dispatch: Start, receiver: Receiver,
                                                          secret: str) -> None:
    receiver.default = 500
    before = metrics.WEBHOOK_DELIVERIES.labels(outcome=W_FAILED)._value.get()
    await enqueue(store, receiver.url, secret)
    await dispatch(give_up_seconds=1.5)
    row = await settled(store)
    assert row.state == W_FAILED and row.last_error.startswith(f"gave up after {row.attempts} attempts")
    assert "HTTP 500" in row.last_error and row.attempts == len(receiver.hits) >= 2
    assert metrics.WEBHOOK_DELIVERIES.labels(outcome=W_FAILED)._value.get() == before + 1


async def test_no_post_to_a_private_target_when_private_networks_are_not_allowed(
        store: JobStore, dispatch: Start, receiver: Receiver, secret: str) -> None:
    await enqueue(store, receiver.url, secret)  # http://127.0.0.1:<port>/hook
    await dispatch(allow_private_network=False)
    row = await settled(store)
    assert row.state == W_FAILED and row.attempts == 1
    assert row.last_error.startswith("blocked: private or local network receivers are refused")
    assert "WEBHOOK_ALLOW_PRIVATE_NETWORK" in row.last_error
    assert receiver.hits == []


async def test_a_name_that_resolves_to_a_private_address_is_refused(
        store: JobStore, dispatch: Start, receiver: Receiver, secret: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The address connected to is the one checked: a public-looking name that resolves
    to loopback (DNS rebinding) gets no POST."""
    loop = asyncio.get_running_loop()
    real = loop.getaddrinfo
    asked: list[str] = []

    async def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "hooks.rebind.example":
            asked.append(host)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return await real(host, port, *args, **kwargs)

    monkeypatch.setattr(loop, "getaddrinfo", getaddrinfo)
    await enqueue(store, f"http://hooks.rebind.example:{receiver.port}/hook", secret)
    await dispatch(allow_private_network=False)
    row = await settled(store)
    assert row.state == W_FAILED and "private or local network receivers are refused" in row.last_error
    assert asked and receiver.hits == []


async def test_a_slow_receiver_holds_one_slot_not_the_others(store: JobStore, dispatch: Start, receiver: Receiver,
                                                            secret: str) -> None:
    """Concurrency is bounded and per message: one job's slow receiver does not hold up
    another job's messages."""
    slow = await Receiver(default=("sleep", 10.0, 204)).start()
    try:
        await enqueue(store, slow.url, secret, job_id="slow")
        await enqueue(store, receiver.url, secret, job_id="fast")
        await dispatch(timeout_seconds=30.0, concurrency=2)
        await slow.wait_for(lambda hits: len(hits) >= 1)
        assert (await settled(store, "fast")).state == W_DELIVERED
        [pending] = await store.deliveries("slow")
        assert pending.state == W_PENDING  # still being answered
    finally:
        await slow.stop()


def test_bodies_are_json_with_type_timestamp_and_data() -> None:
    m = message(pb.WEBHOOK_EVENT_TYPE_JOB_QUEUED, job_id="j", sequence=2, url="http://d.test/", position=3)
    body = json.loads(m.body)
    assert body["type"] == "job.queued" and body["timestamp"].endswith("Z")
    assert body["data"] == {"job_id": "j", "sequence": 2, "url": "http://d.test/", "state": "queued", "position": 3}
