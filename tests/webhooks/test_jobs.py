"""Webhooks of real jobs (crawler, processor, orchestrators on port 0; a receiver on
127.0.0.1; the job store on SQLite and on PostgreSQL): the lifecycle is announced in
order and signed, the filter holds, queued and cancelled jobs announce it, delivery
survives an orchestrator restart and a takeover (the outbox is durable), and a
receiver that takes 10 s per POST does not slow the crawl."""

from __future__ import annotations

import json
from typing import Any

import pytest

from docspasta.events import event_name
from docspasta.v1 import orchestrator_pb2 as pb
from orchestrator.store import open_job_store
from orchestrator.store.base import W_DELIVERED
from tests.support.site import FixtureSite, tree_site
from tests.webhooks.conftest import Hit, Receiver, readme_verifier
from tests.webhooks.pipeline import LOCAL_WEBHOOKS, Pipeline, run_to_end

TERMINAL = {"job.completed", "job.failed", "job.timeout", "job.cancelled"}


def types(hits: list[Hit]) -> list[str]:
    return [json.loads(h.body)["type"] for h in hits if h.answered and 200 <= h.answered < 300]


def delivered_bodies(hits: list[Hit]) -> list[dict[str, Any]]:
    return [json.loads(h.body) for h in hits if h.answered and 200 <= h.answered < 300]


def has_terminal(hits: list[Hit]) -> bool:
    return any(t in TERMINAL for t in types(hits))


def start_request(url: str, receiver: Receiver, secret: str, **webhook: Any) -> pb.StartJobRequest:
    return pb.StartJobRequest(url=url, options=pb.JobOptions(concurrency=4),
                              webhook=pb.Webhook(url=receiver.url, secret=secret, **webhook))


async def test_a_job_announces_its_lifecycle(pipeline: Pipeline, site: FixtureSite, receiver: Receiver,
                                             secret: str) -> None:
    site.pages.update(tree_site(30))
    _, stub = await pipeline.orchestrator()
    started = await stub.StartJob(start_request(site.url("/docs/"), receiver, secret, progress_every_pages=10),
                                  timeout=30)
    events = await run_to_end(stub, started.job_id)
    assert event_name(events[-1]) == "job_completed"
    hits = await receiver.wait_for(has_terminal)
    kinds = types(hits)
    assert kinds[0] == "job.started" and kinds[-1] == "job.completed"
    assert 3 <= kinds.count("job.progress") <= 4  # at 10, 20, 30 pages (and maybe a timed one): not every page
    bodies = delivered_bodies(hits)
    assert [b["data"]["sequence"] for b in bodies] == sorted(b["data"]["sequence"] for b in bodies)
    assert all(b["data"]["job_id"] == started.job_id and b["data"]["url"] == site.url("/docs/") for b in bodies)
    assert bodies[-1]["data"]["totals"]["processed"] == 30 and bodies[-1]["data"]["state"] == "completed"
    progress = [b["data"]["totals"]["processed"] for b in bodies if b["type"] == "job.progress"]
    assert progress == sorted(progress) and progress[-1] <= 30
    for hit in hits:
        readme_verifier()(secret, hit.headers, hit.body)
    assert len({h.headers["webhook-id"] for h in hits}) == len(hits)
    # The sequence a message names is the event's: the terminal one is the stream's last.
    assert bodies[-1]["data"]["sequence"] == events[-1].sequence


async def test_the_events_filter(sqlite_pipeline: Pipeline, site: FixtureSite, receiver: Receiver,
                                 secret: str) -> None:
    site.pages.update(tree_site(12))
    _, stub = await sqlite_pipeline.orchestrator()
    started = await stub.StartJob(start_request(site.url("/docs/"), receiver, secret, progress_every_pages=1,
                                                events=[pb.WEBHOOK_EVENT_TYPE_JOB_COMPLETED]), timeout=30)
    await run_to_end(stub, started.job_id)
    hits = await receiver.wait_for(has_terminal)
    assert types(hits) == ["job.completed"]


async def test_queued_and_cancelled_jobs_announce_it(sqlite_pipeline: Pipeline, site: FixtureSite,
                                                     receiver: Receiver, secret: str) -> None:
    site.pages.update(tree_site(40))
    site.delay = 0.2
    _, stub = await sqlite_pipeline.orchestrator(max_active_jobs=1)
    first = await stub.StartJob(pb.StartJobRequest(url=site.url("/docs/")), timeout=30)
    waiting = await stub.StartJob(start_request(site.url("/docs/"), receiver, secret), timeout=30)
    assert waiting.job.state == pb.JOB_STATE_QUEUED
    await stub.CancelJob(pb.CancelJobRequest(job_id=waiting.job_id), timeout=30)
    hits = await receiver.wait_for(has_terminal)
    bodies = delivered_bodies(hits)
    assert [b["type"] for b in bodies] == ["job.queued", "job.cancelled"]
    assert bodies[0]["data"]["position"] == 1 and bodies[0]["data"]["state"] == "queued"
    await stub.CancelJob(pb.CancelJobRequest(job_id=first.job_id), timeout=30)
    await run_to_end(stub, first.job_id)


