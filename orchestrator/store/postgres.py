"""PostgreSQL job store (deployed: many orchestrator replicas on one database), via asyncpg.

Same contract and schema as the SQLite store (``sqlite.py``); what differs is how
replicas share it:

* **Time is the database's.** Every lease expiry and time stamp is computed from
  ``clock_timestamp()`` on the server, so replicas whose clocks disagree still agree on
  whether a lease has expired.
* **Leases are row locks plus a conditional update.** ``claim_jobs`` selects candidate
  rows ``FOR UPDATE SKIP LOCKED`` (an orphan: no owner, or ``lease_expires_at`` in the
  past) and sets the owner in the same transaction: two replicas claiming at once get
  different jobs, never one job twice. Every write of a running job (``commit``) locks
  the job row and checks that the writer is still its owner, so a replica that lost its
  lease changes nothing (``LeaseLost``).
* **Creating a job is serialized** by a transaction-scoped advisory lock: the
  ``request_id`` check, the queue position and the insert see one order across
  replicas (the unique index on ``request_id`` backs it).
* **Writes are batched**: one ``commit`` is one transaction of at most five
  statements whatever its size (events, frontier rows and hashes each go in as arrays
  through ``unnest``).
* **Event tailing uses LISTEN/NOTIFY.** A commit that adds events sends
  ``NOTIFY docspasta_job_events, '<job id>'`` (delivered when it commits); one
  listening connection per store wakes the local waiters of that job. A waiter checks
  the stored ``last_sequence`` after registering, so a notification can never slip
  between its read and its wait; and it never sleeps longer than
  ``listen_poll_seconds`` (``poll_seconds`` while the listening connection is down and
  being re-established), so a lost notification costs at most that delay.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any

from docspasta.aio import wait_at_most
from docspasta.db import create_pg_pool
from docspasta.webhooks import WebhookSpec
from orchestrator.store.base import (CANCELLING, F_IN_FLIGHT, F_QUEUED, FINISHED_STATES, QUEUED, RUNNING, W_PENDING,
                                     Batch, Delivery, DeliveryRecord, Finish, FrontierEntry, FrontierSummary,
                                     JobRecord, LeaseLost, NewJob, OutboxMessage, StoredEvent)
from orchestrator.store.rows import FRONTIER_COLUMNS, JOB_COLUMNS, frontier_entry, job_record
from orchestrator.store.webhook_rows import (CLAIM_SQL, DELIVERY_COLUMNS, DUE_SQL, WEBHOOK_COLUMNS, delivery,
                                             delivery_record, events_text, webhook_spec)

log = logging.getLogger(__name__)

VERSION_TABLE = "schema_migrations_jobs"
CHANNEL = "docspasta_job_events"
DEFAULT_POLL_SECONDS = 0.25
DEFAULT_LISTEN_POLL_SECONDS = 2.0
DEFAULT_MAX_CONNECTIONS = 10
# How often the listening connection is checked while idle (a dead socket is noticed
# by the next query at the latest).
LISTEN_CHECK_SECONDS = 5.0
# pg_advisory_xact_lock key serializing job creation: "jobs" folded into an integer.
CREATE_LOCK_KEY = 0x6A6F6273
# Jobs deleted per statement by the retention sweep, so no transaction grows unbounded.
DELETE_CHUNK = 200
_FINISHED = tuple(sorted(FINISHED_STATES))

# Each entry migrates the schema from version i to i+1. Never edit a released entry:
# append a new one. Tables and columns are the SQLite store's (times are epoch
# seconds from the database clock); keys are COLLATE "C" so key order is byte order
# on both backends.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE jobs (
        job_id TEXT PRIMARY KEY,
        request_id TEXT UNIQUE,
        request_hash TEXT NOT NULL,
        url TEXT NOT NULL,
        options BYTEA NOT NULL,
        state TEXT NOT NULL,
        totals BYTEA NOT NULL,
        checkpoint BYTEA NOT NULL,
        error TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL,
        started_at DOUBLE PRECISION,
        finished_at DOUBLE PRECISION,
        queue_position BIGINT NOT NULL,
        owner TEXT,
        lease_expires_at DOUBLE PRECISION NOT NULL,
        last_sequence INTEGER NOT NULL
    );
    CREATE INDEX jobs_by_state ON jobs (state, queue_position);
    CREATE INDEX jobs_by_finish ON jobs (finished_at) WHERE finished_at IS NOT NULL;
    CREATE TABLE job_events (
        job_id TEXT NOT NULL,
        sequence INTEGER NOT NULL,
        name TEXT NOT NULL,
        payload BYTEA NOT NULL,
        PRIMARY KEY (job_id, sequence)
    );
    CREATE TABLE job_frontier (
        job_id TEXT NOT NULL,
        key TEXT COLLATE "C" NOT NULL,
        url TEXT NOT NULL,
        depth INTEGER NOT NULL,
        ord BIGINT NOT NULL,
        state TEXT NOT NULL,
        reason TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        discovered_from TEXT NOT NULL,
        PRIMARY KEY (job_id, key)
    );
    CREATE INDEX job_frontier_queue ON job_frontier (job_id, state, depth, ord);
    CREATE TABLE job_hashes (
        job_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        key TEXT COLLATE "C" NOT NULL,
        value BYTEA NOT NULL,
        PRIMARY KEY (job_id, kind, key, value)
    );
    """,
    # 2: webhooks (issue 18), as in the SQLite store.
    """
    CREATE TABLE job_webhooks (
        job_id TEXT PRIMARY KEY,
        url TEXT NOT NULL,
        secret TEXT NOT NULL,
        events TEXT NOT NULL,
        progress_pages INTEGER NOT NULL,
        progress_seconds DOUBLE PRECISION NOT NULL
    );
    CREATE TABLE job_outbox (
        job_id TEXT NOT NULL,
        sequence INTEGER NOT NULL,
        kind INTEGER NOT NULL,
        body BYTEA NOT NULL,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        created_at DOUBLE PRECISION NOT NULL,
        next_attempt_at DOUBLE PRECISION NOT NULL,
        claimed_by TEXT,
        claim_expires_at DOUBLE PRECISION NOT NULL DEFAULT 0,
        last_status INTEGER NOT NULL DEFAULT 0,
        last_error TEXT NOT NULL DEFAULT '',
        finished_at DOUBLE PRECISION,
        PRIMARY KEY (job_id, sequence, kind)
    );
    CREATE INDEX job_outbox_due ON job_outbox (next_attempt_at) WHERE state = 'pending';
    CREATE INDEX job_outbox_pending ON job_outbox (job_id, sequence, kind) WHERE state = 'pending';
    """,
)

