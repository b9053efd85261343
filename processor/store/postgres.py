"""PostgreSQL page store (the shared store when many processors run), via asyncpg.

Same contract as the SQLite store: a write is an idempotent upsert keyed by
(job_id, url); a job's pages come back by crawl order (ties by URL, byte order).

The schema is created and migrated by the store itself. Migrations are numbered
(``MIGRATIONS[i]`` takes the schema from version i to i+1), recorded in
``schema_migrations`` and applied in one transaction under a transaction-scoped
advisory lock, so replicas starting together never race: the first applies them,
the others wait and then find nothing to do.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from docspasta.db import create_pg_pool, migrate_postgres
from processor.store.base import StoredPage

# Each entry migrates the schema from version i to i+1. Never edit a released entry:
# append a new one.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE pages (
        job_id TEXT NOT NULL,
        url TEXT COLLATE "C" NOT NULL,
        ord INTEGER NOT NULL,
        depth INTEGER NOT NULL,
        title TEXT NOT NULL,
        markdown TEXT NOT NULL,
        word_count INTEGER NOT NULL,
        token_estimate INTEGER NOT NULL,
        description TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        stored_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        PRIMARY KEY (job_id, url)
    );
    CREATE INDEX pages_job_order ON pages (job_id, ord, url);
    """,
)
# Rows fetched per round trip while iterating a job's pages; no connection is held
# between batches, so a slow reader never pins a pool connection.
PAGE_BATCH = 200

_COLUMNS = "job_id, url, ord, depth, title, markdown, word_count, token_estimate, description, content_hash"
_UPSERT = (
    f"INSERT INTO pages ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
    "ON CONFLICT (job_id, url) DO UPDATE SET ord = EXCLUDED.ord, depth = EXCLUDED.depth, "
    "title = EXCLUDED.title, markdown = EXCLUDED.markdown, word_count = EXCLUDED.word_count, "
    "token_estimate = EXCLUDED.token_estimate, description = EXCLUDED.description, "
    "content_hash = EXCLUDED.content_hash, stored_at = now()"
)
_FIRST_BATCH = (f"SELECT {_COLUMNS} FROM pages WHERE job_id = $1 AND ord > $2 "
                "ORDER BY ord, url LIMIT $3")
_NEXT_BATCH = (f"SELECT {_COLUMNS} FROM pages WHERE job_id = $1 AND (ord, url) > ($2, $3) "
               "ORDER BY ord, url LIMIT $4")


async def migrate(conn: Any) -> int:
    """Bring the schema up to date on ``conn``; returns the resulting version."""
    return await migrate_postgres(conn, migrations=MIGRATIONS, version_table="schema_migrations")


def _text(value: str) -> str:
    # PostgreSQL text cannot hold NUL; HTML parsers turn it into U+FFFD anyway.
    return value.replace("\0", "\ufffd") if "\0" in value else value


def _page(row: Any) -> StoredPage:
    return StoredPage(job_id=row[0], url=row[1], order=row[2], depth=row[3], title=row[4], markdown=row[5],
                      word_count=row[6], token_estimate=row[7], description=row[8], content_hash=row[9])


class PostgresStore:
    def __init__(self, *, dsn: str, min_size: int = 1, max_size: int = 10,
                 command_timeout: float = 30.0) -> None:
        self._dsn = dsn
        self._min_size = min_size
        self._max_size = max_size
        self._command_timeout = command_timeout
        self._pool: Any = None

    async def open(self) -> None:
        self._pool = await create_pg_pool(self._dsn, migrations=MIGRATIONS, version_table="schema_migrations",
                                          min_size=self._min_size, max_size=self._max_size,
                                          command_timeout=self._command_timeout)

    def _require(self) -> Any:
        if self._pool is None:
            raise RuntimeError("store is not open")
        return self._pool

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    async def put(self, page: StoredPage) -> None:
        await self._require().execute(
            _UPSERT, page.job_id, page.url, page.order, page.depth, _text(page.title), _text(page.markdown),
            page.word_count, page.token_estimate, _text(page.description), page.content_hash)

    async def pages(self, job_id: str, *, after_order: int = 0, limit: int = 0) -> AsyncIterator[StoredPage]:
        pool = self._require()
        remaining = limit or None
        last: tuple[int, str] | None = None
        while remaining is None or remaining > 0:
            batch = PAGE_BATCH if remaining is None else min(PAGE_BATCH, remaining)
            if last is None:
                rows = await pool.fetch(_FIRST_BATCH, job_id, after_order, batch)
            else:
                rows = await pool.fetch(_NEXT_BATCH, job_id, last[0], last[1], batch)
            for row in rows:
                yield _page(row)
            if len(rows) < batch:
                return
            if remaining is not None:
                remaining -= len(rows)
            last = (rows[-1][2], rows[-1][1])

    async def count(self, job_id: str) -> int:
        return int(await self._require().fetchval("SELECT count(*) FROM pages WHERE job_id = $1", job_id))
