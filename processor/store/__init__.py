"""Where processed pages live: one small interface, a SQLite and a PostgreSQL backend."""

from processor.store.base import PageStore, StoredPage, open_store

__all__ = ["PageStore", "StoredPage", "open_store"]
