"""SQLite page store (the single-machine default), via aiosqlite."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

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
_UPSERT = (f"INSERT INTO pages ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
           "ON CONFLICT (job_id, url) DO UPDATE SET ord=excluded.ord, depth=excluded.depth, "
           "title=excluded.title, markdown=excluded.markdown, word_count=excluded.word_count, "
           "token_estimate=excluded.token_estimate, description=excluded.description, "
           "content_hash=excluded.content_hash")
# Puts that arrive within this many seconds of the first share one trip to aiosqlite's
# thread (each caller still returns only once its row is committed). A trip per page was
# ~85 µs of the processor's CPU (the thread hop, not the SQL); pages finish converting
# ~1 ms apart on two workers, so a few share each trip, for at most this much latency.
DEFAULT_PUT_WINDOW_SECONDS = 0.002


class SqliteStore:
    def __init__(self, *, path: str, put_window: float = DEFAULT_PUT_WINDOW_SECONDS) -> None:
        self._path = path
        self._db: aiosqlite.Connection | None = None
        self._put_window = put_window
        # Rows waiting for the next trip, each with the future its put awaits.
        self._queued: list[tuple[tuple[Any, ...], asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

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
        if self._writer is not None:  # the puts already made are written first
            await asyncio.gather(self._writer, return_exceptions=True)
        if self._db is not None:
            await self._db.close()
            self._db = None

    async def put(self, page: StoredPage) -> None:
        self._conn()
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        # Its error is read here too: a caller that gave up leaves nobody to read it.
        done.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._queued.append(((page.job_id, page.url, page.order, page.depth, page.title, page.markdown,
                              page.word_count, page.token_estimate, page.description, page.content_hash), done))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write())
        # Shielded: a caller that gives up does not take the others' rows down with it
        # (its own row is still written, as aiosqlite runs a cancelled call too).
        await asyncio.shield(done)

    async def _write(self) -> None:
        """Writes the queued rows, a window's worth per trip, until none are left. Each
        row is its own statement in autocommit, as a put was before (in order: a later
        put of the same URL wins)."""
        try:
            await asyncio.sleep(self._put_window)
            while self._queued:
                batch, self._queued = self._queued, []
                try:
                    await self._conn().executemany(_UPSERT, [row for row, _ in batch])
                except Exception:
                    # One bad row must fail its own put only, as a put of its own did:
                    # the rows go again one at a time (the upsert is idempotent, so the
                    # rows executemany committed before the bad one are written alike).
                    for row, done in batch:
                        try:
                            await self._conn().execute(_UPSERT, row)
                        except Exception as exc:
                            if not done.done():
                                done.set_exception(exc)
                        else:
                            if not done.done():
                                done.set_result(None)
                else:
                    for _, done in batch:
                        if not done.done():
                            done.set_result(None)
        finally:
            self._writer = None
            for _, done in self._queued:  # cancelled with rows queued (the loop is closing)
                if not done.done():
                    done.set_exception(RuntimeError("store is closing"))
            self._queued = []

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
