"""A local fixture website (aiohttp on 127.0.0.1, port 0) for crawl behaviour: pages
from a dict, plus hooks for slow, failing and odd responses. It counts requests and
the most requests it ever served at once."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def serve_catch_all(handler: Handler) -> tuple[web.AppRunner, int]:
    """An aiohttp server on 127.0.0.1, port 0, sending every request to ``handler``."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server
    assert server is not None and server.sockets
    return runner, int(server.sockets[0].getsockname()[1])


def page(title: str, body: str = "", links: list[str] | tuple[str, ...] = ()) -> str:
    anchors = "".join(f'<li><a href="{href}">{href}</a></li>' for href in links)
    return (f"<!doctype html><html><head><title>{title} - Fixture Docs</title></head><body>"
            f"<nav><ul><li>Fixture Docs navigation</li></ul></nav>"
            f"<main><h1>{title}</h1><p>{body or 'Content of ' + title + '.'}</p><ul>{anchors}</ul></main>"
            f"<footer>Fixture footer</footer></body></html>")


@dataclass
class FixtureSite:
    pages: dict[str, str] = field(default_factory=dict)
    handlers: dict[str, Handler] = field(default_factory=dict)
    delay: float = 0.0
    requests: Counter[str] = field(default_factory=Counter)
    in_flight: int = 0
    max_in_flight: int = 0
    runner: web.AppRunner | None = None
    port: int = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path_qs if request.path_qs in self.pages or request.path_qs in self.handlers else request.path
        self.requests[path] += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            if path in self.handlers:
                return await self.handlers[path](request)
            if path in self.pages:
                return web.Response(text=self.pages[path], content_type="text/html")
            return web.Response(status=404, text="<h1>Not found</h1>", content_type="text/html")
        finally:
            self.in_flight -= 1

    async def start(self) -> FixtureSite:
        self.runner, self.port = await serve_catch_all(self._handle)
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


def tree_site(n_pages: int, *, prefix: str = "/docs/", fanout: int = 5) -> dict[str, str]:
    """A docs tree: index links to the first ``fanout`` pages, page i links to its
    children and back to the index."""
    pages = {}
    for i in range(n_pages):
        path = f"{prefix}index.html" if i == 0 else f"{prefix}page-{i}.html"
        children = [f"page-{c}.html" for c in range(i * fanout + 1, min(n_pages, i * fanout + fanout + 1))]
        pages[path] = page(f"Page {i}", f"Text of page number {i} about widgets.", [*children, "index.html"])
    pages[prefix] = pages[f"{prefix}index.html"]
    return pages
