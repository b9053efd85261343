"""gRPC plumbing shared by every service: server and channel options, the standard
health and reflection services, and graceful shutdown on SIGTERM. Error details are in
docspasta/errors.py, reflection v1 + v1alpha in docspasta/reflection.py."""

from __future__ import annotations

import asyncio
import linecache
import json
import logging
import signal
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, Protocol, TypeVar

import grpc
from grpc_health.v1 import _async as health_aio, health, health_pb2, health_pb2_grpc

from docspasta import logs, metrics, reflection
from docspasta.errors import DecodeErrorsInterceptor
from docspasta.metrics import ObservabilityInterceptor
from docspasta.service_auth import ServiceAuth, client_interceptors, server_interceptors

log = logging.getLogger(__name__)

# One limit on both sides, so a page that is too large fails that page with
# RESOURCE_EXHAUSTED instead of surprising only one end.
DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024
DEFAULT_GRACE_SECONDS = 10.0
# A drain or cleanup step that takes longer is stuck: the stop goes on without it (the
# durable jobs stay in the store for another replica), names it and raises StopIncomplete.
# Below every pod's terminationGracePeriodSeconds, so a stuck step is reported, not SIGKILLed.
DEFAULT_STEP_SECONDS = 20.0
# Clients ping every 30 s; servers allow pings every 10 s, so clients are never
# punished with GOAWAY "too_many_pings".
CLIENT_KEEPALIVE_MS = 30_000
SERVER_MIN_PING_INTERVAL_MS = 10_000
# Connections are recycled so that new replicas behind a headless Service get traffic.
SERVER_MAX_CONNECTION_AGE_MS = 5 * 60_000
SERVER_MAX_CONNECTION_AGE_GRACE_MS = 60_000


def server_options(max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES) -> list[tuple[str, Any]]:
    return [
        ("grpc.max_receive_message_length", max_message_bytes),
        ("grpc.max_send_message_length", max_message_bytes),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.min_ping_interval_without_data_ms", SERVER_MIN_PING_INTERVAL_MS),
        ("grpc.http2.max_ping_strikes", 0),
        ("grpc.max_connection_age_ms", SERVER_MAX_CONNECTION_AGE_MS),
        ("grpc.max_connection_age_grace_ms", SERVER_MAX_CONNECTION_AGE_GRACE_MS),
        ("grpc.so_reuseport", 0),
    ]


def _service_config(services: Sequence[str]) -> str:
    # Retries only for idempotent unary calls that never reached a server.
    # healthCheckConfig: round_robin watches each server's standard health service and
    # sends no new call to one that says NOT_SERVING (a draining replica).
    return json.dumps({
        "loadBalancingConfig": [{"round_robin": {}}],
        "healthCheckConfig": {"serviceName": ""},
        "methodConfig": [{
            "name": [{"service": s} for s in services],
            "retryPolicy": {
                "maxAttempts": 4,
                "initialBackoff": "0.1s",
                "maxBackoff": "2s",
                "backoffMultiplier": 2,
                "retryableStatusCodes": ["UNAVAILABLE"],
            },
        }],
    })


def channel_options(*, retry_services: Sequence[str] = (),
                    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES) -> list[tuple[str, Any]]:
    return [
        ("grpc.max_receive_message_length", max_message_bytes),
        ("grpc.max_send_message_length", max_message_bytes),
        ("grpc.keepalive_time_ms", CLIENT_KEEPALIVE_MS),
        ("grpc.keepalive_timeout_ms", 10_000),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.max_pings_without_data", 0),
        ("grpc.enable_retries", 1),
        ("grpc.service_config", _service_config(retry_services)),
    ]


def insecure_channel(target: str, *, retry_services: Sequence[str] = (),
                     max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES) -> grpc.aio.Channel:
    """A client channel; ``dns:///host:port`` targets balance round-robin over every address."""
    return grpc.aio.insecure_channel(
        target, options=channel_options(retry_services=retry_services, max_message_bytes=max_message_bytes))


def service_channel(target: str, *, auth: ServiceAuth | None, retry_services: Sequence[str] = (),
                    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES) -> grpc.aio.Channel:
    """A channel to another Docspasta service with ``auth`` (docspasta/service_auth.py):
    TLS when configured, the shared token on every call when set; plain otherwise."""
    options = channel_options(retry_services=retry_services, max_message_bytes=max_message_bytes)
    interceptors = client_interceptors(auth)
    if auth is not None and auth.tls:
        return grpc.aio.secure_channel(target, auth.channel_credentials(), options=options,
                                       interceptors=interceptors)
    return grpc.aio.insecure_channel(target, options=options, interceptors=interceptors)


