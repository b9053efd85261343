"""Prometheus metrics of every service, and the gRPC server interceptor that records
RPC latency and carries correlation ids (job id, request id) from call metadata into
the log context.

Each metric is made on its first use, so importing this module does not import
prometheus_client (~20-70 ms of CPU at every start, with the HTTP server modules it
brings). A process that exposes no metrics (``docspasta crawl`` and the local stack's
children: nothing scrapes them, and nothing reads another process's registry) calls
``disable()`` before any is used: its metrics are then ``Unrecorded``, and
prometheus_client is never imported."""

from __future__ import annotations

import inspect
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import grpc

from docspasta import logs
from docspasta.handler_cache import WrappedHandlers

if TYPE_CHECKING:
    from prometheus_client import Counter, Gauge, Histogram

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
_enabled = True


class Unrecorded:
    """A metric of a process that exposes none: every update is dropped."""

    def labels(self, *values: object, **named: object) -> Unrecorded:
        return self

    def inc(self, amount: float = 1) -> None:
        pass

    def dec(self, amount: float = 1) -> None:
        pass

    def set(self, value: float) -> None:
        pass

    def observe(self, value: float) -> None:
        pass

    def set_function(self, f: Callable[[], float]) -> None:
        pass

    @contextmanager
    def track_inprogress(self) -> Iterator[None]:
        yield


class _Lazy:
    """A metric made on first use: a prometheus_client one, or ``Unrecorded`` after
    ``disable()``. It then replaces itself in this module, so only the first use of
    each goes through here."""

    def __init__(self, kind: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self._kind, self._args, self._kwargs = kind, args, kwargs

    def resolve(self) -> Any:
        if not _enabled:
            return Unrecorded()
        import prometheus_client

        return getattr(prometheus_client, self._kind)(*self._args, **self._kwargs)

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return getattr(_resolve(self), attr)


def _resolve(lazy: _Lazy) -> Any:
    """Makes every metric at once (so an exposed registry has all of them from the
    first, as when they were made at import: a gauge an autoscaler reads is there at 0
    before any call) and returns ``lazy``'s."""
    module = globals()
    made = None
    for name, value in list(module.items()):
        if isinstance(value, _Lazy):
            module[name] = value.resolve()
            if value is lazy:
                made = module[name]
    if made is None:  # pragma: no cover - every _Lazy is a global of this module
        raise RuntimeError("a lazy metric outside docspasta.metrics")
    return made


def make_all() -> None:
    """Every metric made now (a process about to expose them)."""
    for value in list(globals().values()):
        if isinstance(value, _Lazy):
            _resolve(value)
            return


def _get(name: str) -> Any:
    """A metric by name, from this module's own code (a plain global would be the _Lazy)."""
    metric = globals()[name]
    return _resolve(metric) if isinstance(metric, _Lazy) else metric


def disable() -> None:
    """This process exposes no metrics: every metric not used yet records nothing (and
    prometheus_client is not imported). Call it before the services start."""
    global _enabled
    _enabled = False


def _metric(kind: str, *args: Any, **kwargs: Any) -> Any:
    return _Lazy(kind, args, kwargs)


RPC_SECONDS: Histogram = _metric("Histogram", "docspasta_rpc_seconds", "gRPC server call latency", ["service", "method", "code"],
                        buckets=_LATENCY_BUCKETS)
# What the crawler's HorizontalPodAutoscaler scales on (k8s/base/crawler.yaml).
FETCHES_IN_FLIGHT: Gauge = _metric("Gauge", "docspasta_crawler_fetches_in_flight", "Crawl calls fetching right now on this crawler")
PAGES_FETCHED: Counter = _metric("Counter", "docspasta_pages_fetched_total", "Fetches by outcome (ok or error category)", ["result"])
FETCH_SECONDS: Histogram = _metric("Histogram", "docspasta_fetch_seconds", "HTTP fetch latency", buckets=_LATENCY_BUCKETS)
PROCESS_SECONDS: Histogram = _metric("Histogram", "docspasta_process_seconds", "HTML to Markdown conversion and store latency",
                            buckets=_LATENCY_BUCKETS)
PAGES_PROCESSED: Counter = _metric("Counter", "docspasta_pages_processed_total", "Pages converted and stored")
ACTIVE_JOBS: Gauge = _metric("Gauge", "docspasta_active_jobs", "Jobs running on this orchestrator")
QUEUE_DEPTH: Gauge = _metric("Gauge", "docspasta_queue_depth", "URLs waiting in the frontiers of running jobs")
IN_FLIGHT: Gauge = _metric("Gauge", "docspasta_in_flight", "URLs between started and processed in running jobs")
SSE_CLIENTS: Gauge = _metric("Gauge", "docspasta_sse_clients", "Open Server-Sent Events streams on this bridge")
BUFFER_LAG: Histogram = _metric("Histogram", "docspasta_buffer_lag_seconds", "From an event leaving the orchestrator to its write in Redis",
                       buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5))

