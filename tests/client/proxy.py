"""A loopback TCP proxy that cuts event-stream connections mid-response: the network
drop a client must survive, at a byte offset the test chooses."""

from __future__ import annotations

import asyncio
import contextlib


class CuttingProxy:
    """Forwards to ``upstream``; the n-th ``/events`` connection is cut (both sides
    closed, no clean end) after ``budgets[n]`` response bytes."""

    def __init__(self, *, upstream_port: int, budgets: list[int]) -> None:
        self.upstream_port = upstream_port
        self.budgets = list(budgets)
        self.cuts = 0
        self.event_connections = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing = False

    async def start(self, port: int = 0) -> str:
        """Listens on ``port`` (0: a free one; a stopped proxy's port to stand in for it)."""
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", port)
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

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

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)  # type: ignore[arg-type]
        try:
            if self._closing:
                raise ConnectionError("stopping")
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except (OSError, asyncio.CancelledError):
            writer.close()
            self._tasks.discard(task)  # type: ignore[arg-type]
            return
        # The budget of the event request on this connection (clients reuse connections).
        state: dict[str, int | None] = {"budget": None, "sent": 0}
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
            self._tasks.discard(task)  # type: ignore[arg-type]

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    state: dict[str, int | None]) -> None:
        with contextlib.suppress(ConnectionError):
            while chunk := await reader.read(65536):
                if chunk.startswith(b"GET ") and b"/events" in chunk.split(b"\r\n", 1)[0]:
                    index = self.event_connections
                    self.event_connections += 1
                    state["budget"] = self.budgets[index] if index < len(self.budgets) else None
                    state["sent"] = 0
                writer.write(chunk)
                await writer.drain()
