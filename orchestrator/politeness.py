"""The politeness step: per host, a concurrency limit that adapts (AIMD), a pause
after ``Retry-After``, and the robots.txt crawl delay.

* The limit starts at half the cap and grows by one per window of clean responses
  (``+1/limit`` per response) up to the cap (a service setting).
* It is halved on an overload signal: 429, 502/503/504, a timeout or a refused
  connection; and cut by a quarter when the host's smoothed latency climbs well above
  its best. One cut per round: responses to requests sent before the last cut do not
  cut again.
* ``Retry-After`` (429/503) pauses the host: no request starts before it elapses. A
  429 without one pauses the host for a second.
* A crawl delay (robots.txt) makes the host serial, with the delay between the end of
  one response and the next request."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from docspasta.aio import wait_at_most
from docspasta.v1 import common_pb2, crawler_pb2

DEFAULT_HOST_CONCURRENCY = 8
MAX_PAUSE_SECONDS = 120.0
DEFAULT_MAX_CRAWL_DELAY = 30.0
PAUSE_WITHOUT_RETRY_AFTER = 1.0
_OVERLOAD_STATUSES = frozenset({429, 502, 503, 504})
_EWMA_ALPHA = 0.2
_LATENCY_FACTOR = 3.0
_LATENCY_SLACK = 0.25  # seconds; loopback noise is not a slowdown
_MIN_SAMPLES = 5


@dataclass(slots=True)
class HostState:
    cap: int
    limit: float
    in_use: int = 0
    assigned: int = 0  # URLs handed to workers and not yet fetched
    not_before: float = 0.0
    interval: float = 0.0
    next_start: float = 0.0
    ewma: float = 0.0
    best: float = math.inf
    samples: int = 0
    last_cut: float = -math.inf
    cuts: int = 0
    pauses: int = 0
    cond: asyncio.Condition = field(default_factory=asyncio.Condition)

    @property
    def slots(self) -> int:
        return max(1, min(self.cap, int(self.limit)))


def overload(response: crawler_pb2.CrawlResponse) -> bool:
    if response.error in (common_pb2.ERROR_CATEGORY_TIMEOUT, common_pb2.ERROR_CATEGORY_CONNECT):
        return True
    return bool(response.error) and response.status in _OVERLOAD_STATUSES


class Politeness:
    def __init__(self, *, host_concurrency: int = DEFAULT_HOST_CONCURRENCY,
                 max_crawl_delay: float = DEFAULT_MAX_CRAWL_DELAY) -> None:
        self.host_concurrency = max(1, host_concurrency)
        self.max_crawl_delay = max_crawl_delay
        self._hosts: dict[str, HostState] = {}

    def host(self, host: str) -> HostState:
        state = self._hosts.get(host)
        if state is None:
            cap = self.host_concurrency
            state = self._hosts[host] = HostState(cap=cap, limit=max(1.0, math.ceil(cap / 2)))
        return state

    # -- dispatch ------------------------------------------------------------

    def can_assign(self, host: str) -> bool:
        """Whether another URL of ``host`` may be handed to a worker: one more than the
        host's slots, so a worker is ready the moment a slot frees."""
        state = self.host(host)
        return state.assigned < state.slots + 1

    def assign(self, host: str) -> None:
        self.host(host).assigned += 1

    def unassign(self, host: str) -> None:
        self.host(host).assigned -= 1

    def set_crawl_delay(self, host: str, delay: float) -> None:
        if delay > 0:
            state = self.host(host)
            state.interval = min(delay, self.max_crawl_delay)
            state.cap = 1
            state.next_start = max(state.next_start, time.monotonic() + state.interval)

    # -- requests ------------------------------------------------------------

    @asynccontextmanager
    async def request(self, host: str) -> AsyncIterator[Ticket]:
        """Holds one of ``host``'s slots for a request; waits for a slot, the end of a
        pause and the crawl delay. Call ``ticket.done(response, seconds)`` inside."""
        state = self.host(host)
        async with state.cond:
            while True:
                now = time.monotonic()
                gate = max(state.not_before, state.next_start)
                if state.in_use < state.slots and now >= gate:
                    break
                timeout = gate - now if state.in_use < state.slots else None
                await wait_at_most(state.cond.wait(), timeout)
            state.in_use += 1
            state.next_start = now + state.interval
        ticket = Ticket(self, state, now)
        try:
            yield ticket
        finally:
            async with state.cond:
                state.in_use -= 1
                if state.interval:
                    # Counted from the end of the last response: network jitter cannot
                    # bring two requests closer than the delay.
                    state.next_start = max(state.next_start, time.monotonic() + state.interval)
                state.cond.notify_all()

    def record(self, state: HostState, started: float, response: crawler_pb2.CrawlResponse,
               seconds: float) -> None:
        now = time.monotonic()
        if response.retry_after_seconds > 0:
            state.not_before = max(state.not_before, now + min(response.retry_after_seconds, MAX_PAUSE_SECONDS))
            state.pauses += 1
        elif response.status == 429:
            state.not_before = max(state.not_before, now + PAUSE_WITHOUT_RETRY_AFTER)
            state.pauses += 1
        if overload(response):
            self._cut(state, started, now, 0.5)
            return
        if response.error:
            return
        state.samples += 1
        state.ewma = seconds if state.samples == 1 else (1 - _EWMA_ALPHA) * state.ewma + _EWMA_ALPHA * seconds
        if state.samples >= _MIN_SAMPLES:
            if state.ewma > _LATENCY_FACTOR * state.best + _LATENCY_SLACK:
                self._cut(state, started, now, 0.75)
                # A host that stays slower learns its new normal instead of staying at 1.
                state.best += 0.05 * (state.ewma - state.best)
                return
            state.best = min(state.best, state.ewma)
        state.limit = min(float(state.cap), state.limit + 1.0 / state.limit)

    @staticmethod
    def _cut(state: HostState, started: float, now: float, factor: float) -> None:
        if started < state.last_cut:
            return  # sent before the last cut: that cut already answered it
        state.limit = max(1.0, state.limit * factor)
        state.last_cut = now
        state.cuts += 1


@dataclass(slots=True)
class Ticket:
    politeness: Politeness
    state: HostState
    started: float

    def done(self, response: crawler_pb2.CrawlResponse, seconds: float) -> None:
        self.politeness.record(self.state, self.started, response, seconds)
