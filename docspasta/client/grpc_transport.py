"""The client over gRPC: the orchestrator's StartJob / GetJob / CancelJob / JobEvents,
and the processor's ListPages (where v1 keeps the page store) for pages and downloads."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import grpc

from docspasta.client.errors import CallTimeout, ClientError, InvalidRequest, JobNotFound, Unavailable
from docspasta.client import grpc_pages
from docspasta.client.models import CrawlOptions, Event, Job, Page
from docspasta.client.retry import retrying
from docspasta.errors import details_of
from docspasta.events import event_dict, job_dict
from docspasta.v1 import orchestrator_pb2 as pb
from docspasta.v1 import orchestrator_pb2_grpc, processor_pb2

_RENDER = {None: pb.RENDER_MODE_UNSPECIFIED, "auto": pb.RENDER_MODE_AUTO, "always": pb.RENDER_MODE_ALWAYS,
           "never": pb.RENDER_MODE_NEVER}
# A stream that ends without a terminal event is reconnected at most this many times in a row
# without receiving anything (a server that keeps failing is an error, not a loop).
MAX_IDLE_RECONNECTS = 5


def error_of(exc: grpc.RpcError) -> ClientError:
    """The ClientError for a failed call, with the google.rpc details it carried."""
    # grpc.aio's AioRpcError is no grpc.Call, but has the same accessors.
    code = exc.code() if hasattr(exc, "code") else grpc.StatusCode.UNKNOWN
    message = (exc.details() if hasattr(exc, "details") else "") or ""
    try:
        details = details_of(exc)
    except Exception:  # noqa: BLE001 - undecodable details: the status alone still says enough
        details = {}
    violations = [(str(f), str(d)) for f, d in details.get("violations", [])]
    kind: type[ClientError] = {grpc.StatusCode.NOT_FOUND: JobNotFound,
                               grpc.StatusCode.INVALID_ARGUMENT: InvalidRequest,
                               grpc.StatusCode.UNAVAILABLE: Unavailable,
                               grpc.StatusCode.DEADLINE_EXCEEDED: CallTimeout}.get(code, ClientError)
    return kind(code=code.name.lower(), message=message, reason=str(details.get("reason", "")),
                field=violations[0][0] if violations else "", violations=violations,
                metadata=dict(details.get("metadata") or {}), retry_after=details.get("retry_after"))


def options_message(options: CrawlOptions) -> pb.JobOptions:
    if options.render not in _RENDER:
        raise InvalidRequest(code="invalid_argument", message="render: auto, always or never", field="render")
    return pb.JobOptions(
        max_pages=options.max_pages or 0, max_depth=options.max_depth, concurrency=options.concurrency or 0,
        timeout_seconds=options.timeout_seconds or 0.0, include_patterns=list(options.include_patterns),
        exclude_patterns=list(options.exclude_patterns), allowed_domains=list(options.allowed_domains),
        use_sitemaps=options.use_sitemaps, obey_robots=options.obey_robots, render_mode=_RENDER[options.render])


def page_of(message: processor_pb2.Page) -> Page:
    return Page(url=message.url, title=message.title, markdown=message.markdown, word_count=message.word_count,
                token_estimate=message.token_estimate, description=message.description)


class GrpcTransport:
    """``target`` is the orchestrator; ``processor_target`` the processor, for pages and
    downloads (without it those calls raise ``unimplemented``)."""

    def __init__(self, *, target: str, processor_target: str = "", channel: grpc.aio.Channel | None = None,
                 processor_channel: grpc.aio.Channel | None = None) -> None:
        self._own_channel = channel is None
        self._channel = channel or grpc.aio.insecure_channel(target)
        self._stub = orchestrator_pb2_grpc.OrchestratorStub(self._channel)
        self._own_processor = processor_channel is None and bool(processor_target)
        self._processor = processor_channel or (grpc.aio.insecure_channel(processor_target) if processor_target
                                                else None)

    async def close(self) -> None:
        if self._own_channel:
            await self._channel.close(None)
        if self._own_processor and self._processor is not None:
            await self._processor.close(None)

    def _pages(self, job_id: str, call_timeout: float) -> grpc_pages.RetryingPageSource:
        if self._processor is None:
            raise ClientError(code="unimplemented", message="pages and downloads over gRPC need the processor: "
                                                            "AsyncClient(target, processor=\"host:port\")")
        return grpc_pages.page_source(self._processor, job_id, call_timeout=call_timeout)

    async def iter_pages(self, job_id: str, *, timeout: float, call_timeout: float) -> AsyncIterator[Page]:
        """The stored pages in crawl order, a ListPages batch at a time (each with
        ``call_timeout``), all within ``timeout``."""
        source = self._pages(job_id, call_timeout)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        pages = source.crawl_order()
        try:
            while True:
                try:
                    async with asyncio.timeout_at(deadline):
                        message = await anext(pages)
                except StopAsyncIteration:
                    return
                except TimeoutError:
                    raise CallTimeout(code="deadline_exceeded", message=f"pages not read within {timeout:g} s") from None
                except grpc.RpcError as exc:
                    raise error_of(exc) from None
                yield page_of(message)
        finally:
            close = getattr(pages, "aclose", None)  # an async generator: its open ListPages call ends now
            if close is not None:
                await close()

    async def download(self, job_id: str, document: str, *, url: str, timeout: float, call_timeout: float) -> bytes:
        """A download as the bridge makes it (bridge/downloads.py), from ListPages."""
        source = self._pages(job_id, call_timeout)
        try:
            async with asyncio.timeout(timeout):
                return await grpc_pages.download(source, document, url=url)
        except TimeoutError:
            raise CallTimeout(code="deadline_exceeded", message=f"{document} not read within {timeout:g} s") from None
        except grpc.RpcError as exc:
            raise error_of(exc) from None

    async def start(self, url: str, options: CrawlOptions, *, request_id: str | None, timeout: float) -> Job:
        # One id for every retry of this call: the orchestrator answers them all with one job.
        request = pb.StartJobRequest(url=url, options=options_message(options),
                                     request_id=request_id or str(uuid.uuid4()))

        async def call(remaining: float) -> Job:
            try:
                started = await self._stub.StartJob(request, timeout=remaining)
            except grpc.RpcError as exc:
                raise error_of(exc) from None
            return Job.from_json(job_dict(started.job))

        return await retrying(call, timeout=timeout)

    async def get(self, job_id: str, *, timeout: float) -> Job:
        async def call(remaining: float) -> Job:
            try:
                return Job.from_json(job_dict(await self._stub.GetJob(pb.GetJobRequest(job_id=job_id),
                                                                      timeout=remaining)))
            except grpc.RpcError as exc:
                raise error_of(exc) from None

        return await retrying(call, timeout=timeout)

    async def cancel(self, job_id: str, *, timeout: float) -> Job:
        # Cancelling twice is cancelling once (the contract): safe to retry.
        async def call(remaining: float) -> Job:
            try:
                return Job.from_json(job_dict(await self._stub.CancelJob(pb.CancelJobRequest(job_id=job_id),
                                                                         timeout=remaining)))
            except grpc.RpcError as exc:
                raise error_of(exc) from None

        return await retrying(call, timeout=timeout)

    async def events(self, job_id: str, *, after: int) -> AsyncIterator[Event]:
        """Every event after ``after``, reconnecting from the last one received when a
        stream ends early, until the terminal event."""
        last = after
        idle_reconnects = 0
        while True:
            call = self._stub.JobEvents(pb.JobEventsRequest(job_id=job_id, after_sequence=last))
            try:
                async for message in call:
                    idle_reconnects = 0
                    event = Event.from_json(event_dict(message))
                    last = event.sequence
                    yield event
                    if event.terminal:
                        call.cancel()
                        return
            except grpc.RpcError as exc:
                error = error_of(exc)
                if error.code not in ("unavailable", "internal", "unknown") or idle_reconnects >= MAX_IDLE_RECONNECTS:
                    raise error from None
                idle_reconnects += 1
                await _backoff(idle_reconnects, error.retry_after)
                continue
            finally:
                call.cancel()
            # The stream ended cleanly without a terminal event (a recycled connection): resume.
            idle_reconnects += 1
            if idle_reconnects > MAX_IDLE_RECONNECTS:
                raise Unavailable(code="unavailable", message="the event stream keeps ending without events")
            await _backoff(idle_reconnects, None)


async def _backoff(attempt: int, hint: float | None) -> None:
    await asyncio.sleep(min(hint if hint is not None else 0.1 * 2 ** attempt, 5.0))
