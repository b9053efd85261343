"""A hostile web server on 127.0.0.1 (port 0), written on raw asyncio streams so it can
lie about anything: decompression bombs, endless and slow bodies, lying
Content-Length, redirect loops, huge pages, binary served as HTML, oversized headers.

Every handler stops by itself (bounded loops and deadlines) even if the client
never disconnects."""

from __future__ import annotations

import asyncio
import contextlib
import time
import zlib
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from tests.support.raw_server import DEFAULT_DEADLINE, RawServer

Writer = asyncio.StreamWriter
RawHandler = Callable[[Writer], Awaitable[None]]

# Every streaming handler gives up after this long, client or no client.
HANDLER_DEADLINE = DEFAULT_DEADLINE


def head(status: str = "200 OK", *, content_type: str = "text/html; charset=utf-8",
         extra: list[str] | tuple[str, ...] = (), length: int | None = None, chunked: bool = False) -> bytes:
    lines = [f"HTTP/1.1 {status}", f"Content-Type: {content_type}", "Connection: close", *extra]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def html_page(title: str, links: list[str] | tuple[str, ...] = (), body: str = "") -> str:
    anchors = "".join(f'<li><a href="{href}">{href}</a></li>' for href in links)
    return (f"<!doctype html><html><head><title>{title}</title></head><body><main><h1>{title}</h1>"
            f"<p>{body or 'Some documentation text about ' + title + '.'}</p><ul>{anchors}</ul></main></body></html>")


def _zeros_compressed(total: int, wbits: int) -> bytes:
    """``total`` zero bytes compressed (gzip for wbits 31, zlib for 15): ~1000:1."""
    comp = zlib.compressobj(9, zlib.DEFLATED, wbits)
    block = bytes(1 << 20)
    out = [comp.compress(block) for _ in range(total >> 20)]
    out.append(comp.flush())
    return b"".join(out)


@dataclass
class HostileSite(RawServer):
    handlers: dict[str, RawHandler] = field(default_factory=dict)
    requests: Counter[str] = field(default_factory=Counter)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    async def handle(self, reader: asyncio.StreamReader, writer: Writer) -> None:
        request = await reader.readuntil(b"\r\n\r\n")
        path = request.split(b" ", 2)[1].decode("latin-1")
        self.requests[path] += 1
        handler = self.handlers.get(path) or self.handlers.get(path.split("?", 1)[0])
        if handler is None:
            body = b"<h1>not found</h1>"
            writer.write(head("404 Not Found", length=len(body)) + body)
        else:
            await handler(writer)
        await writer.drain()

    # --- handler factories -------------------------------------------------------

    def html(self, path: str, text: str | bytes, content_type: str = "text/html; charset=utf-8") -> None:
        data = text.encode("utf-8") if isinstance(text, str) else text

        async def handler(w: Writer) -> None:
            w.write(head(content_type=content_type, length=len(data)) + data)
        self.handlers[path] = handler

    def compressed_bomb(self, path: str, *, decoded: int, encoding: str = "gzip") -> int:
        """One body of ``decoded`` zero bytes, compressed, sent at once with its
        Content-Length. Returns the compressed size."""
        data = _zeros_compressed(decoded, 31 if encoding == "gzip" else 15)

        async def handler(w: Writer) -> None:
            w.write(head(extra=[f"Content-Encoding: {encoding}"], length=len(data)) + data)
        self.handlers[path] = handler
        return len(data)

    def endless_gzip(self, path: str) -> None:
        """A chunked gzip stream of zeros that never ends (until the deadline)."""
        async def handler(w: Writer) -> None:
            w.write(head(extra=["Content-Encoding: gzip"], chunked=True))
            comp = zlib.compressobj(9, zlib.DEFLATED, 31)
            block = bytes(1 << 20)
            for _ in range(100_000):
                data = comp.compress(block) + comp.flush(zlib.Z_SYNC_FLUSH)
                w.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                await w.drain()
                await asyncio.sleep(0)  # drain() need not yield: leave the shared loop to the client
        self.handlers[path] = handler

    def endless_chunked(self, path: str) -> None:
        async def handler(w: Writer) -> None:
            w.write(head(chunked=True))
            chunk = b"<p>" + b"endless " * 8000 + b"</p>"
            for _ in range(100_000):
                w.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                await w.drain()
                await asyncio.sleep(0)
        self.handlers[path] = handler

    def lying_length(self, path: str, *, declared: int, sent: bytes, hang: bool) -> None:
        """Declares ``declared`` bytes, sends ``sent``, then closes or keeps the
        connection open (until the handler deadline)."""
        async def handler(w: Writer) -> None:
            w.write(head(length=declared) + sent)
            await w.drain()
            if hang:
                await asyncio.sleep(HANDLER_DEADLINE)
        self.handlers[path] = handler

    def slow_drip(self, path: str, *, interval: float = 0.1) -> None:
        """Headers, then one byte every ``interval`` seconds, forever (until the deadline)."""
        async def handler(w: Writer) -> None:
            w.write(head(chunked=True))
            w.write(b"6\r\n<html>\r\n")
            await w.drain()
            started = time.monotonic()
            while time.monotonic() - started < HANDLER_DEADLINE:
                await asyncio.sleep(interval)
                w.write(b"1\r\nx\r\n")
                await w.drain()
        self.handlers[path] = handler

    def redirect(self, path: str, location: str, status: str = "302 Found") -> None:
        async def handler(w: Writer) -> None:
            w.write(head(status, extra=[f"Location: {location}"], length=0))
        self.handlers[path] = handler

    def many_headers(self, path: str, count: int) -> None:
        async def handler(w: Writer) -> None:
            body = html_page("Headers").encode()
            w.write(head(extra=[f"X-Filler-{i}: {i}" for i in range(count)], length=len(body)) + body)
        self.handlers[path] = handler

    def long_header(self, path: str, size: int) -> None:
        async def handler(w: Writer) -> None:
            body = html_page("Header").encode()
            w.write(head(extra=["X-Big: " + "a" * size], length=len(body)) + body)
        self.handlers[path] = handler
