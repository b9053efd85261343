"""Store fixtures: every store test runs against SQLite and a real, throwaway PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiosqlite
import asyncpg
import pytest

from processor.store import PageStore
from processor.store.postgres import PostgresStore
from processor.store.sqlite import SqliteStore
from tests.store.postgres_server import PostgresServer, PostgresUnavailable


@dataclass
class Backend:
    """One database, and how to open another store on it and read its schema version."""
    name: str
    make: Callable[[], PageStore]
    schema_version: Callable[[], Awaitable[int]]
    migration_count: int


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    try:
        with PostgresServer.start() as server:
            yield server
    except PostgresUnavailable as exc:
        pytest.skip(str(exc))


async def _sqlite_backend(path: Path) -> Backend:
    from processor.store import sqlite

    async def version() -> int:
        async with aiosqlite.connect(path) as db, db.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    return Backend(name="sqlite", make=lambda: SqliteStore(path=str(path)), schema_version=version,
                   migration_count=len(sqlite.MIGRATIONS))


@pytest.fixture(params=["sqlite", "postgres"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    if request.param == "sqlite":
        yield await _sqlite_backend(tmp_path / "pages.db")
        return
    server: PostgresServer = request.getfixturevalue("pg_server")
    async with server.database() as dsn:
        yield _postgres_backend(dsn)


def _postgres_backend(dsn: str) -> Backend:
    from processor.store import postgres

    async def version() -> int:
        conn = await asyncpg.connect(dsn)
        try:
            rows = await conn.fetch("SELECT version FROM schema_migrations ORDER BY version")
        finally:
            await conn.close()
        versions = [r[0] for r in rows]
        assert versions == list(range(1, len(versions) + 1)), f"gaps or repeats in schema_migrations: {versions}"
        return len(versions)

    return Backend(name="postgres", make=lambda: PostgresStore(dsn=dsn, max_size=4), schema_version=version,
                   migration_count=len(postgres.MIGRATIONS))


@pytest.fixture
async def store(backend: Backend) -> AsyncIterator[PageStore]:
    s = backend.make()
    await s.open()
    yield s
    await s.close()