_NOW = "extract(epoch FROM clock_timestamp())::float8"
_GET_JOB = f"SELECT {JOB_COLUMNS} FROM jobs WHERE job_id = $1"
_INSERT_EVENTS = ("INSERT INTO job_events (job_id, sequence, name, payload) "
                  "SELECT $1, * FROM unnest($2::integer[], $3::text[], $4::bytea[])")


# A commit is one statement, so one round trip (on a busy server each round trip costs
# a context switch to the backend and back: the eight of a BEGIN ... COMMIT sequence
# were ~90 ms under load). The job row is locked first (FOR UPDATE in ``j``, which
# every write depends on through ``ok``): a claim by another replica waits for this
# commit, and this commit, if it waited, re-reads the row and sees the new owner
# (READ COMMITTED re-checks a locked row). Nothing is written unless the writer owns
# the job, the job is not finished, and the first event follows ``last_sequence``.
# The result: (state after, or NULL when nothing was written; owner, state and
# last_sequence before).
_COMMIT = f"""
WITH j AS (
    SELECT owner, state, last_sequence FROM jobs WHERE job_id = $1 FOR UPDATE
), ok AS (
    SELECT last_sequence FROM j WHERE owner = $2 AND state <> ALL($3::text[])
        AND (cardinality($4::integer[]) = 0 OR $4[1] = last_sequence + 1)
), ev AS (
    INSERT INTO job_events (job_id, sequence, name, payload)
    SELECT $1, u.* FROM ok, unnest($4::integer[], $5::text[], $6::bytea[]) AS u
), fr AS (
    INSERT INTO job_frontier (job_id, {FRONTIER_COLUMNS})
    SELECT $1, u.* FROM ok, unnest($7::text[], $8::text[], $9::integer[], $10::bigint[], $11::text[], $12::text[],
                                   $13::integer[], $14::text[]) AS u
    ON CONFLICT (job_id, key) DO UPDATE SET url = excluded.url, depth = excluded.depth, ord = excluded.ord,
        state = excluded.state, reason = excluded.reason, attempts = excluded.attempts,
        discovered_from = excluded.discovered_from
), ha AS (
    INSERT INTO job_hashes (job_id, kind, key, value)
    SELECT $1, u.* FROM ok, unnest($15::text[], $16::text[], $17::bytea[]) AS u
    ON CONFLICT DO NOTHING
), up AS (
    UPDATE jobs SET
        last_sequence = CASE WHEN cardinality($4) > 0 THEN $4[cardinality($4)] ELSE jobs.last_sequence END,
        totals = coalesce($18::bytea, totals),
        checkpoint = coalesce($19::bytea, checkpoint),
        state = coalesce($20::text, state),
        error = CASE WHEN $20::text IS NULL THEN error ELSE $21::text END,
        finished_at = CASE WHEN $20::text IS NULL THEN finished_at ELSE {_NOW} END,
        owner = CASE WHEN $20::text IS NULL THEN owner END,
        lease_expires_at = CASE WHEN $20::text IS NULL THEN lease_expires_at ELSE 0 END
    FROM ok WHERE job_id = $1
    RETURNING jobs.state
), note AS (
    SELECT pg_notify($22::text, $1::text) FROM ok WHERE $23::boolean
)
SELECT (SELECT state FROM up), (SELECT owner FROM j), (SELECT state FROM j), (SELECT last_sequence FROM j),
       (SELECT count(*) FROM note)
"""


