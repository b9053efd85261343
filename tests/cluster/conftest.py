"""Cluster fixtures: one throwaway PostgreSQL per session (tests/store/postgres_server.py),
a fresh database (pages and jobs), Redis on loopback TCP and the eight services per test."""

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
    # Short leases, so a SIGKILLed owner's jobs are adopted within seconds.
    c = Cluster(logdir=tmp_path, database_url=database_url, redis_url=cluster_redis_url,
                orchestrator_env={"JOB_LEASE_SECONDS": 3, "JOB_LEASE_RENEW_SECONDS": 1, "RECONCILE_SECONDS": 0.5})
    try:
        await c.start()
        yield c
    finally:
        await c.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session
