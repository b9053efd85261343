"""Unary calls carried on one bidirectional stream: Crawler.CrawlStream and
Processor.ProcessStream (proto/docspasta/v1).

Why: with grpc.aio a unary call costs its client ~130-150 µs of CPU and its server
~160-200 µs, a message on an open stream ~45-50 µs on each side (a 3 KB answer over a
unix socket, measured with bare grpc.aio). The orchestrator makes two calls a page, so on
a site of small pages the calls are a quarter of the pipeline's CPU outside conversion.
The local stack's orchestrator therefore sends its Crawl and Process calls on one stream
per service; a deployed one keeps unary calls (each is balanced over the replicas and
retried by the channel, and a stream would pin every page to one replica).

The server side runs the service's own unary handler for each call (one handler, two
transports: the same validation, errors and limits), with a context that has what the
handlers use (``abort``, ``abort_with_status``, ``time_remaining``). The client side
raises ``grpc.aio.AioRpcError`` for a failed call as the unary call would (its code,
message and grpc-status-details-bin; an unexpected server error's message is ours, not
grpc's), retries what the channel's retry policy would retry, and keeps what a stream
changes from reaching other calls: a cancelled caller, an oversized request, the
server's connection age (``CallStream``). docs/contract.md has the rules.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from functools import partial
from typing import Any, Generic, NoReturn, Protocol, TypeVar

import grpc

from docspasta import metrics
from docspasta.metrics import REQUEST_ID_KEY

__all__ = ["DEFAULT_CLIENT_IN_FLIGHT", "DEFAULT_MAX_IN_FLIGHT", "DEFAULT_MAX_MESSAGE_BYTES", "DEFAULT_OPEN_ATTEMPTS",
           "DEFAULT_ROTATE_SECONDS", "CallStream", "StreamServer"]

DEFAULT_MAX_IN_FLIGHT = 256      # calls in flight on one stream, on the server (one more: RESOURCE_EXHAUSTED)
DEFAULT_CLIENT_IN_FLIGHT = 128   # ... and on the client (more wait): room for calls cancelled meanwhile
DEFAULT_MAX_MESSAGE_BYTES = 1 << 20  # a larger request goes as a unary call
DEFAULT_ROTATE_SECONDS = 60.0    # a stream takes new calls this long (the server's connection age: 5 min)
DEFAULT_OPEN_ATTEMPTS = 4        # a call tried on this many streams when each ends before answering it
_BACKOFF_SECONDS = 0.1        # before the second attempt, doubled after each (the channel's retry policy)
_STATUS_DETAILS_KEY = "grpc-status-details-bin"
_CODES = {code.value[0]: code for code in grpc.StatusCode}

log = logging.getLogger(__name__)

Request = TypeVar("Request")
Response = TypeVar("Response")


class _StreamRequest(Protocol):
    tag: int
    request_id: str
    cancel: bool

    @property
    def request(self) -> Any: ...


class _Aborted(Exception):
    """A handler ended its call (context.abort): the call's answer is this status."""

    def __init__(self, code: grpc.StatusCode, message: str, trailing_metadata: Any = ()) -> None:
        super().__init__(message)
        self.code, self.message = code, message
        # The google.rpc.Status with the details (BadRequest, ErrorInfo) when the handler gave one.
        self.details = next((value for key, value in trailing_metadata or ()
                             if key == _STATUS_DETAILS_KEY and isinstance(value, bytes)), b"")


class _CallContext:
    """What the unary handlers ask of their ServicerContext, for one call on a stream."""

    def __init__(self, stream_context: grpc.aio.ServicerContext[Any, Any], deadline: float | None) -> None:
        self._stream = stream_context
        self._deadline = deadline

    def time_remaining(self) -> float | None:
        if self._deadline is None:
            return self._stream.time_remaining()
        return max(0.0, self._deadline - time.monotonic())

    def invocation_metadata(self) -> Any:
        return self._stream.invocation_metadata()

    async def abort(self, code: grpc.StatusCode, details: str = "", trailing_metadata: Any = ()) -> NoReturn:
        raise _Aborted(code, details, trailing_metadata)

    async def abort_with_status(self, status: grpc.Status) -> NoReturn:
        raise _Aborted(status.code, status.details, status.trailing_metadata)


