"""JSON error bodies: ``{"error": {"code", "message"[, "field"]}}``, and the mapping
of gRPC status codes to HTTP."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

import grpc
from aiohttp import web

from docspasta.errors import retry_after_of

# "max_pages: ...", "options.max_pages: ...", "webhook.url: ..." -> the request field.
_FIELD = re.compile(r"^(?:options\.)?([a-z_]+(?:\.[a-z_]+)*):")


def error_response(status: int, code: str, message: str, *, field: str | None = None,
                   headers: Mapping[str, str] | None = None) -> web.Response:
    error: dict[str, str] = {"code": code, "message": message}
    if field:
        error["field"] = field
    return web.json_response({"error": error}, status=status, headers=headers)


def not_found() -> web.Response:
    """The one answer for a job that does not exist and a job the caller may not see."""
    return error_response(404, "not_found", "no such job")


def retry_after(exc: grpc.aio.AioRpcError, default: int) -> str:
    """Retry-After in whole seconds: the server's RetryInfo when it sent one."""
    try:
        delay = retry_after_of(exc)
    except Exception:  # noqa: BLE001 - undecodable details: use the default
        delay = None
    return str(max(1, math.ceil(delay)) if delay is not None else default)


def grpc_error(exc: grpc.aio.AioRpcError) -> web.Response:
    code, details = exc.code(), exc.details() or ""
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        match = _FIELD.match(details)
        return error_response(400, "invalid_argument", details, field=match.group(1) if match else None)
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        return error_response(503, "busy", details or "too many jobs are running; try again later",
                              headers={"Retry-After": retry_after(exc, 10)})
    if code == grpc.StatusCode.NOT_FOUND:
        return not_found()
    if code == grpc.StatusCode.UNAVAILABLE:
        return error_response(503, "unavailable", "a backend service is unavailable; try again",
                              headers={"Retry-After": retry_after(exc, 2)})
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return error_response(504, "timeout", "a backend service did not answer in time")
    return error_response(502, "backend_error", f"backend error: {code.name.lower()}")
