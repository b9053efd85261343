"""``Idempotency-Key`` on ``POST /api/jobs``: the same key (with the same body) gives
the same job and the same job token, however often a client retries.

The key, scoped by the operator API key the request carries (none: one scope for
all), is hashed into a Redis record holding a random salt, the body's fingerprint and
the job id once known. From it follow, deterministically:

- the ``request_id`` sent on ``StartJob`` (a UUID derived from the hash), so the
  orchestrator returns the first call's job to every retry (AIP-155);
- the job token, ``HMAC(salt, scope + key)``: a retry gets the same token without
  Redis ever holding a token (it holds the salt and a hash of the key; the token
  needs the key itself).

Whoever presents the key gets the job's token, so keys must be unguessable (a random
UUID per logical request). The same key with a different body is refused (422).
Records expire after ``RECORD_TTL_SECONDS``."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
RECORD_TTL_SECONDS = 24 * 3600
_KEY = re.compile(r"^[\x21-\x7e]{1,%d}$" % MAX_KEY_LENGTH)


class BadKey(ValueError):
    pass


class KeyReused(ValueError):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class Claim:
    request_id: str
    token: str
    # The job a previous request with this key started, if it got that far.
    job_id: str
    record: str


def check_key(raw: str) -> str:
    if not _KEY.match(raw):
        raise BadKey(f"{HEADER}: 1 to {MAX_KEY_LENGTH} visible ASCII characters (a random UUID is best)")
    return raw


def fingerprint(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def new_request_id() -> str:
    """A fresh request id for a request without a key: the channel's own retries of
    this one call still never start a second job."""
    return str(uuid.uuid4())


class Idempotency:
    def __init__(self, redis: aioredis.Redis, *, prefix: str, ttl_seconds: float = RECORD_TTL_SECONDS) -> None:
        self.redis = redis
        self.prefix = prefix
        self.ttl_ms = int(ttl_seconds * 1000)

    def _record_key(self, digest: bytes) -> str:
        return f"{self.prefix}idem:{digest.hex()}"

    async def claim(self, key: str, *, scope: str, body: Any) -> Claim:
        """The request id and token for ``key``; KeyReused when it came with another body."""
        material = scope.encode() + b"\0" + key.encode()
        digest = hashlib.sha256(b"docspasta-idempotency\0" + material).digest()
        record = self._record_key(digest)
        body_print = fingerprint(body)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hsetnx(record, "salt", secrets.token_hex(16))
            pipe.hsetnx(record, "fingerprint", body_print)
            pipe.hgetall(record)
            created, _, data = await pipe.execute()
        if created:
            await self.redis.pexpire(record, self.ttl_ms)
        fields = {str(k): str(v) for k, v in dict(data).items()}
        if fields.get("fingerprint") != body_print:
            raise KeyReused(f"{HEADER}: already used for a different request body")
        token = base64.urlsafe_b64encode(
            hmac.new(bytes.fromhex(fields["salt"]), material, hashlib.sha256).digest()).rstrip(b"=").decode()
        return Claim(request_id=str(uuid.UUID(bytes=digest[:16], version=4)), token=token,
                     job_id=fields.get("job_id", ""), record=record)

    async def remember(self, claim: Claim, job_id: str) -> None:
        await self.redis.hset(claim.record, "job_id", job_id)