# Webhooks (orchestrator/webhooks/): messages by final outcome (delivered, failed =
# given up), and attempts by result (delivered, retry, gave_up).
WEBHOOK_DELIVERIES: Counter = _metric("Counter", "docspasta_webhook_deliveries_total", "Webhook messages by final outcome", ["outcome"])
WEBHOOK_ATTEMPTS: Counter = _metric("Counter", "docspasta_webhook_attempts_total", "Webhook POST attempts by result", ["result"])

REQUEST_ID_KEY = "x-request-id"
JOB_ID_KEY = "x-job-id"


def start_metrics_server(port: int, addr: str = "0.0.0.0") -> None:
    """Serves /metrics on ``port`` (0: no metrics endpoint)."""
    if port:
        from prometheus_client import start_http_server

        make_all()
        start_http_server(port, addr=addr)


class RpcLatency:
    """``docspasta_rpc_seconds`` of one method: a series per status code, looked up once
    (labels() takes a lock). Unary and streamed calls of a method both record here."""

    def __init__(self, service: str, method: str) -> None:
        self._service, self._method = service, method
        self._series: dict[str, Any] = {}

    def observe(self, code: str, seconds: float) -> None:
        child = self._series.get(code)
        if child is None:
            child = self._series[code] = _get("RPC_SECONDS").labels(self._service, self._method, code)
        child.observe(seconds)


def bind_call_ids(request_id: str, job_id: str) -> None:
    """A call's correlation ids into the log context (a fresh request id when it has none)."""
    logs.request_id_var.set(str(request_id or uuid.uuid4().hex[:16]))
    if job_id:
        logs.job_id_var.set(str(job_id)[:128])


class ObservabilityInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    def __init__(self, service: str) -> None:
        self._service = service
        self._handlers = WrappedHandlers(self._wrap)

    async def intercept_service(self, continuation: Callable[[Any], Awaitable[Any]], details: Any) -> Any:
        handler = await continuation(details)
        if handler is None:
            return handler
        return self._handlers.get(handler, details.method)

    def _wrap(self, handler: Any, full_method: Any) -> Any:
        """The handler recording its calls' latency, with the call's correlation ids
        (from its metadata) in the log context. Built once per method handler."""
        latency = RpcLatency(self._service, str(full_method).rsplit("/", 1)[-1])

        def bind(context: Any) -> None:
            request_id = job_id = ""
            for key, value in context.invocation_metadata() or ():
                if key == REQUEST_ID_KEY:
                    request_id = value
                elif key == JOB_ID_KEY:
                    job_id = value
            bind_call_ids(request_id, job_id)

        def observe(started: float, context: Any, failed: bool) -> None:
            code = context.code() if hasattr(context, "code") else None
            name = code.name if isinstance(code, grpc.StatusCode) else ("UNKNOWN" if failed else "OK")
            latency.observe(name, time.perf_counter() - started)

        if handler.unary_unary is not None:
            inner_unary = handler.unary_unary

            async def unary(request: Any, context: Any) -> Any:
                bind(context)
                started, failed = time.perf_counter(), True
                try:
                    result = await inner_unary(request, context)
                    failed = False
                    return result
                finally:
                    observe(started, context, failed)

            return handler._replace(unary_unary=unary)
        if handler.unary_stream is not None and inspect.isasyncgenfunction(handler.unary_stream):
            inner_stream = handler.unary_stream

            async def stream(request: Any, context: Any) -> AsyncIterator[Any]:
                bind(context)
                started, failed = time.perf_counter(), True
                try:
                    async for item in inner_stream(request, context):
                        yield item
                    failed = False
                finally:
                    observe(started, context, failed)

            return handler._replace(unary_stream=stream)
        return handler

# The renderer (renderer/): pages by outcome, render latency, browser pool state.
PAGES_RENDERED: Counter = _metric("Counter", "docspasta_pages_rendered_total", "Renders by outcome (ok or error category)", ["result"])
RENDER_SECONDS: Histogram = _metric("Histogram", "docspasta_render_seconds", "Render latency, document fetch included",
                           buckets=_LATENCY_BUCKETS)
RENDER_SUBREQUESTS: Counter = _metric("Counter", "docspasta_render_subrequests_total", "Requests made by rendered pages, by outcome",
                             ["result"])
RENDER_PAGES_OPEN: Gauge = _metric("Gauge", "docspasta_render_pages_open", "Pages rendering now")
RENDER_CONTEXTS: Gauge = _metric("Gauge", "docspasta_render_contexts", "Open browser contexts (one per job)")
BROWSER_LAUNCHES: Counter = _metric("Counter", "docspasta_browser_launches_total", "Chromium launches (first start, crash, recycle)")
