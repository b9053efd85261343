"""Giving freed memory back to the system after a large page.

A 20 MB page passes through several large buffers (the request, its text, the slices
sent to a worker). glibc keeps freed heap memory for reuse, in one arena per thread that
touched it (gRPC's threads, the pool's pipe threads), so after a few large pages the
process's RSS stays near its peak even though the memory is free. ``malloc_trim(0)``
returns it; called after a large page only, it costs a few milliseconds."""

from __future__ import annotations

import ctypes
import ctypes.util

_libc: ctypes.CDLL | None
try:
    _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    _trim = _libc.malloc_trim
    _trim.argtypes = [ctypes.c_size_t]
except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to do
    _libc = None


def release_free_memory() -> None:
    if _libc is not None:
        _trim(0)
