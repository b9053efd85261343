"""Helpers for the bridge tests: a small SSE parser over raw aiohttp responses, and
starting a bridge in-process."""

from __future__ import annotations

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
