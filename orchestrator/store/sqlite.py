"""SQLite job store (embedded: ``docspasta crawl`` / ``serve``, one machine), via aiosqlite.

Two connections: every write goes through one, under a lock, each change one
``BEGIN IMMEDIATE`` transaction (so stores in other processes on the same file take
turns); reads use the other, so a reader only ever sees committed rows (WAL lets it
read while a write is under way). Stores on one file in one process wake each other's
``wait_for_events`` at once; other processes are seen by polling every
``poll_seconds``.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import aiosqlite

from docspasta.aio import wait_at_most
from docspasta.db import begin_immediate, open_sqlite
from docspasta.webhooks import WebhookSpec
from orchestrator.store.base import (CANCELLING, FINISHED_STATES, F_IN_FLIGHT, F_QUEUED, QUEUED, RUNNING, W_PENDING,
                                     Batch, Delivery, DeliveryRecord, Finish, FrontierEntry, FrontierSummary, JobRecord,
                                     LeaseLost, NewJob, OutboxMessage, StoredEvent)
from orchestrator.store.rows import FRONTIER_COLUMNS, JOB_COLUMNS, frontier_entry, job_record
from orchestrator.store.webhook_rows import (CLAIM_SQL, DELIVERY_COLUMNS, DUE_SQL, WEBHOOK_COLUMNS, delivery,
                                             delivery_record, events_text, webhook_spec)

VERSION_TABLE = "schema_migrations_jobs"
DEFAULT_POLL_SECONDS = 0.5
# Each entry migrates the schema from version i to i+1. Never edit a released entry:
# append a new one.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE jobs (
        job_id TEXT PRIMARY KEY,
        request_id TEXT UNIQUE,
        request_hash TEXT NOT NULL,
        url TEXT NOT NULL,
        options BLOB NOT NULL,
        state TEXT NOT NULL,
        totals BLOB NOT NULL,
        checkpoint BLOB NOT NULL,
        error TEXT NOT NULL,
        created_at REAL NOT NULL,
        started_at REAL,
        finished_at REAL,
        queue_position INTEGER NOT NULL,
        owner TEXT,
        lease_expires_at REAL NOT NULL,
        last_sequence INTEGER NOT NULL
    );
    CREATE INDEX jobs_by_state ON jobs (state, queue_position);
    CREATE INDEX jobs_by_finish ON jobs (finished_at) WHERE finished_at IS NOT NULL;
    CREATE TABLE job_events (
        job_id TEXT NOT NULL,
        sequence INTEGER NOT NULL,
        name TEXT NOT NULL,
        payload BLOB NOT NULL,
        PRIMARY KEY (job_id, sequence)
    ) WITHOUT ROWID;
    CREATE TABLE job_frontier (
        job_id TEXT NOT NULL,
        key TEXT NOT NULL,
        url TEXT NOT NULL,
        depth INTEGER NOT NULL,
        ord INTEGER NOT NULL,
        state TEXT NOT NULL,
        reason TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        discovered_from TEXT NOT NULL,
        PRIMARY KEY (job_id, key)
    ) WITHOUT ROWID;
    CREATE INDEX job_frontier_queue ON job_frontier (job_id, state, depth, ord);
    CREATE TABLE job_hashes (
        job_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        key TEXT NOT NULL,
        value BLOB NOT NULL,
        PRIMARY KEY (job_id, kind, key, value)
    ) WITHOUT ROWID;
    """,
    # 2: webhooks (issue 18). A job's receiver, and its outbox: one row per message,
    # inserted with the event it announces; kind is the WebhookEventType; times are
    # epoch seconds; claimed_by/claim_expires_at are a dispatcher's claim.
    """
    CREATE TABLE job_webhooks (
        job_id TEXT PRIMARY KEY,
        url TEXT NOT NULL,
        secret TEXT NOT NULL,
        events TEXT NOT NULL,
        progress_pages INTEGER NOT NULL,
        progress_seconds REAL NOT NULL
    );
    CREATE TABLE job_outbox (
        job_id TEXT NOT NULL,
        sequence INTEGER NOT NULL,
        kind INTEGER NOT NULL,
        body BLOB NOT NULL,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL,
        next_attempt_at REAL NOT NULL,
        claimed_by TEXT,
        claim_expires_at REAL NOT NULL DEFAULT 0,
        last_status INTEGER NOT NULL DEFAULT 0,
        last_error TEXT NOT NULL DEFAULT '',
        finished_at REAL,
        PRIMARY KEY (job_id, sequence, kind)
    ) WITHOUT ROWID;
    CREATE INDEX job_outbox_due ON job_outbox (next_attempt_at) WHERE state = 'pending';
    CREATE INDEX job_outbox_pending ON job_outbox (job_id, sequence, kind) WHERE state = 'pending';
    """,
)

