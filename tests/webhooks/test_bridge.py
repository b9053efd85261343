"""The bridge's job-creation JSON: "webhook" is accepted, checked by the rules the
orchestrator applies, and a bad one is a 400 naming the field before any gRPC call."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bridge.redis_embedded import EmbeddedRedis
from bridge.server import create_server
from bridge.settings import BridgeSettings
from bridge.validation import Invalid, Limits, parse_webhook
from docspasta.v1 import orchestrator_pb2 as pb

LIMITS = Limits(max_pages=1000, max_depth=10, concurrency=10, timeout_seconds=60, allow_private_network=False)
SECRET = "whsec_" + "QUFB" * 8


def test_a_webhook_object_becomes_the_message() -> None:
    got = parse_webhook({"url": "https://d.example.com/", "webhook": {
        "url": "https://hooks.example.com/in", "secret": SECRET, "events": ["job.started", "job.completed"],
        "progress_every_pages": 50, "progress_every_seconds": 10}}, LIMITS)
    assert got == pb.Webhook(url="https://hooks.example.com/in", secret=SECRET,
                             events=[pb.WEBHOOK_EVENT_TYPE_JOB_STARTED, pb.WEBHOOK_EVENT_TYPE_JOB_COMPLETED],
                             progress_every_pages=50, progress_every_seconds=10.0)
    assert parse_webhook({"url": "https://d.example.com/"}, LIMITS) is None


@pytest.mark.parametrize(("webhook", "field"), [
    ("https://hooks.example.com/", "webhook"),
    ({"url": "https://hooks.example.com/", "extra": 1}, "webhook.extra"),
    ({}, "webhook.url"),
    ({"url": "javascript:alert(1)"}, "webhook.url"),
    ({"url": "https://hooks.example.com/#frag"}, "webhook.url"),
    ({"url": "http://127.0.0.1:8080/hook"}, "webhook.url"),
    ({"url": "http://[::1]/hook"}, "webhook.url"),
    ({"url": "http://hooks.localhost/hook"}, "webhook.url"),
    ({"url": "https://hooks.example.com/", "secret": 5}, "webhook.secret"),
    ({"url": "https://hooks.example.com/", "secret": "short"}, "webhook.secret"),
    ({"url": "https://hooks.example.com/", "events": ["job.done"]}, "webhook.events"),
    ({"url": "https://hooks.example.com/", "events": "job.completed"}, "webhook.events"),
    ({"url": "https://hooks.example.com/", "progress_every_pages": 5000}, "webhook.progress_every_pages"),
    ({"url": "https://hooks.example.com/", "progress_every_pages": True}, "webhook.progress_every_pages"),
    ({"url": "https://hooks.example.com/", "progress_every_seconds": 1e9}, "webhook.progress_every_seconds"),
])
def test_a_bad_webhook_names_its_field(webhook: Any, field: str) -> None:
    with pytest.raises(Invalid) as caught:
        parse_webhook({"url": "https://d.example.com/", "webhook": webhook}, LIMITS)
    assert caught.value.field == field


@pytest.fixture
async def bridge_url() -> AsyncIterator[str]:
    async with EmbeddedRedis() as redis:
        # No orchestrator behind it (port 9): a refused body never gets that far.
        runner, port = await create_server(BridgeSettings(port=0, redis_url=redis.url,
                                                          orchestrator_target="127.0.0.1:9",
                                                          processor_target="127.0.0.1:9"))
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            await runner.cleanup()


async def test_post_api_jobs_refuses_a_bad_webhook_with_400(bridge_url: str) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{bridge_url}/api/jobs", json={
                "url": "https://docs.example.com/", "webhook": {"url": "ftp://hooks.example.com/"}}) as resp:
            assert resp.status == 400
            error = (await resp.json())["error"]
            assert error["code"] == "invalid_argument" and error["field"] == "webhook.url"
            assert error["message"].startswith("webhook.url: ")


async def test_post_api_jobs_with_a_webhook_delivers_the_jobs_events(site: Any, receiver: Any,
                                                                       secret: str) -> None:
    """Through the bridge: the JSON webhook reaches StartJob, and the job's events reach
    the receiver signed with the job's secret."""
    import json
    from dataclasses import replace

    from docspasta.local import LocalStack
    from orchestrator.settings import OrchestratorSettings
    from processor.settings import ProcessorSettings
    from tests.conftest import local_crawler_settings
    from tests.support.site import tree_site
    from tests.webhooks.conftest import readme_verifier
    from tests.webhooks.pipeline import LOCAL_WEBHOOKS

    site.pages.update(tree_site(6))
    async with LocalStack(crawler=local_crawler_settings(), processor=replace(ProcessorSettings(), workers=1),
                          orchestrator=replace(OrchestratorSettings(), instance_id="test",
                                               webhooks=LOCAL_WEBHOOKS)) as stack, EmbeddedRedis() as redis:
        runner, port = await create_server(BridgeSettings(
            port=0, redis_url=redis.url, allow_private_network=True, orchestrator_target=stack.orchestrator_target,
            processor_target=stack.processor_target))
        try:
            async with aiohttp.ClientSession() as http:
                async with http.post(f"http://127.0.0.1:{port}/api/jobs", json={
                        "url": site.url("/docs/"),
                        "webhook": {"url": receiver.url, "secret": secret,
                                    "events": ["job.started", "job.completed"]}}) as resp:
                    assert resp.status == 201, await resp.text()
                    job_id = (await resp.json())["job_id"]
            hits = await receiver.wait_for(
                lambda hits: any(b"job.completed" in h.body and h.answered == 204 for h in hits))
        finally:
            await runner.cleanup()
    assert [json.loads(h.body)["type"] for h in hits] == ["job.started", "job.completed"]
    assert all(json.loads(h.body)["data"]["job_id"] == job_id for h in hits)
    for hit in hits:
        readme_verifier()(secret, hit.headers, hit.body)
