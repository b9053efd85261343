"""Builds the bridge's aiohttp Application."""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from aiohttp import web
from multidict import CIMultiDict

from bridge import openapi
from bridge.api import BRIDGE, Bridge, add_routes
from bridge.auth import Handler, RateLimiter, api_key_middleware, cors_middleware
from bridge.buffer import EventBuffer
from bridge.clients import Clients
from bridge.errors import error_response
from bridge.fanout import Hub
from bridge.idempotency import Idempotency
from bridge.pump import Pumps
from bridge.settings import BridgeSettings
from docspasta import metrics

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
REDIS_COMMAND_CONNECTIONS = 64
REDIS_FEED_CONNECTIONS = 10_000
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """JSON errors for the API, security headers everywhere."""
    try:
        resp = await handler(request)
    except web.HTTPException as exc:
        if not request.path.startswith("/api/") or exc.status < 400:
            raise
        code = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(exc.status, "http_error")
        # The exception's own headers (Allow on a 405, CORS) stay; the body becomes JSON.
        kept = CIMultiDict((k, v) for k, v in exc.headers.items() if k.lower() not in ("content-type", "content-length"))
        resp = error_response(exc.status, code, exc.reason, headers=kept)
    except Exception:
        log.exception("request failed", extra={"path": request.path})
        resp = error_response(500, "internal", "internal error")
    if not resp.prepared:
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "no-referrer")
    return resp


async def index(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "index.html", headers={
        "Cache-Control": "no-cache", "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": CSP, "X-Frame-Options": "DENY"})


async def _mcp_missing(request: web.Request | None) -> web.StreamResponse:
    return error_response(501, "unimplemented", "this bridge was installed without the MCP SDK "
                                                "(pip install 'docspasta[mcp]'); /mcp is not served")


class _LazyMcp:
    """``/mcp`` (bridge/mcp_http.py), loaded at its first request: the MCP SDK's imports
    cost ~35 MiB, which a bridge that never serves MCP should not carry. Imported in a
    thread, so streams on the loop go on meanwhile. Without the SDK (it is an extra,
    not a runtime dependency of the bridge): a clear 501."""

    def __init__(self, settings: BridgeSettings) -> None:
        self._settings = settings
        self._endpoint: Any = None
        self._missing = False
        self._lock = asyncio.Lock()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        endpoint = await self._load()
        if endpoint is None:
            return await _mcp_missing(request)
        response: web.StreamResponse = await endpoint.handle(request)
        return response

    async def _load(self) -> Any:
        if self._endpoint is not None:  # loaded: no lock on the request path
            return self._endpoint
        async with self._lock:
            if self._endpoint is None and not self._missing:
                try:
                    module = await asyncio.to_thread(importlib.import_module, "bridge.mcp_http")
                except ModuleNotFoundError as exc:
                    if (exc.name or "").split(".")[0] != "mcp":
                        raise
                    self._missing = True
                    return None
                endpoint = module.McpEndpoint(self._settings)
                await endpoint.start()
                self._endpoint = endpoint
            return self._endpoint

    async def stop(self, app: web.Application) -> None:
        async with self._lock:
            if self._endpoint is not None:
                await self._endpoint.stop()
                self._endpoint = None


def _add_mcp(app: web.Application, settings: BridgeSettings) -> None:
    mcp = _LazyMcp(settings)
    app.on_shutdown.append(mcp.stop)
    app.router.add_route("*", "/mcp", mcp.handle)


def create_app(settings: BridgeSettings, *, redis_url: str,
               cleanups: list[Callable[[], Awaitable[None]]] | None = None) -> web.Application:
    """The application; Redis, gRPC channels, pumps and feeds start with it and stop at
    its shutdown (leases released, so another replica takes over at once)."""
    app = web.Application(middlewares=[errors_middleware, cors_middleware(settings.cors_origins),
                                       api_key_middleware(settings.api_keys)],
                          client_max_size=256 * 1024)
    add_routes(app)
    openapi.add_route(app, settings)
    _add_mcp(app, settings)
    app.router.add_get("/", index)
    app.router.add_static("/static/", STATIC, append_version=False)

    async def startup(app: web.Application) -> None:
        # Commands share a bounded pool (callers queue for a connection rather than fail);
        # the per-job blocking XREAD loops get their own pool.
        redis = aioredis.Redis(connection_pool=aioredis.BlockingConnectionPool.from_url(
            redis_url, max_connections=REDIS_COMMAND_CONNECTIONS, timeout=20, decode_responses=True,
            socket_connect_timeout=5, health_check_interval=30))
        blocking = aioredis.from_url(redis_url, decode_responses=True, max_connections=REDIS_FEED_CONNECTIONS,
                                     socket_connect_timeout=5)
        await redis.ping()
        buffer = EventBuffer(redis, prefix=settings.redis_prefix, maxlen=settings.buffer_maxlen,
                             retention_seconds=settings.buffer_retention_seconds,
                             job_ttl_seconds=settings.job_ttl_seconds, blocking_redis=blocking)
        clients = Clients(processor_target=settings.processor_target,
                          orchestrator_target=settings.orchestrator_target,
                          orchestrator_target_template=settings.orchestrator_target_template,
                          orchestrator_instances=settings.orchestrator_instances, auth=settings.auth)
        pumps = Pumps(buffer=buffer, clients=clients, instance_id=settings.instance_id,
                      lease_seconds=settings.lease_seconds, rpc_timeout=settings.rpc_timeout)
        pumps.start_reconciler()
        hub = Hub(buffer=buffer, pumps=pumps, keepalive=settings.keepalive_seconds)
        metrics.SSE_CLIENTS.set_function(lambda: hub.clients)
        limiter = RateLimiter(redis, prefix=settings.redis_prefix, per_minute=settings.rate_limit_per_minute,
                              burst=settings.rate_limit_burst)
        app[BRIDGE] = Bridge(settings=settings, redis=redis, buffer=buffer, clients=clients, pumps=pumps,
                             hub=hub, limiter=limiter,
                             idempotency=Idempotency(redis, prefix=settings.redis_prefix))

    async def shutdown(app: web.Application) -> None:
        if BRIDGE in app:
            bridge = app[BRIDGE]
            await bridge.hub.close()
            await bridge.pumps.close()

    async def cleanup(app: web.Application) -> None:
        if BRIDGE in app:
            bridge = app[BRIDGE]
            await bridge.clients.close()
            # The command pool was passed in, so aclose() would leave its connections open.
            await bridge.redis.aclose(close_connection_pool=True)
            await bridge.buffer.blocking_redis.aclose()
        for extra in cleanups or ():
            await extra()

    app.on_startup.append(startup)
    app.on_shutdown.append(shutdown)
    app.on_cleanup.append(cleanup)
    return app
