"""Webhooks of a job started through docspasta.v2 (StartJobRequest.webhook, the same
receiver as v1's with a Duration progress_interval): delivered and signed as for v1, and
a bad receiver refused with v2's field names in the docspasta.v2 domain."""

from __future__ import annotations

import json

import grpc
import pytest
from google.protobuf import duration_pb2

from docspasta import errors
from docspasta.rpc import insecure_channel
from docspasta.v2 import orchestrator_pb2 as o2, orchestrator_pb2_grpc as o2_grpc
from tests.support.site import FixtureSite, tree_site
from tests.webhooks.conftest import Hit, Receiver, readme_verifier
from tests.webhooks.pipeline import Pipeline

TERMINAL = {"job.completed", "job.failed", "job.timeout", "job.cancelled"}


def delivered(hits: list[Hit]) -> list[dict[str, object]]:
    return [json.loads(h.body) for h in hits if h.answered and 200 <= h.answered < 300]


async def test_a_v2_job_delivers_its_webhooks(sqlite_pipeline: Pipeline, site: FixtureSite, receiver: Receiver,
                                              secret: str) -> None:
    site.pages.update(tree_site(12))
    host, _ = await sqlite_pipeline.orchestrator()
    async with insecure_channel(f"127.0.0.1:{host.port}") as channel:
        stub = o2_grpc.OrchestratorServiceStub(channel)
        started = await stub.StartJob(o2.StartJobRequest(
            url=site.url("/docs/"), options=o2.JobOptions(concurrency=4),
            webhook=o2.Webhook(url=receiver.url, secret=secret, progress_every_pages=5,
                               progress_interval=duration_pb2.Duration(seconds=600))), timeout=30)
        events = [r.event async for r in stub.JobEvents(o2.JobEventsRequest(job_id=started.job_id), timeout=120)]
        refusals = []
        for webhook, field in ((o2.Webhook(url="ftp://example.com/", secret=secret), "webhook.url"),
                               (o2.Webhook(url=receiver.url, secret=secret,
                                           progress_interval=duration_pb2.Duration(seconds=7200)),
                                "webhook.progress_interval"),
                               (o2.Webhook(url=receiver.url, secret=secret,
                                           progress_interval=duration_pb2.Duration(seconds=-1, nanos=5)),
                                "webhook.progress_interval")):
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.StartJob(o2.StartJobRequest(url=site.url("/docs/"), webhook=webhook), timeout=30)
            refusals.append((caught.value, field))
    assert events[-1].WhichOneof("event") == "job_completed"
    hits = await receiver.wait_for(lambda got: any(b["type"] in TERMINAL for b in delivered(got)))
    bodies = delivered(hits)
    kinds = [b["type"] for b in bodies]
    assert kinds[0] == "job.started" and kinds[-1] == "job.completed" and "job.progress" in kinds
    assert all(b["data"]["job_id"] == started.job_id for b in bodies)  # type: ignore[index]
    assert bodies[-1]["data"]["sequence"] == events[-1].sequence  # type: ignore[index]
    for hit in hits:
        readme_verifier()(secret, hit.headers, hit.body)
    for error, field in refusals:
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        got = errors.details_of(error)
        assert got["domain"] == "docspasta.v2" and got["violations"][0][0] == field, got
        assert (error.details() or "").startswith(f"{field}: ")
