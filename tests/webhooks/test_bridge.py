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
