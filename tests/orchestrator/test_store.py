"""The job store contract on SQLite (the PostgreSQL backend runs the same contract)."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.store import open_job_store
from orchestrator.store.sqlite import SqliteJobStore
from tests.orchestrator.store_contract import JobStoreContract, MakeStore


class TestSqliteJobStore(JobStoreContract):
    @pytest.fixture
    def make_store(self, tmp_path: Path) -> MakeStore:
        path = tmp_path / "jobs.db"
        return lambda: SqliteJobStore(path=str(path), poll_seconds=0.1)


async def test_job_store_shares_a_file_with_the_page_store(tmp_path: Path) -> None:
    """Each store keeps its schema version in its own place."""
    from processor.store import open_store

    url = f"sqlite:///{tmp_path / 'docspasta.db'}"
    pages, jobs = open_store(url), open_job_store(url)
    await pages.open()
    await jobs.open()
    try:
        assert isinstance(jobs, SqliteJobStore)
        assert await jobs.live_jobs() == [] and await pages.count("x") == 0
    finally:
        await jobs.close()
        await pages.close()
    again = open_store(url)
    await again.open()
    await again.close()
