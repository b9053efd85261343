"""Runs the bridge: ``python -m bridge`` (settings from the environment)."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable

from aiohttp import web

from bridge.api import BRIDGE
from bridge.app import create_app
from bridge.auth import AccessLogger
from bridge.redis_embedded import EmbeddedRedis
from bridge.settings import BridgeSettings
from docspasta import aio, logs

log = logging.getLogger(__name__)
# After answering a request whose body was not read to the end (413, 408), aiohttp keeps
# reading and discarding for this long so the client sees the answer, then closes.
LINGER_SECONDS = 2.0


async def create_server(settings: BridgeSettings) -> tuple[web.AppRunner, int]:
    """A started bridge and its bound port. Without ``settings.redis_url`` an embedded
    redis-server starts with it and stops at ``runner.cleanup()``."""
    cleanups: list[Callable[[], Awaitable[None]]] = []
    redis_url = settings.redis_url
    embedded: EmbeddedRedis | None = None
    if not redis_url:
        embedded = await EmbeddedRedis().start()
        redis_url = embedded.url
        cleanups.append(embedded.stop)
    app = create_app(settings, redis_url=redis_url, cleanups=cleanups)
    # keepalive_timeout is aiohttp's one timer for "no complete request header yet":
    # it closes a new connection that never finishes its headers (slowloris) and an
    # idle keep-alive connection alike. Bodies have their own deadline (bridge/body.py).
    runner = web.AppRunner(app, handle_signals=False, access_log_class=AccessLogger,
                           shutdown_timeout=settings.grace_seconds, handler_cancellation=True,
                           keepalive_timeout=settings.idle_timeout, lingering_time=LINGER_SECONDS)
    try:
        await runner.setup()
        site = web.TCPSite(runner, settings.host, settings.port, backlog=4096)
        await site.start()
    except BaseException:
        await runner.cleanup()
        if embedded is not None:
            await embedded.stop()
        raise
    port = int(runner.addresses[0][1])
    return runner, port


async def wait_for_signal() -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def main() -> None:
    settings = BridgeSettings.from_env()
    logs.setup("bridge", settings.log_level)
    runner, port = await create_server(settings)
    log.info("bridge listening", extra={"host": settings.host, "port": port, "instance": settings.instance_id})
    await wait_for_signal()
    log.info("shutdown requested", extra={"grace_seconds": settings.grace_seconds})
    runner.app[BRIDGE].draining = True
    # A moment for balancers polling /healthz to see 503 before connections close.
    await asyncio.sleep(min(settings.drain_seconds, settings.grace_seconds))
    await runner.cleanup()


def run() -> None:
    # uvloop, as every other service: with its C transports a fan-out pass's write per
    # client (bridge/fanout.py) is the kernel's send and almost nothing else (py-spy).
    aio.run(main())


__all__ = ["create_server", "main", "run"]