class ServiceHost:
    """A grpc.aio server with health and reflection, bound to one address."""

    def __init__(self, *, service_names: Iterable[str], bind: str,
                 max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES, auth: ServiceAuth | None = None) -> None:
        self.service_names = list(service_names)
        label = self.service_names[0].rsplit(".", 1)[-1].lower() if self.service_names else "grpc"
        self.server = grpc.aio.server(options=server_options(max_message_bytes),
                                      # Outermost first: metrics see the decode refusals too.
                                      interceptors=[ObservabilityInterceptor(label), *server_interceptors(auth),
                                                    DecodeErrorsInterceptor()])
        self.health = health_aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        reflection.enable(self.server, [*self.service_names, health.SERVICE_NAME])
        if auth is not None and auth.tls_cert_file:
            self.port = self.server.add_secure_port(bind, auth.server_credentials())
        else:
            self.port = self.server.add_insecure_port(bind)
        if self.port == 0:
            raise OSError(f"cannot bind gRPC server to {bind}")
        # Async callables run at stop after health turned NOT_SERVING, before the server
        # stops (end service work, so open streams see their last message) ...
        self.on_drain: list[Callable[[], Awaitable[None]]] = []
        # ... and after in-flight calls drained (close clients, pools, stores).
        self.cleanups: list[Callable[[], Awaitable[None]]] = []

    async def start(self) -> None:
        await self.server.start()
        await self._set_all(health_pb2.HealthCheckResponse.SERVING)

    async def _set_all(self, status: int) -> None:
        for name in ["", *self.service_names]:
            await self.health.set(name, status)

    async def stop(self, grace: float = DEFAULT_GRACE_SECONDS, *,
                   step_seconds: float = DEFAULT_STEP_SECONDS) -> None:
        """Health turns NOT_SERVING first, so balancers stop sending, then in-flight
        calls get ``grace`` seconds to finish. Each drain and cleanup step gets
        ``step_seconds``; one that fails or is stuck is abandoned (the stop completes)
        and reported by StopIncomplete, with the stacks of the tasks it waited on."""
        failed: list[str] = []
        try:
            await self._set_all(health_pb2.HealthCheckResponse.NOT_SERVING)
            for drain in self.on_drain:
                await _bounded_step(drain, step_seconds, failed)
        finally:
            # The server stops even when a drain step fails: a server left running
            # outlives its event loop (grpc's Server.__del__ then fails on a closed loop).
            await self.server.stop(grace)
        # Every cleanup runs even when one before it failed: an unclosed store keeps a
        # connection thread (aiosqlite's is not a daemon) and the process never exits.
        for cleanup in reversed(self.cleanups):
            await _bounded_step(cleanup, step_seconds, failed)
        if failed:
            raise StopIncomplete("\n\n".join(failed))


class StopIncomplete(RuntimeError):
    """A stop step failed or did not finish in time (it was abandoned, the other steps
    ran); the message names each, with the stacks of the tasks a stuck one waited on."""


async def _bounded_step(step: Callable[[], Awaitable[None]], seconds: float, failed: list[str]) -> None:
    name = getattr(step, "__qualname__", repr(step))
    task = asyncio.ensure_future(step())
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if not done:
        # The stacks are taken before the cancel unwinds them: they show what it waits on.
        stacks = task_stacks()
        failed.append(f"stop step {name} did not finish in {seconds:g} s\n{stacks}")
        log.error("stop step stuck; going on without it", extra={"step": name, "tasks": stacks})
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    elif (error := task.exception()) is not None:
        failed.append(f"stop step {name} failed: {error!r}")
        log.error("stop step failed; going on without it", extra={"step": name}, exc_info=error)


async def stop_all(hosts: Iterable[ServiceHost], *, grace: float) -> None:
    """Stops each host in turn; one that stops incompletely does not keep the others
    running (their stores open). Raises StopIncomplete for them all at the end."""
    failed = []
    for host in hosts:
        try:
            await host.stop(grace)
        except StopIncomplete as e:
            failed.append(str(e))
    if failed:
        raise StopIncomplete("\n\n".join(failed))


def task_stacks() -> str:
    """Every unfinished task of the running loop with its stack: what a stuck wait is on."""
    lines = []
    for task in asyncio.all_tasks():
        if task.done():
            continue
        lines.append(f"--- {task.get_name()}")
        # Not Task.print_stack: grpc's compiled coroutines have frames without a line number.
        for frame in task.get_stack(limit=12):
            code, lineno = frame.f_code, frame.f_lineno
            source = linecache.getline(code.co_filename, lineno).strip() if lineno else ""
            lines.append(f"  {code.co_filename}:{lineno} in {code.co_name}: {source}")
    return "\n".join(lines)


class ServiceSettings(Protocol):
    @property
    def log_level(self) -> str: ...

    @property
    def metrics_port(self) -> int: ...

    @property
    def grace_seconds(self) -> float: ...


SettingsT = TypeVar("SettingsT", bound=ServiceSettings)


async def run_service(name: str, settings: SettingsT,
                      create_server: Callable[[SettingsT], Awaitable[tuple[ServiceHost, int]]]) -> None:
    """A service's ``main()``: JSON logs, the server, its metrics endpoint, then serve
    until SIGTERM and stop gracefully."""
    logs.setup(name, settings.log_level)
    host, port = await create_server(settings)
    metrics.start_metrics_server(settings.metrics_port)
    log.info(f"{name} listening", extra={"port": port})
    await serve_until_signal(host, grace=settings.grace_seconds)


async def serve_until_signal(host: ServiceHost, *, grace: float, drain_delay: float = 0.0) -> None:
    """Run until SIGTERM/SIGINT, then stop gracefully: health NOT_SERVING, a pause so
    balancers notice, then ``host.stop(grace)``."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("shutdown requested", extra={"grace_seconds": grace})
    await host._set_all(health_pb2.HealthCheckResponse.NOT_SERVING)
    if drain_delay:
        await asyncio.sleep(drain_delay)
    try:
        await host.stop(grace)
    except StopIncomplete:
        pass  # each step that failed was logged; the process ends now either way
