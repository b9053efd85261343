"""``docspasta serve``: crawler, processor and orchestrator (LocalStack, SQLite), an
embedded Redis unless REDIS_URL is set, and the bridge with the page; runs until
Ctrl-C (exit 130) or SIGTERM (exit 0), then stops in order: the HTTP side first (live
streams end), then the orchestrator, then the processes behind it. A second Ctrl-C
while stopping skips the remaining grace periods."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from dataclasses import replace

from rich.console import Console

from docspasta.cli_settings import CliSettings

EXIT_OK, EXIT_USAGE, EXIT_INTERRUPTED = 0, 2, 130
# Seconds the HTTP side gets to finish open requests on shutdown.
HTTP_GRACE_SECONDS = 2.0


def serve(args: argparse.Namespace, settings: CliSettings) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    console = Console(stderr=True)
    try:
        return asyncio.run(_serve(args, settings, console))
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


async def _serve(args: argparse.Namespace, settings: CliSettings, console: Console) -> int:
    from bridge.api import BRIDGE
    from bridge.redis_embedded import EmbeddedRedis
    from bridge.server import create_server as create_bridge
    from bridge.settings import BridgeSettings
    from docspasta.local import LocalStack
    from docspasta.settings import SettingsError

    try:
        bridge_settings = BridgeSettings.from_env()
    except SettingsError as exc:
        console.print(f"[red]error:[/] {exc}", highlight=False)
        return EXIT_USAGE
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    received: list[int] = []

    def on_signal(sig: int) -> None:
        received.append(sig)
        stop.set()

    # Handled from the start, so Ctrl-C while starting up also stops in order.
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal, sig)
    crawler = settings.crawler
    orchestrator = replace(settings.orchestrator, instance_id="local")
    if args.allow_private_network:
        crawler = replace(crawler, allow_private_network=True, allowed_ports=None)
        # Webhook receivers too: the same flag is the deployment's private-network setting.
        orchestrator = replace(orchestrator, webhooks=replace(orchestrator.webhooks, allow_private_network=True,
                                                              allowed_ports=None))
    # The crawler and the processor (with its conversion pool) in their own processes:
    # they ignore Ctrl-C and stop when this process closes the stack.
    # The stores live in the state directory: a restarted serve keeps earlier jobs and
    # their pages (until the job retention), and continues the jobs it was running.
    state = settings.state_dir / "serve"
    state.mkdir(parents=True, exist_ok=True)
    stack = LocalStack(crawler=crawler, processor=settings.processor,
                       orchestrator=orchestrator,
                       database_url=f"sqlite:///{state / 'pages.db'}", jobs_url=f"sqlite:///{state / 'jobs.db'}",
                       processes=settings.local_processes)
    # Without REDIS_URL, the bridge's Redis (event buffers, job tokens) keeps its data in
    # the state directory too, so the page finds its jobs after a restart.
    redis: EmbeddedRedis | None = None
    try:
        async with stack:
            if stop.is_set():
                return _code(received)
            if not bridge_settings.redis_url:
                redis = await EmbeddedRedis(data_dir=state / "redis").start()
                bridge_settings = replace(bridge_settings, redis_url=redis.url)
            bridge_settings = replace(bridge_settings, host=args.host, port=args.port,
                                      orchestrator_target=stack.orchestrator_target,
                                      processor_target=stack.processor_target,
                                      allow_private_network=args.allow_private_network,
                                      grace_seconds=min(bridge_settings.grace_seconds, HTTP_GRACE_SECONDS))
            try:
                runner, port = await create_bridge(bridge_settings)
            except OSError as exc:
                console.print(f"[red]error:[/] cannot listen on {args.host}:{args.port}: {exc.strerror or exc}",
                              highlight=False)
                return EXIT_USAGE
            try:
                host = f"[{args.host}]" if ":" in args.host else args.host
                print(f"Docspasta is running: open http://{host}:{port}/  (Ctrl-C to stop)", flush=True)
                await stop.wait()
                console.print("stopping...", highlight=False)
                runner.app[BRIDGE].draining = True
            finally:
                await runner.cleanup()
    finally:
        if redis is not None:
            await redis.stop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    return _code(received)


def _code(received: list[int]) -> int:
    return EXIT_INTERRUPTED if received and received[0] == signal.SIGINT else EXIT_OK
