"""Bridge fixtures: a real redis-server per test (the bridge's own embedded launcher,
unix socket in a temp dir) and bridges started in-process on port 0."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bridge.redis_embedded import EmbeddedRedis
from bridge.server import create_server
from bridge.settings import BridgeSettings
from docspasta.local import LocalStack

BridgeFactory = Callable[..., Awaitable[str]]


@pytest.fixture
async def redis_url() -> AsyncIterator[str]:
    async with EmbeddedRedis() as server:
        yield server.url


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def make_bridge(redis_url: str) -> AsyncIterator[BridgeFactory]:
    """``await make_bridge(stack=..., **settings)`` -> base URL of a started bridge."""
    runners: list[web.AppRunner] = []

    async def start(stack: LocalStack | None = None, **overrides: Any) -> str:
        settings = BridgeSettings(port=0, redis_url=redis_url, allow_private_network=True,
                                  orchestrator_target=stack.orchestrator_target if stack else "127.0.0.1:9",
                                  processor_target=stack.processor_target if stack else "127.0.0.1:9")
        runner, port = await create_server(replace(settings, **overrides))
        runners.append(runner)
        return f"http://127.0.0.1:{port}"

    yield start
    for runner in runners:
        await runner.cleanup()

