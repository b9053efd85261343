"""Machine-readable gRPC errors, shared by every service.

Every refusal is a canonical status code with a ``google.rpc.Status`` in the trailing
metadata (``grpc-status-details-bin``, via grpcio-status) carrying:

- ``ErrorInfo`` always: ``reason`` (an UPPER_SNAKE_CASE constant below, stable for
  clients to switch on), ``domain`` = :data:`DOMAIN`, and ``metadata`` (e.g.
  ``last_sequence``);
- ``BadRequest`` with one field violation per bad field on ``INVALID_ARGUMENT``;
- ``RetryInfo`` on ``RESOURCE_EXHAUSTED`` and ``UNAVAILABLE`` (when to try again).

The status message stays the English sentence it always was (``"url: required"``), so
logs and people keep reading it; programs read the details. The contract is in
docs/contract.md.

Usage in a servicer::

    await errors.abort_invalid(context, "url", "required")
    await errors.abort(context, grpc.StatusCode.NOT_FOUND, f"no job {job_id!r}",
                       reason=errors.JOB_NOT_FOUND, metadata={"job_id": job_id})
"""

from __future__ import annotations

import inspect
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from typing import Any, NoReturn

import grpc
from google.protobuf import any_pb2, duration_pb2, message
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from docspasta.handler_cache import WrappedHandlers

# ErrorInfo.domain: the service that generates the error (AIP-193: a globally unique name).
DOMAIN = "docspasta.v1"

# ErrorInfo.reason values. Adding one is compatible; renaming one is breaking.
FIELD_INVALID = "FIELD_INVALID"              # INVALID_ARGUMENT, with BadRequest
MALFORMED_REQUEST = "MALFORMED_REQUEST"      # INVALID_ARGUMENT: the bytes are not the request message
JOB_NOT_FOUND = "JOB_NOT_FOUND"              # NOT_FOUND
TOO_MANY_JOBS = "TOO_MANY_JOBS"              # RESOURCE_EXHAUSTED, with RetryInfo
SHUTTING_DOWN = "SHUTTING_DOWN"              # UNAVAILABLE, with RetryInfo: another replica can serve
SEQUENCE_OUT_OF_RANGE = "SEQUENCE_OUT_OF_RANGE"  # OUT_OF_RANGE, metadata last_sequence
PAGE_TOO_LARGE = "PAGE_TOO_LARGE"            # RESOURCE_EXHAUSTED: over the message size limit

# The trailing metadata key holding the serialized google.rpc.Status.
DETAILS_METADATA_KEY = "grpc-status-details-bin"
# RetryInfo when the caller gives none: a second, well inside every client deadline.
DEFAULT_RETRY_SECONDS = 1.0
_RETRY_CODES = (grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.UNAVAILABLE)


def status(code: grpc.StatusCode, message_text: str, *, reason: str,
           metadata: Mapping[str, str] | None = None,
           violations: Iterable[tuple[str, str]] = (),
           retry_after: float | None = None, retryable: bool | None = None,
           domain: str = DOMAIN) -> status_pb2.Status:
    """The ``google.rpc.Status`` for one refusal (see the module docstring).
    ``retryable`` False: no RetryInfo even on RESOURCE_EXHAUSTED (a page that is too large
    stays too large); None: RetryInfo on RESOURCE_EXHAUSTED and UNAVAILABLE."""
    details: list[message.Message] = [error_details_pb2.ErrorInfo(
        reason=reason, domain=domain, metadata=dict(metadata or {}))]
    field_violations = [error_details_pb2.BadRequest.FieldViolation(field=f, description=d)
                        for f, d in violations]
    if field_violations:
        details.append(error_details_pb2.BadRequest(field_violations=field_violations))
    if retryable is False:
        retry_after = None
    elif retry_after is None and (retryable or code in _RETRY_CODES):
        retry_after = DEFAULT_RETRY_SECONDS
    if retry_after is not None:
        delay = duration_pb2.Duration()
        seconds = max(0.0, retry_after)
        delay.seconds = int(seconds)
        delay.nanos = int(round((seconds - math.floor(seconds)) * 1e9)) % 1_000_000_000
        details.append(error_details_pb2.RetryInfo(retry_delay=delay))
    packed = []
    for detail in details:
        wrapper = any_pb2.Any()
        wrapper.Pack(detail)
        packed.append(wrapper)
    return status_pb2.Status(code=code.value[0], message=message_text, details=packed)


def to_grpc(value: status_pb2.Status) -> grpc.Status:
    """What ``context.abort_with_status`` takes (code, message, grpc-status-details-bin)."""
    return rpc_status.to_status(value)


async def abort(context: grpc.aio.ServicerContext[Any, Any], code: grpc.StatusCode, message_text: str, *,
                reason: str, metadata: Mapping[str, str] | None = None,
                violations: Iterable[tuple[str, str]] = (), retry_after: float | None = None,
                retryable: bool | None = None, domain: str = DOMAIN) -> NoReturn:
    """End the call with ``code`` and the details above."""
    # grpc-stubs predates ServicerContext.abort_with_status (grpc.aio has it).
    await context.abort_with_status(to_grpc(status(  # type: ignore[attr-defined]
        code, message_text, reason=reason, metadata=metadata, violations=violations, retry_after=retry_after,
        retryable=retryable, domain=domain)))
    raise AssertionError("abort_with_status returned")  # pragma: no cover - it always raises


async def abort_invalid(context: grpc.aio.ServicerContext[Any, Any], field: str, description: str) -> NoReturn:
    """INVALID_ARGUMENT for one bad request field: message ``"<field>: <description>"``,
    a BadRequest field violation naming the field (a path like ``options.max_pages``)."""
    await abort(context, grpc.StatusCode.INVALID_ARGUMENT, f"{field}: {description}", reason=FIELD_INVALID,
                metadata={"field": field}, violations=[(field, description)])


