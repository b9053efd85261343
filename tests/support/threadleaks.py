"""A pytest plugin: a run that leaves a non-daemon thread running fails, naming the test
that started it, and still ends.

Python waits for every non-daemon thread before it exits, so one such thread left behind
keeps the test process alive until CI's time limit. aiosqlite (0.22) runs each connection
in one: a store that a test (or a failure path) never closes hangs the whole run."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Generator

import pytest

# Threads that stop by themselves as the interpreter exits (concurrent.futures joins its
# workers at exit) are not leaks.
_SELF_STOPPING_MODULES = ("concurrent.futures.thread",)
# A thread still closing at the end of the run gets this long to finish.
JOIN_SECONDS = 5.0

_started_by: dict[threading.Thread, str] = {}
_leaked: list[str] = []
_exit_status: list[int] = []


def _lingering() -> list[threading.Thread]:
    return [t for t in threading.enumerate()
            if t is not threading.main_thread() and not t.daemon and t.is_alive()
            and getattr(getattr(t, "_target", None), "__module__", "") not in _SELF_STOPPING_MODULES]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, None, None]:
    before = set(threading.enumerate())
    yield
    for thread in _lingering():
        if thread not in before:
            _started_by.setdefault(thread, item.nodeid)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    deadline = time.monotonic() + JOIN_SECONDS
    for thread in _lingering():
        thread.join(max(0.0, deadline - time.monotonic()))
    for thread in _lingering():
        target = getattr(getattr(thread, "_target", None), "__qualname__", "?")
        _leaked.append(f"{thread.name} ({target}), started during {_started_by.get(thread, 'no test (a fixture?)')}")
    if _leaked:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    _exit_status.append(int(session.exitstatus))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _leaked:
        terminalreporter.section("threads left running (an unclosed store or client?)", red=True)
        for line in _leaked:
            terminalreporter.write_line(line)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    if _leaked:
        # The interpreter would wait for those threads for ever: end the process now.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_exit_status[-1] if _exit_status else int(pytest.ExitCode.TESTS_FAILED))
