"""A raw asyncio-streams server on 127.0.0.1 port 0, the base of the test servers that
must say things aiohttp would not let them (the hostile site, the egress proxy).

It keeps a task per connection so ``stop`` can end connections a client never closes,
and bounds every connection with ``deadline``: a test server stops by itself."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Self

DEFAULT_DEADLINE = 20.0
# What a connection may end with that is the client's business, not a test failure.
_CLIENT_ENDINGS = (ConnectionError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError)


@dataclass
class RawServer:
    deadline: float = DEFAULT_DEADLINE
    server: asyncio.Server | None = None
    port: int = 0
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError

    async def start(self) -> Self:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            async with asyncio.timeout(self.deadline):
                await self.handle(reader, writer)
        except _CLIENT_ENDINGS:
            pass
        finally:
            writer.close()
            with contextlib.suppress(BaseException):
                await writer.wait_closed()
            self._tasks.discard(task)