def invalid_from_message(text: str) -> tuple[str, str]:
    """Split a ``"field: description"`` validation message into its parts (field ``""``
    when the message names none), for code that raises plain exceptions."""
    head, sep, tail = text.partition(": ")
    if sep and head and " " not in head:
        return head, tail
    return "", text


async def abort_invalid_message(context: grpc.aio.ServicerContext[Any, Any], text: str) -> NoReturn:
    """INVALID_ARGUMENT from a ``"field: description"`` message (the form every
    validator here raises), keeping the message as it was."""
    field, description = invalid_from_message(text)
    violations = [(field, description)] if field else []
    await abort(context, grpc.StatusCode.INVALID_ARGUMENT, text, reason=FIELD_INVALID,
                metadata={"field": field} if field else None, violations=violations)


# --- reading details (clients and tests) ------------------------------------------------------

def details_of(error: grpc.RpcError) -> dict[str, Any]:
    """The details of a failed call, unpacked: ``{"reason", "domain", "metadata",
    "violations": [(field, description)], "retry_after": seconds | None}``; empty when
    the server sent none."""
    if not isinstance(error, grpc.Call) and not hasattr(error, "trailing_metadata"):
        return {}
    value = _status_from_call(error)
    if value is None:
        return {}
    out: dict[str, Any] = {"code": value.code, "message": value.message, "violations": [], "retry_after": None}
    for detail in value.details:
        info = error_details_pb2.ErrorInfo()
        bad = error_details_pb2.BadRequest()
        retry = error_details_pb2.RetryInfo()
        if detail.Unpack(info):
            out.update(reason=info.reason, domain=info.domain, metadata=dict(info.metadata))
        elif detail.Unpack(bad):
            out["violations"] = [(v.field, v.description) for v in bad.field_violations]
        elif detail.Unpack(retry):
            out["retry_after"] = retry.retry_delay.seconds + retry.retry_delay.nanos / 1e9
    return out


def _status_from_call(error: Any) -> status_pb2.Status | None:
    for key, value in error.trailing_metadata() or ():
        if key == DETAILS_METADATA_KEY:
            parsed = status_pb2.Status.FromString(value)
            return parsed
    return None


def retry_after_of(error: grpc.RpcError) -> float | None:
    """The RetryInfo delay a server attached, in seconds, or None."""
    return details_of(error).get("retry_after")


# --- requests that are not protobuf ----------------------------------------------------------

class DecodeErrorsInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """A request that does not parse as the method's message is INVALID_ARGUMENT
    (reason MALFORMED_REQUEST), not gRPC's UNKNOWN naming a Python exception class: for
    unary-request methods the bytes are parsed here, inside the call, where the error can
    be answered properly; so are each message of a stream-stream method whose handler is an
    async generator (CrawlStream, ProcessStream, and reflection's ServerReflectionInfo: the
    stream ends with that status). Other streaming-request methods are left as they are."""

    def __init__(self) -> None:
        self._handlers = WrappedHandlers(self._wrap)

    async def intercept_service(self, continuation: Callable[[Any], Awaitable[Any]], details: Any) -> Any:
        handler = await continuation(details)
        if handler is None or handler.request_deserializer is None:
            return handler
        if handler.request_streaming and not (handler.response_streaming
                                              and inspect.isasyncgenfunction(handler.stream_stream)):
            return handler
        return self._handlers.get(handler, details.method)

    @staticmethod
    def _wrap(handler: Any, method: Any) -> Any:
        """The handler parsing its request itself (built once per method handler)."""
        parse = handler.request_deserializer

        async def decoded(raw: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            try:
                return parse(raw)
            except Exception:  # DecodeError, or anything a deserializer raises on garbage
                await abort(context, grpc.StatusCode.INVALID_ARGUMENT,
                            f"the request is not a valid {_message_name(parse)} message",
                            reason=MALFORMED_REQUEST, metadata={"method": str(method)},
                            domain=_domain_of(method))

        if handler.unary_unary is not None:
            inner_unary = handler.unary_unary

            async def unary(raw: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
                return await inner_unary(await decoded(raw, context), context)

            return handler._replace(request_deserializer=None, unary_unary=unary)
        if handler.unary_stream is not None:
            inner_stream = handler.unary_stream
            if not inspect.isasyncgenfunction(inner_stream):
                return handler  # one that writes with context.write(): left alone

            async def stream(raw: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
                request = await decoded(raw, context)
                async for item in inner_stream(request, context):
                    yield item

            return handler._replace(request_deserializer=None, unary_stream=stream)
        if handler.stream_stream is not None:
            inner_streams = handler.stream_stream

            async def streams(raws: AsyncIterator[bytes], context: grpc.aio.ServicerContext[Any, Any]) -> Any:
                async def requests() -> AsyncIterator[Any]:
                    async for raw in raws:
                        yield await decoded(raw, context)

                async for item in inner_streams(requests(), context):
                    yield item

            return handler._replace(request_deserializer=None, stream_stream=streams)
        return handler


def _domain_of(method: Any) -> str:
    """The ErrorInfo domain of a call: its contract's package ("/docspasta.v2.X/Y" ->
    "docspasta.v2"), so each API version's errors name that version."""
    path = method.decode() if isinstance(method, bytes) else str(method)
    package = path.lstrip("/").split("/", 1)[0].rsplit(".", 1)[0]
    return package if package.startswith("docspasta.v") else DOMAIN


def _message_name(parse: Callable[[bytes], Any]) -> str:
    owner = getattr(parse, "__self__", None)
    descriptor = getattr(owner, "DESCRIPTOR", None)
    return str(getattr(descriptor, "full_name", "request"))