# A commit that carries webhook messages (a job with a webhook, at its milestones): the
# same one statement plus one CTE inserting them, under the same ``ok`` fence. Commits
# without messages keep using _COMMIT unchanged.
_OUTBOX_CTE = f"""), ob AS (
    INSERT INTO job_outbox (job_id, sequence, kind, body, state, created_at, next_attempt_at)
    SELECT $1, u.seq, u.kind, u.body, '{W_PENDING}', {_NOW}, {_NOW}
    FROM ok, unnest($24::integer[], $25::integer[], $26::bytea[]) AS u(seq, kind, body)
    ON CONFLICT DO NOTHING
), up AS ("""
assert _COMMIT.count("), up AS (") == 1
_COMMIT_OUTBOX = _COMMIT.replace("), up AS (", _OUTBOX_CTE)
_INSERT_OUTBOX = ("INSERT INTO job_outbox (job_id, sequence, kind, body, state, created_at, next_attempt_at) "
                  f"SELECT $1, u.seq, u.kind, u.body, '{W_PENDING}', {_NOW}, {_NOW} "
                  "FROM unnest($2::integer[], $3::integer[], $4::bytea[]) AS u(seq, kind, body) ON CONFLICT DO NOTHING")


async def _insert_outbox(conn: Any, job_id: str, messages: Sequence[OutboxMessage]) -> None:
    if messages:
        await conn.execute(_INSERT_OUTBOX, job_id, [m.sequence for m in messages], [m.kind for m in messages],
                           [m.body for m in messages])


def _text(value: str) -> str:
    # PostgreSQL text cannot hold NUL (URLs and errors come from the outside world).
    return value.replace("\0", "\ufffd") if "\0" in value else value


