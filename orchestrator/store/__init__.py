"""Where job state lives: one interface (base.py), SQLite and PostgreSQL backends."""

from __future__ import annotations

from docspasta.db import is_postgres, sqlite_path
from orchestrator.store.base import JobStore, LeaseLost

__all__ = ["JobStore", "LeaseLost", "open_job_store"]


def open_job_store(database_url: str) -> JobStore:
    """A (not yet opened) store for ``sqlite:///path`` (or a bare path) or ``postgresql://...``."""
    if is_postgres(database_url):
        from orchestrator.store.postgres import PostgresJobStore  # type: ignore[import-not-found,unused-ignore]
        store: JobStore = PostgresJobStore(dsn=database_url)
        return store
    from orchestrator.store.sqlite import SqliteJobStore
    return SqliteJobStore(path=sqlite_path(database_url))
