"""``GET /api/jobs/{id}/events``: the job's events as Server-Sent Events, read from the
Redis buffer (never from the orchestrator), resumable with ``Last-Event-ID``."""

from __future__ import annotations

import asyncio
import json
import re

from aiohttp import web
from aiohttp.http import StreamWriter
from aiohttp_sse import EventSourceResponse

from bridge.buffer import Entry
from bridge.fanout import Hub, JobFeed

_EVENT_ID = re.compile(r"^[0-9]{1,10}$")
MAX_SEQUENCE = 2**31 - 1
SEND_TIMEOUT = 30.0
# aiohttp-sse's own ping task per response, made idle: the job's feed sends one shared
# keep-alive to all its live clients instead (bridge/fanout.py, PING). A stream not live
# yet is catching up, i.e. being written to anyway.
OWN_PING_SECONDS = 10 * 365 * 86400.0


def request_transport(request: web.Request) -> asyncio.Transport | None:
    """The connection's transport while it is open. No isinstance check: uvloop's
    transports implement the interface without subclassing asyncio's classes."""
    transport = request.transport
    return None if transport is None or transport.is_closing() else transport


class BadEventId(ValueError):
    pass


def parse_last_event_id(request: web.Request) -> int:
    """The sequence to resume after: the ``Last-Event-ID`` header (set by EventSource on
    reconnect) wins over the ``last_event_id`` query parameter (a first connection).
    Both are checked: a bad one is refused even when the other would win."""
    query = _sequence(request.query.get("last_event_id"), "last_event_id")
    header = _sequence(request.headers.get("Last-Event-ID"), "Last-Event-ID")
    return header if header is not None else query or 0


def _sequence(raw: str | None, source: str) -> int | None:
    if raw is None or raw.strip() == "":
        return None
    raw = raw.strip()
    if not _EVENT_ID.match(raw) or int(raw) > MAX_SEQUENCE:
        raise BadEventId(f"{source}: must be a sequence number (0 to {MAX_SEQUENCE})")
    return int(raw)


def reset_frame(job_id: str, first: int) -> bytes:
    data = json.dumps({"type": "reset", "job_id": job_id, "first_sequence": first,
                       "message": "events before this point are no longer buffered; reload the job state"})
    return f"id: {max(first - 1, 0)}\nevent: reset\ndata: {data}\n\n".encode()


class EventStream:
    """One client's stream: catch up from Redis, then follow the shared feed."""

    def __init__(self, *, hub: Hub, job_id: str, cursor: int, retry_ms: int) -> None:
        self.hub = hub
        self.job_id = job_id
        self.cursor = cursor
        self.retry_ms = retry_ms

    async def run(self, request: web.Request) -> web.StreamResponse:
        resp = EventSourceResponse(ping_interval=OWN_PING_SECONDS, send_timeout=SEND_TIMEOUT)
        resp.headers["Cache-Control"] = "no-cache, no-transform"
        resp.headers["X-Accel-Buffering"] = "no"
        writer = await resp.prepare(request)
        # aiohttp's HTTP/1 writer: its framing (chunked or not) is what the live passes use.
        assert isinstance(writer, StreamWriter)
        self.hub.clients += 1
        try:
            async with resp:
                await self._write(resp, f"retry: {self.retry_ms}\n\n".encode())
                feed = await self.hub.acquire(self.job_id)
                try:
                    await self._stream(request, resp, writer, feed)
                finally:
                    self.hub.release(feed)
        except (ConnectionResetError, TimeoutError):
            pass
        finally:
            self.hub.clients -= 1
        return resp

    async def _write(self, resp: EventSourceResponse, data: bytes) -> None:
        async with asyncio.timeout(SEND_TIMEOUT):
            await resp.write(data)

    async def _send(self, resp: EventSourceResponse, entries: list[Entry]) -> None:
        await self._write(resp, b"".join(e.wire for e in entries))
        self.cursor = entries[-1].sequence

    async def _stream(self, request: web.Request, resp: EventSourceResponse, writer: StreamWriter,
                      feed: JobFeed) -> None:
        while True:
            if feed.terminal_sequence and self.cursor >= feed.terminal_sequence:
                return
            if self.cursor < feed.tail:
                batch = feed.since(self.cursor)
                if batch is None:
                    batch = await feed.read_after(self.cursor)
                    if not batch:  # the job's events expired
                        await self._write(resp, reset_frame(self.job_id, 0))
                        return
                    if batch[0].sequence != self.cursor + 1:
                        await self._write(resp, reset_frame(self.job_id, batch[0].sequence))
                await self._send(resp, batch)
                continue
            if feed.closed or not resp.is_connected():
                return
            transport = request_transport(request)
            if transport is None:
                return
            # Caught up: the feed writes for this client from now on (no await in between).
            # Its headers went out with the retry line, so the feed's writes are body bytes.
            live = feed.join(transport, self.cursor, chunked=writer.chunked)
            try:
                await live.done
            finally:
                feed.leave(live)
                self.cursor = live.cursor
            if live.done.result() not in ("terminal", "behind"):
                return
