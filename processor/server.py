"""Builds and runs the processor's gRPC server."""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from concurrent.futures import Executor, ProcessPoolExecutor

from docspasta.rpc import ServiceHost, run_service
from docspasta.v1 import processor_pb2, processor_pb2_grpc
from processor.service import ProcessorService, convert_page
from processor.settings import ProcessorSettings
from processor.store import PageStore, open_store

SERVICE_NAME = processor_pb2.DESCRIPTOR.services_by_name["Processor"].full_name


def conversion_pool(workers: int) -> ProcessPoolExecutor:
    # "spawn": forking a process that runs gRPC threads is unsafe.
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
    # Start every worker now and let each import the converter and convert a tiny page
    # while the job starts, instead of on the first pages (a spawned worker takes ~0.5 s).
    for _ in range(workers):
        pool.submit(warm_up)
    return pool


def warm_up() -> None:
    """Runs in a fresh worker: imports and exercises the converter once."""
    convert_page(_WARM_UP_PAGE, "http://localhost/")
    # Long enough that each worker takes one warm-up call, short against a crawl.
    time.sleep(0.05)


_WARM_UP_PAGE = "<html><head><title>t</title></head><body><main><h1>t</h1><p>x <code>y</code></p></main></body></html>"


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
