"""The write-behind step: a running job's events, frontier rows and dedup hashes are
buffered and committed to the job store in one batch every ``interval`` seconds (or
sooner when ``max_events`` are waiting), with the job's totals and resume checkpoint.

So durability costs one small transaction per tick, not one per event. What is not
committed yet is still visible to the job through ``frontier_entry``/``hashes``, and a
batch that fails for a passing reason is merged back and retried. A commit refused
with ``LeaseLost`` means another replica owns the job: ``on_lost`` stops it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from docspasta.aio import wait_at_most
from orchestrator.store.base import (Batch, Finish, FrontierEntry, HashEntry, JobStore, LeaseLost, OutboxMessage,
                                     StoredEvent)

log = logging.getLogger(__name__)

DEFAULT_FLUSH_SECONDS = 0.05
DEFAULT_FLUSH_EVENTS = 256
# After a failed commit (the store unreachable for a moment), the next try waits this long.
RETRY_SECONDS = 0.5


@dataclass(slots=True)
class _Pending:
    events: list[StoredEvent] = field(default_factory=list)
    frontier: dict[str, FrontierEntry] = field(default_factory=dict)
    hashes: dict[tuple[str, str], set[bytes]] = field(default_factory=dict)
    # Webhook messages (jobs with a webhook only), committed with the events they announce.
    outbox: list[OutboxMessage] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.events or self.frontier or self.hashes or self.outbox)

    def absorb(self, newer: _Pending) -> None:
        """Puts ``newer`` after this one (a failed batch followed by what came since)."""
        self.events.extend(newer.events)
        self.frontier.update(newer.frontier)
        for k, values in newer.hashes.items():
            self.hashes.setdefault(k, set()).update(values)
        self.outbox.extend(newer.outbox)


class JobWriter:
    def __init__(self, *, store: JobStore, job_id: str, owner: str,
                 snapshot: Callable[[], tuple[bytes, bytes]], on_cancel: Callable[[], None],
                 on_lost: Callable[[], None], interval: float = DEFAULT_FLUSH_SECONDS,
                 max_events: int = DEFAULT_FLUSH_EVENTS,
                 on_commit: Callable[[int], None] | None = None) -> None:
        self._store = store
        self.job_id = job_id
        self.owner = owner
        # (totals, checkpoint) as of now, taken at each commit.
        self._snapshot = snapshot
        self._on_cancel = on_cancel
        self._on_lost = on_lost
        # Called with the last committed event's sequence after each commit with events.
        self._on_commit = on_commit
        self._interval = interval
        self._max_events = max_events
        self._pending = _Pending()
        self._committing = _Pending()
        self._lock = asyncio.Lock()
        self._due = asyncio.Event()
        self.lost = False
        self.committed_sequence = 0
        self._task: asyncio.Task[None] | None = None

    # -- buffering -------------------------------------------------------------

    def event(self, event: StoredEvent) -> None:
        self._pending.events.append(event)
        if len(self._pending.events) >= self._max_events:
            self._due.set()

    def frontier(self, entry: FrontierEntry) -> None:
        self._pending.frontier[entry.key] = entry

    def message(self, message: OutboxMessage) -> None:
        """A webhook message, committed in the same batch as the events buffered so far."""
        self._pending.outbox.append(message)

    def hash(self, entry: HashEntry) -> None:
        self._pending.hashes.setdefault((entry.kind, entry.key), set()).add(entry.value)

    def frontier_entry(self, key: str) -> FrontierEntry | None:
        """The newest uncommitted row for ``key``, if any."""
        return self._pending.frontier.get(key) or self._committing.frontier.get(key)

    def hashes(self, kind: str, key: str) -> set[bytes]:
        """Uncommitted values for (kind, key)."""
        return self._pending.hashes.get((kind, key), set()) | self._committing.hashes.get((kind, key), set())

    # -- committing ------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"writer-{self.job_id}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        while not self.lost:
            await wait_at_most(self._due.wait(), self._interval)
            self._due.clear()
            if not self._pending:
                continue
            try:
                await self.flush()
            except LeaseLost:
                return
            except Exception:
                log.warning("job store commit failed; retrying", exc_info=True)
                await asyncio.sleep(RETRY_SECONDS)

    async def flush(self, finish: Finish | None = None) -> None:
        """Commits everything buffered (and ``finish``, which ends the job). Raises
        LeaseLost (after calling ``on_lost``) when the job is no longer ours."""
        async with self._lock:
            if self.lost:
                raise LeaseLost(f"job {self.job_id} was taken over")
            batch_data, self._pending = self._pending, _Pending()
            self._committing = batch_data
            totals, checkpoint = self._snapshot()
            batch = Batch(job_id=self.job_id, owner=self.owner, events=batch_data.events,
                          frontier=list(batch_data.frontier.values()),
                          hashes=[HashEntry(kind, key, v) for (kind, key), values in batch_data.hashes.items()
                                  for v in values],
                          totals=totals, checkpoint=checkpoint, finish=finish, outbox=batch_data.outbox)
            try:
                state = await self._store.commit(batch)
            except LeaseLost:
                self.lost = True
                self._committing = _Pending()
                self._on_lost()
                raise
            except BaseException:
                batch_data.absorb(self._pending)
                self._pending = batch_data
                self._committing = _Pending()
                raise
            self._committing = _Pending()
            if batch.events:
                self.committed_sequence = batch.events[-1].sequence
                if self._on_commit is not None:
                    self._on_commit(self.committed_sequence)
        if state == "cancelling" and finish is None:
            self._on_cancel()
