"""Builds and runs the orchestrator's gRPC server."""

from __future__ import annotations

import asyncio

from docspasta import metrics
from docspasta.rpc import ServiceHost, run_service
from docspasta.v1 import orchestrator_pb2, orchestrator_pb2_grpc
from orchestrator.clients import Backends
from orchestrator.jobs import JobRegistry
from orchestrator.service import OrchestratorService
from orchestrator.settings import OrchestratorSettings

SERVICE_NAME = orchestrator_pb2.DESCRIPTOR.services_by_name["Orchestrator"].full_name


async def create_server(settings: OrchestratorSettings) -> tuple[ServiceHost, int]:
    """A started orchestrator server and its bound port. Stopping it ends running jobs
    with a job_failed event that says the orchestrator shut down."""
    backends = Backends(crawler_target=settings.crawler_target, processor_target=settings.processor_target,
                        crawl_timeout=settings.crawl_rpc_timeout, process_timeout=settings.process_rpc_timeout)
    registry = JobRegistry(settings=settings, backends=backends)
    host = ServiceHost(service_names=[SERVICE_NAME], bind=settings.bind)
    orchestrator_pb2_grpc.add_OrchestratorServicer_to_server(OrchestratorService(registry=registry), host.server)
    # Gauges read at scrape time, so they cost nothing while nobody looks.
    metrics.ACTIVE_JOBS.set_function(lambda: registry.active)
    metrics.QUEUE_DEPTH.set_function(lambda: sum(len(j.frontier) for j in registry.running()))
    metrics.IN_FLIGHT.set_function(lambda: sum(j.in_flight for j in registry.running()))
    host.on_drain.append(registry.shutdown)
    host.cleanups.append(backends.close)
    await host.start()
    return host, host.port


async def main() -> None:
    await run_service("orchestrator", OrchestratorSettings.from_env(), create_server)


def run() -> None:
    asyncio.run(main())
