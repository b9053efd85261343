"""A bounded LRU map that knows whether it still holds everything written to it.

The frontier's seen set and the dedup hashes live in the job store; these caches keep
the recent part in memory. While nothing was ever evicted (and the cache started
from an empty job or a full warm-up) a miss is a definite "not there" and costs no
store query; after the first eviction a miss is only "ask the store"."""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

V = TypeVar("V")


class BoundedCache(Generic[V]):
    def __init__(self, capacity: int, *, complete: bool = True) -> None:
        self.capacity = max(1, capacity)
        # True while the cache holds every key written since the job (or warm-up) began.
        self.complete = complete
        self._items: OrderedDict[str, V] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: str) -> bool:
        return key in self._items

    def get(self, key: str) -> V | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: str, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)
            self.complete = False
