"""A loopback TCP proxy in front of a gRPC server (``host:port`` or ``unix:path``) that
resets its first connections after a number of bytes from the server: a stream cut in
the middle of a response, as a restarting server or a dropped network would."""

from __future__ import annotations

import asyncio
import contextlib


class CutProxy:
    """The n-th connection (n < len(budgets)) is reset after ``budgets[n]`` bytes from
    upstream; later connections pass untouched."""

    def __init__(self, *, upstream: str, budgets: list[int]) -> None:
        self.upstream = upstream
        self.budgets = list(budgets)
        self.connections = 0
        self.cuts = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing = False

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return f"127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def stop(self) -> None:
        """Stops listening and ends every connection, also one accepted while stopping
        (its handler starts after this began: it sees ``_closing`` and closes at once)."""
        assert self._server is not None
        self._closing = True
        self._server.close()
        await asyncio.sleep(0)
        while self._tasks:
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.upstream.startswith("unix:"):
            return await asyncio.open_unix_connection(self.upstream.removeprefix("unix:"))
        host, _, port = self.upstream.rpartition(":")
        return await asyncio.open_connection(host, int(port))

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)  # type: ignore[arg-type]
        index = self.connections
        self.connections += 1
        budget = self.budgets[index] if index < len(self.budgets) else None
        try:
            if self._closing:
                raise ConnectionError("stopping")
            up_reader, up_writer = await self._open()
        except (OSError, asyncio.CancelledError):
            writer.close()
            self._tasks.discard(task)  # type: ignore[arg-type]
            return
        upstream = asyncio.create_task(self._pipe(reader, up_writer))
        sent = 0
        try:
            while chunk := await up_reader.read(65536):
                if budget is not None and sent + len(chunk) >= budget:
                    writer.write(chunk[:budget - sent])
                    await writer.drain()
                    self.cuts += 1
                    writer.transport.abort()  # a reset, not a clean end
                    return
                sent += len(chunk)
                writer.write(chunk)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            upstream.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await upstream
            up_writer.close()
            writer.close()
            self._tasks.discard(task)  # type: ignore[arg-type]

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while chunk := await reader.read(65536):
                writer.write(chunk)
                await writer.drain()
