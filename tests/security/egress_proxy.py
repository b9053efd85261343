"""A Smokescreen-style egress proxy on 127.0.0.1 (port 0) for the crawler's
CRAWLER_PROXY tests: it resolves the target names itself (from a fixed table, so no
test needs DNS), refuses names mapped to nothing and whole ports with 407 and an
``X-Smokescreen-Error`` header, as Smokescreen does, and forwards the rest
(absolute-form GET for http targets; CONNECT tunnels for https). Every request it
sees is recorded."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from tests.support.raw_server import RawServer


@dataclass
class EgressProxy(RawServer):
    # name -> (address, port) the proxy connects to; anything else is refused
    routes: dict[str, tuple[str, int]] = field(default_factory=dict)
    seen: list[str] = field(default_factory=list)  # "GET http://..." / "CONNECT host:port"
    refused: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _refuse(self, writer: asyncio.StreamWriter, target: str) -> None:
        self.refused.append(target)
        body = b"egress denied"
        writer.write(b"HTTP/1.1 407 Request Rejected by Proxy\r\nX-Smokescreen-Error: Egress proxy denied "
                     + target.encode() + b": not an allowed destination\r\nContent-Length: "
                     + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
        await writer.drain()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        try:
            method, target, _ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
        except ValueError:  # not a request line: the client's problem, not the test's
            return
        self.seen.append(f"{method} {target}")
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
            route = self.routes.get(f"{host}:{port}")
            if route is None:
                await self._refuse(writer, target)
                return
            up_reader, up_writer = await asyncio.open_connection(*route)
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await self._pipe(reader, writer, up_reader, up_writer)
            return
        parts = urlsplit(target)
        route = self.routes.get(f"{parts.hostname}:{parts.port or 80}")
        if route is None:
            await self._refuse(writer, parts.netloc)
            return
        up_reader, up_writer = await asyncio.open_connection(*route)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        lines = head.decode("latin-1").split("\r\n")[1:]
        headers = [ln for ln in lines if ln and not ln.lower().startswith(("connection:", "proxy-"))]
        up_writer.write((f"{method} {path} HTTP/1.1\r\n" + "\r\n".join([*headers, "Connection: close"])
                         + "\r\n\r\n").encode("latin-1"))
        await up_writer.drain()
        while data := await up_reader.read(65536):
            writer.write(data)
            await writer.drain()
        up_writer.close()

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    up_reader: asyncio.StreamReader, up_writer: asyncio.StreamWriter) -> None:
        async def copy(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()
        await asyncio.gather(copy(reader, up_writer), copy(up_reader, writer))
