"""Several fixture hosts with real names on one loopback server: a test-only resolver
seam maps ``*.example.localhost`` to 127.0.0.1 (this sandbox's resolver does not), and
the server answers by the Host header. Each host logs its requests with arrival times."""

from __future__ import annotations


import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from tests.support.site import serve_catch_all

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
DOMAIN = "example.localhost"


@dataclass
class Host:
    name: str
    pages: dict[str, str] = field(default_factory=dict)
    handlers: dict[str, Handler] = field(default_factory=dict)
    texts: dict[str, tuple[str, str]] = field(default_factory=dict)  # path -> (content type, body)
    log: list[tuple[float, str]] = field(default_factory=list)  # (monotonic arrival, path?query)
    in_flight: int = 0
    max_in_flight: int = 0

    def paths(self) -> list[str]:
        return [p for _, p in self.log]


@dataclass
class VirtualHosts:
    hosts: dict[str, Host] = field(default_factory=dict)
    port: int = 0
    runner: web.AppRunner | None = None

    def host(self, name: str) -> Host:
        return self.hosts.setdefault(name, Host(name))

    def url(self, name: str, path: str) -> str:
        return f"http://{name}:{self.port}{path}"

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        host = self.hosts.get(request.host.rsplit(":", 1)[0])
        if host is None:
            return web.Response(status=421, text="unknown host")
        path = request.path_qs
        host.log.append((time.monotonic(), path))
        host.in_flight += 1
        host.max_in_flight = max(host.max_in_flight, host.in_flight)
        try:
            for candidate in (path, request.path):
                if candidate in host.handlers:
                    return await host.handlers[candidate](request)
                if candidate in host.pages:
                    return web.Response(text=host.pages[candidate], content_type="text/html")
                if candidate in host.texts:
                    content_type, body = host.texts[candidate]
                    return web.Response(text=body, content_type=content_type)
            if "*" in host.handlers:
                return await host.handlers["*"](request)
            return web.Response(status=404, text="<h1>Not found</h1>", content_type="text/html")
        finally:
            host.in_flight -= 1

    async def start(self) -> VirtualHosts:
        self.runner, self.port = await serve_catch_all(self._handle)
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


def patch_resolver(monkeypatch: pytest.MonkeyPatch) -> None:
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and (host == DOMAIN or host.endswith("." + DOMAIN)):
            host = "127.0.0.1"
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


