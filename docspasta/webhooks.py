"""Webhooks, the parts every side shares: what a valid ``Webhook`` request is (the
orchestrator and the bridge check it with the same code), the event type names, and
Standard Webhooks signing (https://www.standardwebhooks.com/).

A message is signed over ``"{webhook-id}.{webhook-timestamp}.{body}"`` with HMAC-SHA256
under the secret's bytes; ``webhook-signature`` is ``v1,<base64>`` (several, space
separated, while a deployment rotates its secret). Secrets are written
``whsec_<base64 of 24-64 bytes>``, the form the Standard Webhooks libraries read.
The delivery itself (outbox, retries, egress) is the orchestrator's
(``orchestrator/webhooks/``)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from docspasta.v1 import orchestrator_pb2 as pb

SECRET_PREFIX = "whsec_"
MIN_SECRET_BYTES = 24
MAX_SECRET_BYTES = 64
MAX_URL_LENGTH = 2048
DEFAULT_PROGRESS_PAGES = 100
DEFAULT_PROGRESS_SECONDS = 30.0
MAX_PROGRESS_SECONDS = 3600.0
# How old a webhook-timestamp a receiver accepts (the spec's suggested tolerance).
DEFAULT_TOLERANCE_SECONDS = 300

# WebhookEventType -> the body's "type"; the enum value is also the outbox row's kind.
TYPE_NAMES: dict[int, str] = {
    pb.WEBHOOK_EVENT_TYPE_JOB_QUEUED: "job.queued",
    pb.WEBHOOK_EVENT_TYPE_JOB_STARTED: "job.started",
    pb.WEBHOOK_EVENT_TYPE_JOB_PROGRESS: "job.progress",
    pb.WEBHOOK_EVENT_TYPE_JOB_RESUMED: "job.resumed",
    pb.WEBHOOK_EVENT_TYPE_JOB_COMPLETED: "job.completed",
    pb.WEBHOOK_EVENT_TYPE_JOB_FAILED: "job.failed",
    pb.WEBHOOK_EVENT_TYPE_JOB_TIMEOUT: "job.timeout",
    pb.WEBHOOK_EVENT_TYPE_JOB_CANCELLED: "job.cancelled",
}
TYPES_BY_NAME: dict[str, int] = {name: kind for kind, name in TYPE_NAMES.items()}
ALL_TYPES = frozenset(TYPE_NAMES)
# The JobEvent that ends a job -> its webhook type.
TERMINAL_TYPES: dict[str, int] = {
    "job_completed": pb.WEBHOOK_EVENT_TYPE_JOB_COMPLETED,
    "job_failed": pb.WEBHOOK_EVENT_TYPE_JOB_FAILED,
    "job_timeout": pb.WEBHOOK_EVENT_TYPE_JOB_TIMEOUT,
    "job_cancelled": pb.WEBHOOK_EVENT_TYPE_JOB_CANCELLED,
}


class InvalidWebhook(ValueError):
    """A bad ``webhook`` field; the message is ``"webhook.<field>: <reason>"``."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"webhook.{field}: {reason}")
        self.field = f"webhook.{field}"
        self.reason = reason


class InvalidSignature(ValueError):
    """A message whose signature or timestamp does not verify."""


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookSpec:
    """A checked ``Webhook``: what the job store keeps for the job."""
    url: str
    secret: str = ""  # "" signs with the deployment's secret, read at delivery time
    events: frozenset[int] = ALL_TYPES
    progress_pages: int = DEFAULT_PROGRESS_PAGES
    progress_seconds: float = DEFAULT_PROGRESS_SECONDS

    def wants(self, kind: int) -> bool:
        return kind in self.events


def secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_...`` secret; ValueError when it is not one."""
    text = secret.strip()
    if not text.startswith(SECRET_PREFIX):
        raise ValueError(f"must start with {SECRET_PREFIX!r} (then the base64 of {MIN_SECRET_BYTES}-"
                         f"{MAX_SECRET_BYTES} random bytes)")
    try:
        key = base64.b64decode(text.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"is not {SECRET_PREFIX} followed by base64") from None
    if not MIN_SECRET_BYTES <= len(key) <= MAX_SECRET_BYTES:
        raise ValueError(f"must encode {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} bytes, not {len(key)}")
    return key


def new_secret() -> str:
    """A fresh random secret in the whsec_ form."""
    import secrets

    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signature(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    """One ``v1,<base64>`` signature."""
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def sign_headers(keys: Iterable[bytes], msg_id: str, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
    """The three Standard Webhooks headers for one attempt (the timestamp is the attempt's)."""
    stamp = int(time.time()) if timestamp is None else timestamp
    return {"webhook-id": msg_id, "webhook-timestamp": str(stamp),
            "webhook-signature": " ".join(signature(key, msg_id, stamp, body) for key in keys)}


def verify(secret: str, headers: Mapping[str, str], body: bytes, *,
           tolerance: int = DEFAULT_TOLERANCE_SECONDS, now: float | None = None) -> None:
    """Raises InvalidSignature unless one ``v1`` signature matches and the timestamp is
    within ``tolerance`` seconds (a receiver's check; README "Webhooks" has it standalone)."""
    lower = {k.lower(): v for k, v in headers.items()}
    msg_id, stamp, signed = (lower.get("webhook-id", ""), lower.get("webhook-timestamp", ""),
                             lower.get("webhook-signature", ""))
    if not (msg_id and stamp.isdigit() and signed):
        raise InvalidSignature("missing webhook headers")
    if abs((time.time() if now is None else now) - int(stamp)) > tolerance:
        raise InvalidSignature("timestamp outside the tolerance")
    expected = signature(secret_key(secret), msg_id, int(stamp), body).removeprefix("v1,")
    for part in signed.split():
        version, _, value = part.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return
    raise InvalidSignature("no matching signature")


def check_url(url: str) -> str:
    """The receiver URL's static rules (scheme, length, host, no credentials or
    fragment); raises InvalidWebhook. Addresses are the egress policy's business."""
    if not url:
        raise InvalidWebhook("url", "required")
    if len(url) > MAX_URL_LENGTH:
        raise InvalidWebhook("url", f"longer than {MAX_URL_LENGTH} characters")
    if url != url.strip() or any(ord(c) < 33 or ord(c) == 127 for c in url):
        raise InvalidWebhook("url", "must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidWebhook("url", f"malformed URL: {exc}"[:200]) from None
    if parts.scheme.lower() not in ("http", "https"):
        raise InvalidWebhook("url", "must be an absolute http or https URL")
    if not parts.hostname:
        raise InvalidWebhook("url", "has no host")
    if "@" in parts.netloc:
        raise InvalidWebhook("url", "must not carry credentials (user@host); sign with the secret instead")
    if parts.fragment or url.endswith("#"):
        raise InvalidWebhook("url", "must not have a #fragment")
    if port == 0:
        raise InvalidWebhook("url", "has an invalid port")
    return url


def check_webhook(webhook: pb.Webhook, *, max_pages: int) -> WebhookSpec:
    """The checked form of a ``Webhook`` message (InvalidWebhook naming the field)."""
    url = check_url(webhook.url)
    if webhook.secret:
        try:
            secret_key(webhook.secret)
        except ValueError as exc:
            raise InvalidWebhook("secret", str(exc)) from None
    kinds = list(webhook.events)
    if any(kind not in TYPE_NAMES for kind in kinds):
        raise InvalidWebhook("events", "unknown or unspecified event type; known: " + ", ".join(TYPE_NAMES.values()))
    pages = webhook.progress_every_pages
    if pages < 0 or pages > max_pages:
        raise InvalidWebhook("progress_every_pages", f"must be 0 (the default) or 1 to {max_pages}")
    seconds = webhook.progress_every_seconds
    if not math.isfinite(seconds) or seconds < 0 or (seconds and not 1 <= seconds <= MAX_PROGRESS_SECONDS):
        raise InvalidWebhook("progress_every_seconds", f"must be 0 (the default) or 1 to {MAX_PROGRESS_SECONDS:g}")
    return WebhookSpec(url=url, secret=webhook.secret.strip(), events=frozenset(kinds) or ALL_TYPES,
                       progress_pages=pages or DEFAULT_PROGRESS_PAGES,
                       progress_seconds=seconds or DEFAULT_PROGRESS_SECONDS)


def message_id(job_id: str, sequence: int, kind: int) -> str:
    """The ``webhook-id`` of a job's message: the same on every retry (the receiver's
    idempotency key), unique per job, event sequence and type."""
    return f"msg_{job_id}_{sequence}_{kind}"
