"""The retry step: which failures are worth another attempt, and how long to wait."""

from __future__ import annotations

import random

import grpc

from docspasta.v1 import common_pb2, crawler_pb2

MAX_BACKOFF_SECONDS = 30.0
MAX_RETRY_AFTER_SECONDS = 120.0
BASE_BACKOFF_SECONDS = 0.5
_RETRYABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


def is_retryable(response: crawler_pb2.CrawlResponse) -> bool:
    """Timeouts, connection errors, 408, 429 and 5xx; never 4xx or policy refusals."""
    if response.error in (common_pb2.ERROR_CATEGORY_TIMEOUT, common_pb2.ERROR_CATEGORY_CONNECT):
        return True
    if response.error == common_pb2.ERROR_CATEGORY_HTTP_5XX:
        return True
    return response.error == common_pb2.ERROR_CATEGORY_HTTP_4XX and response.status in _RETRYABLE_STATUSES


def backoff_seconds(attempt: int, retry_after: float = 0.0, *, rng: random.Random | None = None,
                    base: float = BASE_BACKOFF_SECONDS, cap: float = MAX_BACKOFF_SECONDS,
                    max_retry_after: float = MAX_RETRY_AFTER_SECONDS) -> float:
    """Exponential backoff with full jitter after ``attempt`` (1-based) failed; a
    server's Retry-After is honoured as the floor. ``base``/``cap``/``max_retry_after``
    default to the crawl's; webhook delivery passes its own."""
    ceiling = min(cap, base * (2 ** min(attempt - 1, 60)))
    jitter = (rng.uniform if rng is not None else random.uniform)(0, ceiling / 2)
    delay: float = ceiling / 2 + jitter
    return max(delay, min(retry_after, max_retry_after))


def rpc_failure(url: str, exc: grpc.aio.AioRpcError) -> crawler_pb2.CrawlResponse:
    """A Crawl RPC that failed as a response: an unavailable or slow crawler is worth
    another attempt, a refused request (bad URL) is not."""
    if exc.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
        category = common_pb2.ERROR_CATEGORY_TIMEOUT
    elif exc.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.ABORTED, grpc.StatusCode.RESOURCE_EXHAUSTED,
                        grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL, grpc.StatusCode.CANCELLED):
        category = common_pb2.ERROR_CATEGORY_CONNECT
    else:
        category = common_pb2.ERROR_CATEGORY_INVALID
    return crawler_pb2.CrawlResponse(
        url=url, error=category,
        error_message=f"crawler unavailable: {exc.code().name} {exc.details() or ''}".strip())
