"""The event loop every process runs on: uvloop where it is installed (a runtime
dependency; measured in docs/performance.md, "Pipeline costs"), else asyncio's own.

gRPC's asyncio API, aiohttp and subprocesses all run on it unchanged; what it buys is
a cheaper loop iteration, callback and transport (the per-page cost of a crawl is
mostly loop overhead around three gRPC calls and a handful of events)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on the fastest loop available."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency; a platform without a wheel falls back
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


async def wait_at_most(awaitable: Awaitable[object], timeout: float | None) -> None:
    """Awaits ``awaitable`` for at most ``timeout`` seconds (None: no limit) and returns
    either way; a cancellation of the caller always goes through.

    Not ``asyncio.wait_for``: on Python 3.11 it swallows a cancellation that arrives just
    as the awaited thing completes (CPython gh-86296, fixed in 3.12), so a loop that waits
    on an event that way, cancelled as the event is set, runs on for ever (and whoever
    awaits the cancelled task waits for ever with it). ``asyncio.timeout`` keeps it."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout):
            await awaitable
