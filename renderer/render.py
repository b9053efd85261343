"""The render step: one URL to the DOM a browser builds from it, within hard caps.

1. The document is fetched by the crawler's fetcher, exactly as a crawl fetches it
   (policy, redirects, media type, body cap): a page the crawler would refuse, the
   renderer refuses the same way, with the same error category.
2. A fresh page of the job's context opens the document's final URL; the browser gets
   the document already fetched, and every further request goes through the egress step.
3. The page settles when the request's selector is in the DOM, or when the network has
   been quiet for ``idle_ms`` after the DOM was parsed; at ``settle_seconds`` the DOM is
   taken as it is. Meanwhile the caps are watched: requests, bytes, navigations (egress),
   DOM elements, frames, dialogs; a crash or a broken cap ends the page with an error.
4. Everything, the fetch included, runs within ``render_timeout`` (or the request's
   shorter timeout, or the call's deadline): a page whose script never yields ends
   with a timeout error, its page closed, and the next page is unaffected."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from typing import TYPE_CHECKING, TypeVar

from crawler.extract import extract
from crawler.fetch import FetchError, HttpFetcher
from crawler.service import CATEGORIES
from docspasta.v1 import common_pb2, crawler_pb2, renderer_pb2
from renderer.browser import BrowserPool
from renderer.egress import Egress, PageFailed, PageGuard
from renderer.settings import RendererSettings

if TYPE_CHECKING:
    from playwright.async_api import Dialog, Page

log = logging.getLogger(__name__)
T = TypeVar("T")

POLL_SECONDS = 0.05
# How often the DOM is measured while the page settles.
MEASURE_SECONDS = 0.5
# With the network idle, two counts of the DOM this far apart must agree: a page still
# building (or growing without end) has not settled.
DOM_STEADY_SECONDS = 0.1
_MEASURE = "() => [document.getElementsByTagName('*').length, window.frames.length]"


def failed(url: str, category: str, message: str, *, final_url: str = "", status: int = 0,
           redirects: list[str] | None = None, seconds: float = 0.0) -> renderer_pb2.RenderResponse:
    page = crawler_pb2.CrawlResponse(
        url=url, final_url=final_url or url, status=status, redirects=redirects or [], error_message=message,
        error=CATEGORIES.get(category, common_pb2.ERROR_CATEGORY_INVALID),  # type: ignore[arg-type]
        fetch_seconds=round(seconds, 4))
    return renderer_pb2.RenderResponse(page=page)


class PageRenderer:
    def __init__(self, *, settings: RendererSettings, fetcher: HttpFetcher, pool: BrowserPool,
                 egress: Egress) -> None:
        self._settings = settings
        self._fetcher = fetcher
        self._pool = pool
        self._egress = egress

    async def render(self, url: str, *, job_id: str = "", wait_selector: str = "", timeout: float = 0.0,
                     max_requests: int = 0) -> renderer_pb2.RenderResponse:
        """Never raises for a page's own trouble (that is an error in the answer);
        raises BrowserUnavailable when no browser can run at all."""
        from playwright.async_api import Error as PlaywrightError
        s = self._settings
        cap = min(timeout, s.render_timeout) if timeout > 0 else s.render_timeout
        started = time.monotonic()
        guard = PageGuard(max_subrequests=s.max_subrequests, max_bytes=s.max_page_bytes,
                          max_navigations=s.max_navigations)
        try:
            async with asyncio.timeout(cap):
                try:
                    document = await self._fetcher.fetch(url, max_requests=max_requests)
                except FetchError as exc:
                    answer = failed(url, exc.category, exc.message, final_url=exc.final_url, status=exc.status,
                                    redirects=exc.redirects, seconds=time.monotonic() - started)
                    answer.page.requests_sent = exc.requests
                    return answer
                sent = document.requests
                guard.document = document
                async with self._pool.page(job_id) as page:
                    self._egress.attach(page, guard)
                    answer = await self._render(page, url, document.final_url, guard, wait_selector, started,
                                                status=document.status, redirects=document.redirects)
                    answer.page.requests_sent = sent
                    return answer
        except TimeoutError:
            return failed(url, "timeout", f"the page did not finish rendering within {cap:g} s "
                          "(a script that never yields, or a page that keeps loading)",
                          seconds=time.monotonic() - started)
        except PageFailed as exc:
            return failed(url, exc.category, exc.message, seconds=time.monotonic() - started)
        except PlaywrightError as exc:
            # The browser itself failed (it died, a context would not open): this page
            # fails and may be tried again; the pool starts a new browser for the next.
            log.warning("browser failure", exc_info=exc)
            return failed(url, "connect", f"the browser failed: {exc.message.splitlines()[0]}"[:300],
                          seconds=time.monotonic() - started)

    async def _render(self, page: Page, url: str, document_url: str, guard: PageGuard, wait_selector: str,
                      started: float, *, status: int, redirects: list[str]) -> renderer_pb2.RenderResponse:
        from playwright.async_api import Error as PlaywrightError
        s = self._settings
        dialogs = 0

        async def on_dialog(dialog: Dialog) -> None:
            nonlocal dialogs
            dialogs += 1
            if dialogs > s.max_dialogs:
                guard.fail("too_large", f"the page opened more than {s.max_dialogs} dialogs")
            try:
                await dialog.dismiss()
            except PlaywrightError:
                pass

        page.on("dialog", on_dialog)
        page.on("crash", lambda _: guard.fail(
            "too_large", "the page crashed (out of memory? the heap cap is RENDERER_JS_HEAP_MB)"))
        try:
            await self._watch(page.goto(document_url, wait_until="domcontentloaded", timeout=0), guard)
            await self._watch(self._settle(page, guard, wait_selector), guard)
            elements, frames = await self._watch(page.evaluate(_MEASURE), guard)
            self._check_dom(guard, elements, frames)
            html = await self._watch(page.content(), guard)
            title = await self._watch(page.title(), guard)
            final_url = page.url
        except PlaywrightError as exc:
            if guard.failure is not None:
                raise guard.failure from None
            return failed(url, "connect", f"the browser could not render the page: {exc.message.splitlines()[0]}"[:300],
                          final_url=document_url, status=status, redirects=redirects,
                          seconds=time.monotonic() - started)
        size = len(html.encode("utf-8"))
        if size > s.max_html_bytes:
            raise PageFailed("too_large", f"the rendered page is larger than {s.max_html_bytes} bytes")
        found = await asyncio.to_thread(extract, html, final_url, max_links=s.fetch.max_links)
        page_pb = crawler_pb2.CrawlResponse(
            url=url, final_url=final_url, status=status, content_type="text/html", html=html,
            title=title.strip()[:1000] or found.title, links=found.links, canonical_url=found.canonical,
            nofollow=found.nofollow, redirects=redirects, fetch_seconds=round(time.monotonic() - started, 4),
            content_length=size)
        return renderer_pb2.RenderResponse(page=page_pb, subrequests=guard.subrequests, blocked_requests=guard.blocked,
                                           dom_elements=int(elements), subrequest_bytes=guard.bytes)

    def _check_dom(self, guard: PageGuard, elements: int, frames: int) -> None:
        s = self._settings
        if elements > s.max_dom_elements:
            guard.fail("too_large", f"the page built more than {s.max_dom_elements} elements")
        elif frames > s.max_frames:
            guard.fail("too_large", f"the page holds more than {s.max_frames} frames")
        if guard.failure is not None:
            raise guard.failure

    async def _watch(self, awaitable: Awaitable[T], guard: PageGuard) -> T:
        """Awaits a browser call, giving up on it as soon as the page broke a cap."""
        task = asyncio.ensure_future(awaitable)
        try:
            while True:
                done, _ = await asyncio.wait({task}, timeout=POLL_SECONDS)
                if guard.failure is not None:
                    raise guard.failure
                if done:
                    return task.result()
        finally:
            if not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

    async def _settle(self, page: Page, guard: PageGuard, wait_selector: str) -> None:
        """Until the selector matches, or the network is idle and the DOM stopped growing;
        at most ``settle_seconds``. The DOM is measured on the way (its caps)."""
        from playwright.async_api import Error as PlaywrightError
        s = self._settings
        now = time.monotonic()
        deadline = now + s.settle_seconds
        measured_at, last_count = 0.0, -1
        idle = s.idle_ms / 1000
        while (now := time.monotonic()) < deadline:
            if wait_selector:
                try:
                    if await page.query_selector(wait_selector) is not None:
                        return
                except PlaywrightError as exc:
                    if "selector" in exc.message.lower():
                        raise PageFailed("invalid", f"wait_selector is not a valid CSS selector: "
                                         f"{exc.message.splitlines()[0]}"[:300]) from None
                    raise
            network_idle = guard.inflight == 0 and now - guard.last_activity >= idle
            if now - measured_at >= (DOM_STEADY_SECONDS if network_idle else MEASURE_SECONDS):
                elements, frames = await page.evaluate(_MEASURE)
                self._check_dom(guard, elements, frames)
                if network_idle and not wait_selector and elements == last_count:
                    return
                measured_at, last_count = now, elements
            await asyncio.sleep(POLL_SECONDS)
