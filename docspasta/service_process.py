"""One service of the local stack in a child process (``python -m docspasta.local KIND``,
or a fork of the command: ``start_forked``).

The child is started before its settings are known: it imports its server (gRPC, the
service, aiohttp or the converter: most of its start-up) while the parent imports its
own and works out the settings, then reads them from its stdin, one line, and serves.
So ``docspasta crawl`` can start its children first thing, not after its own ~0.3 s of
imports and checks (a core left idle meanwhile, on the path to the first page).

``docspasta crawl`` forks its crawler and processor (``start_forked``) once it has
imported what the three processes share (``SHARED_MODULES``: asyncio, gRPC, protobuf
and the RPC plumbing, ~100 ms of a process's start): each child then imports only its
own service, and no interpreter starts. On two cores the three processes' start-ups
compete for the CPU, so what one of them no longer does shortens the command
(docs/performance.md: ~10 % of a short crawl's wall clock). The renderer, started while
the command runs threads, and stacks started elsewhere (tests, ``docspasta mcp``) use
fresh interpreters.

After the settings, the child's stdin stays open: EOF (the parent closed the stack, or
died) stops it gracefully. A child whose stdin ends before its settings came exits at
once without serving (the command failed before it needed it).

Its stderr passes through the parent as it comes (the operator sees a child's warnings
as before), its last lines kept: a child that dies while starting is reported with how
it died and what it last said (faulthandler is on from its start, so a crash prints its
Python stack there)."""

from __future__ import annotations

import base64
import contextlib
import functools
import importlib
import os
import pickle
import signal
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Sequence
from typing import IO, Any

from docspasta.forked import ForkedChild, fork

MODULE = "docspasta.local"
KINDS = ("crawler", "processor", "renderer")
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0
# A child's stderr lines kept, to report them when the child dies starting.
STDERR_TAIL_LINES = 20
# How long the end of a child's stderr is waited for once the child has exited (a
# grandchild still holding it, a stray Chromium, must not hold the close up).
STDERR_DRAIN_SECONDS = 2.0
_SIGNALS = {int(s) for s in signal.Signals}


class ServiceDied(RuntimeError):
    """The child exited (or was killed) before it served."""

    def __init__(self, kind: str, pid: int, how: str, tail: str) -> None:
        super().__init__(f"the {kind} process {how} while starting")
        self.kind, self.pid, self.how, self.tail = kind, pid, how, tail