class StreamServer(Generic[Request, Response]):
    """The server side of a ``*Stream`` method: each request runs ``unary`` (the service's
    handler of the unary method) as a task of its own; answers are written as they come.
    ``drain`` (the host's drain step) answers new calls UNAVAILABLE and ends each stream
    once its calls in flight are answered."""

    def __init__(self, unary: Callable[[Any, Any], Awaitable[Any]], *, answer: Callable[..., Any],
                 service: str, method: str, max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
                 timeout_of: Callable[[Any], float] = lambda message: float(message.timeout_seconds)) -> None:
        # `service`, `method`: the labels of each call's latency (docspasta_rpc_seconds), the
        # unary method's, so a call counts the same on either transport.
        self._unary = unary
        self._answer = answer  # the response message class (tag=, response= | status=)
        self._status_type = type(answer().status)  # its CallStatus (v1 or v2)
        self._method = method
        self._latency = metrics.RpcLatency(service, method)
        self._max_in_flight = max_in_flight
        self._timeout_of = timeout_of  # a request's deadline in seconds (v1: a double, v2: a Duration)
        self._draining = False
        self._wakes: set[Callable[[], None]] = set()

    async def drain(self) -> None:
        self._draining = True
        for wake in list(self._wakes):
            wake()

    async def serve(self, requests: AsyncIterator[_StreamRequest],
                    context: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[Any]:
        loop = asyncio.get_running_loop()
        answers: asyncio.Queue[Any] = asyncio.Queue()
        calls: dict[int, asyncio.Task[None]] = {}
        read_all = False

        def wake() -> None:
            # The stream ends when nothing more can be asked (the client closed its side,
            # or the server drains) and every call is answered.
            if (read_all or self._draining) and not calls:
                answers.put_nowait(None)

        def answered(tag: int, _: asyncio.Task[None]) -> None:
            calls.pop(tag, None)
            wake()

        def read_ended(task: asyncio.Task[None]) -> None:
            if not task.cancelled() and task.exception() is not None:
                answers.put_nowait(None)  # the request stream failed: end the stream (serve raises its error)

        def refuse(tag: int, code: grpc.StatusCode, message: str) -> None:
            answers.put_nowait(self._answer(tag=tag, status=self._status(code, message)))

        async def read() -> None:
            nonlocal read_all
            async for message in requests:
                tag = message.tag
                seconds = self._timeout_of(message)
                if message.cancel:
                    task = calls.get(tag)
                    if task is not None:
                        task.cancel()
                elif self._draining:
                    refuse(tag, grpc.StatusCode.UNAVAILABLE, "the server is draining; call again")
                    wake()  # a stream opened while draining ends too (once its calls are answered)
                elif not 0 <= seconds < math.inf:
                    refuse(tag, grpc.StatusCode.INVALID_ARGUMENT, "the timeout must be 0 (none) or a positive time")
                elif tag in calls:
                    refuse(tag, grpc.StatusCode.INVALID_ARGUMENT, f"tag {tag} is already in flight on this stream")
                elif len(calls) >= self._max_in_flight:
                    refuse(tag, grpc.StatusCode.RESOURCE_EXHAUSTED,
                           f"more than {self._max_in_flight} calls in flight on one stream")
                else:
                    task = loop.create_task(self._call(message, seconds, context, answers))
                    calls[tag] = task
                    task.add_done_callback(partial(answered, tag))
            read_all = True
            wake()

        reader = loop.create_task(read())
        reader.add_done_callback(read_ended)
        self._wakes.add(wake)
        try:
            while (answer := await answers.get()) is not None:
                yield answer
            if reader.done() and not reader.cancelled() and (error := reader.exception()) is not None:
                raise error  # the request stream failed (a message that does not parse)
        finally:
            self._wakes.discard(wake)
            reader.cancel()
            for task in list(calls.values()):
                task.cancel()
            await asyncio.gather(reader, *calls.values(), return_exceptions=True)

    def _status(self, code: grpc.StatusCode, message: str, details: bytes = b"") -> Any:
        """The stream's CallStatus (v1 or v2) for a failed call; ``details``: a google.rpc.Status,
        whose bytes parse as a CallStatus (the same fields)."""
        status = self._status_type.FromString(details) if details else self._status_type()
        status.code, status.message = code.value[0], message
        return status

    async def _call(self, message: _StreamRequest, seconds: float, context: grpc.aio.ServicerContext[Any, Any],
                    answers: asyncio.Queue[Any]) -> None:
        """One call; ``seconds``: its deadline (0: none)."""
        tag = message.tag
        timeout = seconds if seconds > 0 else None
        metrics.bind_call_ids(message.request_id[:128], getattr(message.request, "job_id", ""))
        started = time.perf_counter()
        deadline = time.monotonic() + timeout if timeout is not None else None
        failed: tuple[grpc.StatusCode, str, bytes] | None = None
        response = None
        try:
            async with asyncio.timeout(timeout) as scope:
                response = await self._unary(message.request, _CallContext(context, deadline))
        except _Aborted as exc:
            failed = (exc.code, exc.message, exc.details)
        except TimeoutError:
            if scope.expired():
                failed = (grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded", b"")
            else:
                log.exception("unexpected error in %s", self._method)
                failed = (grpc.StatusCode.UNKNOWN, f"Unexpected error in {self._method}", b"")
        except asyncio.CancelledError:
            self._observe(grpc.StatusCode.CANCELLED, started)  # the caller's cancel, or the stream ended
            raise
        except Exception:
            # What grpc.aio answers a unary handler that raises (UNKNOWN), with the stack logged.
            log.exception("unexpected error in %s", self._method)
            failed = (grpc.StatusCode.UNKNOWN, f"Unexpected error in {self._method}", b"")
        try:
            answer = (self._answer(tag=tag, response=response) if failed is None
                      else self._answer(tag=tag, status=self._status(*failed)))
        except Exception:  # an answer that does not fit the message: still an answer, never a silent call
            log.exception("unexpected error in %s", self._method)
            failed = (grpc.StatusCode.UNKNOWN, f"Unexpected error in {self._method}", b"")
            answer = self._answer(tag=tag, status=self._status(*failed))
        answers.put_nowait(answer)
        self._observe(grpc.StatusCode.OK if failed is None else failed[0], started)

    def _observe(self, code: grpc.StatusCode, started: float) -> None:
        self._latency.observe(code.name, time.perf_counter() - started)


class _Open:
    """One open stream of a CallStream: the call, its writer fed by ``outbox`` (callers never
    write themselves: a write cancelled mid-send would cancel the whole call, every other
    caller's answer with it), the answers awaited by tag, its reader."""

    def __init__(self, call: Any) -> None:
        self.call = call
        self.opened = time.monotonic()
        self.outbox: asyncio.Queue[Any] = asyncio.Queue()  # messages; None: done writing
        self.waiting: dict[int, asyncio.Future[Any]] = {}
        self.ended: grpc.aio.AioRpcError | None = None
        self.tasks: list[asyncio.Task[None]] = []


class CallStream(Generic[Request, Response]):
    """The client side: ``await call(request, timeout=, metadata=)`` is the unary call,
    sent on a stream opened at the first call, and again after one ends; a stream is
    retired (its side closed, its answers still read) after ``rotate_seconds``, so no
    stream outlives the server's connection age (docspasta/rpc.py). A call whose stream
    ends, or whose answer is UNAVAILABLE (a draining server), before it is answered is sent
    again on a new stream (both methods are idempotent), as the channel's retry policy
    would retry a unary call. At most ``max_in_flight`` calls are in flight (more wait, as
    unary calls queue); a request over ``max_message_bytes`` goes as the unary call
    ``unary`` (a stream's receive limit is the whole stream's: one oversized message
    would fail every call on it, and a large write would hold up the others)."""

    def __init__(self, open_stream: Callable[..., Any], *, message: Callable[..., Any],
                 unary: Callable[..., Awaitable[Any]] | None = None,
                 max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
                 max_in_flight: int = DEFAULT_CLIENT_IN_FLIGHT,
                 rotate_seconds: float = DEFAULT_ROTATE_SECONDS,
                 open_attempts: int = DEFAULT_OPEN_ATTEMPTS) -> None:
        self._open_stream = open_stream  # e.g. stub.CrawlStream (called with no deadline)
        self._message = message          # the stream's request class (tag=, request=, ...)
        self._unary = unary              # e.g. stub.Crawl
        self._max_message_bytes = max_message_bytes
        self._slots = asyncio.Semaphore(max_in_flight)
        self._rotate_seconds = rotate_seconds
        self._attempts = open_attempts
        self._stream: _Open | None = None
        self._retired: set[_Open] = set()
        self._tags = 0
        self._closed = False

    def _current(self) -> _Open:
        if self._closed:
            raise _error(grpc.StatusCode.CANCELLED, "the client is closed")
        stream = self._stream
        if stream is not None and stream.ended is None and time.monotonic() - stream.opened > self._rotate_seconds:
            stream.outbox.put_nowait(None)  # retired: the server ends it once its calls are answered
            self._retired.add(stream)
            stream = None
        if stream is None or stream.ended is not None:
            stream = self._stream = _Open(self._open_stream())
            loop = asyncio.get_running_loop()
            stream.tasks = [loop.create_task(self._read(stream)), loop.create_task(self._write(stream))]
        return stream

    def _end(self, stream: _Open, error: grpc.aio.AioRpcError) -> None:
        """The stream is over: every call still waiting on it fails with ``_Ended``."""
        if stream.ended is None:
            stream.ended = error
        if self._stream is stream:
            self._stream = None
        self._retired.discard(stream)
        for future in stream.waiting.values():
            if not future.done():
                future.set_exception(_Ended(stream.ended))
        stream.waiting.clear()

    async def _write(self, stream: _Open) -> None:
        try:
            while (message := await stream.outbox.get()) is not None:
                if stream.ended is not None:
                    return
                if not message.cancel and message.tag not in stream.waiting:
                    continue  # its caller gave up before it was sent
                await stream.call.write(message)
            await stream.call.done_writing()
        except (grpc.aio.AioRpcError, asyncio.InvalidStateError) as exc:
            # The call is over (the reader sees how); calls waiting on it must not wait for that.
            self._end(stream, exc if isinstance(exc, grpc.aio.AioRpcError)
                      else _error(grpc.StatusCode.UNAVAILABLE, "the stream ended"))

    async def _read(self, stream: _Open) -> None:
        ended = _error(grpc.StatusCode.UNAVAILABLE, "the stream ended before the call was answered")
        try:
            async for answer in stream.call:
                if answer is None:
                    continue  # an answer that did not parse (grpc.aio yields None): its call times out
                future = stream.waiting.pop(answer.tag, None)
                if future is None or future.done():
                    continue  # a call given up on
                if answer.HasField("status"):
                    if answer.status.code == grpc.StatusCode.UNAVAILABLE.value[0]:
                        future.set_exception(_Ended(_rpc_error(answer.status)))  # draining: again elsewhere
                    else:
                        future.set_exception(_rpc_error(answer.status))
                else:
                    future.set_result(answer.response)
        except grpc.aio.AioRpcError as exc:
            ended = exc
        except asyncio.CancelledError:
            ended = _error(grpc.StatusCode.CANCELLED, "the client is closed")
            raise
        except Exception as exc:  # never leave callers waiting on a stream nobody reads
            log.exception("reading a call stream failed")
            ended = _error(grpc.StatusCode.UNAVAILABLE, f"reading the stream failed: {exc!r}")
        finally:
            self._end(stream, ended)
            for task in stream.tasks:
                if task is not asyncio.current_task():
                    task.cancel()  # its writer

    async def call(self, request: Request, *, timeout: float,
                   metadata: Iterable[tuple[str, str]] = ()) -> Response:
        if self._unary is not None and request.ByteSize() > self._max_message_bytes:  # type: ignore[attr-defined]
            response: Response = await self._unary(request, timeout=timeout, metadata=tuple(metadata))
            return response
        request_id = next((value for key, value in metadata if key == REQUEST_ID_KEY), "")
        began = time.monotonic()
        try:
            async with asyncio.timeout(timeout):
                async with self._slots:
                    for attempt in range(1, self._attempts + 1):
                        try:
                            return await self._once(request, timeout - (time.monotonic() - began), request_id)
                        except _Ended as ended:
                            error = ended.error
                            if error.code() != grpc.StatusCode.UNAVAILABLE or attempt == self._attempts:
                                raise error from None
                        await asyncio.sleep(_BACKOFF_SECONDS * 2 ** (attempt - 1))
        except TimeoutError:
            raise _error(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded") from None
        raise AssertionError("unreachable")

    async def _once(self, request: Request, timeout: float, request_id: str) -> Response:
        stream = self._current()
        self._tags += 1
        tag = self._tags
        future: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
        stream.waiting[tag] = future
        stream.outbox.put_nowait(self._message(tag=tag, request=request, timeout_seconds=max(timeout, 0.001),
                                               request_id=request_id))
        try:
            return await future
        except asyncio.CancelledError:
            if stream.ended is None and stream.waiting.pop(tag, None) is not None:
                # The caller gave up (its deadline, a cancelled job): end the call on the
                # server too, as cancelling a unary call does (a request not yet written
                # is skipped by the writer; the server ignores a cancel of a tag it lacks).
                stream.outbox.put_nowait(self._message(tag=tag, cancel=True))
            raise
        finally:
            stream.waiting.pop(tag, None)
            if future.done() and not future.cancelled():
                future.exception()  # retrieved (a stream's end may fail it as its caller leaves)

    async def close(self) -> None:
        self._closed = True
        streams = [s for s in (self._stream, *self._retired) if s is not None]
        self._stream = None
        for stream in streams:
            stream.call.cancel()
            for task in stream.tasks:
                task.cancel()
        await asyncio.gather(*(t for s in streams for t in s.tasks), return_exceptions=True)


class _Ended(Exception):
    """The stream a call was sent on ended before answering it (with ``error``)."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error if isinstance(error, grpc.aio.AioRpcError) else _error(grpc.StatusCode.UNAVAILABLE,
                                                                                   str(error))


def _rpc_error(status: Any) -> grpc.aio.AioRpcError:
    """The AioRpcError a unary call that ended with ``status`` (a CallStatus) raises."""
    trailing = grpc.aio.Metadata((_STATUS_DETAILS_KEY, status.SerializeToString())) if status.details \
        else grpc.aio.Metadata()
    return _error(_CODES.get(status.code, grpc.StatusCode.UNKNOWN), status.message, trailing)


def _error(code: grpc.StatusCode, message: str, trailing: grpc.aio.Metadata | None = None) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), trailing or grpc.aio.Metadata(), message, "")
