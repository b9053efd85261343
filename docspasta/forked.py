"""A child forked from this process instead of started as a fresh interpreter: it has
every module this process imported already, so its start costs a fork, not an
interpreter's start and the imports again.

Only from a process that runs no other thread: a fork copies one thread and every lock
as it is (a lock another thread held stays held for ever in the child). gRPC starts its
threads with its first channel or server, not at import, so a process that imported it
and made neither may fork. The local stack forks its crawler and processor children
from the command before it has an event loop (docspasta/service_process.py), and the
processor child its first conversion workers (processor/pool.py).

In the child only the three standard descriptors given and ``keep`` stay open (nothing
of the parent's pipes or sockets: a pipe's EOF must mean that its owner went away), and
``run`` never returns into the parent's code: the child ends with ``os._exit``."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable

__all__ = ["ForkedChild", "fork"]


class ForkedChild:
    """What callers use of a Popen (pid, returncode, poll, wait, kill), for a forked child."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                self.returncode = -signal.SIGKILL  # reaped already; how it ended is not known
                return self.returncode
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """Its exit status; subprocess.TimeoutExpired when it runs past ``timeout``."""
        if timeout is None:
            while (code := self.poll()) is None:
                with contextlib.suppress(ChildProcessError, InterruptedError):
                    _, status = os.waitpid(self.pid, 0)
                    self.returncode = os.waitstatus_to_exitcode(status)
            return code
        deadline = time.monotonic() + timeout
        while (code := self.poll()) is None:
            if time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(f"process {self.pid}", timeout)
            time.sleep(0.01)
        return code

    def kill(self) -> None:
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)


def fork(run: Callable[[], object], *, stdin: int, stdout: int, stderr: int | None = None,
         keep: int | None = None) -> ForkedChild:
    """Forks a child that runs ``run()`` with ``stdin``, ``stdout`` and ``stderr`` (None:
    this process's) as its descriptors 0, 1 and 2 and ``keep`` open, every other
    descriptor closed; its exit status is what ``run`` returns (an int, else 0), 1 when
    it raises (its traceback on the child's stderr). RuntimeError when another thread
    runs here."""
    if threading.active_count() != 1:
        raise RuntimeError("fork needs a process without other threads")
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            stream.flush()  # or the child would write our buffered output again
    pid = os.fork()
    if pid:
        return ForkedChild(pid)
    code = 1
    try:
        for fd, target in ((stdin, 0), (stdout, 1), (stderr, 2)):
            if fd is not None and fd != target:
                os.dup2(fd, target)
        top = os.sysconf("SC_OPEN_MAX")
        if keep is None:
            os.closerange(3, top)
        else:
            os.closerange(3, keep)
            os.closerange(keep + 1, top)
        result = run()
        code = result if isinstance(result, int) else 0
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or 0
        else:  # sys.exit("message"): said on stderr, status 1, as the interpreter does
            with contextlib.suppress(Exception):
                sys.stderr.write(f"{exc.code}\n")
    except BaseException:
        with contextlib.suppress(Exception):
            traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        os._exit(code)
    raise AssertionError("unreachable")  # pragma: no cover
