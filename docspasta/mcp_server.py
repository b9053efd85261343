"""``docspasta mcp``: a Model Context Protocol server over stdio (the official ``mcp``
SDK), so an LLM tool can crawl a documentation site and read it in pieces that fit its
context. The tools are docspasta/mcp_tools.py (shared with the bridge's HTTP endpoint
``/mcp``); here they go through docspasta.client: against a remote bridge
(``--server URL --api-key KEY``) or, by default, against a local stack started here
(crawler, processor, orchestrator, an embedded Redis and a bridge on loopback, stores in
a temporary directory). stdout belongs to the protocol: logs go to stderr."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import tempfile
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from docspasta.cli_settings import CliSettings
from docspasta.client import AsyncClient, ClientError
from docspasta.mcp_tools import Caller, build_server

log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def local_bridge(settings: CliSettings, *, allow_private_network: bool) -> AsyncIterator[str]:
    """The whole system on loopback, for this server only; yields the bridge's URL."""
    from bridge.redis_embedded import EmbeddedRedis
    from bridge.server import create_server as create_bridge
    from docspasta.local import LocalStack

    crawler = settings.crawler
    if allow_private_network:
        crawler = replace(crawler, allow_private_network=True, allowed_ports=None)
    with tempfile.TemporaryDirectory(prefix="docspasta-mcp-") as state:
        stack = LocalStack(crawler=crawler, processor=settings.processor,
                           orchestrator=replace(settings.orchestrator, instance_id="mcp"),
                           database_url=f"sqlite:///{Path(state) / 'pages.db'}",
                           processes=settings.local_processes)
        async with stack, EmbeddedRedis(data_dir=Path(state) / "redis") as redis:
            runner, port = await create_bridge(_bridge_settings(redis.url, stack, allow_private_network))
            try:
                yield f"http://127.0.0.1:{port}"
            finally:
                await runner.cleanup()


def _bridge_settings(redis_url: str, stack: Any, allow_private_network: bool) -> Any:
    from bridge.settings import BridgeSettings

    return BridgeSettings(host="127.0.0.1", port=0, redis_url=redis_url,
                          orchestrator_target=stack.orchestrator_target, processor_target=stack.processor_target,
                          allow_private_network=allow_private_network)


async def _run(args: argparse.Namespace, settings: CliSettings) -> int:
    async with contextlib.AsyncExitStack() as stack:
        if args.server:
            base = args.server
        else:
            base = await stack.enter_async_context(local_bridge(
                settings, allow_private_network=args.allow_private_network))
        client = await stack.enter_async_context(AsyncClient(base, api_key=args.api_key or ""))
        caller = Caller(client)
        await build_server(lambda ctx: caller).run_stdio_async()
    return 0


def run(args: argparse.Namespace, settings: CliSettings) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return asyncio.run(_run(args, settings))
    except KeyboardInterrupt:
        return 130
    except ClientError as exc:
        log.error("%s", exc)
        return 1
