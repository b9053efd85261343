"""The browser step: one headless Chromium (Playwright, Debian's binary), a pool of
browser contexts, bounded pages in flight.

Each job gets a context of its own (cookies and storage never cross jobs); a context is
replaced after ``pages_per_context`` pages or as soon as one of its pages crashed or
would not close, an idle one is closed after ``context_idle_seconds``, and the whole
browser is replaced after ``pages_per_browser`` pages or when it dies. Nothing is
downloaded at run time: a missing Chromium is a clear error naming the package."""

from __future__ import annotations

import asyncio
import logging
import os
import time
import uuid
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from docspasta import metrics
from renderer.egress import Egress
from renderer.settings import RendererSettings

if TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext, Page, Playwright

log = logging.getLogger(__name__)

# The brief's launch flags, plus: no QUIC (all traffic is routed HTTP anyway); a proxy
# that does not exist with no implicit loopback bypass (a request that escaped routing
# fails instead of connecting: preconnect, prefetch, anything new); no UDP for WebRTC;
# and Chromium's own calls home switched off or pointed at nothing (network time,
# component and extension updates, Google sign-in: the Debian build ships API keys).
_NOWHERE = "http://127.0.0.1:9"
BASE_ARGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run",
             "--disable-default-apps", "--disable-extensions", "--mute-audio", "--disable-dev-shm-usage",
             "--proxy-bypass-list=<-loopback>", "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
             "--disable-features=NetworkTimeServiceQuerying,Translate,MediaRouter,OptimizationHints,"
             "OptimizationGuideModelDownloading,AutofillServerCommunication,CertificateTransparencyComponentUpdater,"
             "InterestFeedContentSuggestions",
             "--disable-client-side-phishing-detection", "--disable-domain-reliability", "--no-pings",
             "--disable-breakpad", "--disable-component-extensions-with-background-pages",
             f"--gaia-url={_NOWHERE}", f"--google-base-url={_NOWHERE}", f"--lso-url={_NOWHERE}",
             f"--component-updater=url-source={_NOWHERE}/")
# Runs before any script of the page: no peer connections (they would open UDP sockets).
INIT_SCRIPT = """
for (const name of ["RTCPeerConnection", "webkitRTCPeerConnection", "RTCDataChannel"]) {
  try { Object.defineProperty(window, name, {value: undefined, configurable: false}); } catch (e) {}
}
"""
CLOSE_TIMEOUT = 5.0
REAP_INTERVAL = 5.0


class BrowserUnavailable(RuntimeError):
    """No browser can run here (a deployment problem, not the page's): every render fails."""


class ChromiumMissing(BrowserUnavailable):
    """The browser binary is not there: rendering cannot work on this machine."""


def launch_args(settings: RendererSettings) -> list[str]:
    return [*BASE_ARGS, f"--proxy-server={settings.backstop_proxy}",
            f"--js-flags=--max-old-space-size={settings.js_heap_mb}"]


def chromium_problem(path: str) -> str | None:
    """Why ``path`` cannot be the browser, or None."""
    if os.path.isfile(path) and os.access(path, os.X_OK):
        return None
    return (f"rendering needs Chromium, which is not installed at {path} "
            f"(Debian: apt-get install chromium; another binary: RENDERER_CHROMIUM)")


@dataclass(eq=False)
class _Generation:
    """One launched browser."""
    browser: Browser
    pages: int = 0
    in_use: int = 0
    dead: bool = False
    retiring: bool = False


@dataclass(eq=False)
class _Slot:
    """One job's context."""
    key: str
    context: BrowserContext
    generation: _Generation
    single_use: bool = False
    pages: int = 0
    in_use: int = 0
    broken: bool = False
    last_used: float = field(default_factory=time.monotonic)


