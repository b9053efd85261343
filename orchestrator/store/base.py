"""The job store interface: everything about a job that must outlive the process that
runs it. SQLite (``sqlite.py``, embedded) and PostgreSQL (``postgres.py``, deployed)
implement it; ``tests/orchestrator/store_contract.py`` is the contract both pass.

What is stored (see docs/operations.md, "Job store"):

* the job row: id, request id (unique when set), URL, effective options, state,
  totals, a resume checkpoint, error, times, queue position, and the lease (owner and
  expiry) of the replica running it;
* the frontier: one row per URL key the job knows (queued, in_flight, done, failed,
  skipped with a reason, or ``seen`` for another URL form of a page taken);
* dedup hashes: identical-HTML digests, main-text hashes of kept pages and canonical
  claims;
* the event log: (job id, sequence) -> the serialized ``JobEvent``;
* webhooks (issue 18): a job's receiver (``job_webhooks``) and its outbox
  (``job_outbox``): one row per message, written in the same commit as the event it
  announces, then claimed and delivered by any replica's dispatcher
  (``orchestrator/webhooks/``).

Writes of a running job go through ``commit`` in batches, fenced by the lease: a
batch from a replica that no longer owns the job is refused with ``LeaseLost`` and
changes nothing, so two replicas never both write one job. Lease times are durations;
the backend's clock decides expiry.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from docspasta.webhooks import WebhookSpec

# Job states as stored (the JobState enum names, lower case, without the prefix).
QUEUED = "queued"
RUNNING = "running"
CANCELLING = "cancelling"
COMPLETED = "completed"
FAILED = "failed"
TIMEOUT = "timeout"
CANCELLED = "cancelled"
LIVE_STATES = frozenset({QUEUED, RUNNING, CANCELLING})
FINISHED_STATES = frozenset({COMPLETED, FAILED, TIMEOUT, CANCELLED})

# Frontier row states.
F_QUEUED = "queued"
F_IN_FLIGHT = "in_flight"
F_DONE = "done"
F_FAILED = "failed"
F_SKIPPED = "skipped"
F_SEEN = "seen"  # another URL form (redirect target, canonical) of a page taken
FRONTIER_STATES = frozenset({F_QUEUED, F_IN_FLIGHT, F_DONE, F_FAILED, F_SKIPPED, F_SEEN})

# Dedup hash kinds.
HASH_HTML = "html"  # key: hex digest of a page's HTML; value: the URL key of the page kept with it
HASH_TEXT = "text"  # key: a kept page's URL key; value: its main-text hash
HASH_CLAIM = "claim"  # key: a canonical target's URL key; value: main-text hash of a claimant


# Webhook outbox row states.
W_PENDING = "pending"
W_DELIVERED = "delivered"
W_FAILED = "failed"  # given up (the reason in last_error)


class LeaseLost(RuntimeError):
    """The job is owned by another replica (or finished): stop working on it."""


@dataclass(frozen=True, slots=True)
class StoredEvent:
    sequence: int
    name: str
    payload: bytes  # the serialized docspasta.v1.JobEvent


@dataclass(slots=True, kw_only=True)
class JobRecord:
    job_id: str
    request_id: str = ""
    # A digest of the StartJob request, so a request_id reused for another request is caught.
    request_hash: str = ""
    url: str
    options: bytes = b""  # serialized effective docspasta.v1.JobOptions
    state: str = QUEUED
    totals: bytes = b""  # serialized docspasta.v1.Totals, as of the last commit
    checkpoint: bytes = b""  # the owner's resume state (JSON), as of the last commit
    error: str = ""
    created_at: float = 0.0
    started_at: float | None = None
    finished_at: float | None = None
    queue_position: int = 0
    owner: str = ""  # empty: nobody holds the lease
    lease_expires_at: float = 0.0
    last_sequence: int = 0


@dataclass(slots=True, kw_only=True)
class NewJob:
    job_id: str
    request_id: str = ""
    request_hash: str = ""
    url: str
    options: bytes
    totals: bytes = b""
    checkpoint: bytes = b""
    # Where the job's lifecycle events are POSTed; None: no webhook (no row, no cost).
    webhook: WebhookSpec | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxMessage:
    """One webhook message to deliver: (job, sequence, kind) is its identity."""
    sequence: int  # the event it announces
    kind: int  # its WebhookEventType
    body: bytes  # the JSON body, the same on every attempt


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    """A claimed outbox row and its receiver, for one attempt."""
    job_id: str
    sequence: int
    kind: int
    body: bytes
    attempts: int  # attempts made before this one
    age_seconds: float  # since the row was written (the store's clock)
    url: str
    secret: str  # "" signs with the deployment's secret


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryRecord:
    """An outbox row as it stands (operators, tests)."""
    sequence: int
    kind: int
    state: str  # W_PENDING, W_DELIVERED or W_FAILED
    attempts: int
    last_status: int  # the last answer's HTTP status, 0 when none
    last_error: str
    body: bytes


@dataclass(slots=True, kw_only=True)
class FrontierEntry:
    key: str  # the normalised URL, unique per job
    url: str  # the form fetched
    depth: int
    order: int  # admission order, ties within a depth
    state: str = F_QUEUED
    reason: str = ""  # why skipped
    attempts: int = 0
    discovered_from: str = ""


@dataclass(frozen=True, slots=True)
class HashEntry:
    kind: str
    key: str
    value: bytes = b""


@dataclass(slots=True, kw_only=True)
class Finish:
    state: str  # one of FINISHED_STATES
    error: str = ""


@dataclass(slots=True, kw_only=True)
class Batch:
    """One commit of a running job's changes, applied atomically."""
    job_id: str
    owner: str
    events: list[StoredEvent] = field(default_factory=list)
    # Upserts by key; a later entry for the same key wins.
    frontier: list[FrontierEntry] = field(default_factory=list)
    # Inserts; an entry already stored is ignored.
    hashes: list[HashEntry] = field(default_factory=list)
    totals: bytes | None = None
    checkpoint: bytes | None = None
    # Ends the job: state and error set, finished_at stamped, lease released.
    finish: Finish | None = None
    # Webhook messages announcing events of this batch; one already stored is ignored.
    outbox: list[OutboxMessage] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class FrontierSummary:
    counts: dict[str, int]  # rows by state
    max_order: int


