"""A loopback TCP proxy that resets connections mid-response after a number of bytes
from upstream: the dropped network or restarting server a client must survive, at a byte
offset the test chooses.

Budgets are spent in order, one per *counted stream*: every connection (a gRPC channel),
or, with ``per_request``, every request whose request line contains those bytes (an
HTTP client reuses connections, so the budget re-arms on each ``GET …/events``).
Streams past the last budget pass untouched."""

from __future__ import annotations

import asyncio
import contextlib


class CuttingProxy:
    def __init__(self, *, upstream: str, budgets: list[int], per_request: bytes | None = None) -> None:
        """``upstream``: ``host:port`` or ``unix:path``."""
        self.upstream = upstream
        self.budgets = list(budgets)
        self.per_request = per_request
        self.streams = 0  # counted streams so far (connections, or matching requests)
        self.cuts = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing = False

    async def start(self, port: int = 0) -> str:
        """Listens on ``port`` (0: a free one; a stopped proxy's port to stand in for it);
        returns ``127.0.0.1:PORT``."""
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", port)
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

    def _arm(self, state: dict[str, int | None]) -> None:
        index = self.streams
        self.streams += 1
        state["budget"] = self.budgets[index] if index < len(self.budgets) else None
        state["sent"] = 0

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.upstream.startswith("unix:"):
            return await asyncio.open_unix_connection(self.upstream.removeprefix("unix:"))
        host, _, port = self.upstream.rpartition(":")
        return await asyncio.open_connection(host, int(port))

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            if self._closing:
                raise ConnectionError("stopping")
            up_reader, up_writer = await self._open()
        except (OSError, asyncio.CancelledError):
            writer.close()
            self._tasks.discard(task)
            return
        state: dict[str, int | None] = {"budget": None, "sent": 0}
        if self.per_request is None:
            self._arm(state)
        try:
            upstream = asyncio.create_task(self._pipe(reader, up_writer, state))
            try:
                while chunk := await up_reader.read(65536):
                    budget, sent = state["budget"], state["sent"] or 0
                    if budget is not None and sent + len(chunk) >= budget:
                        writer.write(chunk[:budget - sent])
                        await writer.drain()
                        self.cuts += 1
                        writer.transport.abort()  # a reset, not a clean end
                        return
                    state["sent"] = sent + len(chunk)
                    writer.write(chunk)
                    await writer.drain()
            finally:
                upstream.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await upstream
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            up_writer.close()
            writer.close()
            self._tasks.discard(task)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    state: dict[str, int | None]) -> None:
        with contextlib.suppress(ConnectionError):
            while chunk := await reader.read(65536):
                if self.per_request is not None and chunk.startswith(b"GET ") \
                        and self.per_request in chunk.split(b"\r\n", 1)[0]:
                    self._arm(state)
                writer.write(chunk)
                await writer.drain()
