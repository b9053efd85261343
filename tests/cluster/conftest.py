"""Cluster fixtures: one throwaway PostgreSQL per session (tests/store/postgres_server.py),
a fresh database, Redis on loopback TCP and the ten processes per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

from bridge.redis_embedded import EmbeddedRedis
from tests.cluster.harness import Cluster, free_port
from tests.store.postgres_server import PostgresServer, PostgresUnavailable


@pytest.fixture(scope="session")
def cluster_pg() -> Iterator[PostgresServer]:
    try:
        with PostgresServer.start() as server:
            yield server
    except PostgresUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture
async def database_url(cluster_pg: PostgresServer) -> AsyncIterator[str]:
    async with cluster_pg.database("cluster") as dsn:
        yield dsn


@pytest.fixture
async def cluster_redis_url() -> AsyncIterator[str]:
    port = free_port()
    async with EmbeddedRedis(tcp_port=port):
        yield f"redis://127.0.0.1:{port}/0"


@pytest.fixture
async def cluster(tmp_path: Path, database_url: str, cluster_redis_url: str) -> AsyncIterator[Cluster]:
    c = Cluster(logdir=tmp_path, database_url=database_url, redis_url=cluster_redis_url,
                bridge_env={"BRIDGE_ORCHESTRATOR_LOST_SECONDS": 4})
    try:
        await c.start()
        yield c
    finally:
        await c.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session