# SQLite's default limit of host parameters is 32766; lookups go in chunks well below it.
_CHUNK = 500


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start:start + _CHUNK]


class _Notifier:
    """In-process wake-ups for one database file: the last committed sequence per job
    and an Event replaced at every commit."""

    def __init__(self) -> None:
        self._events: dict[str, asyncio.Event] = {}

    def event(self, job_id: str) -> asyncio.Event:
        event = self._events.get(job_id)
        if event is None:
            event = self._events[job_id] = asyncio.Event()
        return event

    def notify(self, job_id: str, *, finished: bool = False) -> None:
        event = self._events.pop(job_id, None)
        if event is not None:
            event.set()
        if finished:
            self._events.pop(job_id, None)


_NOTIFIERS: dict[str, _Notifier] = {}


class SqliteJobStore:
    def __init__(self, *, path: str, poll_seconds: float = DEFAULT_POLL_SECONDS,
                 clock: Callable[[], float] = time.time) -> None:
        self._path = path
        self._poll = poll_seconds
        self._clock = clock
        self._w: aiosqlite.Connection | None = None
        self._r: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        key = os.path.realpath(path) if path != ":memory:" else f":memory:{id(self)}"
        self._notifier = _NOTIFIERS.setdefault(key, _Notifier())

    async def open(self) -> None:
        self._w = await open_sqlite(self._path, migrations=MIGRATIONS, version_table=VERSION_TABLE)
        if self._path == ":memory:":
            self._r = self._w  # a second connection would be another, empty database
        else:
            try:
                self._r = await open_sqlite(self._path, migrations=MIGRATIONS, version_table=VERSION_TABLE)
            except BaseException:
                await self.close()
                raise

    async def close(self) -> None:
        w, r, self._w, self._r = self._w, self._r, None, None
        if r is not None and r is not w:
            await r.close()
        if w is not None:
            await w.close()

    def _writer(self) -> aiosqlite.Connection:
        if self._w is None:
            raise RuntimeError("job store is not open")
        return self._w

    def _reader(self) -> aiosqlite.Connection:
        if self._r is None:
            raise RuntimeError("job store is not open")
        return self._r

    async def _one(self, sql: str, params: Sequence[object] = (), *, db: aiosqlite.Connection | None = None) -> Any:
        async with (db or self._reader()).execute(sql, params) as cur:
            return await cur.fetchone()

    async def _all(self, sql: str, params: Sequence[object] = (), *,
                   db: aiosqlite.Connection | None = None) -> list[Any]:
        async with (db or self._reader()).execute(sql, params) as cur:
            return list(await cur.fetchall())

    # -- jobs ----------------------------------------------------------------

    async def create_job(self, job: NewJob, *, owner: str, lease_seconds: float, start: bool,
                         first_events: Callable[[int], list[StoredEvent]],
                         outbox: Callable[[list[StoredEvent]], list[OutboxMessage]] | None = None,
                         ) -> tuple[JobRecord, bool]:
        async with self._lock:
            db = self._writer()
            try:
                await begin_immediate(db)
                if job.request_id:
                    row = await self._one(f"SELECT {JOB_COLUMNS} FROM jobs WHERE request_id = ?",
                                          (job.request_id,), db=db)
                    if row is not None:
                        await db.rollback()
                        return job_record(row), False
                waiting = (await self._one("SELECT count(*) FROM jobs WHERE state = ?", (QUEUED,), db=db))[0]
                top = (await self._one("SELECT coalesce(max(queue_position), 0) FROM jobs", db=db))[0]
                now = self._clock()
                starts = start and waiting == 0
                events = first_events(0 if starts else waiting + 1)
                await db.execute(
                    f"INSERT INTO jobs ({JOB_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?, NULL, ?, ?, ?, ?)",
                    (job.job_id, job.request_id or None, job.request_hash, job.url, job.options,
                     RUNNING if starts else QUEUED, job.totals, job.checkpoint, now, now if starts else None,
                     top + 1, owner if starts else None, now + lease_seconds if starts else 0.0,
                     events[-1].sequence if events else 0))
                await db.executemany("INSERT INTO job_events (job_id, sequence, name, payload) VALUES (?, ?, ?, ?)",
                                     [(job.job_id, e.sequence, e.name, e.payload) for e in events])
                if job.webhook is not None:
                    w = job.webhook
                    await db.execute(f"INSERT INTO job_webhooks ({WEBHOOK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                                     (job.job_id, w.url, w.secret, events_text(w), w.progress_pages,
                                      w.progress_seconds))
                    await self._insert_outbox(db, job.job_id, outbox(events) if outbox else [], now)
                await db.commit()
            except BaseException:
                await db.rollback()
                raise
            row = await self._one(f"SELECT {JOB_COLUMNS} FROM jobs WHERE job_id = ?", (job.job_id,), db=db)
        self._notifier.notify(job.job_id)
        return job_record(row), True

    async def get_job(self, job_id: str) -> JobRecord | None:
        row = await self._one(f"SELECT {JOB_COLUMNS} FROM jobs WHERE job_id = ?", (job_id,))
        return job_record(row) if row is not None else None

    async def claim_jobs(self, *, owner: str, lease_seconds: float, limit: int,
                         job_ids: Sequence[str] | None = None) -> list[JobRecord]:
        if limit <= 0 or (job_ids is not None and not job_ids):
            return []
        only = ""
        params: list[object] = []
        if job_ids is not None:
            only = f" AND job_id IN ({', '.join('?' * len(job_ids))})"
            params = list(job_ids)
        async with self._lock:
            db = self._writer()
            try:
                await begin_immediate(db)
                now = self._clock()
                orphans = await self._all(
                    f"SELECT job_id FROM jobs WHERE state IN (?, ?) AND (owner IS NULL OR lease_expires_at < ?){only} "
                    "ORDER BY created_at, job_id LIMIT ?", (RUNNING, CANCELLING, now, *params, limit), db=db)
                queued = await self._all(
                    f"SELECT job_id FROM jobs WHERE state = ?{only} ORDER BY queue_position LIMIT ?",
                    (QUEUED, *params, limit - len(orphans)), db=db) if len(orphans) < limit else []
                ids = [r[0] for r in orphans]
                await db.executemany("UPDATE jobs SET owner = ?, lease_expires_at = ? WHERE job_id = ?",
                                     [(owner, now + lease_seconds, i) for i in ids])
                await db.executemany(
                    "UPDATE jobs SET owner = ?, lease_expires_at = ?, state = ?, started_at = ? WHERE job_id = ?",
                    [(owner, now + lease_seconds, RUNNING, now, r[0]) for r in queued])
                ids += [r[0] for r in queued]
                await db.commit()
            except BaseException:
                await db.rollback()
                raise
            records = []
            for job_id in ids:
                row = await self._one(f"SELECT {JOB_COLUMNS} FROM jobs WHERE job_id = ?", (job_id,), db=db)
                records.append(job_record(row))
        return records

    async def renew_leases(self, *, owner: str, job_ids: Sequence[str], lease_seconds: float) -> set[str]:
        if not job_ids:
            return set()
        marks = ", ".join("?" * len(job_ids))
        async with self._lock:
            db = self._writer()
            try:
                await begin_immediate(db)
                held = await self._all(f"SELECT job_id FROM jobs WHERE owner = ? AND job_id IN ({marks})",
                                       (owner, *job_ids), db=db)
                await db.execute(f"UPDATE jobs SET lease_expires_at = ? WHERE owner = ? AND job_id IN ({marks})",
                                 (self._clock() + lease_seconds, owner, *job_ids))
                await db.commit()
            except BaseException:
                await db.rollback()
                raise
        return {r[0] for r in held}

    async def release_lease(self, job_id: str, *, owner: str) -> None:
        async with self._lock:
            await self._writer().execute(
                "UPDATE jobs SET owner = NULL, lease_expires_at = 0 WHERE job_id = ? AND owner = ?", (job_id, owner))

    async def request_cancel(self, job_id: str) -> JobRecord | None:
        async with self._lock:
            db = self._writer()
            try:
                await begin_immediate(db)
                await db.execute("UPDATE jobs SET state = ? WHERE job_id = ? AND state = ?",
                                 (CANCELLING, job_id, RUNNING))
                await db.commit()
            except BaseException:
                await db.rollback()
                raise
            row = await self._one(f"SELECT {JOB_COLUMNS} FROM jobs WHERE job_id = ?", (job_id,), db=db)
        return job_record(row) if row is not None else None

    async def append_unowned(self, job_id: str, *, state: str, events: list[StoredEvent],
                             finish: Finish | None = None, outbox: Sequence[OutboxMessage] = ()) -> bool:
        async with self._lock:
            db = self._writer()
            try:
                await begin_immediate(db)
                row = await self._one("SELECT last_sequence FROM jobs WHERE job_id = ? AND state = ? "
                                      "AND (owner IS NULL OR lease_expires_at < ?)",
                                      (job_id, state, self._clock()), db=db)
                if row is None or (events and events[0].sequence != row[0] + 1):
                    await db.rollback()
                    return False
                await db.executemany("INSERT INTO job_events (job_id, sequence, name, payload) VALUES (?, ?, ?, ?)",
                                     [(job_id, e.sequence, e.name, e.payload) for e in events])
                if outbox:
                    await self._insert_outbox(db, job_id, outbox, self._clock())
                last = events[-1].sequence if events else row[0]
                if finish is not None:
                    await db.execute("UPDATE jobs SET state = ?, error = ?, finished_at = ?, owner = NULL, "
                                     "lease_expires_at = 0, last_sequence = ? WHERE job_id = ?",
                                     (finish.state, finish.error, self._clock(), last, job_id))
                else:
                    await db.execute("UPDATE jobs SET last_sequence = ? WHERE job_id = ?", (last, job_id))
                await db.commit()
            except BaseException:
                await db.rollback()
                raise
        self._notifier.notify(job_id, finished=finish is not None)
        return True

    async def commit(self, batch: Batch) -> str:
        async with self._lock:
            db = self._writer()
            try:
                await begin_immediate(db)
                row = await self._one("SELECT owner, state, last_sequence FROM jobs WHERE job_id = ?",
                                      (batch.job_id,), db=db)
                if row is None or row[0] != batch.owner or row[1] in FINISHED_STATES:
                    await db.rollback()
                    raise LeaseLost(f"job {batch.job_id} is not held by {batch.owner}")
                state, last = row[1], row[2]
                if batch.events:
                    if batch.events[0].sequence != last + 1:
                        await db.rollback()
                        raise LeaseLost(f"job {batch.job_id}: event {batch.events[0].sequence} does not follow {last}")
                    await db.executemany(
                        "INSERT INTO job_events (job_id, sequence, name, payload) VALUES (?, ?, ?, ?)",
                        [(batch.job_id, e.sequence, e.name, e.payload) for e in batch.events])
                    last = batch.events[-1].sequence
                if batch.frontier:
                    await db.executemany(
                        f"INSERT INTO job_frontier (job_id, {FRONTIER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                        "ON CONFLICT (job_id, key) DO UPDATE SET url = excluded.url, depth = excluded.depth, "
                        "ord = excluded.ord, state = excluded.state, reason = excluded.reason, "
                        "attempts = excluded.attempts, discovered_from = excluded.discovered_from",
                        [(batch.job_id, f.key, f.url, f.depth, f.order, f.state, f.reason, f.attempts,
                          f.discovered_from) for f in batch.frontier])
                if batch.hashes:
                    await db.executemany(
                        "INSERT OR IGNORE INTO job_hashes (job_id, kind, key, value) VALUES (?, ?, ?, ?)",
                        [(batch.job_id, h.kind, h.key, h.value) for h in batch.hashes])
                if batch.outbox:
                    await self._insert_outbox(db, batch.job_id, batch.outbox, self._clock())
                sets = ["last_sequence = ?"]
                params: list[object] = [last]
                if batch.totals is not None:
                    sets.append("totals = ?")
                    params.append(batch.totals)
                if batch.checkpoint is not None:
                    sets.append("checkpoint = ?")
                    params.append(batch.checkpoint)
                if batch.finish is not None:
                    sets += ["state = ?", "error = ?", "finished_at = ?", "owner = NULL", "lease_expires_at = 0"]
                    params += [batch.finish.state, batch.finish.error, self._clock()]
                    state = batch.finish.state
                await db.execute(f"UPDATE jobs SET {', '.join(sets)} WHERE job_id = ?", (*params, batch.job_id))
                await db.commit()
            except LeaseLost:
                raise
            except BaseException:
                await db.rollback()
                raise
        if batch.events or batch.finish is not None:
            self._notifier.notify(batch.job_id, finished=batch.finish is not None)
        return str(state)

    async def delete_finished(self, *, finished_before: float) -> int:
        async with self._lock:
            db = self._writer()
            try:
                await begin_immediate(db)
                ids = [r[0] for r in await self._all(
                    "SELECT job_id FROM jobs WHERE finished_at IS NOT NULL AND finished_at < ?",
                    (finished_before,), db=db)]
                for chunk in _chunks(ids):
                    marks = ", ".join("?" * len(chunk))
                    for table in ("job_events", "job_frontier", "job_hashes", "job_outbox", "job_webhooks", "jobs"):
                        await db.execute(f"DELETE FROM {table} WHERE job_id IN ({marks})", tuple(chunk))
                await db.commit()
            except BaseException:
                await db.rollback()
                raise
        return len(ids)

    async def live_jobs(self) -> list[JobRecord]:
        rows = await self._all(f"SELECT {JOB_COLUMNS} FROM jobs WHERE state IN (?, ?, ?) ORDER BY queue_position",
                               (QUEUED, RUNNING, CANCELLING))
        return [job_record(r) for r in rows]

    # -- events --------------------------------------------------------------

    async def events(self, job_id: str, *, after_sequence: int, limit: int) -> list[StoredEvent]:
        rows = await self._all("SELECT sequence, name, payload FROM job_events WHERE job_id = ? AND sequence > ? "
                               "ORDER BY sequence LIMIT ?", (job_id, after_sequence, limit))
        return [StoredEvent(r[0], r[1], bytes(r[2])) for r in rows]

    async def wait_for_events(self, job_id: str, *, after_sequence: int, timeout: float) -> None:
        event = self._notifier.event(job_id)
        row = await self._one("SELECT last_sequence, state FROM jobs WHERE job_id = ?", (job_id,))
        if row is None or row[0] > after_sequence or row[1] in FINISHED_STATES:
            return
        await wait_at_most(event.wait(), min(timeout, self._poll))

    # -- frontier and dedup ------------------------------------------------------

    async def frontier_lookup(self, job_id: str, keys: Sequence[str]) -> dict[str, FrontierEntry]:
        found: dict[str, FrontierEntry] = {}
        for chunk in _chunks(list(keys)):
            rows = await self._all(f"SELECT {FRONTIER_COLUMNS} FROM job_frontier WHERE job_id = ? "
                                   f"AND key IN ({', '.join('?' * len(chunk))})", (job_id, *chunk))
            found.update((r[0], frontier_entry(r)) for r in rows)
        return found

    async def frontier_queued(self, job_id: str, *, after: tuple[int, int], limit: int) -> list[FrontierEntry]:
        rows = await self._all(f"SELECT {FRONTIER_COLUMNS} FROM job_frontier WHERE job_id = ? AND state = ? "
                               "AND (depth, ord) > (?, ?) ORDER BY depth, ord LIMIT ?",
                               (job_id, F_QUEUED, after[0], after[1], limit))
        return [frontier_entry(r) for r in rows]

    async def frontier_scan(self, job_id: str, *, after_key: str, limit: int) -> list[FrontierEntry]:
        rows = await self._all(f"SELECT {FRONTIER_COLUMNS} FROM job_frontier WHERE job_id = ? AND key > ? "
                               "ORDER BY key LIMIT ?", (job_id, after_key, limit))
        return [frontier_entry(r) for r in rows]

    async def frontier_summary(self, job_id: str) -> FrontierSummary:
        rows = await self._all("SELECT state, count(*), max(ord) FROM job_frontier WHERE job_id = ? GROUP BY state",
                               (job_id,))
        return FrontierSummary(counts={r[0]: r[1] for r in rows}, max_order=max((r[2] for r in rows), default=0))

    async def requeue_in_flight(self, job_id: str, *, owner: str) -> int:
        async with self._lock:
            db = self._writer()
            try:
                await begin_immediate(db)
                row = await self._one("SELECT owner FROM jobs WHERE job_id = ?", (job_id,), db=db)
                if row is None or row[0] != owner:
                    await db.rollback()
                    raise LeaseLost(f"job {job_id} is not held by {owner}")
                cur = await db.execute("UPDATE job_frontier SET state = ? WHERE job_id = ? AND state = ?",
                                       (F_QUEUED, job_id, F_IN_FLIGHT))
                count = cur.rowcount
                await db.commit()
            except LeaseLost:
                raise
            except BaseException:
                await db.rollback()
                raise
        return int(count)

    async def hash_lookup(self, job_id: str, kind: str, keys: Sequence[str]) -> dict[str, list[bytes]]:
        found: dict[str, list[bytes]] = {}
        for chunk in _chunks(list(keys)):
            rows = await self._all(f"SELECT key, value FROM job_hashes WHERE job_id = ? AND kind = ? "
                                   f"AND key IN ({', '.join('?' * len(chunk))})", (job_id, kind, *chunk))
            for key, value in rows:
                found.setdefault(key, []).append(bytes(value))
        return found


    # -- webhooks --------------------------------------------------------------

    @staticmethod
    async def _insert_outbox(db: aiosqlite.Connection, job_id: str, messages: Sequence[OutboxMessage],
                             now: float) -> None:
        await db.executemany(
            "INSERT OR IGNORE INTO job_outbox (job_id, sequence, kind, body, state, created_at, next_attempt_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)", [(job_id, m.sequence, m.kind, m.body, W_PENDING, now, now)
                                             for m in messages])

    async def webhook(self, job_id: str) -> WebhookSpec | None:
        row = await self._one(f"SELECT {WEBHOOK_COLUMNS} FROM job_webhooks WHERE job_id = ?", (job_id,))
        return webhook_spec(row) if row is not None else None

    async def claim_deliveries(self, *, owner: str, limit: int, claim_seconds: float) -> list[Delivery]:
        if limit <= 0:
            return []
        # The write lock (which job commits wait for) only when something is due.
        now = self._clock()
        if await self._one(DUE_SQL.format(now="?"), (now, now)) is None:
            return []
        async with self._lock:
            db = self._writer()
            try:
                await begin_immediate(db)
                now = self._clock()
                rows = await self._all(CLAIM_SQL.format(now="?", lock="", limit="?"), (now, now, now, limit), db=db)
                await db.executemany(
                    "UPDATE job_outbox SET claimed_by = ?, claim_expires_at = ? "
                    "WHERE job_id = ? AND sequence = ? AND kind = ?",
                    [(owner, now + claim_seconds, r[0], r[1], r[2]) for r in rows])
                await db.commit()
            except BaseException:
                await db.rollback()
                raise
        return [delivery(r) for r in rows]

    async def record_delivery(self, job_id: str, sequence: int, kind: int, *, owner: str, state: str,
                              retry_in: float = 0.0, status: int = 0, error: str = "") -> bool:
        async with self._lock:
            db = self._writer()
            try:
                await begin_immediate(db)
                now = self._clock()
                cur = await db.execute(
                    "UPDATE job_outbox SET state = ?, attempts = attempts + 1, last_status = ?, last_error = ?, "
                    "next_attempt_at = ?, finished_at = ?, claimed_by = NULL, claim_expires_at = 0 "
                    "WHERE job_id = ? AND sequence = ? AND kind = ? AND claimed_by = ? AND state = ?",
                    (state, status, error, now + retry_in, None if state == W_PENDING else now, job_id, sequence,
                     kind, owner, W_PENDING))
                changed = cur.rowcount
                await db.commit()
            except BaseException:
                await db.rollback()
                raise
        return bool(changed)

    async def release_deliveries(self, *, owner: str) -> int:
        async with self._lock:
            db = self._writer()
            try:
                await begin_immediate(db)
                cur = await db.execute("UPDATE job_outbox SET claimed_by = NULL, claim_expires_at = 0 "
                                       "WHERE claimed_by = ? AND state = ?", (owner, W_PENDING))
                count = cur.rowcount
                await db.commit()
            except BaseException:
                await db.rollback()
                raise
        return int(count)

    async def deliveries(self, job_id: str) -> list[DeliveryRecord]:
        rows = await self._all(f"SELECT {DELIVERY_COLUMNS} FROM job_outbox WHERE job_id = ? ORDER BY sequence, kind",
                               (job_id,))
        return [delivery_record(r) for r in rows]
