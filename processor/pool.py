"""The pool of worker processes that convert HTML to Markdown. Workers are spawned and
import only the converter (submitted functions live in modules that import nothing
else), so a worker starts fast."""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor

from processor.convert import convert

_WARM_UP_PAGE = "<html><head><title>t</title></head><body><main><h1>t</h1><p>x <code>y</code></p></main></body></html>"


def conversion_pool(workers: int) -> ProcessPoolExecutor:
    # "spawn": forking a process that runs gRPC threads is unsafe.
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
    # Start every worker now and let each import the converter and convert a tiny page
    # while the job starts, instead of on the first pages (a spawned worker takes ~0.5 s).
    for _ in range(workers):
        pool.submit(warm_up)
    return pool


def warm_up() -> None:
    """Runs in a fresh worker: imports and exercises the converter once."""
    convert(_WARM_UP_PAGE, "http://localhost/")
    # Long enough that each worker takes one warm-up call, short against a crawl.
    time.sleep(0.05)
