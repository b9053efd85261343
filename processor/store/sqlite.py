"""SQLite page store (the single-machine default), via aiosqlite."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiosqlite

from docspasta.db import open_sqlite
from processor.store.base import StoredPage

# Each entry migrates the schema from version i to i+1.
MIGRATIONS = (
    """
    CREATE TABLE pages (
        job_id TEXT NOT NULL,
        url TEXT NOT NULL,
        ord INTEGER NOT NULL,
        depth INTEGER NOT NULL,
        title TEXT NOT NULL,
        markdown TEXT NOT NULL,
        word_count INTEGER NOT NULL,
        token_estimate INTEGER NOT NULL,
        description TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        stored_at REAL NOT NULL DEFAULT (julianday('now')),
        PRIMARY KEY (job_id, url)
    );
    CREATE INDEX pages_job_order ON pages (job_id, ord);
    """,
)
_COLUMNS = "job_id, url, ord, depth, title, markdown, word_count, token_estimate, description, content_hash"


class SqliteStore:
    def __init__(self, *, path: str) -> None:
        self._path = path
        self._db: aiosqlite.Connection | None = None

    async def open(self) -> None:
        # Autocommit: each put is one statement, committed on its own, in one trip to
        # aiosqlite's thread (not an INSERT then a COMMIT): same durability per page.
        # The version stays in PRAGMA user_version, where it always was.
        self._db = await open_sqlite(self._path, migrations=MIGRATIONS)

    def _conn(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("store is not open")
        return self._db

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None

    async def put(self, page: StoredPage) -> None:
        db = self._conn()
        await db.execute(
            f"INSERT INTO pages ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (job_id, url) DO UPDATE SET ord=excluded.ord, depth=excluded.depth, "
            "title=excluded.title, markdown=excluded.markdown, word_count=excluded.word_count, "
            "token_estimate=excluded.token_estimate, description=excluded.description, "
            "content_hash=excluded.content_hash",
            (page.job_id, page.url, page.order, page.depth, page.title, page.markdown, page.word_count,
             page.token_estimate, page.description, page.content_hash))

    async def pages(self, job_id: str, *, after_order: int = 0, limit: int = 0) -> AsyncIterator[StoredPage]:
        db = self._conn()
        sql = f"SELECT {_COLUMNS} FROM pages WHERE job_id = ? AND ord > ? ORDER BY ord, url"
        params: tuple[object, ...] = (job_id, after_order)
        if limit:
            sql += " LIMIT ?"
            params += (limit,)
        async with db.execute(sql, params) as cur:
            async for row in cur:
                yield StoredPage(job_id=row[0], url=row[1], order=row[2], depth=row[3], title=row[4],
                                 markdown=row[5], word_count=row[6], token_estimate=row[7],
                                 description=row[8], content_hash=row[9])

    async def count(self, job_id: str) -> int:
        async with self._conn().execute("SELECT count(*) FROM pages WHERE job_id = ?", (job_id,)) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0