class BrowserPool:
    def __init__(self, *, settings: RendererSettings, egress: Egress) -> None:
        self._settings = settings
        self._egress = egress
        self._pages = asyncio.Semaphore(settings.max_pages)
        self._lock = asyncio.Lock()
        self._playwright: Playwright | None = None
        self._current: _Generation | None = None
        self._slots: dict[str, _Slot] = {}
        self._reaper: asyncio.Task[None] | None = None
        self._closing: set[asyncio.Task[None]] = set()
        self.launches = 0

    @property
    def open_contexts(self) -> int:
        return len(self._slots)

    @property
    def pages_in_flight(self) -> int:
        return self._settings.max_pages - self._pages._value

    @asynccontextmanager
    async def page(self, job_id: str) -> AsyncIterator[Page]:
        """A fresh page in the job's context. On the way out the page is closed (and the
        context recycled when due) in the background, so a page that will not close
        never delays the answer; its slot is free once it is closed."""
        await self._pages.acquire()
        page: Page | None = None
        try:
            slot = await self._slot(job_id)
        except BaseException:
            self._pages.release()
            raise
        slot.in_use += 1
        slot.pages += 1
        slot.generation.in_use += 1
        slot.generation.pages += 1
        try:
            page = await slot.context.new_page()
            page.on("crash", lambda _: self._mark_broken(slot))
            yield page
        finally:
            self._spawn(self._release(slot, page))

    async def _release(self, slot: _Slot, page: Page | None) -> None:
        try:
            if page is not None:
                self._egress.detach(page)
                if not await self._close_page(page):
                    slot.broken = True
            slot.in_use -= 1
            slot.generation.in_use -= 1
            slot.last_used = time.monotonic()
            await self._after_use(slot)
        finally:
            self._pages.release()

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def _mark_broken(self, slot: _Slot) -> None:
        slot.broken = True

    async def _close_page(self, page: Page) -> bool:
        from playwright.async_api import Error as PlaywrightError
        try:
            await asyncio.wait_for(page.close(), CLOSE_TIMEOUT)
            return True
        except (PlaywrightError, TimeoutError):
            return False

    async def _slot(self, job_id: str) -> _Slot:
        async with self._lock:
            generation = await self._generation()
            key = job_id or f"single-{uuid.uuid4().hex}"
            slot = self._slots.get(key)
            if slot is not None and (slot.broken or slot.generation is not generation
                                     or slot.pages >= self._settings.pages_per_context):
                # Due for replacement: pages still open in it keep it until they end.
                del self._slots[key]
                if slot.in_use == 0:
                    self._close_later(slot)
                slot = None
            if slot is None:
                await self._make_room()
                context = await self._new_context(generation)
                slot = _Slot(key=key, context=context, generation=generation, single_use=not job_id)
                self._slots[key] = slot
            if self._reaper is None or self._reaper.done():
                self._reaper = asyncio.create_task(self._reap(), name="renderer-reaper")
            return slot

    async def _new_context(self, generation: _Generation) -> BrowserContext:
        from playwright.async_api import Error as PlaywrightError
        try:
            context = await generation.browser.new_context(
                service_workers="block", accept_downloads=False, java_script_enabled=True,
                viewport={"width": 1280, "height": 900}, locale="en-US", ignore_https_errors=False)
        except PlaywrightError:
            # A browser that cannot open a context is done: the next page gets a new one.
            generation.dead = True
            if generation is self._current:
                self._current = None
            raise
        try:
            await context.add_init_script(INIT_SCRIPT)
            await self._egress.install(context)
        except BaseException:
            await asyncio.gather(context.close(), return_exceptions=True)
            raise
        return context

    async def _make_room(self) -> None:
        if len(self._slots) < self._settings.max_contexts:
            return
        idle = sorted((s for s in self._slots.values() if s.in_use == 0), key=lambda s: s.last_used)
        for slot in idle[:len(self._slots) - self._settings.max_contexts + 1]:
            del self._slots[slot.key]
            self._close_later(slot)

    async def _after_use(self, slot: _Slot) -> None:
        current = self._slots.get(slot.key)
        if slot.in_use == 0 and (current is not slot or slot.broken or slot.single_use
                                 or slot.pages >= self._settings.pages_per_context):
            if current is slot:
                del self._slots[slot.key]
            self._close_later(slot)
        generation = slot.generation
        if generation.retiring and generation.in_use == 0 and generation is not self._current:
            self._close_later_browser(generation)

    def _close_later(self, slot: _Slot) -> None:
        self._spawn(self._close_context(slot))

    async def _close_context(self, slot: _Slot) -> None:
        from playwright.async_api import Error as PlaywrightError
        try:
            await asyncio.wait_for(slot.context.close(), CLOSE_TIMEOUT)
        except (PlaywrightError, TimeoutError):
            # A context that will not close takes its browser with it.
            log.warning("a browser context did not close; replacing the browser")
            slot.generation.retiring = True
            if slot.generation is self._current:
                self._current = None
            if slot.generation.in_use == 0:
                await self._close_browser(slot.generation)

    def _close_later_browser(self, generation: _Generation) -> None:
        self._spawn(self._close_browser(generation))

    async def _close_browser(self, generation: _Generation) -> None:
        from playwright.async_api import Error as PlaywrightError
        generation.dead = True
        try:
            await asyncio.wait_for(generation.browser.close(), CLOSE_TIMEOUT * 2)
        except (PlaywrightError, TimeoutError):
            log.warning("the browser did not close in time")

    async def _generation(self) -> _Generation:
        current = self._current
        if current is not None and not current.dead and current.browser.is_connected():
            if current.pages < self._settings.pages_per_browser:
                return current
            current.retiring = True
            if current.in_use == 0:
                self._close_later_browser(current)
        self._current = None
        for key in [k for k, s in self._slots.items() if s.generation is current]:
            del self._slots[key]
        problem = chromium_problem(self._settings.chromium)
        if problem:
            raise ChromiumMissing(problem)
        started = time.monotonic()
        try:
            if self._playwright is None:
                from playwright.async_api import async_playwright
                self._playwright = await async_playwright().start()
            browser = await self._playwright.chromium.launch(
                executable_path=self._settings.chromium, headless=True, args=launch_args(self._settings),
                chromium_sandbox=False, handle_sigint=False, handle_sigterm=False, handle_sighup=False)
        except Exception as exc:  # Playwright's driver raises plain Exception when it dies
            log.error("the browser could not start", exc_info=exc)
            if self._playwright is not None:
                await asyncio.gather(self._playwright.stop(), return_exceptions=True)
                self._playwright = None
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise BrowserUnavailable(f"the browser ({self._settings.chromium}) could not start: {first}"[:500]) from exc
        generation = _Generation(browser=browser)
        browser.on("disconnected", lambda _: self._on_disconnected(generation))
        self._current = generation
        self.launches += 1
        metrics.BROWSER_LAUNCHES.inc()
        log.info("browser launched", extra={"seconds": round(time.monotonic() - started, 3),
                                            "version": browser.version})
        return generation

    def _on_disconnected(self, generation: _Generation) -> None:
        generation.dead = True
        if generation is self._current:
            log.warning("the browser went away; the next page launches a new one")
            self._current = None

    async def _reap(self) -> None:
        while self._slots:
            await asyncio.sleep(REAP_INTERVAL)
            now = time.monotonic()
            for slot in [s for s in self._slots.values()
                         if s.in_use == 0 and now - s.last_used > self._settings.context_idle_seconds]:
                del self._slots[slot.key]
                self._close_later(slot)

    async def close(self) -> None:
        if self._reaper is not None:
            self._reaper.cancel()
            await asyncio.gather(self._reaper, return_exceptions=True)
        # Pages first (their release tasks), then the contexts left.
        await asyncio.gather(*self._closing, return_exceptions=True)
        for slot in list(self._slots.values()):
            self._close_later(slot)
        self._slots.clear()
        await asyncio.gather(*self._closing, return_exceptions=True)
        current, self._current = self._current, None
        if current is not None:
            await self._close_browser(current)
        if self._playwright is not None:
            await self._playwright.stop()
            self._playwright = None
