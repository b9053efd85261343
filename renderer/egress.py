"""The egress step: every request the browser makes goes through here.

Chromium never touches the network itself. Each request is intercepted (Playwright
routing on the browser context) and either refused or fetched by the crawler's own
fetcher (``HttpFetcher.fetch_resource``: the same URL policy, the same resolved-address
checks with the connection made to exactly the checked address, so DNS rebinding gets
no second lookup, the same redirect checks and body cap), and the browser gets that
response (``route.fulfill``). Redirects are followed by the fetcher, hop by hop, because
a fulfilled 3xx would be followed by Chromium outside the routing.

Behind that, the browser is launched with a proxy that does not exist (see
``renderer/browser.py``), so anything routing might miss (preconnects, a future request
type) fails instead of connecting.

Refused outright: images, fonts and media (not needed for text), frames other than the
page itself (their content is not part of the page's DOM anyway), WebSockets, service
workers (blocked on the context), popups, downloads, requests past the page's budget
(subrequests, bytes, navigations), and requests no page of ours made."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from crawler.fetch import FetchError, FetchResult, HttpFetcher

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext, Page, Request, Route, WebSocketRoute

log = logging.getLogger(__name__)

# Not fetched: nothing in them is text of the page.
SKIPPED_TYPES = frozenset({"image", "media", "font", "texttrack", "manifest", "websocket", "eventsource"})
# ... and whatever names such a file, whatever the browser calls the request (a favicon
# is "other", a preloaded font "fetch").
SKIPPED_EXTENSIONS = frozenset({
    ".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".ico", ".bmp", ".tif", ".tiff", ".heic",
    ".woff", ".woff2", ".ttf", ".otf", ".eot", ".mp4", ".webm", ".ogv", ".mov", ".m4v", ".mkv", ".avi",
    ".mp3", ".ogg", ".oga", ".wav", ".flac", ".m4a", ".aac", ".opus", ".vtt"})
# Fetched as empty: layout does not matter, and an empty sheet fires no error handler.
EMPTY_TYPES = {"stylesheet": "text/css"}
# Request headers the fetcher sets itself, or that belong to one hop.
_DROP_REQUEST = frozenset({"host", "connection", "keep-alive", "proxy-authorization", "proxy-connection", "te",
                           "trailer", "transfer-encoding", "upgrade", "content-length", "accept-encoding",
                           "user-agent"})
# Response headers that described the wire form (the body is decoded) or one hop.
_DROP_RESPONSE = frozenset({"content-encoding", "content-length", "transfer-encoding", "connection", "keep-alive",
                            "alt-svc", "location"})


class PageFailed(Exception):
    """The page broke one of its caps; ``category`` is the error category name."""

    def __init__(self, category: str, message: str) -> None:
        super().__init__(message)
        self.category = category
        self.message = message


@dataclass(kw_only=True)
class PageGuard:
    """One page's budget and what happened to it. The first broken cap is kept."""
    max_subrequests: int
    max_bytes: int
    max_navigations: int
    document: FetchResult | None = None
    subrequests: int = 0
    blocked: int = 0
    bytes: int = 0
    navigations: int = 0
    failure: PageFailed | None = None
    # Requests being answered, and when the last one started or ended (network idle).
    inflight: int = 0
    last_activity: float = field(default_factory=time.monotonic)

    def fail(self, category: str, message: str) -> None:
        if self.failure is None:
            self.failure = PageFailed(category, message)


def _extension(url: str) -> str:
    path = urlsplit(url).path
    dot = path.rfind(".")
    return path[dot:].lower() if dot > path.rfind("/") else ""


def forwarded_headers(headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() not in _DROP_REQUEST and not k.startswith(":")}


