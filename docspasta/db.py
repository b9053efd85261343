"""Database plumbing shared by every store (pages in the processor, jobs in the
orchestrator): which backend a ``DATABASE_URL`` names, opening SQLite the one right way
(busy timeout, WAL), asyncpg pools, and the numbered-migration runner.

Migrations are tuples of SQL scripts: ``migrations[i]`` takes a schema from version i
to i+1; never edit a released entry, append a new one. Each store keeps its version in
its own place (``version_table``), so several stores can share one database file or
PostgreSQL database without stepping on each other. Migrating happens under a write
lock (SQLite ``BEGIN IMMEDIATE``, a PostgreSQL transaction-scoped advisory lock), so
replicas starting together migrate once: the first applies, the others find nothing
to do."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Sequence
from typing import Any

import aiosqlite

DEFAULT_BUSY_TIMEOUT_MS = 10_000
DEFAULT_PG_COMMAND_TIMEOUT = 30.0
# pg_advisory_xact_lock key: "docspasta" folded into a signed 64-bit integer.
MIGRATION_LOCK_KEY = 0x646F63737061_7374 & 0x7FFF_FFFF_FFFF_FFFF


def is_postgres(database_url: str) -> bool:
    return database_url.startswith(("postgresql://", "postgres://"))


def sqlite_path(database_url: str) -> str:
    """``sqlite:///path`` (or a bare path) -> the path; ``:memory:`` when empty."""
    return database_url.removeprefix("sqlite:///").removeprefix("sqlite://") or ":memory:"


class SchemaTooNew(RuntimeError):
    pass


def _check_version(current: int, migrations: Sequence[str]) -> None:
    if current > len(migrations):
        raise SchemaTooNew(f"database schema version {current} is newer than this code "
                           f"({len(migrations)}); refusing to run against it")


async def _switch_to_wal(db: aiosqlite.Connection, patience: float) -> None:
    """``PRAGMA journal_mode=WAL``, retried while another connection holds the file: on a
    file that several stores open at once SQLite answers "database is locked" at once,
    without calling the busy handler (seen: 4 of 20 runs of the test that opens four
    stores together)."""
    deadline = time.monotonic() + patience
    while True:
        try:
            await db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
        await asyncio.sleep(0.01)


async def open_sqlite(path: str, *, migrations: Sequence[str], version_table: str | None = None,
                      busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS) -> aiosqlite.Connection:
    """An autocommit connection (each statement commits on its own unless the caller
    opens a transaction) in WAL mode, its schema migrated. ``version_table`` None keeps
    the version in ``PRAGMA user_version`` (one store per file only)."""
    db = await aiosqlite.connect(path, isolation_level=None)
    try:
        # The busy timeout first: switching to WAL takes a lock that another store
        # opening the same file may hold for a moment.
        await db.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        await _switch_to_wal(db, busy_timeout_ms / 1000)
        await db.execute("PRAGMA synchronous=NORMAL")
        await migrate_sqlite(db, migrations=migrations, version_table=version_table)
    except BaseException:
        await db.close()
        raise
    return db


async def begin_immediate(db: aiosqlite.Connection) -> None:
    """Starts a write transaction; called inside the ``try`` whose ``except`` rolls back.
    aiosqlite runs each call on its own thread in order, and a call whose caller is
    cancelled still runs: a BEGIN cancelled before its ``try`` would leave its
    transaction open, and every later BEGIN on the connection would fail ("cannot start
    a transaction within a transaction") — seen as a job whose commits never succeed
    again. Inside the ``try``, the rollback is queued right behind it."""
    if db.in_transaction:  # left open all the same: end it before starting ours
        await db.rollback()
    await db.execute("BEGIN IMMEDIATE")


async def migrate_sqlite(db: aiosqlite.Connection, *, migrations: Sequence[str],
                         version_table: str | None = None) -> int:
    """Brings the schema up to date; returns the resulting version."""
    # Under a write lock, so stores opening the same file together migrate once.
    try:
        await begin_immediate(db)
        if version_table is None:
            async with db.execute("PRAGMA user_version") as cur:
                row = await cur.fetchone()
        else:
            await db.execute(f"CREATE TABLE IF NOT EXISTS {version_table} ("
                             " version INTEGER PRIMARY KEY,"
                             " applied_at REAL NOT NULL DEFAULT (julianday('now')))")
            async with db.execute(f"SELECT coalesce(max(version), 0) FROM {version_table}") as cur:
                row = await cur.fetchone()
        current = int(row[0]) if row else 0
        _check_version(current, migrations)
        for index in range(current, len(migrations)):
            # Statement by statement: executescript() would commit and drop the lock.
            for statement in filter(str.strip, migrations[index].split(";")):
                await db.execute(statement)
            if version_table is None:
                await db.execute(f"PRAGMA user_version = {index + 1}")
            else:
                await db.execute(f"INSERT INTO {version_table} (version) VALUES (?)", (index + 1,))
        await db.commit()
    except BaseException:
        await db.rollback()
        raise
    return len(migrations)


async def migrate_postgres(conn: Any, *, migrations: Sequence[str], version_table: str = "schema_migrations") -> int:
    """Brings the schema up to date on an asyncpg connection; returns the version."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK_KEY)
        await conn.execute(
            f"CREATE TABLE IF NOT EXISTS {version_table} ("
            " version INTEGER PRIMARY KEY,"
            " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
        current = int(await conn.fetchval(f"SELECT coalesce(max(version), 0) FROM {version_table}"))
        _check_version(current, migrations)
        for index in range(current, len(migrations)):
            await conn.execute(migrations[index])
            await conn.execute(f"INSERT INTO {version_table} (version) VALUES ($1)", index + 1)
        return len(migrations)


async def create_pg_pool(dsn: str, *, migrations: Sequence[str], version_table: str = "schema_migrations",
                         min_size: int = 1, max_size: int = 10,
                         command_timeout: float = DEFAULT_PG_COMMAND_TIMEOUT) -> Any:
    """An asyncpg pool whose schema is migrated; closed again if migrating fails."""
    import asyncpg

    pool = await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size, command_timeout=command_timeout)
    try:
        async with pool.acquire() as conn:
            await migrate_postgres(conn, migrations=migrations, version_table=version_table)
    except BaseException:
        await pool.close()
        raise
    return pool