class JobStore(Protocol):
    async def open(self) -> None:
        """Connect and create or migrate the schema."""

    async def close(self) -> None: ...

    # -- jobs ----------------------------------------------------------------

    async def create_job(self, job: NewJob, *, owner: str, lease_seconds: float, start: bool,
                         first_events: Callable[[int], list[StoredEvent]],
                         outbox: Callable[[list[StoredEvent]], list[OutboxMessage]] | None = None,
                         ) -> tuple[JobRecord, bool]:
        """Inserts a job with its first events, atomically; returns (record, True).
        With ``job.webhook``, its receiver and ``outbox(first events)`` go in the same
        transaction.

        A job with the same non-empty ``request_id`` already stored: returns (that job,
        False) and changes nothing. With ``start`` and no other job waiting, the job is
        RUNNING under ``owner``'s lease; otherwise it is QUEUED behind the jobs waiting.
        ``first_events(position)`` gives the events to store with it: position 0 when
        it starts at once, else its place in the queue (1 = next)."""

    async def get_job(self, job_id: str) -> JobRecord | None: ...

    async def claim_jobs(self, *, owner: str, lease_seconds: float, limit: int,
                         job_ids: Sequence[str] | None = None) -> list[JobRecord]:
        """Takes the lease of up to ``limit`` jobs nobody holds: first RUNNING or
        CANCELLING jobs without an owner or with an expired lease (oldest first), then
        QUEUED jobs in queue order (they become RUNNING, ``started_at`` stamped).
        ``job_ids``: only among these. Atomic: two replicas never claim one job."""

    async def renew_leases(self, *, owner: str, job_ids: Sequence[str], lease_seconds: float) -> set[str]:
        """Extends the leases ``owner`` still holds among ``job_ids``; returns those ids."""

    async def release_lease(self, job_id: str, *, owner: str) -> None:
        """Gives the job up (it stays RUNNING, for another replica to adopt)."""

    async def request_cancel(self, job_id: str) -> JobRecord | None:
        """RUNNING -> CANCELLING (the owner sees it at its next commit and ends the job);
        other states stay as they are (a QUEUED job is ended by the caller with
        ``append_unowned``). Returns the job after the change, None when unknown."""

    async def append_unowned(self, job_id: str, *, state: str, events: list[StoredEvent],
                             finish: Finish | None = None, outbox: Sequence[OutboxMessage] = ()) -> bool:
        """Appends events (and their webhook messages) to a job that has no live owner
        and is in ``state`` (e.g. a queued job cancelled before it started); False when
        that is no longer so."""

    async def commit(self, batch: Batch) -> str:
        """Applies the batch atomically if ``batch.owner`` holds the job's lease and the
        job is not finished; returns the job's stored state afterwards (CANCELLING tells
        the owner to cancel). Raises LeaseLost otherwise, changing nothing."""

    async def delete_finished(self, *, finished_before: float) -> int:
        """Deletes jobs finished before the time (epoch seconds) with their events,
        frontier, hashes, webhook and outbox; returns how many jobs."""

    async def live_jobs(self) -> list[JobRecord]:
        """Every QUEUED, RUNNING or CANCELLING job (for reconcilers and metrics)."""

    # -- events --------------------------------------------------------------

    async def events(self, job_id: str, *, after_sequence: int, limit: int) -> list[StoredEvent]:
        """Committed events after ``after_sequence``, in order, at most ``limit``."""

    async def wait_for_events(self, job_id: str, *, after_sequence: int, timeout: float) -> None:
        """Returns when an event after ``after_sequence`` may have been committed, or
        after ``timeout`` seconds (the caller reads ``events`` again either way)."""

    # -- frontier and dedup ------------------------------------------------------

    async def frontier_lookup(self, job_id: str, keys: Sequence[str]) -> dict[str, FrontierEntry]:
        """The stored rows among ``keys``."""

    async def frontier_queued(self, job_id: str, *, after: tuple[int, int], limit: int) -> list[FrontierEntry]:
        """QUEUED rows with (depth, order) greater than ``after``, by (depth, order)."""

    async def frontier_scan(self, job_id: str, *, after_key: str, limit: int) -> list[FrontierEntry]:
        """Rows by key, after ``after_key`` (to warm a cache)."""

    async def frontier_summary(self, job_id: str) -> FrontierSummary: ...

    async def requeue_in_flight(self, job_id: str, *, owner: str) -> int:
        """IN_FLIGHT rows back to QUEUED (the adopter's first step), if ``owner`` holds
        the lease; returns how many. Raises LeaseLost otherwise."""

    async def hash_lookup(self, job_id: str, kind: str, keys: Sequence[str]) -> dict[str, list[bytes]]:
        """The stored values by key, for the keys that have any."""

    # -- webhooks --------------------------------------------------------------

    async def webhook(self, job_id: str) -> WebhookSpec | None:
        """The job's receiver, None when it has none."""

    async def claim_deliveries(self, *, owner: str, limit: int, claim_seconds: float) -> list[Delivery]:
        """Claims up to ``limit`` due outbox rows for ``claim_seconds``: pending, past
        their next attempt time, not claimed (or the claim expired), and each the first
        pending row of its job (so a job's messages go out in order). Two dispatchers
        never claim one row at once; a dead one's claims expire."""

    async def record_delivery(self, job_id: str, sequence: int, kind: int, *, owner: str, state: str,
                              retry_in: float = 0.0, status: int = 0, error: str = "") -> bool:
        """Ends one attempt of a row ``owner`` claimed: W_DELIVERED or W_FAILED end
        the row; W_PENDING schedules the next attempt ``retry_in`` seconds from now.
        False (nothing changed) when the claim is no longer ``owner``'s."""

    async def release_deliveries(self, *, owner: str) -> int:
        """Drops ``owner``'s claims (a stopping dispatcher): another replica retries them."""

    async def deliveries(self, job_id: str) -> list[DeliveryRecord]:
        """The job's outbox rows, in (sequence, kind) order."""
