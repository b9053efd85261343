"""A worker's memory budget is its own: a large parent does not make every page 'too large'.

Linux keeps ``ru_maxrss`` across ``execve``, so a spawned worker once inherited the peak
of the process that spawned it (a long-running processor, or this test run after the
browser tests) and refused every page."""

from __future__ import annotations

from processor.limits import PageLimits
from processor.pool import ConversionPool

PAGE = "<html><head><title>T</title></head><body><main><h1>T</h1><p>text</p></main></body></html>"


async def test_a_worker_of_a_large_parent_converts_small_pages() -> None:
    limits = PageLimits()
    assert limits.memory_bytes, "the default limits cap the worker's address space"
    ballast = bytearray(int(limits.memory_bytes * 0.9))
    for i in range(0, len(ballast), 4096):  # touch every page: resident, not just reserved
        ballast[i] = 1
    pool = await ConversionPool(workers=1, limits=limits).start()
    try:
        result = await pool.convert(PAGE, "http://127.0.0.1/t.html", timeout=60)
        assert result.title == "T"
    finally:
        await pool.close()
        del ballast
