"""Builds and runs the orchestrator's gRPC server."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from docspasta import aio, metrics
from docspasta.rpc import ServiceHost, StopIncomplete, run_service
from docspasta.v1 import orchestrator_pb2, orchestrator_pb2_grpc
from docspasta.v2 import orchestrator_pb2 as orchestrator_v2, orchestrator_pb2_grpc as orchestrator_v2_grpc
from orchestrator.clients import Backends
from orchestrator.jobs import JobRegistry
from orchestrator.service import OrchestratorService
from orchestrator.settings import OrchestratorSettings
from orchestrator.store import JobStore, open_job_store
from orchestrator.v2.service import OrchestratorServiceV2
from orchestrator.webhooks.dispatcher import Dispatcher

SERVICE_NAME = orchestrator_pb2.DESCRIPTOR.services_by_name["Orchestrator"].full_name
# docspasta.v2 beside v1 for the deprecation period (docs/contract.md).
SERVICE_NAME_V2 = orchestrator_v2.DESCRIPTOR.services_by_name["OrchestratorService"].full_name


@dataclass(frozen=True, slots=True)
class Orchestrator:
    host: ServiceHost
    port: int
    # The replica's jobs: an in-process client (the CLI) follows their events here.
    registry: JobRegistry


async def create_server(settings: OrchestratorSettings, *, store: JobStore | None = None,
                        start_renderer: Callable[[], Awaitable[str]] | None = None) -> tuple[ServiceHost, int]:
    """A started orchestrator server and its bound port (see ``start``)."""
    started = await start(settings, store=store, start_renderer=start_renderer)
    return started.host, started.port


async def start(settings: OrchestratorSettings, *, store: JobStore | None = None,
                start_renderer: Callable[[], Awaitable[str]] | None = None) -> Orchestrator:
    """A started orchestrator server, its bound port and its job registry, on the job store that
    ``settings.database_url`` names (or ``store``, already open, which the caller
    closes). ``start_renderer`` starts a renderer on first need and returns its target
    (the local stack; deployed, ``settings.renderer_target`` names one). Stopping it commits and releases its running jobs; they stay RUNNING in
    the store and another replica (or this one restarted) continues them."""
    own_store = store is None
    if store is None:
        store = open_job_store(settings.database_url)
        await store.open()
    backends = Backends(crawler_target=settings.crawler_target, processor_target=settings.processor_target,
                        crawl_timeout=settings.crawl_rpc_timeout, process_timeout=settings.process_rpc_timeout,
                        renderer_target=settings.renderer_target, render_timeout=settings.render_rpc_timeout,
                        start_renderer=start_renderer, auth=settings.auth, call_streams=settings.call_streams)
    registry = JobRegistry(settings=settings, backends=backends, store=store)
    try:
        host = ServiceHost(service_names=[SERVICE_NAME, SERVICE_NAME_V2], bind=settings.bind, auth=settings.auth)
    except BaseException:
        if own_store:
            await store.close()
        raise
    v1 = OrchestratorService(registry=registry)
    orchestrator_pb2_grpc.add_OrchestratorServicer_to_server(v1, host.server)
    orchestrator_v2_grpc.add_OrchestratorServiceServicer_to_server(OrchestratorServiceV2(v1=v1, registry=registry),
                                                                   host.server)
    # Gauges read at scrape time, so they cost nothing while nobody looks.
    metrics.ACTIVE_JOBS.set_function(lambda: registry.active)
    metrics.QUEUE_DEPTH.set_function(lambda: sum(len(j.frontier) for j in registry.running()))
    metrics.IN_FLIGHT.set_function(lambda: sum(j.in_flight for j in registry.running()))
    # Webhook delivery beside the jobs, from the store's outbox (any replica delivers any job's).
    dispatcher = Dispatcher(store=store, settings=settings.webhooks, owner=registry.owner)
    host.on_drain.append(registry.shutdown)
    host.on_drain.append(dispatcher.stop)
    host.cleanups.append(backends.close)
    if own_store:
        host.cleanups.insert(0, store.close)  # cleanups run in reverse: the store closes last
    try:
        await host.start()
        await registry.start()
    except BaseException:
        # Nothing is left open by a failed start: not the server, not the store.
        with contextlib.suppress(StopIncomplete):
            await host.stop(grace=0)
        raise
    dispatcher.start()
    return Orchestrator(host, host.port, registry)


async def main() -> None:
    await run_service("orchestrator", OrchestratorSettings.from_env(), create_server)


def run() -> None:
    aio.run(main())
