"""Giving freed memory back to the system after a large page.

A 20 MB page passes through several large buffers (the request, its text, the slices
sent to a worker). glibc keeps freed heap memory for reuse, in one arena per thread that
touched it (gRPC's threads, the pool's pipe threads), so after a few large pages the
process's RSS stays near its peak even though the memory is free. ``malloc_trim(0)``
returns it; called after a large page only, it costs a few milliseconds."""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable

# Loaded at the first large page, by its glibc name: ``ctypes.util.find_library`` runs
# ``ldconfig -p`` in a subprocess (a fork of the processor) at every start, on the path
# to the first conversion worker.
_trim: Callable[[int], int] | None = None
_loaded = False


def _malloc_trim(name: str) -> Callable[[int], int] | None:
    if not name:
        return None
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to do
        return None
    trim.argtypes = [ctypes.c_size_t]
    return trim


def _load() -> Callable[[int], int] | None:
    """glibc's malloc_trim by its soname; ``find_library`` (ldconfig) only without it."""
    return _malloc_trim("libc.so.6") or _malloc_trim(ctypes.util.find_library("c") or "")


def release_free_memory() -> None:
    global _trim, _loaded
    if not _loaded:
        _trim, _loaded = _load(), True
    if _trim is not None:
        _trim(0)
