"""A growing Bloom filter of string keys: "certainly never added" or "maybe added".

The job's bounded caches (orchestrator/cache.py) forget keys once they are full; this
remembers, in about 2 bytes a key, that a key was never written, so a lookup of a new
key (every page's HTML digest, its children's URLs) needs no store query at any job
size. A "maybe" is wrong for about 1 key in 400 per layer; the caller then asks the
store, which has the answer.

Each layer holds ``capacity`` keys at 16 bits a key and 4 probes; a full layer is
followed by one twice its size, so memory stays proportional to the keys added and
the false-positive rate to the number of layers (log2 of the job's growth).

Positions come from Python's ``hash`` of the key (per process: the filter is never
stored), split into two 32-bit halves for double hashing.
"""

from __future__ import annotations

DEFAULT_LAYER_KEYS = 1 << 15
_BITS_PER_KEY = 16
_PROBES = 4
_MASK64 = (1 << 64) - 1


class KeyFilter:
    def __init__(self, *, layer_keys: int = DEFAULT_LAYER_KEYS) -> None:
        self._next_keys = max(8, layer_keys)
        # (bits, mask of a bit position, keys it holds before the next layer starts)
        self._layers: list[tuple[bytearray, int, int]] = []
        self._in_last = 0
        self._grow()

    def _grow(self) -> None:
        keys = self._next_keys
        bits = 1 << (keys * _BITS_PER_KEY - 1).bit_length()  # a power of two, so a mask picks a position
        self._layers.append((bytearray(bits >> 3), bits - 1, keys))
        self._in_last = 0
        self._next_keys = keys * 2

    def __contains__(self, key: str) -> bool:
        h = hash(key) & _MASK64
        low, step = h & 0xFFFFFFFF, (h >> 32) | 1
        for bits, mask, _ in self._layers:
            for i in range(_PROBES):
                pos = (low + i * step) & mask
                if not bits[pos >> 3] & (1 << (pos & 7)):
                    break
            else:
                return True
        return False

    def add(self, key: str) -> None:
        """Adds ``key`` (callers add a key once; adding it again only uses up room)."""
        bits, mask, keys = self._layers[-1]
        if self._in_last >= keys:
            self._grow()
            bits, mask, keys = self._layers[-1]
        h = hash(key) & _MASK64
        low, step = h & 0xFFFFFFFF, (h >> 32) | 1
        for i in range(_PROBES):
            pos = (low + i * step) & mask
            bits[pos >> 3] |= 1 << (pos & 7)
        self._in_last += 1

    @property
    def nbytes(self) -> int:
        return sum(len(bits) for bits, _, _ in self._layers)
