"""The supervised pool of worker processes that convert HTML to Markdown, each page
within its budget (processor/limits.py).

Each worker is a fresh interpreter (``python -c``, started by ``_Worker``; forking a
process that runs gRPC threads is unsafe) that imports only the converter and converts
one page at a time (processor/worker.py), over a socket pair with multiprocessing's message framing.
The exception is ``prefork``: the local stack's processor child forks its first workers
from itself before it has a thread (docspasta/forked.py), with the converter already imported
(a worker then costs a fork, not an interpreter's start and the converter's import:
~80 ms of CPU each, paid at every crawl's start). Not
multiprocessing's spawn: it starts a resource tracker process (~40 ms of CPU, 13 MiB,
for semaphores nobody here makes) and re-imports the parent's main module in each
worker, ~95 ms of CPU more for a pool of two than this (perf, task-clock):

* before conversion, the page's parsed size is checked (``limits.check``): a page over
  a limit is refused in a fraction of a second, with constant memory;
* the worker's address space is capped (RLIMIT_AS), so a page that slips past the
  size limits fails with MemoryError in its worker instead of OOM-killing the pod;
* each page gets a CPU-time budget (a profiling interval timer, armed per page: it
  counts the process's user + system time to the microsecond, where RLIMIT_CPU counts
  whole seconds): its SIGPROF turns into PageTooSlow inside the converter;
* a watchdog here kills the worker when the page's wall-time budget or the caller's
  deadline passes (or the call is cancelled), and starts a replacement, so no worker
  keeps converting for a caller that has given up.

A ProcessPoolExecutor cannot do this: killing one of its workers breaks the pool and
fails every page in it."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import multiprocessing
import multiprocessing.connection
import os
import pickle
import select
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from docspasta import forked
from processor.convert import Converted
from processor.limits import PageLimits, PageTooLarge, PageTooSlow, ProcessorBusy
from processor.worker import Outcome, worker_entry

log = logging.getLogger(__name__)

# A spawned worker imports lxml and the converter: well under this on a loaded machine.
_START_SECONDS = 60.0
_RESPAWN_BACKOFF = (0.1, 0.5, 2.0, 5.0)
_SLICE = 1024 * 1024
# How often the watchdog looks at a converting worker, and the CPU seconds past its
# budget (the worker's own timer cannot interrupt long C calls) before it is killed.
_WATCH_SECONDS = 0.25
_CPU_GRACE = 1.5
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# A page whose message (at most 4 bytes a character, ~10 per template key) is at most
# this size is sent to its worker from the event loop: it fits in a unix socket's
# default send buffer (208 KiB; 176 KiB of 4 KiB writes measured here), so the send never
# waits for the worker. Larger pages go from a thread.
_INLINE_SEND_BYTES = 160 * 1024
# Bytes read from a worker's pipe per readiness callback (under malloc's mmap threshold).
_READ_BYTES = 64 * 1024


class _OverCpu(Exception):
    """The watchdog saw the worker past its page's CPU budget."""



