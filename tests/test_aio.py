"""docspasta/aio.py: the loop and the cancellation-safe bounded wait every loop uses."""

from __future__ import annotations

import asyncio

import pytest

from docspasta.aio import wait_at_most


async def _waiting_loop(event: asyncio.Event, wait: object) -> None:
    while True:  # like the webhook dispatcher's and the job writer's loops
        await wait(event.wait(), 10.0)  # type: ignore[operator]
        event.clear()


async def _wait_for(awaitable: object, timeout: float) -> None:
    try:
        await asyncio.wait_for(awaitable, timeout)  # type: ignore[arg-type]
    except TimeoutError:
        pass


@pytest.mark.parametrize("wait", [wait_at_most, _wait_for], ids=["wait_at_most", "asyncio.wait_for"])
async def test_a_loop_cancelled_as_its_event_is_set_stops(wait: object) -> None:
    """What a stop does: it wakes the loop's event (a delivery it cancelled frees a slot)
    and cancels the loop in the same step. On 3.11 wait_for then returns normally."""
    event = asyncio.Event()
    task = asyncio.create_task(_waiting_loop(event, wait))
    await asyncio.sleep(0)  # the loop is waiting now
    event.set()
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=2.0)
    if wait is _wait_for:
        # The CPython bug itself (gh-86296): kept as a test so that the day it stops holding
        # (Python 3.12+) says wait_at_most could go.
        assert not done, "asyncio.wait_for no longer swallows the cancellation"
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    else:
        assert done and task.cancelled()


async def test_wait_at_most_returns_at_the_timeout_or_when_done() -> None:
    event = asyncio.Event()
    loop = asyncio.get_running_loop()
    started = loop.time()
    await wait_at_most(event.wait(), 0.05)
    assert 0.04 <= loop.time() - started < 5.0 and not event.is_set()
    loop.call_later(0.01, event.set)
    await wait_at_most(event.wait(), 30.0)
    assert event.is_set() and loop.time() - started < 5.0
