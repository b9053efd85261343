"""Helpers for the bridge tests: a small SSE parser over raw aiohttp responses, and
starting a bridge in-process."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp


@dataclass
class SSEEvent:
    id: str | None = None
    event: str = "message"
    data: str = ""
    retry: int | None = None

    @property
    def json(self) -> Any:
        return json.loads(self.data)


@dataclass
class SSEParser:
    """Incremental text/event-stream parser; only complete events come out."""

    buffer: str = ""
    comments: list[str] = field(default_factory=list)
    retries: list[int] = field(default_factory=list)

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        self.buffer += chunk.decode("utf-8")
        self.buffer = self.buffer.replace("\r\n", "\n")
        out = []
        while "\n\n" in self.buffer:
            block, self.buffer = self.buffer.split("\n\n", 1)
            ev = SSEEvent()
            has_data = False
            for line in block.split("\n"):
                if line.startswith(":"):
                    self.comments.append(line)
                    continue
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if name == "id":
                    ev.id = value
                elif name == "event":
                    ev.event = value
                elif name == "data":
                    ev.data = f"{ev.data}\n{value}" if has_data else value
                    has_data = True
                elif name == "retry":
                    self.retries.append(int(value))
            if has_data:
                out.append(ev)
        return out


async def sse_events(resp: aiohttp.ClientResponse) -> AsyncIterator[SSEEvent]:
    parser = SSEParser()
    async for chunk in resp.content.iter_any():
        for ev in parser.feed(chunk):
            yield ev


async def read_all(session: aiohttp.ClientSession, url: str, **kwargs: Any) -> tuple[int, list[SSEEvent]]:
    async with session.get(url, **kwargs) as resp:
        if resp.status != 200:
            return resp.status, []
        return resp.status, [ev async for ev in sse_events(resp)]


async def create_job(http: aiohttp.ClientSession, base: str, url: str, **options: Any) -> dict[str, Any]:
    async with http.post(f"{base}/api/jobs", json={"url": url, **options}) as resp:
        body = await resp.json()
        assert resp.status == 201, body
        return dict(body)


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


def dechunk(data: bytes) -> bytes:
    """The payload of a chunked body (strict: a framing error raises ValueError)."""
    out = bytearray()
    while True:
        size_line, sep, data = data.partition(b"\r\n")
        if not sep:
            raise ValueError("truncated chunk size line")
        size = int(size_line.split(b";", 1)[0], 16)
        if size == 0:
            return bytes(out)
        if data[size:size + 2] != b"\r\n":
            raise ValueError("chunk not followed by CRLF")
        out += data[:size]
        data = data[size + 2:]


def parse_raw_response(data: bytes) -> RawResponse:
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        raise ValueError(f"no complete response head in {data[:200]!r}")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = dechunk(body)
    return RawResponse(status=status, headers=headers, body=body)


async def raw_exchange(port: int, *parts: bytes | float, timeout: float = 60.0) -> bytes:
    """Sends ``parts`` over one plain TCP connection (a float is a pause in seconds
    between writes, so a request can arrive in pieces), then reads until the server
    closes the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        async with asyncio.timeout(timeout):
            for part in parts:
                if isinstance(part, float):
                    await asyncio.sleep(part)
                else:
                    writer.write(part)
                    await writer.drain()
            return await reader.read()
    finally:
        writer.close()


def post_json_head(path: str, length: int, *, version: str = "1.1") -> bytes:
    return (f"POST {path} HTTP/{version}\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {length}\r\nConnection: close\r\n\r\n").encode()


class TcpProxy:
    """A loopback TCP forwarder to ``upstream`` (host:port) that a test can cut (close
    the listener and abort every connection: the orchestrator "drops") and restore on
    the same port."""

    def __init__(self, upstream: str) -> None:
        host, _, port = upstream.rpartition(":")
        self.upstream = (host, int(port))
        self.port = 0
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self) -> TcpProxy:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}

        async def copy(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.close()

        await asyncio.gather(copy(reader, up_writer), copy(up_reader, writer))
        self._writers -= {writer, up_writer}

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def close(self) -> None:
        await self.cut()
