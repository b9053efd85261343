"""Builds and runs the processor's gRPC server."""

from __future__ import annotations

import contextlib

from docspasta import aio
from docspasta.rpc import ServiceHost, StopIncomplete, run_service
from docspasta.v1 import processor_pb2, processor_pb2_grpc
from docspasta.v2 import processor_pb2 as processor_v2, processor_pb2_grpc as processor_v2_grpc
from processor.pool import ConversionPool
from processor.service import ProcessorService
from processor.settings import ProcessorSettings
from processor.store import PageStore, open_store
from processor.v2.service import ProcessorServiceV2

SERVICE_NAME = processor_pb2.DESCRIPTOR.services_by_name["Processor"].full_name
# docspasta.v2 beside v1 for the deprecation period (docs/contract.md).
SERVICE_NAME_V2 = processor_v2.DESCRIPTOR.services_by_name["ProcessorService"].full_name


async def create_server(settings: ProcessorSettings, *, store: PageStore | None = None,
                        pool: ConversionPool | None = None) -> tuple[ServiceHost, int]:
    """A started processor server and its bound port."""
    own_pool = pool is None
    if pool is None:
        # Serving starts while the workers warm up: the first calls wait for one (within
        # their deadline) as they would for a busy pool.
        pool = ConversionPool(workers=settings.worker_count, limits=settings.limits).launch()
    store = store or open_store(settings.database_url)
    try:
        await store.open()
    except BaseException:
        if own_pool:
            await pool.close()
        raise
    async def cleanup() -> None:
        try:
            await store.close()
        finally:
            if own_pool:
                await pool.close()

    try:
        host = ServiceHost(service_names=[SERVICE_NAME, SERVICE_NAME_V2], bind=settings.bind,
                           max_message_bytes=settings.max_html_bytes + (1 << 20), auth=settings.auth)
    except BaseException:
        await cleanup()  # a port that cannot be bound leaves no store connection open
        raise
    v1 = ProcessorService(settings=settings, store=store, pool=pool)
    processor_pb2_grpc.add_ProcessorServicer_to_server(v1, host.server)
    v2 = ProcessorServiceV2(v1=v1)
    processor_v2_grpc.add_ProcessorServiceServicer_to_server(v2, host.server)
    # Draining: each stream's calls in flight are answered, then it ends (docspasta/call_streams.py).
    host.on_drain.extend((v1.streams.drain, v2.streams.drain))
    host.cleanups.append(cleanup)
    try:
        await host.start()
    except BaseException:
        with contextlib.suppress(StopIncomplete):
            await host.stop(grace=0)
        raise
    return host, host.port


async def main() -> None:
    await run_service("processor", ProcessorSettings.from_env(), create_server)


def run() -> None:
    aio.run(main())