async def _insert_events(conn: Any, job_id: str, events: Sequence[StoredEvent]) -> None:
    await conn.execute(_INSERT_EVENTS, job_id, [e.sequence for e in events], [e.name for e in events],
                       [e.payload for e in events])


class _Waiters:
    """Local wake-ups per job: an Event replaced at every notification."""

    def __init__(self) -> None:
        self._events: dict[str, asyncio.Event] = {}

    def event(self, job_id: str) -> asyncio.Event:
        event = self._events.get(job_id)
        if event is None:
            event = self._events[job_id] = asyncio.Event()
        return event

    def notify(self, job_id: str) -> None:
        event = self._events.pop(job_id, None)
        if event is not None:
            event.set()

    def notify_all(self) -> None:
        events, self._events = self._events, {}
        for event in events.values():
            event.set()


class PostgresJobStore:
    def __init__(self, *, dsn: str, min_size: int = 1, max_size: int = DEFAULT_MAX_CONNECTIONS,
                 command_timeout: float = 30.0, poll_seconds: float = DEFAULT_POLL_SECONDS,
                 listen_poll_seconds: float = DEFAULT_LISTEN_POLL_SECONDS) -> None:
        self._dsn = dsn
        self._min_size = min_size
        self._max_size = max_size
        self._command_timeout = command_timeout
        self._poll = poll_seconds
        self._listen_poll = listen_poll_seconds
        self._pool: Any = None
        self._waiters = _Waiters()
        self._listening = False
        self._listener: asyncio.Task[None] | None = None
        self._listener_ready = asyncio.Event()

    # -- lifecycle -------------------------------------------------------------

    async def open(self) -> None:
        self._pool = await create_pg_pool(self._dsn, migrations=MIGRATIONS, version_table=VERSION_TABLE,
                                          min_size=self._min_size, max_size=self._max_size,
                                          command_timeout=self._command_timeout)
        self._listener = asyncio.create_task(self._listen(), name="job-store-listener")
        # Waiters poll until the listener is up; waiting for it here just makes the
        # first tails prompt. A database that refuses LISTEN is not fatal.
        try:
            await asyncio.wait_for(self._listener_ready.wait(), self._command_timeout)
        except TimeoutError:
            log.warning("job store: LISTEN not established; tailing by polling")

    async def close(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()
        self._waiters.notify_all()

    @property
    def listening(self) -> bool:
        """True while the LISTEN connection is up (tails wake at once); False: they poll."""
        return self._listening

    def _require(self) -> Any:
        if self._pool is None:
            raise RuntimeError("job store is not open")
        return self._pool

    async def _listen(self) -> None:
        """Keeps one connection LISTENing, re-establishing it when it drops; every
        (re)connect wakes all waiters, since notifications may have been missed."""
        import asyncpg

        backoff = 0.1
        while True:
            conn: Any = None
            try:
                conn = await asyncpg.connect(self._dsn, timeout=self._command_timeout)
                lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()

                def on_lost(_conn: Any, lost: asyncio.Future[None] = lost) -> None:
                    if not lost.done():
                        lost.set_result(None)

                conn.add_termination_listener(on_lost)
                await conn.add_listener(CHANNEL, self._on_notify)
                self._listening = True
                self._listener_ready.set()
                self._waiters.notify_all()
                backoff = 0.1
                while not lost.done():
                    await asyncio.wait({lost}, timeout=LISTEN_CHECK_SECONDS)
                    if not lost.done():
                        await conn.execute("SELECT 1", timeout=self._command_timeout)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database is unreachable: retry, tails poll meanwhile
                log.warning("job store: listening connection lost; retrying",
                            extra={"error": f"{type(exc).__name__}: {exc}"})
            finally:
                self._listening = False
                if conn is not None:
                    try:
                        await asyncio.wait_for(conn.close(), 5)
                    except Exception:  # noqa: BLE001 - it is gone either way
                        conn.terminate()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        self._waiters.notify(payload)

    # -- jobs ----------------------------------------------------------------

    async def create_job(self, job: NewJob, *, owner: str, lease_seconds: float, start: bool,
                         first_events: Callable[[int], list[StoredEvent]],
                         outbox: Callable[[list[StoredEvent]], list[OutboxMessage]] | None = None,
                         ) -> tuple[JobRecord, bool]:
        async with self._require().acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", CREATE_LOCK_KEY)
            if job.request_id:
                row = await conn.fetchrow(f"SELECT {JOB_COLUMNS} FROM jobs WHERE request_id = $1", job.request_id)
                if row is not None:
                    return job_record(row), False
            waiting, top, now = await conn.fetchrow(
                f"SELECT count(*) FILTER (WHERE state = $1), coalesce(max(queue_position), 0), {_NOW} FROM jobs",
                QUEUED)
            starts = start and waiting == 0
            events = first_events(0 if starts else waiting + 1)
            row = await conn.fetchrow(
                f"INSERT INTO jobs ({JOB_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, '', $9, $10, NULL, $11, "
                f"$12, $13, $14) RETURNING {JOB_COLUMNS}",
                job.job_id, job.request_id or None, job.request_hash, _text(job.url), job.options,
                RUNNING if starts else QUEUED, job.totals, job.checkpoint, now, now if starts else None, top + 1,
                owner if starts else None, now + lease_seconds if starts else 0.0,
                events[-1].sequence if events else 0)
            if events:
                await _insert_events(conn, job.job_id, events)
                await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, job.job_id)
            if job.webhook is not None:
                w = job.webhook
                await conn.execute(f"INSERT INTO job_webhooks ({WEBHOOK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)",
                                   job.job_id, _text(w.url), w.secret, events_text(w), w.progress_pages,
                                   w.progress_seconds)
                await _insert_outbox(conn, job.job_id, outbox(events) if outbox else [])
        self._waiters.notify(job.job_id)
        return job_record(row), True

    async def get_job(self, job_id: str) -> JobRecord | None:
        row = await self._require().fetchrow(_GET_JOB, job_id)
        return job_record(row) if row is not None else None

    async def claim_jobs(self, *, owner: str, lease_seconds: float, limit: int,
                         job_ids: Sequence[str] | None = None) -> list[JobRecord]:
        if limit <= 0 or (job_ids is not None and not job_ids):
            return []
        only = list(job_ids) if job_ids is not None else None
        async with self._require().acquire() as conn, conn.transaction():
            # Orphans first (oldest first), then the queue in order; rows another
            # replica is claiming at this moment are skipped, not waited for.
            orphans = await conn.fetch(
                "SELECT job_id FROM jobs WHERE state IN ($1, $2) "
                f"AND (owner IS NULL OR lease_expires_at < {_NOW}) AND ($3::text[] IS NULL OR job_id = ANY($3)) "
                "ORDER BY created_at, job_id LIMIT $4 FOR UPDATE SKIP LOCKED", RUNNING, CANCELLING, only, limit)
            queued: list[Any] = []
            if len(orphans) < limit:
                queued = await conn.fetch(
                    "SELECT job_id FROM jobs WHERE state = $1 AND ($2::text[] IS NULL OR job_id = ANY($2)) "
                    "ORDER BY queue_position LIMIT $3 FOR UPDATE SKIP LOCKED", QUEUED, only, limit - len(orphans))
            claimed: list[Any] = []
            if orphans:
                claimed += await conn.fetch(
                    f"UPDATE jobs SET owner = $1, lease_expires_at = {_NOW} + $2 WHERE job_id = ANY($3::text[]) "
                    f"RETURNING {JOB_COLUMNS}", owner, lease_seconds, [r[0] for r in orphans])
            if queued:
                claimed += await conn.fetch(
                    f"UPDATE jobs SET owner = $1, lease_expires_at = {_NOW} + $2, state = $4, started_at = {_NOW} "
                    f"WHERE job_id = ANY($3::text[]) RETURNING {JOB_COLUMNS}",
                    owner, lease_seconds, [r[0] for r in queued], RUNNING)
        order = {r[0]: i for i, r in enumerate([*orphans, *queued])}
        return sorted((job_record(r) for r in claimed), key=lambda rec: order[rec.job_id])

    async def renew_leases(self, *, owner: str, job_ids: Sequence[str], lease_seconds: float) -> set[str]:
        if not job_ids:
            return set()
        rows = await self._require().fetch(
            f"UPDATE jobs SET lease_expires_at = {_NOW} + $3 WHERE owner = $1 AND job_id = ANY($2::text[]) "
            "RETURNING job_id", owner, list(job_ids), lease_seconds)
        return {r[0] for r in rows}

    async def release_lease(self, job_id: str, *, owner: str) -> None:
        await self._require().execute(
            "UPDATE jobs SET owner = NULL, lease_expires_at = 0 WHERE job_id = $1 AND owner = $2", job_id, owner)

    async def request_cancel(self, job_id: str) -> JobRecord | None:
        pool = self._require()
        row = await pool.fetchrow(
            f"UPDATE jobs SET state = $2 WHERE job_id = $1 AND state = $3 RETURNING {JOB_COLUMNS}",
            job_id, CANCELLING, RUNNING)
        if row is None:
            row = await pool.fetchrow(_GET_JOB, job_id)
        return job_record(row) if row is not None else None

    async def append_unowned(self, job_id: str, *, state: str, events: list[StoredEvent],
                             finish: Finish | None = None, outbox: Sequence[OutboxMessage] = ()) -> bool:
        async with self._require().acquire() as conn, conn.transaction():
            last = await conn.fetchval(
                f"SELECT last_sequence FROM jobs WHERE job_id = $1 AND state = $2 "
                f"AND (owner IS NULL OR lease_expires_at < {_NOW}) FOR UPDATE", job_id, state)
            if last is None or (events and events[0].sequence != last + 1):
                return False
            if events:
                await _insert_events(conn, job_id, events)
                last = events[-1].sequence
                await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, job_id)
            await _insert_outbox(conn, job_id, outbox)
            if finish is not None:
                await conn.execute(
                    f"UPDATE jobs SET state = $2, error = $3, finished_at = {_NOW}, owner = NULL, "
                    "lease_expires_at = 0, last_sequence = $4 WHERE job_id = $1",
                    job_id, finish.state, _text(finish.error), last)
            else:
                await conn.execute("UPDATE jobs SET last_sequence = $2 WHERE job_id = $1", job_id, last)
        self._waiters.notify(job_id)
        return True

    async def commit(self, batch: Batch) -> str:
        job_id = batch.job_id
        # One row per key (a later entry wins): ON CONFLICT cannot touch a row twice.
        frontier = list({f.key: f for f in batch.frontier}.values())
        finish = batch.finish
        messages = batch.outbox
        extra: tuple[Any, ...] = ()
        if messages:
            extra = ([m.sequence for m in messages], [m.kind for m in messages], [m.body for m in messages])
        row = await self._require().fetchrow(
            _COMMIT_OUTBOX if messages else _COMMIT, job_id, batch.owner, list(_FINISHED),
            [e.sequence for e in batch.events], [e.name for e in batch.events], [e.payload for e in batch.events],
            [_text(f.key) for f in frontier], [_text(f.url) for f in frontier], [f.depth for f in frontier],
            [f.order for f in frontier], [f.state for f in frontier], [f.reason for f in frontier],
            [f.attempts for f in frontier], [_text(f.discovered_from) for f in frontier],
            [h.kind for h in batch.hashes], [_text(h.key) for h in batch.hashes], [h.value for h in batch.hashes],
            batch.totals, batch.checkpoint, finish.state if finish else None, _text(finish.error) if finish else "",
            CHANNEL, bool(batch.events or finish), *extra)
        state, owner, before, last, _ = row
        if state is None:  # nothing was written
            if before is None or owner != batch.owner or before in FINISHED_STATES:
                raise LeaseLost(f"job {job_id} is not held by {batch.owner}")
            raise LeaseLost(f"job {job_id}: event {batch.events[0].sequence} does not follow {last}")
        if batch.events or finish is not None:
            self._waiters.notify(job_id)
        return str(state)

    async def delete_finished(self, *, finished_before: float) -> int:
        pool = self._require()
        deleted = 0
        while True:
            async with pool.acquire() as conn, conn.transaction():
                ids = [r[0] for r in await conn.fetch(
                    "SELECT job_id FROM jobs WHERE finished_at IS NOT NULL AND finished_at < $1 "
                    "ORDER BY finished_at LIMIT $2 FOR UPDATE SKIP LOCKED", finished_before, DELETE_CHUNK)]
                for table in ("job_events", "job_frontier", "job_hashes", "job_outbox", "job_webhooks", "jobs"):
                    await conn.execute(f"DELETE FROM {table} WHERE job_id = ANY($1::text[])", ids)
            deleted += len(ids)
            if len(ids) < DELETE_CHUNK:
                return deleted

    async def live_jobs(self) -> list[JobRecord]:
        rows = await self._require().fetch(
            f"SELECT {JOB_COLUMNS} FROM jobs WHERE state IN ($1, $2, $3) ORDER BY queue_position",
            QUEUED, RUNNING, CANCELLING)
        return [job_record(r) for r in rows]

    # -- events --------------------------------------------------------------

    async def events(self, job_id: str, *, after_sequence: int, limit: int) -> list[StoredEvent]:
        rows = await self._require().fetch(
            "SELECT sequence, name, payload FROM job_events WHERE job_id = $1 AND sequence > $2 "
            "ORDER BY sequence LIMIT $3", job_id, after_sequence, limit)
        return [StoredEvent(r[0], r[1], bytes(r[2])) for r in rows]

    async def wait_for_events(self, job_id: str, *, after_sequence: int, timeout: float) -> None:
        # Registered before the check: a NOTIFY for a commit after the check wakes it.
        event = self._waiters.event(job_id)
        row = await self._require().fetchrow("SELECT last_sequence, state FROM jobs WHERE job_id = $1", job_id)
        if row is None or row[0] > after_sequence or row[1] in FINISHED_STATES:
            return
        await wait_at_most(event.wait(), min(timeout, self._listen_poll if self._listening else self._poll))

    # -- frontier and dedup ------------------------------------------------------

    async def frontier_lookup(self, job_id: str, keys: Sequence[str]) -> dict[str, FrontierEntry]:
        if not keys:
            return {}
        rows = await self._require().fetch(
            f"SELECT {FRONTIER_COLUMNS} FROM job_frontier WHERE job_id = $1 AND key = ANY($2::text[])",
            job_id, [_text(k) for k in keys])
        return {r[0]: frontier_entry(r) for r in rows}

    async def frontier_queued(self, job_id: str, *, after: tuple[int, int], limit: int) -> list[FrontierEntry]:
        rows = await self._require().fetch(
            f"SELECT {FRONTIER_COLUMNS} FROM job_frontier WHERE job_id = $1 AND state = $2 "
            "AND (depth, ord) > ($3, $4) ORDER BY depth, ord LIMIT $5", job_id, F_QUEUED, after[0], after[1], limit)
        return [frontier_entry(r) for r in rows]

    async def frontier_scan(self, job_id: str, *, after_key: str, limit: int) -> list[FrontierEntry]:
        rows = await self._require().fetch(
            f"SELECT {FRONTIER_COLUMNS} FROM job_frontier WHERE job_id = $1 AND key > $2 ORDER BY key LIMIT $3",
            job_id, after_key, limit)
        return [frontier_entry(r) for r in rows]

    async def frontier_summary(self, job_id: str) -> FrontierSummary:
        rows = await self._require().fetch(
            "SELECT state, count(*), max(ord) FROM job_frontier WHERE job_id = $1 GROUP BY state", job_id)
        return FrontierSummary(counts={r[0]: int(r[1]) for r in rows},
                               max_order=max((int(r[2]) for r in rows), default=0))

    async def requeue_in_flight(self, job_id: str, *, owner: str) -> int:
        async with self._require().acquire() as conn, conn.transaction():
            held = await conn.fetchval("SELECT owner FROM jobs WHERE job_id = $1 FOR UPDATE", job_id)
            if held is None or held != owner:
                raise LeaseLost(f"job {job_id} is not held by {owner}")
            status = await conn.execute("UPDATE job_frontier SET state = $2 WHERE job_id = $1 AND state = $3",
                                        job_id, F_QUEUED, F_IN_FLIGHT)
        return int(status.split()[-1])

    async def hash_lookup(self, job_id: str, kind: str, keys: Sequence[str]) -> dict[str, list[bytes]]:
        if not keys:
            return {}
        rows = await self._require().fetch(
            "SELECT key, value FROM job_hashes WHERE job_id = $1 AND kind = $2 AND key = ANY($3::text[])",
            job_id, kind, [_text(k) for k in keys])
        found: dict[str, list[bytes]] = {}
        for key, value in rows:
            found.setdefault(key, []).append(bytes(value))
        return found

    # -- webhooks --------------------------------------------------------------

    async def webhook(self, job_id: str) -> WebhookSpec | None:
        row = await self._require().fetchrow(f"SELECT {WEBHOOK_COLUMNS} FROM job_webhooks WHERE job_id = $1", job_id)
        return webhook_spec(row) if row is not None else None

    async def claim_deliveries(self, *, owner: str, limit: int, claim_seconds: float) -> list[Delivery]:
        if limit <= 0:
            return []
        pool = self._require()
        # One round trip when nothing is due (most passes), a transaction only otherwise.
        if await pool.fetchval(DUE_SQL.format(now=_NOW)) is None:
            return []
        async with pool.acquire() as conn, conn.transaction():
            now = await conn.fetchval(f"SELECT {_NOW}")
            # Rows another replica is claiming right now are skipped, not waited for.
            rows = await conn.fetch(CLAIM_SQL.format(now="$1::float8", limit="$2", lock=" FOR UPDATE OF o SKIP LOCKED"),
                                    now, limit)
            if rows:
                await conn.execute(
                    "UPDATE job_outbox o SET claimed_by = $1, claim_expires_at = $2 "
                    "FROM unnest($3::text[], $4::integer[], $5::integer[]) AS u(job_id, seq, kind) "
                    "WHERE o.job_id = u.job_id AND o.sequence = u.seq AND o.kind = u.kind",
                    owner, now + claim_seconds, [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])
        return [delivery(r) for r in rows]

    async def record_delivery(self, job_id: str, sequence: int, kind: int, *, owner: str, state: str,
                              retry_in: float = 0.0, status: int = 0, error: str = "") -> bool:
        result = await self._require().execute(
            f"UPDATE job_outbox SET state = $5, attempts = attempts + 1, last_status = $6, last_error = $7, "
            f"next_attempt_at = {_NOW} + $8, finished_at = CASE WHEN $5 = $9 THEN NULL ELSE {_NOW} END, "
            "claimed_by = NULL, claim_expires_at = 0 "
            "WHERE job_id = $1 AND sequence = $2 AND kind = $3 AND claimed_by = $4 AND state = $9",
            job_id, sequence, kind, owner, state, status, _text(error), retry_in, W_PENDING)
        return bool(result.split()[-1] != "0")

    async def release_deliveries(self, *, owner: str) -> int:
        result = await self._require().execute(
            "UPDATE job_outbox SET claimed_by = NULL, claim_expires_at = 0 WHERE claimed_by = $1 AND state = $2",
            owner, W_PENDING)
        return int(result.split()[-1])

    async def deliveries(self, job_id: str) -> list[DeliveryRecord]:
        rows = await self._require().fetch(
            f"SELECT {DELIVERY_COLUMNS} FROM job_outbox WHERE job_id = $1 ORDER BY sequence, kind", job_id)
        return [delivery_record(r) for r in rows]
