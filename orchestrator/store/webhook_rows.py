"""The webhook tables' column lists, the claim query and their row readers, shared by
both job store backends (like ``rows.py`` for jobs and the frontier)."""

from __future__ import annotations

from typing import Any

from docspasta.webhooks import ALL_TYPES, WebhookSpec
from orchestrator.store.base import Delivery, DeliveryRecord

WEBHOOK_COLUMNS = "job_id, url, secret, events, progress_pages, progress_seconds"
DELIVERY_COLUMNS = "sequence, kind, state, attempts, last_status, last_error, body"

# Due rows that are the first pending row of their job (a job's messages go out in
# (sequence, kind) order), with their receiver. Placeholders: {now} (the store's time,
# used three times), {limit}, and {lock} (PostgreSQL: row locks, skipping rows another
# replica is claiming).
CLAIM_SQL = """
SELECT o.job_id, o.sequence, o.kind, o.body, o.attempts, {now} - o.created_at, w.url, w.secret
FROM job_outbox o JOIN job_webhooks w ON w.job_id = o.job_id
WHERE o.state = 'pending' AND o.next_attempt_at <= {now} AND o.claim_expires_at < {now}
  AND NOT EXISTS (SELECT 1 FROM job_outbox p WHERE p.job_id = o.job_id AND p.state = 'pending'
                  AND (p.sequence < o.sequence OR (p.sequence = o.sequence AND p.kind < o.kind)))
ORDER BY o.next_attempt_at, o.job_id, o.sequence, o.kind
LIMIT {limit}{lock}
"""

# Is anything due at all? Read first, without locks: most dispatcher passes find
# nothing (no job has a webhook), and then cost one indexed read.
DUE_SQL = ("SELECT 1 FROM job_outbox WHERE state = 'pending' AND next_attempt_at <= {now} "
           "AND claim_expires_at < {now} LIMIT 1")


def events_text(spec: WebhookSpec) -> str:
    """The event filter as stored: WebhookEventType values, comma separated."""
    return ",".join(str(kind) for kind in sorted(spec.events))


def webhook_spec(row: Any) -> WebhookSpec:
    kinds = frozenset(int(k) for k in str(row[3]).split(",") if k)
    return WebhookSpec(url=row[1], secret=row[2], events=kinds or ALL_TYPES, progress_pages=int(row[4]),
                       progress_seconds=float(row[5]))


def delivery(row: Any) -> Delivery:
    return Delivery(job_id=row[0], sequence=int(row[1]), kind=int(row[2]), body=bytes(row[3]), attempts=int(row[4]),
                    age_seconds=float(row[5]), url=row[6], secret=row[7])


def delivery_record(row: Any) -> DeliveryRecord:
    return DeliveryRecord(sequence=int(row[0]), kind=int(row[1]), state=row[2], attempts=int(row[3]),
                          last_status=int(row[4]), last_error=row[5], body=bytes(row[6]))
