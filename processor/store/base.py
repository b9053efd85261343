"""The page store interface. A write is idempotent, keyed by (job_id, url)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from docspasta.db import is_postgres, sqlite_path


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredPage:
    job_id: str
    url: str
    order: int
    depth: int
    title: str
    markdown: str
    word_count: int
    token_estimate: int
    description: str
    content_hash: str


class PageStore(Protocol):
    async def open(self) -> None:
        """Connect and create or migrate the schema."""

    async def close(self) -> None: ...

    async def put(self, page: StoredPage) -> None:
        """Insert, or replace the page stored for the same (job_id, url)."""

    def pages(self, job_id: str, *, after_order: int = 0, limit: int = 0) -> AsyncIterator[StoredPage]:
        """A job's pages by crawl order."""

    async def count(self, job_id: str) -> int: ...


def open_store(database_url: str) -> PageStore:
    """A store for ``sqlite:///path`` (or a bare path) or ``postgresql://...``."""
    if is_postgres(database_url):
        from processor.store.postgres import PostgresStore
        return PostgresStore(dsn=database_url)
    from processor.store.sqlite import SqliteStore
    return SqliteStore(path=sqlite_path(database_url))
