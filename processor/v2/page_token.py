"""ListPages page tokens (AIP-158): opaque to clients, checked by the server.

A token is the resume point (the `order` of the last page sent) bound to its job:
version byte, the order as 8 bytes, and 12 bytes of SHA-256 over a label, the job id
and those bytes; base64url without padding. A token that was altered, truncated, or
comes from another job fails the check and the call is INVALID_ARGUMENT. The digest is
not a secret: a token grants nothing the request does not already (any page of a job
its caller names), it only keeps the format the server's to change.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

_VERSION = 1
_LABEL = b"docspasta.v2.ProcessorService.ListPages\0"
_DIGEST_BYTES = 12
_LENGTH = 1 + 8 + _DIGEST_BYTES
MAX_TOKEN_LENGTH = 64


class BadPageToken(ValueError):
    pass


def _digest(job_id: str, body: bytes) -> bytes:
    return hashlib.sha256(_LABEL + job_id.encode() + b"\0" + body).digest()[:_DIGEST_BYTES]


def encode(job_id: str, after_order: int) -> str:
    body = bytes([_VERSION]) + after_order.to_bytes(8, "big", signed=False)
    return base64.urlsafe_b64encode(body + _digest(job_id, body)).decode().rstrip("=")


def decode(job_id: str, token: str) -> int:
    """The `order` to list after; raises BadPageToken."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise BadPageToken("not a page token of this job")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise BadPageToken("not a page token of this job") from None
    if len(raw) != _LENGTH or raw[0] != _VERSION:
        raise BadPageToken("not a page token of this job")
    body, digest = raw[:9], raw[9:]
    after_order = int.from_bytes(body[1:], "big")
    # base64 decoding skips stray characters: only the token exactly as issued passes.
    if _digest(job_id, body) != digest or encode(job_id, after_order) != token:
        raise BadPageToken("not a page token of this job")
    return after_order