class ServiceProcess:
    """``python -m docspasta.local KIND``, started now; ``configure`` sends its settings,
    ``await ready()`` returns its gRPC target once it serves, ``close_stdin`` and
    ``await wait()`` end it."""

    def __init__(self, kind: str, *, _forked: bool = False) -> None:
        if kind not in KINDS:
            raise ValueError(f"no such local service: {kind!r}")
        self.kind = kind
        self._popen: subprocess.Popen[bytes] | _ForkedService
        if _forked:
            self._popen = _ForkedService(kind)
        else:
            # Not asyncio's subprocess: the CLI starts its children before it has an event loop.
            # -X faulthandler: a crash prints the child's Python stack to its stderr. -P: the
            # user's working directory is not put on sys.path (-m would put it first), so a
            # folder there named like one of our packages is not what the child imports.
            self._popen = subprocess.Popen([sys.executable, "-P", "-X", "faulthandler", "-m", MODULE, kind],
                                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._lines: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
        self._pump = threading.Thread(target=self._pass_on, name=f"{kind}-stderr", daemon=True)
        if not _forked:
            self._pump.start()  # (start_forked starts those of forked children after the last fork)

    @property
    def pid(self) -> int:
        return self._popen.pid

    @property
    def returncode(self) -> int | None:
        return self._popen.poll()

    def configure(self, settings: Any) -> None:
        """Sends the child its settings (it may still be importing: the line waits in the pipe)."""
        assert self._popen.stdin is not None
        try:
            self._popen.stdin.write(encode_settings(settings))
            self._popen.stdin.flush()
        except BrokenPipeError:
            pass  # it died while starting: ready() says how

    async def ready(self, timeout: float = READY_TIMEOUT) -> str:
        """The child's gRPC target, once it serves; ServiceDied if it dies first."""
        import asyncio

        assert self._popen.stdout is not None
        try:
            # A thread blocked on the pipe (no event loop owns this process); a child that
            # does not answer in time is killed, which ends the read. asyncio.timeout, not
            # wait_for: on 3.11 wait_for can swallow a cancellation (docspasta/aio.py).
            async with asyncio.timeout(timeout):
                line = await asyncio.to_thread(self._popen.stdout.readline)
        except TimeoutError:
            self.kill()
            raise RuntimeError(f"the {self.kind} process did not start within {timeout:g} s") from None
        word, _, target = line.decode().strip().partition(" ")
        if word == "ready" and target:
            return target
        await self._exited(None)
        code = self._popen.wait()
        how = (f"was killed by {signal.Signals(-code).name} (exit {code})" if code < 0 and -code in _SIGNALS
               else f"exited with status {code}")
        await asyncio.to_thread(self._pump.join, STDERR_DRAIN_SECONDS)
        raise ServiceDied(self.kind, self.pid, how, "\n".join(self._lines))

    def close_stdin(self) -> None:
        """Tells the child to stop gracefully (in-flight calls, store, pool), or not to start."""
        if self._popen.stdin is not None and not self._popen.stdin.closed:
            try:
                self._popen.stdin.close()
            except BrokenPipeError:
                pass

    async def wait(self, timeout: float = STOP_TIMEOUT) -> int:
        """Its exit status; killed when it has not exited within ``timeout``."""
        import asyncio

        if not await self._exited(timeout):
            self.kill()
            await self._exited(None)
        code = self._popen.wait()
        await asyncio.to_thread(self._pump.join, STDERR_DRAIN_SECONDS)
        self._close_pipes()
        return code

    async def _exited(self, timeout: float | None) -> bool:
        """Whether the child exited within ``timeout``, told by a pidfd the event loop
        watches (not Popen.wait(timeout), which polls with sleeps of up to 50 ms)."""
        import asyncio

        if self._popen.poll() is not None:
            return True
        loop = asyncio.get_running_loop()
        try:
            pidfd = os.pidfd_open(self._popen.pid)
        except (AttributeError, OSError):  # not Linux >= 5.3: a thread in a blocking wait
            waiting = asyncio.ensure_future(asyncio.to_thread(self._popen.wait))
            done, _ = await asyncio.wait({waiting}, timeout=timeout)
            return bool(done)
        exited: asyncio.Future[None] = loop.create_future()

        def readable() -> None:
            if not exited.done():
                exited.set_result(None)

        try:
            loop.add_reader(pidfd, readable)
            try:
                await asyncio.wait({exited}, timeout=timeout)
            finally:
                loop.remove_reader(pidfd)
        finally:
            os.close(pidfd)
        return exited.done()

    def kill(self) -> None:
        if self._popen.poll() is None:
            self._popen.kill()

    def abandon(self) -> None:
        """Ends a child that was never used (the command failed before): killed and reaped."""
        self.close_stdin()
        if self._popen.poll() is None:
            self._popen.kill()
            self._popen.wait()
        self._pump.join(STDERR_DRAIN_SECONDS)
        self._close_pipes()

    def _pass_on(self) -> None:
        """The pump's thread: the child's stderr on to ours until it ends (then closed here:
        only this thread reads it)."""
        assert self._popen.stderr is not None
        with self._popen.stderr as stream:
            fd = stream.fileno()
            partial = ""
            # Chunks, not lines: a line longer than any buffer must not stop the pump.
            while chunk := _read(fd):
                text = chunk.decode(errors="replace")
                try:
                    sys.stderr.write(text)
                    sys.stderr.flush()
                except (OSError, ValueError):
                    pass  # our own stderr is gone: the tail is still kept
                *complete, partial = (partial + text).split("\n")
                self._lines.extend(complete)
                partial = partial[-4096:]
            if partial:
                self._lines.append(partial)

    def _close_pipes(self) -> None:
        if self._popen.stdout is not None:
            self._popen.stdout.close()


# What the command and its crawler and processor children all import (their RPC
# plumbing pulls in asyncio, gRPC and protobuf): imported before the processor's fork, so
# that it has them (start_forked).
SHARED_MODULES = ("docspasta.aio", "docspasta.call_streams", "docspasta.errors", "docspasta.logs",
                  "docspasta.metrics", "docspasta.reflection", "docspasta.rpc", "docspasta.service_auth",
                  "docspasta.v1.common_pb2", "docspasta.v2.common_pb2", "lxml.etree")


# Children forked before SHARED_MODULES are imported: the crawler's start-up (aiohttp's
# import, ~0.12 s of CPU with its SSL context) is the longest to serving, and the
# command's own import of the shared modules (~0.09 s) leaves the second core idle. Forked
# first, the crawler imports them itself on that core; the flask-doc crawl starts its job
# ~50 ms earlier (whole crawl, 10 alternated pairs: wall 0.984, CPU 1.02).
EARLY_KINDS = frozenset({"crawler"})


def start_forked(kinds: Sequence[str]) -> list[ServiceProcess]:
    """The children of ``kinds`` (in that order) forked from this process: those of
    ``EARLY_KINDS`` first, the others once ``SHARED_MODULES`` are imported (they inherit
    them); fresh interpreters instead when another thread runs here (a fork copies one
    thread and every lock as it is: see docspasta/forked.py)."""
    if threading.active_count() != 1:
        return [ServiceProcess(kind) for kind in kinds]
    forked: dict[int, ServiceProcess] = {}
    try:
        for i, kind in enumerate(kinds):
            if kind in EARLY_KINDS:
                forked[i] = ServiceProcess(kind, _forked=True)
        for name in SHARED_MODULES:
            importlib.import_module(name)
        for i, kind in enumerate(kinds):
            if i not in forked:
                forked[i] = ServiceProcess(kind, _forked=True)
    except BaseException:
        for child in forked.values():
            child.abandon()
        raise
    children = [forked[i] for i in range(len(kinds))]
    # Only now: a thread started before the last fork would be copied half-way.
    for child in children:
        child._pump.start()
    return children


class _ForkedService(ForkedChild):
    """A service child forked from this process (``start_forked``), with its standard
    streams on pipes as a Popen's are."""

    def __init__(self, kind: str) -> None:
        fds = [*os.pipe(), *os.pipe(), *os.pipe()]  # stdin r/w, stdout r/w, stderr r/w
        try:
            child = fork(functools.partial(_serve_forked, kind), stdin=fds[0], stdout=fds[3], stderr=fds[5])
        except BaseException:
            for fd in fds:
                os.close(fd)
            raise
        for fd in (fds[0], fds[3], fds[5]):
            os.close(fd)  # the child's ends: its exit is EOF here, ours closed is EOF there
        super().__init__(child.pid)
        self.stdin: IO[bytes] | None = os.fdopen(fds[1], "wb")
        self.stdout: IO[bytes] | None = os.fdopen(fds[2], "rb")
        self.stderr: IO[bytes] | None = os.fdopen(fds[4], "rb")


def _serve_forked(kind: str) -> None:
    """The forked child: standard streams of its own on its descriptors 0-2 (this
    process's objects may hold buffers, or be None when it started without them), its
    name in ps/top, then the service (``docspasta.local``)."""
    import faulthandler

    # Ctrl-C reaches the whole process group: the command stops its children in order.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.stdin = os.fdopen(0, "r", closefd=False)
    sys.stdout = os.fdopen(1, "w", closefd=False)
    sys.stderr = os.fdopen(2, "w", buffering=1, closefd=False)
    faulthandler.enable()
    with contextlib.suppress(OSError):
        # The command's arguments stay the process's command line; its name (15 bytes at
        # most) tells the services apart in ps -o comm, top and the benchmarks.
        with open("/proc/self/comm", "w") as comm:
            comm.write(f"dp-{kind}")
    from docspasta.local import _child_main

    _child_main(kind)


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:
        return b""


def encode_settings(settings: Any) -> bytes:
    return base64.b64encode(pickle.dumps(settings)) + b"\n"


def decode_settings(line: bytes) -> Any:
    return pickle.loads(base64.b64decode(line))
