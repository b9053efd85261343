"""Routing of a job's calls to the orchestrator replica named by its id (fast,
in-process; not marked cluster). The pump's behaviour when an orchestrator is
unreachable or no longer has the job is tested in tests/bridge/test_pump.py."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from bridge.buffer import EventBuffer
from bridge.clients import Clients, job_instance
from bridge.redis_embedded import EmbeddedRedis
from bridge.settings import BridgeSettings
from docspasta.settings import SettingsError


def test_job_instance_is_everything_before_the_last_dash() -> None:
    assert job_instance("orch-a-0123456789abcdef") == "orch-a"
    assert job_instance("orchestrator-1-3f2a9c0d5e6b7a81") == "orchestrator-1"
    assert job_instance("local-0123456789abcdef") == "local"
    assert job_instance("0123456789abcdef") is None
    assert job_instance("orch-a-NOTHEX") is None


def test_routes_by_instance_list_then_template_then_start_target() -> None:
    clients = Clients(processor_target="p:1", orchestrator_target="ipv4:127.0.0.1:1,127.0.0.1:2",
                      orchestrator_target_template="dns:///{instance}.orchestrator-headless:50053",
                      orchestrator_instances=[("orch-a", "127.0.0.1:1")])
    assert clients.orchestrator_target_for("orch-a-0123456789abcdef") == "127.0.0.1:1"
    assert (clients.orchestrator_target_for("orchestrator-1-0123456789abcdef")
            == "dns:///orchestrator-1.orchestrator-headless:50053")
    assert clients.orchestrator_target_for("odd", "started:1") == "started:1"
    plain = Clients(processor_target="p:1", orchestrator_target="127.0.0.1:50053")
    assert not plain.routed
    assert plain.orchestrator_target_for("orch-a-0123456789abcdef", "127.0.0.1:7") == "127.0.0.1:7"
    assert plain.orchestrator_target_for("orch-a-0123456789abcdef") == "127.0.0.1:50053"


def test_routing_settings_from_env() -> None:
    s = BridgeSettings.from_env({"ORCHESTRATOR_INSTANCES": "orch-a=127.0.0.1:1, orch-b=127.0.0.1:2",
                                 "ORCHESTRATOR_TARGET_TEMPLATE": "dns:///{instance}.o:50053"})
    assert s.orchestrator_instances == (("orch-a", "127.0.0.1:1"), ("orch-b", "127.0.0.1:2"))
    assert s.orchestrator_target == "127.0.0.1:50053"
    with pytest.raises(SettingsError):
        BridgeSettings.from_env({"ORCHESTRATOR_INSTANCES": "orch-a"})
    with pytest.raises(SettingsError):
        BridgeSettings.from_env({"ORCHESTRATOR_TARGET_TEMPLATE": "dns:///orchestrator:50053"})


@pytest.fixture
async def buffer() -> AsyncIterator[EventBuffer]:
    async with EmbeddedRedis() as server:
        redis = aioredis.from_url(server.url, decode_responses=True)
        yield EventBuffer(redis, prefix="t:", maxlen=1000, retention_seconds=60, job_ttl_seconds=600)
        await redis.aclose()


async def test_own_terminal_event_never_finishes_a_taken_sequence(buffer: EventBuffer) -> None:
    job_id = "orch-a-0123456789abcdef"
    await buffer.create_job(job_id, token_hash="x", url="http://x/", orchestrator="o", timeout_seconds=30)
    await buffer.append_raw(job_id, 1, "progress", "{}")
    assert not await buffer.append_raw(job_id, 1, "job_failed", "{}", only_new=True)
    meta = await buffer.meta(job_id)
    assert meta is not None and "terminal" not in meta
