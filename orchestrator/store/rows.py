"""Row <-> record mapping shared by both job store backends: the column lists their
SELECTs name and the conversions that read rows in that order. Kept together in one
place because a column list and its reader must agree, on both backends."""

from __future__ import annotations

from typing import Any

from orchestrator.store.base import FrontierEntry, JobRecord

JOB_COLUMNS = ("job_id, request_id, request_hash, url, options, state, totals, checkpoint, error, created_at, "
               "started_at, finished_at, queue_position, owner, lease_expires_at, last_sequence")
FRONTIER_COLUMNS = "key, url, depth, ord, state, reason, attempts, discovered_from"


def job_record(row: Any) -> JobRecord:
    """A ``jobs`` row selected as ``JOB_COLUMNS``; NULL request_id/owner read as ""."""
    return JobRecord(job_id=row[0], request_id=row[1] or "", request_hash=row[2], url=row[3], options=bytes(row[4]),
                     state=row[5], totals=bytes(row[6]), checkpoint=bytes(row[7]), error=row[8],
                     created_at=row[9], started_at=row[10], finished_at=row[11], queue_position=row[12],
                     owner=row[13] or "", lease_expires_at=row[14], last_sequence=row[15])


def frontier_entry(row: Any) -> FrontierEntry:
    """A ``job_frontier`` row selected as ``FRONTIER_COLUMNS``."""
    return FrontierEntry(key=row[0], url=row[1], depth=row[2], order=row[3], state=row[4], reason=row[5],
                         attempts=row[6], discovered_from=row[7])
