"""Issue 14, bridge cases, reproduced over raw sockets: a body split across TCP
segments, JSON nested 30,000 deep, lone surrogates, bodies that never end or are too
large, and connections that never finish their headers. Each gets a clear 4xx (or is
closed within its timeout), never a 500."""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import urlsplit

import pytest

from bridge.body import DEFAULT_MAX_BODY_BYTES
from bridge.server import LINGER_SECONDS
from tests.bridge.conftest import BridgeFactory
from tests.bridge.support import parse_raw_response, post_json_head, raw_exchange

SLOW_CLIENTS = 50
IDLE_TIMEOUT = 1.0
# On a loaded 2-core machine the close can come late; the unpatched bridge kept them for minutes.
CLOSE_SLACK = 9.0


def port_of(base: str) -> int:
    return int(urlsplit(base).port or 0)


async def post_raw(port: int, body: bytes, *pieces: bytes | float) -> tuple[int, dict[str, str]]:
    resp = parse_raw_response(await raw_exchange(port, post_json_head("/api/jobs", len(body)), *(pieces or (body,))))
    assert resp.headers["content-type"].startswith("application/json")
    return resp.status, resp.json["error"]


async def test_body_split_across_segments_is_read_whole(make_bridge: BridgeFactory) -> None:
    port = port_of(await make_bridge())
    # Valid JSON throughout; max_pages=0 is the only thing wrong, so the field named
    # proves the whole body was parsed (reading what had arrived said "body: not valid JSON").
    body = json.dumps({"url": "https://example.com/docs/", "include_patterns": ["x" * 40] * 3,
                       "max_pages": 0}).encode()
    assert len(body) > 150
    status, err = await post_raw(port, body, body[:100], 0.5, body[100:])
    assert (status, err["field"]) == (400, "max_pages"), err
    # Header and body in one segment, and the body alone one byte at a time, answer the same.
    assert (await post_raw(port, body))[0] == 400
    status, err = await post_raw(port, body, *[body[i:i + 1] for i in range(len(body))])
    assert (status, err["field"]) == (400, "max_pages"), err


async def test_deep_json_is_400(make_bridge: BridgeFactory) -> None:
    port = port_of(await make_bridge())
    for body in (b"[" * 30_000 + b"]" * 30_000, b'{"u":' * 9_000 + b"1" + b"}" * 9_000,
                 b"[" * 30_000):
        status, err = await post_raw(port, body)
        assert status == 400 and err["field"] == "body", err
        assert "nested deeper" in err["message"]
    # Brackets inside strings are text, not nesting.
    body = json.dumps({"url": "https://example.com/", "include_patterns": ["[" * 400], "max_pages": 0}).encode()
    status, err = await post_raw(port, body)
    assert (status, err["field"]) == (400, "max_pages"), err


@pytest.mark.parametrize(("raw", "field"), [
    (rb'{"url": "https://example.com/\ud800"}', "url"),
    (rb'{"url": "\udfff"}', "url"),
    (rb'{"url": "https://example.com/", "include_patterns": ["/docs/\ud800*"]}', "include_patterns"),
    (rb'{"url": "https://example.com/", "exclude_patterns": ["ok", "\udc00"]}', "exclude_patterns"),
    (rb'{"url": "https://example.com/", "allowed_domains": ["\ud83d"]}', "allowed_domains"),
    (rb'{"url": "https://example.com/", "\ud800": 1}', "body"),
    (b'{"url": "https://example.com/\xff"}', "body"),  # not UTF-8 at all
    (b'{"url": "https://example.com/", "max_pages": 1' + b"0" * 5000 + b"}", "body"),  # > int digits limit
])
async def test_bad_unicode_and_numbers_are_400(make_bridge: BridgeFactory, raw: bytes, field: str) -> None:
    port = port_of(await make_bridge())
    status, err = await post_raw(port, raw)
    assert status == 400, err
    assert err["code"] == "invalid_argument" and err["field"] == field, err


async def test_surrogate_pair_is_fine(make_bridge: BridgeFactory) -> None:
    """A valid pair (an emoji written as two escapes) is Unicode and passes."""
    port = port_of(await make_bridge())
    status, err = await post_raw(port, rb'{"url": "https://example.com/\ud83d\ude00", "max_pages": 0}')
    assert (status, err["field"]) == (400, "max_pages"), err


