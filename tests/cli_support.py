"""Running ``docspasta`` as a user does: a subprocess in its own session (as a terminal
would run it), its processes found by session id, Ctrl-C sent to its process group."""

from __future__ import annotations

import asyncio
import os
import resource
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

DOCSPASTA = str(Path(sys.executable).parent / "docspasta")


@dataclass
class Ran:
    code: int
    out: str
    err: str
    cpu_seconds: float

    @property
    def both(self) -> str:
        return self.out + self.err


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def run_cli(*args: str, cwd: Path, timeout: float = 180, env: dict[str, str] | None = None) -> Ran:
    before = _children_cpu()
    proc = await asyncio.create_subprocess_exec(DOCSPASTA, *args, cwd=cwd, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE, stdin=asyncio.subprocess.DEVNULL,
                                                env={**os.environ, **(env or {})})
    out, err = await asyncio.wait_for(proc.communicate(), timeout=timeout)
    return Ran(proc.returncode or 0, out.decode(), err.decode(), _children_cpu() - before)


def session_processes(sid: int) -> list[int]:
    """Live processes (not zombies) of the session ``sid``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        state, session = fields[0], int(fields[3])
        if session == sid and state != "Z":
            found.append(int(entry))
    return found


async def start_cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        DOCSPASTA, *args, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL, start_new_session=True, env={**os.environ, **(env or {})})


def ctrl_c(proc: asyncio.subprocess.Process) -> None:
    """What a terminal does on Ctrl-C: SIGINT to the whole foreground process group."""
    os.killpg(proc.pid, signal.SIGINT)


async def interrupt_when(proc: asyncio.subprocess.Process, ready: Callable[[], bool], *,
                         wait: float = 180, exit_within: float = 120) -> tuple[int, str]:
    """Ctrl-C once ``ready()`` holds (polled); returns the exit code and stderr."""
    async with asyncio.timeout(wait):
        while not ready():
            await asyncio.sleep(0.02)
    ctrl_c(proc)
    async with asyncio.timeout(exit_within):
        _, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, err.decode()


async def wait_gone(sid: int, timeout: float = 60) -> list[int]:
    """Waits until no process of the session is left; returns those still alive."""
    async with asyncio.timeout(timeout):
        while alive := session_processes(sid):
            await asyncio.sleep(0.1)
    return alive


def kill_session(sid: int) -> None:
    for pid in session_processes(sid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