def fulfilled_headers(headers: list[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in headers:
        name = key.lower()
        if name in _DROP_RESPONSE:
            continue
        # Playwright takes one string per name; repeated Set-Cookie lines join with newlines.
        out[name] = f"{out[name]}\n{value}" if name in out and name == "set-cookie" else value
    return out


class Egress:
    """Installs the routing on a context and keeps each page's guard."""

    def __init__(self, *, fetcher: HttpFetcher, max_body_bytes: int) -> None:
        self._fetcher = fetcher
        self._max_body_bytes = max_body_bytes
        self._guards: dict[Page, PageGuard] = {}

    async def install(self, context: BrowserContext) -> None:
        await context.route("**/*", self._route)
        await context.route_web_socket("**/*", self._refuse_socket)

    def attach(self, page: Page, guard: PageGuard) -> None:
        """From now on the page's requests are served within ``guard``; a page without a
        guard (a popup, a page of no render) gets every request refused."""
        self._guards[page] = guard
        page.on("popup", self._close_popup)

    def detach(self, page: Page) -> None:
        self._guards.pop(page, None)

    async def _close_popup(self, popup: Page) -> None:
        from playwright.async_api import Error as PlaywrightError
        try:
            await popup.close()
        except PlaywrightError:
            pass

    async def _refuse_socket(self, ws: WebSocketRoute) -> None:
        await ws.close(code=1008, reason="WebSockets are not opened by the renderer")

    def _guard_of(self, request: Request) -> PageGuard | None:
        try:
            page = request.frame.page
        except Exception:  # a worker's or service worker's request has no frame
            return None
        return self._guards.get(page)

    async def _route(self, route: Route, request: Request) -> None:
        from playwright.async_api import Error as PlaywrightError
        guard = self._guard_of(request)
        try:
            if guard is None:
                await route.abort("blockedbyclient")
                return
            guard.inflight += 1
            guard.last_activity = time.monotonic()
            try:
                await self._handle(route, request, guard)
            finally:
                guard.inflight -= 1
                guard.last_activity = time.monotonic()
        except PlaywrightError:
            pass  # the page closed while its request was in flight

    async def _handle(self, route: Route, request: Request, guard: PageGuard) -> None:
        kind = request.resource_type
        if request.is_navigation_request():
            if request.frame.parent_frame is not None:
                guard.blocked += 1
                await route.abort("blockedbyclient")
                return
            document = guard.document
            if document is not None and request.url == document.final_url and request.method == "GET":
                guard.document = None
                await route.fulfill(status=document.status, body=document.text.encode("utf-8"),
                                    headers={"content-type": f"{document.content_type or 'text/html'}; charset=utf-8"})
                return
            guard.navigations += 1
            if guard.navigations > guard.max_navigations:
                guard.fail("too_large", f"the page navigated more than {guard.max_navigations} times")
                await route.abort("blockedbyclient")
                return
        elif kind in SKIPPED_TYPES or _extension(request.url) in SKIPPED_EXTENSIONS:
            await route.abort("blockedbyclient")
            return
        elif kind in EMPTY_TYPES:
            await route.fulfill(status=200, body=b"", headers={"content-type": EMPTY_TYPES[kind]})
            return
        guard.subrequests += 1
        if guard.subrequests > guard.max_subrequests:
            guard.fail("too_large", f"the page made more than {guard.max_subrequests} requests")
            guard.blocked += 1
            await route.abort("blockedbyclient")
            return
        left = guard.max_bytes - guard.bytes
        if left <= 0:
            guard.fail("too_large", f"the page fetched more than {guard.max_bytes} bytes")
            guard.blocked += 1
            await route.abort("blockedbyclient")
            return
        try:
            resource = await self._fetcher.fetch_resource(
                request.url, method=request.method, headers=forwarded_headers(await request.all_headers()),
                data=request.post_data_buffer, max_bytes=left)
        except FetchError as exc:
            if request.is_navigation_request():
                # The page's own navigation away (location = ...) failed: what the page
                # would show is Chromium's error page, never worth keeping.
                guard.fail(exc.category, f"the page navigated to {request.url[:200]}, which failed: {exc.message}")
            if exc.category in ("blocked", "invalid"):
                guard.blocked += 1
                log.info("request refused", extra={"url": request.url[:300], "reason": exc.message})
            elif exc.category == "too_large" and left < self._max_body_bytes:
                guard.fail("too_large", f"the page fetched more than {guard.max_bytes} bytes")
            await route.abort("blockedbyclient" if exc.category in ("blocked", "invalid") else "failed")
            return
        guard.bytes += len(resource.body)
        await route.fulfill(status=resource.status, headers=fulfilled_headers(resource.headers), body=resource.body)
