"""``/mcp``: the MCP tools (docspasta/mcp_tools.py) over the SDK's streamable HTTP
transport, mounted on the bridge behind its API keys (bridge/auth.py answers 401
before a request gets here).

The SDK's transport is an ASGI application and the bridge is aiohttp: each request is
handed to the SDK's ``StreamableHTTPSessionManager`` as an ASGI call (scope, receive,
send) over the aiohttp request and a streamed response — the bridge's own middlewares,
access log and shutdown stay in charge, and no second server or port exists. The
manager runs stateless: every request carries all it needs, so any replica answers any
request and nothing is lost when one goes away; progress notifications of a call
still stream on that call's own response (SSE). Who is calling (API-key scope, client
address) travels in the ASGI scope's ``state`` to the tools' backend
(bridge/mcp_backend.py)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import MutableMapping
from typing import Any

from aiohttp import web

from bridge.api import BRIDGE
from bridge.auth import api_key_scope, client_ip
from bridge.errors import error_response
from bridge.mcp_backend import BridgeBackend
from bridge.settings import BridgeSettings
from docspasta.mcp_tools import Caller, build_server
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings

PATH = "/mcp"
CALLER = "docspasta.caller"
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _security(settings: BridgeSettings) -> TransportSecuritySettings:
    """The SDK's DNS-rebinding guard for a bridge bound to loopback (a browser page
    must not reach a local server through a name it controls), as the SDK sets it up
    for its own servers; a bridge on a public address is guarded by its API keys."""
    if settings.host not in LOOPBACK:
        return TransportSecuritySettings(enable_dns_rebinding_protection=False)
    return TransportSecuritySettings(
        allowed_hosts=["127.0.0.1:*", "localhost:*", "[::1]:*"],
        allowed_origins=["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*", *settings.cors_origins])


def _caller(ctx: Context) -> Caller:
    request = ctx.request_context.request
    caller = getattr(request, "scope", {}).get("state", {}).get(CALLER)
    if not isinstance(caller, Caller):  # pragma: no cover - every request comes through McpEndpoint.handle
        raise ToolError("internal: the request carries no caller")
    return caller


class McpEndpoint:
    """The SDK's session manager, run for the app's lifetime in a task of its own (its
    task group must be entered and left in one task; aiohttp's startup and cleanup
    may run in different ones)."""

    def __init__(self, settings: BridgeSettings) -> None:
        self.server: MCPServer[Any] = build_server(_caller)
        # streamable_http_app() builds the session manager (and a Starlette app we do not use).
        self.server.streamable_http_app(streamable_http_path=PATH, stateless_http=True,
                                        transport_security=_security(settings))
        self.manager: StreamableHTTPSessionManager = self.server.session_manager
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        started = asyncio.Event()

        async def run() -> None:
            async with self.manager.run():
                started.set()
                await self._stop.wait()

        self._task = asyncio.create_task(run(), name="mcp-session-manager")
        waiter = asyncio.ensure_future(started.wait())
        await asyncio.wait({self._task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        if self._task.done():
            self._task.result()  # it failed to start: raise why

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        bridge = request.app[BRIDGE]
        caller = Caller(BridgeBackend(bridge=bridge, scope=api_key_scope(request),
                                      client=client_ip(request, bridge.settings.trusted_proxies)),
                        scope=api_key_scope(request))
        exchange = _Exchange(request)
        await self.manager.handle_request(_scope(request, caller), exchange.receive, exchange.send)
        if exchange.resp is None:  # pragma: no cover - the SDK answers every request
            return error_response(500, "internal", "the MCP transport gave no answer")
        if not exchange.resp.prepared:
            await exchange.resp.prepare(request)
        return exchange.resp


def _scope(request: web.Request, caller: Caller) -> dict[str, Any]:
    transport = request.transport
    server = transport.get_extra_info("sockname") if transport else None
    return {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": f"{request.version.major}.{request.version.minor}",
        "method": request.method, "scheme": request.scheme, "path": request.path,
        "raw_path": request.raw_path.split("?", 1)[0].encode("latin-1"),
        "query_string": request.query_string.encode("latin-1"), "root_path": "",
        "headers": [(name.lower(), value) for name, value in request.raw_headers],
        "client": (request.remote or "", 0), "server": tuple(server[:2]) if server else None,
        "state": {CALLER: caller},
    }


class _Exchange:
    """ASGI receive/send over one aiohttp request: the body as it arrives, then (the
    request done) a wait that ends when aiohttp cancels the handler on disconnect."""

    def __init__(self, request: web.Request) -> None:
        self.request = request
        self.resp: web.StreamResponse | None = None
        self._body_done = False

    async def receive(self) -> MutableMapping[str, Any]:
        if not self._body_done:
            chunk = await self.request.content.readany()
            self._body_done = not chunk or self.request.content.at_eof()
            return {"type": "http.request", "body": chunk, "more_body": not self._body_done}
        await asyncio.Event().wait()  # until cancelled: the client went away or the response ended
        return {"type": "http.disconnect"}  # pragma: no cover

    async def send(self, message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.resp = web.StreamResponse(status=int(message["status"]))
            for name, value in message.get("headers", ()):
                self.resp.headers.add(name.decode("latin-1"), value.decode("latin-1"))
        elif message["type"] == "http.response.body":
            assert self.resp is not None, "ASGI body before the response start"
            if not self.resp.prepared:
                await self.resp.prepare(self.request)
            if message.get("body"):
                await self.resp.write(message["body"])
            if not message.get("more_body", False):
                await self.resp.write_eof()
