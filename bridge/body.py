"""Reading a request body as JSON without trusting the client: the whole body (not what
happens to have arrived), within a size limit and a deadline, nested no deeper than a
limit, valid Unicode throughout. Every failure is a ``BadBody`` with the HTTP status
and a message that names the problem; nothing here can end in a 500."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from aiohttp import web

DEFAULT_MAX_BODY_BYTES = 64 * 1024
DEFAULT_MAX_JSON_DEPTH = 16
# A JSON string (with its escapes) or one bracket: the depth scan skips brackets inside strings.
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')


class BadBody(Exception):
    def __init__(self, status: int, code: str, message: str, *, field: str = "body") -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field


async def read_body(request: web.Request, *, max_bytes: int, timeout: float) -> bytes:
    """The whole body: reads until the end of the payload (a body split over several
    TCP segments, or chunked, arrives whole), refusing more than ``max_bytes`` (413)
    and a body still incomplete after ``timeout`` seconds (408)."""
    if request.content_length is not None and request.content_length > max_bytes:
        raise BadBody(413, "too_large", f"body: larger than {max_bytes} bytes")
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout):
            while chunk := await request.content.readany():
                size += len(chunk)
                if size > max_bytes:
                    raise BadBody(413, "too_large", f"body: larger than {max_bytes} bytes")
                chunks.append(chunk)
    except TimeoutError:
        raise BadBody(408, "timeout", f"body: not received within {timeout:g} s") from None
    return b"".join(chunks)


def json_depth(raw: bytes, limit: int) -> int:
    """The deepest nesting of arrays and objects in ``raw``, counting up to
    ``limit + 1`` (a scan, so a hostile document never reaches a recursive parser)."""
    depth = deepest = 0
    for match in _TOKENS.finditer(raw):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    return deepest
        elif token in (b"]", b"}"):
            depth -= 1
    return deepest


def lone_surrogate_path(value: Any, path: str = "") -> str | None:
    """The path (``url``, ``include_patterns[2]``) of the first string holding a lone
    UTF-16 surrogate (JSON's ``"\\ud800"``), which is not Unicode text and cannot be
    encoded, logged or sent over gRPC; None when there is none."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path or "body"
        return None
    if isinstance(value, list):
        for i, item in enumerate(value):
            found = lone_surrogate_path(item, f"{path}[{i}]")
            if found:
                return found
    elif isinstance(value, dict):
        for key, item in value.items():
            found = lone_surrogate_path(key, path or "body") or lone_surrogate_path(
                item, f"{path}.{key}" if path else str(key))
            if found:
                return found
    return None


def parse_json(raw: bytes, *, max_depth: int = DEFAULT_MAX_JSON_DEPTH) -> Any:
    """``raw`` as JSON (UTF-8), or BadBody 400."""
    if not raw.strip():
        raise BadBody(400, "invalid_argument", "body: empty; send a JSON object")
    if json_depth(raw, max_depth) > max_depth:
        raise BadBody(400, "invalid_argument", f"body: JSON nested deeper than {max_depth} levels")
    try:
        value = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise BadBody(400, "invalid_argument", "body: not valid JSON (UTF-8)") from None
    where = lone_surrogate_path(value)
    if where:
        field = re.split(r"[.\[]", where, maxsplit=1)[0] or "body"
        raise BadBody(400, "invalid_argument",
                      f"{where}: contains a lone surrogate escape (\\ud800-\\udfff), which is not valid Unicode",
                      field=field)
    return value


async def read_json(request: web.Request, *, max_bytes: int = DEFAULT_MAX_BODY_BYTES, timeout: float,
                    max_depth: int = DEFAULT_MAX_JSON_DEPTH) -> Any:
    return parse_json(await read_body(request, max_bytes=max_bytes, timeout=timeout), max_depth=max_depth)
