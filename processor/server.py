"""Builds and runs the processor's gRPC server."""

from __future__ import annotations

import asyncio
from concurrent.futures import Executor

from docspasta.rpc import ServiceHost, run_service
from docspasta.v1 import processor_pb2, processor_pb2_grpc
from processor.pool import conversion_pool
from processor.service import ProcessorService
from processor.settings import ProcessorSettings
from processor.store import PageStore, open_store

SERVICE_NAME = processor_pb2.DESCRIPTOR.services_by_name["Processor"].full_name


async def create_server(settings: ProcessorSettings, *, store: PageStore | None = None,
                        executor: Executor | None = None) -> tuple[ServiceHost, int]:
    """A started processor server and its bound port."""
    store = store or open_store(settings.database_url)
    await store.open()
    own_executor = executor is None
    pool = executor or conversion_pool(settings.worker_count)
    host = ServiceHost(service_names=[SERVICE_NAME], bind=settings.bind, max_message_bytes=settings.max_html_bytes + (1 << 20))
    processor_pb2_grpc.add_ProcessorServicer_to_server(
        ProcessorService(settings=settings, store=store, executor=pool), host.server)

    async def cleanup() -> None:
        await store.close()
        if own_executor:
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)

    host.cleanups.append(cleanup)
    await host.start()
    return host, host.port


async def main() -> None:
    await run_service("processor", ProcessorSettings.from_env(), create_server)


def run() -> None:
    asyncio.run(main())
