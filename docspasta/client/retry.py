"""Retries for calls that are safe to repeat: a start with its idempotency key, reads,
cancels. Exponential backoff, the server's RetryInfo / Retry-After winning, all inside
the call's own deadline."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from docspasta.client.errors import ClientError

T = TypeVar("T")
DEFAULT_ATTEMPTS = 5
FIRST_DELAY = 0.2
MAX_DELAY = 5.0
RETRYABLE = frozenset({"unavailable", "resource_exhausted", "busy", "rate_limited"})


async def retrying(call: Callable[[float], Awaitable[T]], *, timeout: float, attempts: int = DEFAULT_ATTEMPTS) -> T:
    """``call(remaining_seconds)`` until it succeeds, fails for good, or the budget is spent."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    delay = FIRST_DELAY
    for attempt in range(1, attempts + 1):
        try:
            return await call(max(0.05, deadline - loop.time()))
        except ClientError as exc:
            wait = min(exc.retry_after if exc.retry_after is not None else delay, MAX_DELAY)
            if exc.code not in RETRYABLE or attempt == attempts or loop.time() + wait >= deadline:
                raise
            await asyncio.sleep(wait)
            delay = min(delay * 2, MAX_DELAY)
    raise AssertionError("unreachable")  # pragma: no cover