class _Answer:
    """A worker's answer to one page, read by the event loop from the worker's pipe as
    its bytes arrive (a reader on the socket, one non-blocking read per readiness, never
    a blocking ``recv``), then unpickled: a thread hop per page (submit, wake-up, the
    future's callback, the GIL handed back and forth) cost the processor more CPU than
    the rest of a small page's plumbing. The framing is multiprocessing.connection's
    (``Connection._send_bytes``): a big-endian int32 length, or -1 and a uint64 length."""

    def __init__(self, conn: multiprocessing.connection.Connection) -> None:
        self._loop = asyncio.get_running_loop()
        self._fd = conn.fileno()
        self._buffer = bytearray()
        self.future: asyncio.Future[Outcome] = self._loop.create_future()
        self._loop.add_reader(self._fd, self._readable)

    def _readable(self) -> None:
        try:
            data = os.read(self._fd, _READ_BYTES)
        except BlockingIOError:
            return
        except OSError as exc:
            self._finish(error=exc)
            return
        if not data:
            self._finish(error=EOFError("the conversion worker closed its pipe"))
            return
        self._buffer += data
        size, start = _frame(self._buffer)
        if size is None or len(self._buffer) < start + size:
            return
        try:
            outcome: Outcome = pickle.loads(memoryview(self._buffer)[start:start + size])
        except Exception as exc:  # a torn or foreign message: the worker is not to be trusted
            self._finish(error=EOFError(f"unreadable answer from the conversion worker: {exc!r}"))
            return
        self._finish(result=outcome)

    def _finish(self, *, result: Outcome | None = None, error: BaseException | None = None) -> None:
        self._stop_reading()
        if self.future.done():
            return
        if error is not None:
            self.future.set_exception(error)
        else:
            assert result is not None
            self.future.set_result(result)

    def _stop_reading(self) -> None:
        if self._fd >= 0:
            self._loop.remove_reader(self._fd)
            self._fd = -1

    def close(self) -> None:
        """Stops reading (before the pipe is closed, or the worker killed); a pending
        answer is cancelled."""
        self._stop_reading()
        if not self.future.done():
            self.future.cancel()


def _frame(buffer: bytearray) -> tuple[int | None, int]:
    """(payload size, payload offset) of a multiprocessing message, size None until the
    header is complete."""
    if len(buffer) < 4:
        return None, 0
    (size,) = struct.unpack_from("!i", buffer)
    if size != -1:
        return size, 4
    if len(buffer) < 12:
        return None, 0
    (size,) = struct.unpack_from("!Q", buffer, 4)
    return size, 12



_WORKER_COMMAND = "from processor.worker import worker_entry; worker_entry()"


class _Worker:
    def __init__(self, limits: PageLimits, *, fork: bool = False) -> None:
        ours, theirs = socket.socketpair()
        self.conn = multiprocessing.connection.Connection(ours.detach())
        self.process: subprocess.Popen[bytes] | forked.ForkedChild
        try:
            if fork:
                # Not the processor's stdin and stdout: those pipes are the stack's (EOF on the
                # processor's stdout tells the parent it died); stderr is shared.
                devnull = os.open(os.devnull, os.O_RDWR)
                try:
                    self.process = forked.fork(functools.partial(worker_entry, theirs.fileno()),
                                               stdin=devnull, stdout=devnull, keep=theirs.fileno())
                finally:
                    os.close(devnull)
            else:
                # -P: not the working directory first on sys.path (-c puts it there): a folder
                # named ``processor`` where the user runs the crawl is not the worker's code.
                self.process = subprocess.Popen([sys.executable, "-P", "-c", _WORKER_COMMAND, str(theirs.fileno())],
                                                pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL)
        except BaseException:
            self.conn.close()
            raise
        finally:
            theirs.close()  # so our recv sees EOF when the worker dies
        self.conn.send(limits)
        self.pages = 0
        # The answer being read for the page it converts (read on the pool's event loop).
        self.answer: _Answer | None = None

    def wait_ready(self, timeout: float) -> None:
        if not self.conn.poll(timeout):
            raise TimeoutError("the conversion worker did not start")
        self.conn.recv()

    def send(self, page: list[str], url: str, template: frozenset[int] | None = None) -> None:
        """Blocking for a large page (then it runs in one of the pool's threads). The page
        goes in slices, so no second whole copy of it exists on this side, and ``page``
        (a box holding the only reference to the text) is emptied once sent: the text is
        freed here while the worker converts (with the job's site template keys)."""
        html = page.pop()
        slices = range(0, len(html), _SLICE)
        self.conn.send((url, len(slices), template))
        for i in slices:
            self.conn.send(html[i:i + _SLICE])
        del html

    def cpu_seconds(self) -> float:
        """CPU time the worker used so far (from /proc; 0 when it cannot be read)."""
        try:
            with open(f"/proc/{self.process.pid}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS
        except (OSError, IndexError, ValueError):
            return 0.0

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        with contextlib.suppress(Exception):
            self.process.kill()

    def join(self, timeout: float) -> None:
        """Reaps the worker once it has exited, waiting at most ``timeout`` (on a pidfd:
        Popen.wait(timeout) polls with sleeps of up to 50 ms)."""
        if self.process.poll() is not None:
            return
        try:
            pidfd = os.pidfd_open(self.process.pid)
        except (AttributeError, OSError):
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout)
            return
        try:
            select.select([pidfd], [], [], timeout)
        finally:
            os.close(pidfd)
        self.process.poll()

    def stop(self, timeout: float) -> None:
        with contextlib.suppress(Exception):
            self.conn.send(None)
        self.join(timeout)
        if self.alive:
            self.kill()
            self.join(timeout)
        self.conn.close()


