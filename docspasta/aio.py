"""The event loop every process runs on: uvloop where it is installed (a runtime
dependency; measured in docs/performance.md, "Pipeline costs"), else asyncio's own.

gRPC's asyncio API, aiohttp and subprocesses all run on it unchanged; what it buys is
a cheaper loop iteration, callback and transport (the per-page cost of a crawl is
mostly loop overhead around three gRPC calls and a handful of events)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
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
