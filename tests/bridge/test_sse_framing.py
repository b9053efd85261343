"""Issue 13: SSE framing is aiohttp's for both HTTP versions. An HTTP/1.0 client gets a
plain body (no chunk sizes inside it), an HTTP/1.1 client a strictly valid chunked body,
for catch-up and live events alike; both parse to the same gapless events."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import pytest
import redis.asyncio as aioredis

from bridge.auth import token_hash
from bridge.buffer import EventBuffer
from tests.bridge.conftest import BridgeFactory
from tests.bridge.support import SSEParser, dechunk
from tests.bridge.test_buffer import event

TOKEN = "test-token-for-framing-tests"


def complete_chunks(body: bytes) -> bytes:
    """The payload of the complete chunks at the start of a chunked body (lenient)."""
    out = bytearray()
    while True:
        size_line, sep, rest = body.partition(b"\r\n")
        if not sep:
            return bytes(out)
        size = int(size_line, 16)
        if size == 0 or len(rest) < size + 2:
            return bytes(out)
        out += rest[:size]
        body = rest[size + 2:]
BEFORE = 5   # buffered before the client connects (catch-up path)
LIVE = 30    # appended while it is connected (live path, written by the feed)


@pytest.mark.parametrize("version", ["1.0", "1.1"])
async def test_sse_framing_for_http_versions(redis_url: str, make_bridge: BridgeFactory, version: str) -> None:
    base = await make_bridge(keepalive_seconds=0.2)
    port = int(urlsplit(base).port or 0)
    job_id = f"framing-{version.replace('.', '')}0123456789abcdef"
    redis = aioredis.from_url(redis_url, decode_responses=True)
    buf = EventBuffer(redis, prefix="docspasta:", maxlen=1000, retention_seconds=60, job_ttl_seconds=3600)
    try:
        await buf.create_job(job_id, token_hash=token_hash(TOKEN), url="https://example.com/",
                             orchestrator="127.0.0.1:9", timeout_seconds=30)
        await buf.append(event(job_id, 1, "stream_connected"))
        for seq in range(2, BEFORE + 1):
            await buf.append(event(job_id, seq))
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        close = "" if version == "1.0" else "Connection: close\r\n"
        writer.write(f"GET /api/jobs/{job_id}/events?token={TOKEN} HTTP/{version}\r\nHost: 127.0.0.1\r\n"
                     f"{close}\r\n".encode())
        raw = bytearray()
        chunked = version == "1.1"

        def received() -> list[int]:
            body = bytes(raw).partition(b"\r\n\r\n")[2]
            payload = complete_chunks(body) if chunked else body
            return [int(e.id or 0) for e in SSEParser().feed(payload[:payload.rfind(b"\n\n") + 2])]

        async def read_until(sequence: int) -> None:
            while not (seen := received()) or seen[-1] < sequence:
                data = await reader.read(65536)
                assert data, "connection closed early"
                raw.extend(data)

        async with asyncio.timeout(60):
            await read_until(BEFORE)
            # Live: one event at a time, each after the previous one arrived.
            for seq in range(BEFORE + 1, BEFORE + LIVE + 1):
                await buf.append(event(job_id, seq))
                await read_until(seq)
            await buf.append(event(job_id, BEFORE + LIVE + 1, "job_completed"))
            raw.extend(await reader.read())  # the server ends the response and closes
        writer.close()

        head, _, body = bytes(raw).partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
        assert status_line.split(" ", 1)[0] == f"HTTP/{version}" and " 200 " in status_line + " "
        assert headers["content-type"].startswith("text/event-stream")
        if version == "1.0":
            assert "transfer-encoding" not in headers
            payload = body
        else:
            assert headers["transfer-encoding"] == "chunked"
            payload = dechunk(body)  # strict: any stray byte in the framing raises
        # CRLF is a valid SSE line end (aiohttp-sse's keep-alive pings use it); a chunk size
        # line ("fa") inside the payload is not any SSE line and fails below.
        text = payload.decode("utf-8").replace("\r\n", "\n")
        # Every block is a comment, a retry, or an event with id/event/data: nothing else.
        for block in text.split("\n\n"):
            for line in block.split("\n"):
                assert line == "" or line.startswith((":", "retry: ", "id: ", "event: ", "data: ")), repr(line)
        events = SSEParser().feed(payload)
        assert [int(e.id or 0) for e in events] == list(range(1, BEFORE + LIVE + 2))
        assert events[-1].event == "job_completed"
    finally:
        await redis.aclose()