async def test_too_large_and_unfinished_bodies(make_bridge: BridgeFactory) -> None:
    port = port_of(await make_bridge(body_timeout=1.0))
    too_big = b'{"url": "' + b"a" * DEFAULT_MAX_BODY_BYTES + b'"}'
    status, err = await post_raw(port, too_big)
    assert status == 413 and err["code"] == "too_large"
    # Chunked, no Content-Length: counted as it arrives.
    chunk = b"a" * 16384
    head = (b"POST /api/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n")
    frames = [b"%x\r\n%s\r\n" % (len(chunk), chunk)] * 6 + [b"0\r\n\r\n"]
    resp = parse_raw_response(await raw_exchange(port, head, *frames))
    assert resp.status == 413
    # A body announced but never sent in full: 408 after the body timeout, the connection
    # closed after the server's short linger.
    started = time.monotonic()
    resp = parse_raw_response(await raw_exchange(port, post_json_head("/api/jobs", 500), b'{"url": "ht'))
    assert resp.status == 408 and resp.json["error"]["code"] == "timeout"
    assert time.monotonic() - started < 1.0 + LINGER_SECONDS + CLOSE_SLACK


async def test_slow_header_connections_are_closed(make_bridge: BridgeFactory) -> None:
    port = port_of(await make_bridge(idle_timeout=IDLE_TIMEOUT))

    async def slow_client() -> float:
        # The clock starts before the connection: the server's timer starts at its accept,
        # which on a loaded loop (the bridge runs in this one) can come well before this
        # coroutine resumes after open_connection (a clean-clone CI saw all 50 closed at
        # 0.83 s of a 1 s timeout when timed from there).
        opened = time.monotonic()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        try:
            async with asyncio.timeout(IDLE_TIMEOUT + CLOSE_SLACK + 30):
                # One more header line every 0.3 s (a slowloris never finishes).
                while True:
                    try:
                        async with asyncio.timeout(0.3):
                            if not await reader.read(1024):
                                return time.monotonic() - opened
                    except TimeoutError:
                        writer.write(b"X-Slow: 1\r\n")
        except ConnectionResetError:
            return time.monotonic() - opened
        finally:
            writer.close()

    closed_after = await asyncio.gather(*(slow_client() for _ in range(SLOW_CLIENTS)))
    print(f"\n{SLOW_CLIENTS} slow-header connections closed after {min(closed_after):.2f}-"
          f"{max(closed_after):.2f} s (idle timeout {IDLE_TIMEOUT} s)")
    assert min(closed_after) >= IDLE_TIMEOUT * 0.9
    assert max(closed_after) < IDLE_TIMEOUT + CLOSE_SLACK
    # The server still answers a well-behaved client.
    resp = parse_raw_response(await raw_exchange(
        port, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"))
    assert resp.status == 200


async def test_garbage_never_500(make_bridge: BridgeFactory) -> None:
    """Assorted hostile requests that reach the handlers: each gets a 4xx, none a 500.
    (Bytes the HTTP parser itself refuses get aiohttp's own 400 before any handler.)"""
    port = port_of(await make_bridge())
    cases = [
        post_json_head("/api/jobs", 4) + b"null",
        post_json_head("/api/jobs", 2) + b'""',
        post_json_head("/api/jobs", 3) + b"1e9",
        post_json_head("/api/jobs", 0),
        post_json_head("/api/jobs", 9) + b'{"url":1}',
        post_json_head("/api/jobs", 26) + b'{"url":"https://x/","a":{}',
        b"GET /api/jobs/%ED%A0%80/events?token=%ED%A0%80 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"GET /api/jobs/x-0123456789abcdef/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \xff\xfe\r\n"
        b"Last-Event-ID: \xed\xa0\x80\r\nConnection: close\r\n\r\n",
        b"DELETE /api/jobs/%2e%2e%2f%2e%2e HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"GET /api/jobs/x-0123456789abcdef/events?last_event_id=%00 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    ]
    for raw in cases:
        resp = parse_raw_response(await raw_exchange(port, raw))
        assert 400 <= resp.status < 500, (raw[:80], resp.status, resp.body[:200])