async def test_delivery_survives_an_orchestrator_restart_and_a_takeover(
        pipeline: Pipeline, site: FixtureSite, receiver: Receiver, secret: str) -> None:
    """The receiver is down (503) while the first orchestrator runs the job; it stops
    mid-crawl; the next one adopts the job and delivers everything from the outbox:
    what the first replica's commits announced and what the adopter adds."""
    site.pages.update(tree_site(60))
    site.delay = 0.05
    receiver.default = 503
    first, stub = await pipeline.orchestrator()
    started = await stub.StartJob(start_request(site.url("/docs/"), receiver, secret, progress_every_pages=10),
                                  timeout=30)
    job_id = started.job_id
    await receiver.wait_for(lambda hits: len(hits) >= 2)  # job.started, refused and retried
    async for event in stub.JobEvents(pb.JobEventsRequest(job_id=job_id), timeout=120):
        if event_name(event) == "progress" and event.progress.processed >= 20:
            break
    await pipeline.stop(first)
    refused = {h.headers["webhook-id"] for h in receiver.hits}

    receiver.default = 204
    _, stub = await pipeline.orchestrator()
    events = await run_to_end(stub, job_id)
    assert "job_resumed" in [event_name(e) for e in events] and event_name(events[-1]) == "job_completed"
    hits = await receiver.wait_for(has_terminal, timeout=120)
    kinds = types(hits)
    assert kinds[0] == "job.started" and "job.resumed" in kinds and kinds[-1] == "job.completed"
    assert kinds.count("job.progress") >= 5  # 10 ... 60 pages, across both replicas
    ok_ids = {h.headers["webhook-id"] for h in hits if h.answered == 204}
    assert refused <= ok_ids  # what was refused before the restart is delivered after it, same id
    for hit in hits:
        readme_verifier()(secret, hit.headers, hit.body)
    store = open_job_store(pipeline.jobs_url)
    await store.open()
    try:
        rows = await store.deliveries(job_id)
    finally:
        await store.close()
    assert rows and all(r.state == W_DELIVERED for r in rows)
    assert len(rows) == len(ok_ids)  # one row per message, each delivered once it got a 2xx


async def test_a_slow_receiver_does_not_slow_the_crawl(sqlite_pipeline: Pipeline, site: FixtureSite,
                                                       secret: str) -> None:
    """Each POST takes the receiver 10 s, and a message goes out at every page; were the
    crawl waiting for deliveries it would take minutes. It takes about as long as
    without a webhook (compared with a generous factor, not in absolute seconds)."""
    site.pages.update(tree_site(120))
    site.delay = 0.01
    slow = await Receiver(default=("sleep", 10.0, 204)).start()
    try:
        from dataclasses import replace

        _, stub = await sqlite_pipeline.orchestrator(webhooks=replace(LOCAL_WEBHOOKS, timeout_seconds=30.0))
        plain = await stub.StartJob(pb.StartJobRequest(url=site.url("/docs/"), options=pb.JobOptions(concurrency=4)),
                                    timeout=30)
        without = (await run_to_end(stub, plain.job_id))[-1].job_completed.totals.elapsed_seconds
        hooked = await stub.StartJob(start_request(site.url("/docs/"), slow, secret, progress_every_pages=1),
                                     timeout=30)
        events = await run_to_end(stub, hooked.job_id)
        assert event_name(events[-1]) == "job_completed"
        with_webhook = events[-1].job_completed.totals.elapsed_seconds
        assert slow.hits, "the receiver got nothing while the job ran"
        assert with_webhook < 3 * without + 2.0, (with_webhook, without)
        # The job ended with its messages still waiting for the slow receiver.
        store = open_job_store(sqlite_pipeline.jobs_url)
        await store.open()
        try:
            rows = await store.deliveries(hooked.job_id)
        finally:
            await store.close()
        assert len(rows) >= 120 and sum(r.state != W_DELIVERED for r in rows) > 100
    finally:
        await slow.stop()


@pytest.mark.parametrize(("webhook", "field"), [
    (pb.Webhook(url="ftp://hooks.example.com/x", secret="whsec_" + "QUFB" * 8), "webhook.url"),
    (pb.Webhook(url="https://user:pw@hooks.example.com/x", secret="whsec_" + "QUFB" * 8), "webhook.url"),
    (pb.Webhook(url="https://hooks.example.com/" + "a" * 2100, secret="whsec_" + "QUFB" * 8), "webhook.url"),
    (pb.Webhook(url="http://10.0.0.8/hook", secret="whsec_" + "QUFB" * 8), "webhook.url"),
    (pb.Webhook(url="http://localhost/hook", secret="whsec_" + "QUFB" * 8), "webhook.url"),
    (pb.Webhook(url="https://hooks.example.com/x", secret="plain-secret"), "webhook.secret"),
    (pb.Webhook(url="https://hooks.example.com/x"), "webhook.secret"),  # and no deployment secret
    (pb.Webhook(url="https://hooks.example.com/x", secret="whsec_" + "QUFB" * 8, events=[0]), "webhook.events"),
    (pb.Webhook(url="https://hooks.example.com/x", secret="whsec_" + "QUFB" * 8, progress_every_pages=-1),
     "webhook.progress_every_pages"),
    (pb.Webhook(url="https://hooks.example.com/x", secret="whsec_" + "QUFB" * 8, progress_every_seconds=0.5),
     "webhook.progress_every_seconds"),
])
async def test_start_job_refuses_a_bad_webhook(sqlite_pipeline: Pipeline, webhook: pb.Webhook, field: str) -> None:
    import grpc

    from docspasta.errors import details_of
    from orchestrator.webhooks.settings import WebhookSettings

    # The deployment's policy: no private receivers, no deployment secret.
    _, stub = await sqlite_pipeline.orchestrator(webhooks=WebhookSettings())
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.StartJob(pb.StartJobRequest(url="https://docs.example.com/", webhook=webhook), timeout=30)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = details_of(caught.value)
    assert details["violations"][0][0] == field and details["reason"] == "FIELD_INVALID", details
    assert caught.value.details().startswith(f"{field}: ")
