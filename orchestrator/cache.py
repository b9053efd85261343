"""A bounded map that knows whether it still holds everything written to it.

The frontier's seen set and the dedup hashes live in the job store; these caches keep
the recent part in memory. While nothing was ever evicted (and the cache started
from an empty job or a full warm-up) a miss is a definite "not there" and costs no
store query; after the first eviction a miss is only "ask the store".

Eviction is first in, first out: a lookup is then one plain dict read (the hot path:
every link of every page), and for a crawl's seen set the oldest keys are the least
likely to come back anyway."""

from __future__ import annotations

from typing import Generic, TypeVar

V = TypeVar("V")


class BoundedCache(Generic[V]):
    def __init__(self, capacity: int, *, complete: bool = True) -> None:
        self.capacity = max(1, capacity)
        # True while the cache holds every key written since the job (or warm-up) began.
        self.complete = complete
        self._items: dict[str, V] = {}

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: str) -> bool:
        return key in self._items

    def get(self, key: str) -> V | None:
        return self._items.get(key)

    def put(self, key: str, value: V) -> None:
        items = self._items
        items[key] = value
        if len(items) > self.capacity:
            del items[next(iter(items))]
            self.complete = False
