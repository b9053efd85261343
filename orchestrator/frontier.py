"""The frontier: URLs waiting to be crawled, shallow before deep, and the dedup set
of every URL ever admitted to the job."""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field


@dataclass(order=True, slots=True)
class Item:
    depth: int
    order: int
    url: str = field(compare=False)  # the form fetched
    key: str = field(compare=False)  # the normalised form, for dedup


class Frontier:
    def __init__(self) -> None:
        self._heap: list[Item] = []
        self._seen: set[str] = set()
        self._counter = itertools.count()

    def __len__(self) -> int:
        return len(self._heap)

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
        heapq.heappush(self._heap, Item(depth, next(self._counter), url, key))
        return True

    def pop(self) -> Item:
        return heapq.heappop(self._heap)

    @property
    def seen_count(self) -> int:
        return len(self._seen)
