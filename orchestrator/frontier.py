"""The frontier: URLs waiting to be crawled, shallow before deep, and the dedup set
of every URL ever admitted to the job.

Each host has its own queue, so a host that is paused (Retry-After, crawl delay) or
at its concurrency limit does not hold back the others: ``pop`` takes the shallowest
URL among the hosts that are ready."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass(order=True, slots=True)
class Item:
    depth: int
    order: int
    url: str = field(compare=False)  # the form fetched
    key: str = field(compare=False)  # the normalised form, for dedup
    host: str = field(compare=False, default="")  # host[:port] of the key, the politeness unit


def host_key(url: str) -> str:
    return urlsplit(url).netloc.lower()


class Frontier:
    def __init__(self) -> None:
        self._queues: dict[str, list[Item]] = {}
        self._seen: set[str] = set()
        self._counter = itertools.count()
        self._len = 0

    def __len__(self) -> int:
        return self._len

    def seen(self, url: str) -> bool:
        return url in self._seen

    def mark_seen(self, url: str) -> bool:
        """Records ``url``; False when it was already known."""
        if url in self._seen:
            return False
        self._seen.add(url)
        return True

    def push(self, key: str, url: str, depth: int) -> bool:
        """Queues ``url`` unless its dedup ``key`` was seen before; True when queued."""
        if not self.mark_seen(key):
            return False
        host = host_key(key)
        heapq.heappush(self._queues.setdefault(host, []), Item(depth, next(self._counter), url, key, host))
        self._len += 1
        return True

    def pop(self, ready: Callable[[str], bool] | None = None) -> Item | None:
        """The shallowest (then oldest) item of a ready host; None when there is none."""
        best: list[Item] | None = None
        for host, queue in self._queues.items():
            if queue and (best is None or queue[0] < best[0]) and (ready is None or ready(host)):
                best = queue
        if best is None:
            return None
        item = heapq.heappop(best)
        if not best:
            del self._queues[item.host]
        self._len -= 1
        return item

    @property
    def seen_count(self) -> int:
        return len(self._seen)
