"""The webhook dispatcher: one per orchestrator replica, beside the jobs, never in
their way. It claims due outbox rows from the job store (a lease per row; SKIP LOCKED
on PostgreSQL), at most as many as it has free delivery slots, and POSTs each with a
deadline through the crawler's fetcher (``HttpFetcher.fetch_resource``: the same URL
policy and the same resolver that checks every address it connects to, so a
rebinding DNS name cannot reach a private address). Outcomes:

* 2xx: delivered.
* 408, 429, 5xx, a timeout, a connection or DNS error: retried after an exponential,
  jittered backoff (``orchestrator/retry.py``; Retry-After is the floor), until the
  message is ``give_up_seconds`` old; then given up.
* Any other answer (3xx: redirects are not followed; 4xx), a target the egress policy
  refuses, no secret to sign with: given up at once.

Every outcome is stored on the row (attempts, last status, last error) and counted
(``docspasta_webhook_deliveries_total``, ``docspasta_webhook_attempts_total``). A
replica that stops drops its claims, so another one retries at once; one that dies
leaves claims that expire: delivery is at least once, and ``webhook-id`` lets the
receiver drop a repeat."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from docspasta import metrics
from docspasta.aio import wait_at_most
from docspasta.webhooks import message_id, secret_key, sign_headers
from orchestrator.retry import backoff_seconds
from orchestrator.store.base import W_DELIVERED, W_FAILED, W_PENDING, Delivery, JobStore
from orchestrator.webhooks.settings import WebhookSettings

if TYPE_CHECKING:
    from crawler.fetch import HttpFetcher
    from crawler.safety import FetchPolicy

log = logging.getLogger(__name__)

# Bytes of a receiver's answer read at most (only its status and headers matter).
MAX_RESPONSE_BYTES = 64 * 1024
# A claim outlives the attempt's deadline by this much, so a slow answer is never
# retried by another replica while this one still waits for it.
CLAIM_MARGIN_SECONDS = 30.0
# After a failed outbox read (the store unreachable for a moment), the next in this long.
READ_RETRY_SECONDS = 1.0
_RETRY_STATUSES = frozenset({408, 429})


class Outcome:
    """What one attempt came to: the row's next state and what to store."""

    __slots__ = ("state", "retry_in", "status", "error")

    def __init__(self, state: str, *, retry_in: float = 0.0, status: int = 0, error: str = "") -> None:
        self.state = state
        self.retry_in = retry_in
        self.status = status
        self.error = error


