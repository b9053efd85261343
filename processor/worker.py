"""A conversion worker process: its limits on, warmed up, then one page per message
from the pool (processor/pool.py) until told to stop.

Its own module, apart from the pool, so that a worker imports only what it runs: the
converter, the limits and the message framing (multiprocessing.connection over the
socket pair the pool made). The pool's side (asyncio, threads, subprocesses) is ~30 ms
more CPU per worker start, paid again each time a worker is replaced.

The protocol, all in multiprocessing's framing with pickled values: the pool sends the
worker its ``PageLimits`` first; the worker answers ``("ready", None)`` once warm; then
per page the pool sends ``(url, parts, template)`` followed by ``parts`` slices of the
HTML, and the worker answers an ``Outcome``; ``None`` tells it to exit."""

from __future__ import annotations

import multiprocessing.connection
import os
import resource
import signal
import sys
from dataclasses import fields
from types import FrameType
from typing import Any

from processor.convert import Converted, convert
from processor.limits import PageLimits, PageTooLarge, PageTooSlow, check

__all__ = ["Outcome", "worker_entry", "worker_main"]

_WARM_UP_PAGE = "<html><head><title>t</title></head><body><main><h1>t</h1><p>x <code>y</code></p></main></body></html>"
# A page whose conversion took its worker past this share of the address-space cap is
# reported too large, and the worker is replaced (its heap stays grown).
_MEMORY_SHARE = 0.8
_OUT_OF_MEMORY = "the conversion ran out of the worker's memory"
_FIELDS = tuple(f.name for f in fields(Converted))  # what a worker sends back, in order

# (kind, value, retiring): ("ok", Converted fields) or ("too_large" | "too_slow", message);
# retiring when the worker exits after this page.
Outcome = tuple[str, Any, bool]


def _on_cpu_budget(signum: int, frame: FrameType | None) -> None:
    raise PageTooSlow("CPU time")


def _set_cpu_budget(seconds: float) -> None:
    """SIGPROF once this process has used ``seconds`` more CPU time (0: disarmed). A soft
    RLIMIT_CPU, used before, fires only at whole seconds of the process's total, i.e.
    anywhere from the budget to a second past it, depending on the pages before."""
    signal.setitimer(signal.ITIMER_PROF, max(0.0, seconds))


def _convert_one(html: str, url: str, limits: PageLimits, template: frozenset[int] | None = None,
                 ) -> tuple[str, Any]:
    try:
        guard = check(html, limits, on_tree=True)  # what is left is checked on the converter's tree
        try:
            _set_cpu_budget(limits.cpu_seconds)
            result = convert(html, url, template, guard=guard)
        finally:
            _set_cpu_budget(0)
    except PageTooLarge as exc:
        return ("too_large", str(exc))
    except PageTooSlow:
        return ("too_slow", f"the conversion used more than {limits.cpu_seconds:g} s of CPU time")
    except MemoryError:
        return ("too_large", _OUT_OF_MEMORY)
    # (not dataclasses.astuple: it deep-copies each template key, 80 us a page)
    return ("ok", tuple(getattr(result, name) for name in _FIELDS))


def _peak_bytes(below: int = 0) -> int:
    """This process's peak resident set since it started, or a bound of it that is at
    most ``below`` (then the peak is at most ``below`` too).

    Not ``getrusage().ru_maxrss``: Linux keeps that across ``execve``, so a worker spawned
    by a large parent (a processor that has served for a while, a test run) would start
    out "past its budget". ``VmHWM`` belongs to the worker's own address space."""
    # ru_maxrss is never below VmHWM (it is the larger of this address space's peak and
    # the spawning parent's at execve), so when it is under the caller's threshold so is
    # VmHWM, without reading /proc for every page.
    rusage_bytes = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    if rusage_bytes <= below:
        return rusage_bytes
    try:
        with open("/proc/self/status", "rb") as status:
            for line in status:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def worker_main(conn: multiprocessing.connection.Connection, limits: PageLimits) -> None:
    """A worker's life: limits on, warm up, then one page per message until told to stop
    (None) or the parent goes away. Exits after a page that may have left it damaged
    (out of time or memory); the pool starts a fresh one."""
    _serve_pages(conn, limits)
    # Nothing of ours is left to flush or close: the interpreter's teardown (lxml, the
    # converter's modules: ~20 ms) would only hold up whoever waits for this process (the
    # processor's stop, and the stack's close, which reads the stderr it shares).
    sys.stderr.flush()
    os._exit(0)


def worker_entry(fd: int | None = None) -> None:
    """A worker process's main (``python -c``, see ``_Worker``, or a forked child): its end
    of the socket pair is ``fd`` or the descriptor in argv; the first message is its limits."""
    conn = multiprocessing.connection.Connection(int(sys.argv[1]) if fd is None else fd)
    try:
        limits = conn.recv()
    except (EOFError, OSError):
        return  # the pool went away before it was configured
    worker_main(conn, limits)


def _serve_pages(conn: multiprocessing.connection.Connection, limits: PageLimits) -> None:
    if limits.memory_bytes:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, hard))
    # Past this peak a worker retires after its page (0: no memory limit).
    memory_share = int(_MEMORY_SHARE * limits.memory_bytes)
    signal.signal(signal.SIGPROF, _on_cpu_budget)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the service handles ^C and stops us
    convert(_WARM_UP_PAGE, "http://localhost/")
    try:
        conn.send(("ready", None))
    except (OSError, ValueError):
        return  # the pool went away while this worker warmed up (a crawl shorter than that)
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        url, parts, template = message
        html = "".join(conn.recv() for _ in range(parts))
        del message
        kind, value = _convert_one(html, url, limits, template)
        del html
        damaged = kind == "too_slow" or value == _OUT_OF_MEMORY
        if memory_share and _peak_bytes(memory_share) > memory_share:
            damaged = True
            if kind == "ok":
                kind, value = "too_large", (f"converting the page took its worker past {_MEMORY_SHARE:.0%} "
                                            f"of its {limits.memory_bytes >> 20} MiB memory limit")
        try:
            conn.send((kind, value, damaged))
        except (OSError, ValueError):
            return
        if damaged:
            return