async def _done_or_after(future: asyncio.Future[Any], seconds: float) -> None:
    """Returns when ``future`` is done or after ``seconds``, leaving it as it is. Not
    ``asyncio.wait``: its set, iscoroutine checks, waiter and callbacks were ~15 % of the
    processor loop's CPU on small pages (one wait per page)."""
    loop = asyncio.get_running_loop()
    waiter = loop.create_future()

    def wake(_: object = None) -> None:
        if not waiter.done():
            waiter.set_result(None)

    timer = loop.call_later(seconds, wake)
    future.add_done_callback(wake)
    try:
        await waiter
    finally:
        timer.cancel()
        future.remove_done_callback(wake)


# A page's site-template keys (None: none), or what gives them once a worker is free.
TemplateSource = frozenset[int] | Callable[[], frozenset[int] | None] | None


class ConversionPool:
    """``await pool.convert(html, url, timeout=...)`` -> Converted, or PageTooLarge /
    PageTooSlow. ``timeout`` is what is left of the caller's deadline: waiting for a
    free worker counts, and the worker is killed when it passes."""

    def __init__(self, *, workers: int, limits: PageLimits) -> None:
        self.workers = max(1, workers)
        self.limits = limits
        self._idle: asyncio.Queue[_Worker] = asyncio.Queue()
        self._all: set[_Worker] = set()
        # One thread per worker does the blocking pipe I/O.
        self._threads = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="convert-io")
        self._spawns: set[asyncio.Task[None]] = set()
        # Workers started and not yet handed to the pool (warming up, or returned by a
        # start whose task was cancelled): close() kills and reaps them, so no worker
        # process outlives the pool unwaited for.
        self._starting: set[_Worker] = set()
        self._closed = False
        self.replaced = 0  # workers killed or retired and started again (metrics, tests)
        self.converted = 0  # pages converted (tests: what the site template made convert again)
        # Why the last background start (``launch``, ``_replace``) failed after its retries.
        self._start_error: BaseException | None = None
        self._forked: list[_Worker] = []  # by ``prefork``, taken into the pool by ``launch``

    def prefork(self) -> ConversionPool:
        """Forks the workers from this process now; ``launch`` then takes them in once warm.
        Only in a process that runs no other thread and has not started gRPC (the local
        stack's processor child, before its event loop): a fork copies one thread and
        every lock as it is (``docspasta.forked.fork`` refuses otherwise, before the first
        worker). Replacements are fresh interpreters, as ever."""
        for _ in range(self.workers):
            worker = _Worker(self.limits, fork=True)
            self._starting.add(worker)
            self._forked.append(worker)
        return self

    async def start(self) -> ConversionPool:
        """Starts every worker (concurrently) and waits until each has warmed up."""
        await asyncio.gather(*(self._spawn() for _ in range(self.workers)))
        return self

    def launch(self) -> ConversionPool:
        """Starts every worker in the background and returns at once: a page converts as
        soon as one worker is warm (``convert`` waits for it within its timeout). A
        server that says it serves only after ``start`` keeps its callers waiting for
        the workers' imports and warm-up (0.3-1 s of wall clock) while it could already
        take calls, and its crawler fetch the first pages."""
        loop = asyncio.get_running_loop()
        forked, self._forked = self._forked, []
        for i in range(self.workers):
            task = loop.create_task(self._spawn(forked[i] if i < len(forked) else None))
            self._spawns.add(task)
            task.add_done_callback(self._spawned)
        return self

    def _spawned(self, task: asyncio.Task[None]) -> None:
        self._spawns.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            self._start_error = exc
            log.error("conversion worker could not be started", exc_info=exc)

    async def _spawn(self, forked: _Worker | None = None) -> None:
        """A worker into the pool once warm: ``forked`` (one of ``prefork``'s), or a fresh
        one, started again with backoff while it fails (and at once if ``forked`` fails)."""
        loop = asyncio.get_running_loop()
        if forked is not None:
            try:
                worker = await loop.run_in_executor(None, self._warmed, forked)
            except (OSError, TimeoutError, EOFError) as exc:
                log.warning("forked conversion worker failed to start", extra={"reason": repr(exc)})
            else:
                await self._take(worker)
                return
        for attempt, delay in enumerate((*_RESPAWN_BACKOFF, None)):
            try:
                worker = await loop.run_in_executor(None, self._start_worker)
            except (OSError, TimeoutError, EOFError) as exc:
                if delay is None or self._closed:
                    raise
                log.warning("conversion worker failed to start", extra={"attempt": attempt + 1,
                                                                        "reason": repr(exc)})
                await asyncio.sleep(delay)
                continue
            await self._take(worker)
            return

    async def _take(self, worker: _Worker) -> None:
        """A warm worker into the pool (stopped instead if the pool closed meanwhile)."""
        if self._closed:
            await asyncio.get_running_loop().run_in_executor(None, worker.stop, 5.0)
            self._starting.discard(worker)
            return
        self._starting.discard(worker)
        self._all.add(worker)
        self._idle.put_nowait(worker)

    def _start_worker(self) -> _Worker:
        worker = _Worker(self.limits)
        self._starting.add(worker)
        return self._warmed(worker)

    def _warmed(self, worker: _Worker) -> _Worker:
        """``worker`` (in ``_starting``) once warm; killed, reaped and let go if it is not."""
        try:
            worker.wait_ready(_START_SECONDS)
        except BaseException:
            worker.kill()
            worker.join(5.0)
            self._starting.discard(worker)
            worker.conn.close()
            raise
        return worker

    def _replace(self, worker: _Worker) -> None:
        """Retires ``worker`` (killing it if needed) and starts another in the background."""
        self._all.discard(worker)
        if worker.answer is not None:
            worker.answer.close()
        worker.kill()
        with contextlib.suppress(Exception):
            worker.conn.close()
        self.replaced += 1
        loop = asyncio.get_running_loop()
        loop.run_in_executor(None, worker.join, 10.0)  # reap it: no zombie left
        if not self._closed:
            task = loop.create_task(self._spawn())
            self._spawns.add(task)
            task.add_done_callback(self._spawned)

    async def convert(self, html: str, url: str, *, timeout: float | None = None,
                      template: TemplateSource = None) -> Converted:
        """``template``: the keys, or a function called once a worker is free, so that a
        page that queued while its job's template was being learned converts with the
        template as it is by then (instead of without it, and again with it)."""
        if self._closed:
            raise RuntimeError("the conversion pool is closed")
        if not self._all and not self._spawns and self._start_error is not None:
            raise RuntimeError(f"no conversion worker could be started: {self._start_error!r}")
        loop = asyncio.get_running_loop()
        budget = self.limits.wall_seconds or None
        if timeout is not None:
            budget = timeout if budget is None else min(budget, timeout)
        deadline = None if budget is None else loop.time() + budget
        try:
            async with asyncio.timeout_at(deadline):
                worker = await self._idle.get()
                while not worker.alive:  # died while idle (killed from outside)
                    self._replace(worker)
                    worker = await self._idle.get()
        except TimeoutError:
            raise ProcessorBusy("no conversion worker became free before the deadline") from None
        started = time.monotonic()
        box, html = [html], ""  # the box holds the only reference: send() frees it once sent
        sent: asyncio.Future[None] | None = None
        answer: _Answer | None = None
        try:
            if callable(template):
                template = template()
            if 4 * len(box[0]) + 16 * len(template or ()) <= _INLINE_SEND_BYTES:
                # Fits in the socket's send buffer (the worker reads nothing else
                # meanwhile): sent from the loop without blocking it.
                worker.send(box, url, template)
            else:
                # A blocking send from a thread. The loop's reader (uvloop's) leaves the
                # socket non-blocking, so blocking mode is set back first, and the
                # reader is registered only once the page is sent.
                os.set_blocking(worker.conn.fileno(), True)
                sent = loop.run_in_executor(self._threads, worker.send, box, url, template)
                await sent
            answer = worker.answer = _Answer(worker.conn)
            outcome = await self._watch(worker, answer.future, deadline)
        except BaseException as exc:
            # Out of time, cancelled, or the worker died: it must not go on converting.
            self._replace(worker)
            with contextlib.suppress(BaseException):
                if sent is not None:
                    await sent
                if answer is not None:
                    await answer.future
            if isinstance(exc, _OverCpu):
                raise PageTooSlow(f"the conversion used more than {self.limits.cpu_seconds:g} s of CPU time "
                                  "(stopped by the watchdog)") from None
            if isinstance(exc, TimeoutError):
                seconds = time.monotonic() - started
                raise PageTooSlow(f"the conversion was stopped after {seconds:.1f} s "
                                  f"(its deadline passed)") from None
            if isinstance(exc, (EOFError, OSError)):
                raise PageTooLarge("the conversion worker died converting the page "
                                   "(most likely out of memory)") from None
            raise
        worker.pages += 1
        worker.answer = None
        kind, value, retiring = outcome
        if retiring:
            self._replace(worker)  # it exits after such a page; start its successor now
        else:
            self._idle.put_nowait(worker)
        if kind == "ok":
            self.converted += 1
            return Converted(*value)
        if kind == "too_slow":
            raise PageTooSlow(value)
        raise PageTooLarge(value)

    async def _watch(self, worker: _Worker, future: asyncio.Future[Outcome], deadline: float | None) -> Outcome:
        """The outcome, watching the deadline and the worker's CPU time meanwhile: the
        worker's own SIGPROF cannot interrupt code that runs in C for long (or may be
        swallowed), so past its budget plus a grace the worker is killed from here.

        The CPU time is counted from the watchdog's first look, one watch interval in,
        not from the call: most pages are done before it, and reading /proc for every
        page cost the processor ~5 % of its CPU on small pages. The kill comes at most
        one interval (0.25 s of CPU) later than counted from the call; the grace is 1.5 s."""
        loop = asyncio.get_running_loop()
        cpu_first: float | None = None
        while True:
            wait = _WATCH_SECONDS if deadline is None else min(_WATCH_SECONDS, deadline - loop.time())
            if wait <= 0:
                raise TimeoutError
            if not future.done():
                await _done_or_after(future, wait)
            if future.done():
                return future.result()
            if self.limits.cpu_seconds:
                cpu = worker.cpu_seconds()
                if cpu_first is None:
                    cpu_first = cpu
                elif cpu - cpu_first > self.limits.cpu_seconds + _CPU_GRACE:
                    raise _OverCpu

    async def close(self) -> None:
        self._closed = True
        for task in list(self._spawns):
            task.cancel()
        await asyncio.gather(*self._spawns, return_exceptions=True)
        workers = list(self._all)
        self._all.clear()
        # Still warming up (no page of anyone's): killed, not waited for until warm.
        starting = list(self._starting)
        self._starting.clear()
        loop = asyncio.get_running_loop()

        def end(worker: _Worker) -> None:
            worker.kill()
            worker.join(5.0)
            worker.conn.close()

        await asyncio.gather(*(loop.run_in_executor(None, w.stop, 5.0) for w in workers),
                             *(loop.run_in_executor(None, end, w) for w in starting),
                             return_exceptions=True)
        self._threads.shutdown(wait=False, cancel_futures=True)

    def pids(self) -> list[int]:
        """The worker processes' ids (for tests and metrics)."""
        return [w.process.pid for w in self._all]