class Dispatcher:
    def __init__(self, *, store: JobStore, settings: WebhookSettings, owner: str,
                 policy: FetchPolicy | None = None) -> None:
        self._store = store
        self._settings = settings
        self._owner = owner
        self._keys = [secret_key(s) for s in settings.secrets]
        self._policy = policy
        # Made at the first delivery: a replica whose jobs have no webhook never loads
        # the HTTP client (aiohttp) at all.
        self._fetcher: HttpFetcher | None = None
        self._inflight: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def _client(self) -> HttpFetcher:
        if self._fetcher is None:
            from crawler.fetch import HttpFetcher
            from crawler.settings import CrawlerSettings

            s = self._settings
            self._fetcher = HttpFetcher(
                settings=CrawlerSettings(user_agent=s.user_agent, fetch_timeout=s.timeout_seconds,
                                         connect_timeout=min(s.timeout_seconds, 10.0), max_redirects=0,
                                         max_body_bytes=MAX_RESPONSE_BYTES, connections=s.concurrency,
                                         allow_private_network=s.allow_private_network,
                                         allowed_ports=s.allowed_ports),
                policy=self._policy or s.policy())
        return self._fetcher

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="webhook-dispatcher")

    def kick(self) -> None:
        """Look at the outbox now (a commit just added messages)."""
        self._wake.set()

    async def stop(self) -> None:
        """Stops claiming, abandons the attempts under way and drops this replica's
        claims (another replica retries those messages at once)."""
        tasks = [t for t in (self._task, *self._inflight) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._task = None
        with contextlib.suppress(Exception):
            await self._store.release_deliveries(owner=self._owner)
        if self._fetcher is not None:
            await self._fetcher.close()

    async def _run(self) -> None:
        s = self._settings
        while True:
            free = s.concurrency - len(self._inflight)
            claimed = []
            if free > 0:
                try:
                    claimed = await self._store.claim_deliveries(
                        owner=self._owner, limit=min(free, s.batch),
                        claim_seconds=s.timeout_seconds + CLAIM_MARGIN_SECONDS)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.warning("webhook outbox read failed; retrying", exc_info=True)
                    await asyncio.sleep(READ_RETRY_SECONDS)
                    continue
            for row in claimed:
                task = asyncio.create_task(self._deliver(row), name=f"webhook-{row.job_id}-{row.sequence}")
                self._inflight.add(task)
                task.add_done_callback(self._done)
            if claimed and len(claimed) == min(free, s.batch):
                continue  # there may be more due right now
            self._wake.clear()
            await wait_at_most(self._wake.wait(), s.poll_seconds)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        self._wake.set()  # a slot is free

    async def _deliver(self, row: Delivery) -> None:
        outcome = await self.attempt(row)
        if outcome.state == W_PENDING:
            metrics.WEBHOOK_ATTEMPTS.labels(result="retry").inc()
        else:
            metrics.WEBHOOK_ATTEMPTS.labels(result="delivered" if outcome.state == W_DELIVERED else "gave_up").inc()
            metrics.WEBHOOK_DELIVERIES.labels(outcome=outcome.state).inc()
            if outcome.state == W_FAILED:
                log.warning("webhook message given up", extra={"job_id": row.job_id, "sequence": row.sequence,
                                                               "error": outcome.error})
        for attempt in range(3):
            try:
                await self._store.record_delivery(row.job_id, row.sequence, row.kind, owner=self._owner,
                                                  state=outcome.state, retry_in=outcome.retry_in,
                                                  status=outcome.status, error=outcome.error[:500])
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                # Unrecorded, the claim expires and the message is sent again (at least once).
                log.warning("could not record a webhook attempt", exc_info=attempt == 2)
                await asyncio.sleep(0.5 * (attempt + 1))

    async def attempt(self, row: Delivery) -> Outcome:
        """One POST of ``row`` and what it came to (nothing stored here)."""
        from crawler.fetch import FetchError, parse_retry_after
        from crawler.safety import PRIVATE_NETWORK_HINT

        keys = [secret_key(row.secret)] if row.secret else self._keys
        if not keys:
            return Outcome(W_FAILED, error="no secret to sign with: the job named none and WEBHOOK_SECRET is unset")
        headers = {"Content-Type": "application/json",
                   **sign_headers(keys, message_id(row.job_id, row.sequence, row.kind), row.body)}
        try:
            answer = await self._client().fetch_resource(row.url, method="POST", headers=headers, data=row.body,
                                                        max_bytes=MAX_RESPONSE_BYTES,
                                                        timeout=self._settings.timeout_seconds)
        except FetchError as exc:
            if exc.category == "blocked":
                reason = self._settings.private_hint() if str(exc) == PRIVATE_NETWORK_HINT else str(exc)
                return Outcome(W_FAILED, error=f"blocked: {reason}")
            if exc.category == "invalid":
                if 300 <= exc.status < 400:
                    return Outcome(W_FAILED, status=exc.status,
                                   error=f"HTTP {exc.status}: redirects are not followed; use the final URL")
                return Outcome(W_FAILED, status=exc.status, error=f"invalid: {exc}")
            return self._retry(row, f"{exc.category}: {exc}", status=exc.status)
        status = answer.status
        if 200 <= status < 300:
            return Outcome(W_DELIVERED, status=status)
        if status >= 500 or status in _RETRY_STATUSES:
            retry_after = parse_retry_after(dict((k.lower(), v) for k, v in answer.headers).get("retry-after"))
            return self._retry(row, f"HTTP {status}", status=status, retry_after=retry_after)
        return Outcome(W_FAILED, status=status, error=f"HTTP {status}: the receiver refused the message")

    def _retry(self, row: Delivery, error: str, *, status: int = 0, retry_after: float = 0.0) -> Outcome:
        s = self._settings
        attempts = row.attempts + 1
        delay = backoff_seconds(attempts, retry_after, base=s.retry_base_seconds, cap=s.retry_max_seconds,
                                max_retry_after=s.retry_max_seconds)
        if row.age_seconds + delay > s.give_up_seconds:
            return Outcome(W_FAILED, status=status,
                           error=f"gave up after {attempts} attempts in {row.age_seconds:.0f} s: {error}")
        return Outcome(W_PENDING, retry_in=delay, status=status, error=error)
