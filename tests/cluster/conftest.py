"""Cluster fixtures: one throwaway PostgreSQL per session (tests/store/postgres_server.py),
a fresh database, Redis on loopback TCP and the ten processes per test."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import asyncpg
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
    name = f"cluster_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(cluster_pg.dsn)
    try:
        await admin.execute(f"CREATE DATABASE {name}")
    finally:
        await admin.close()
    yield cluster_pg.dsn_for(name)
    admin = await asyncpg.connect(cluster_pg.dsn)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await admin.close()


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
