"""Bridge processes for the multi-process tests: ``python -m bridge`` with env settings,
its port read from the 'bridge listening' log line."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


class BridgeProcess:
    def __init__(self, env: dict[str, str], *, root: Path = ROOT) -> None:
        self.env = env
        self.root = root  # the source tree whose bridge runs (a benchmark may pass another)
        self.proc: asyncio.subprocess.Process | None = None
        self.port = 0
        self.lines: list[str] = []
        self._drain: asyncio.Task[None] | None = None

    async def start(self, timeout: float = 90.0) -> BridgeProcess:
        env = {**os.environ, "PYTHONPATH": str(self.root), "BRIDGE_PORT": "0", **self.env}
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bridge", cwd=str(self.root), env=env,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        try:
            await self._wait_listening(timeout)
        except BaseException:
            # A bridge that did not come up in time is not left running behind the test.
            self.proc.kill()
            await self.proc.wait()
            raise
        self._drain = asyncio.create_task(self._read_rest())
        return self

    async def _wait_listening(self, timeout: float) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        async with asyncio.timeout(timeout):
            while not self.port:
                raw = await self.proc.stderr.readline()
                if not raw:
                    raise RuntimeError("bridge exited:\n" + "\n".join(self.lines[-20:]))
                line = raw.decode(errors="replace").rstrip()
                self.lines.append(line)
                record: dict[str, Any] = json.loads(line) if line.startswith("{") else {}
                if record.get("msg") == "bridge listening":
                    self.port = int(record["port"])

    async def _read_rest(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        while raw := await self.proc.stderr.readline():
            self.lines.append(raw.decode(errors="replace").rstrip())

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(15):
                    await self.proc.wait()
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        if self._drain is not None:
            await asyncio.gather(self._drain, return_exceptions=True)
