"""Renderer settings, parsed once from the environment (see README: Configuration).

The network policy is the crawler's own: the renderer reads the same ``CRAWLER_*``
variables (private network, ports, timeouts, body cap, user agent) into a
``CrawlerSettings``, so one configuration governs both ways of fetching a page."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from crawler.settings import CrawlerSettings
from docspasta.service_auth import ServiceAuth
from docspasta.settings import env_float, env_int, env_str

DEFAULT_BIND = "127.0.0.1:50054"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
# Pages rendering at once; each open page costs a renderer process (~50-100 MiB).
DEFAULT_MAX_PAGES = 4
DEFAULT_MAX_CONTEXTS = 16
DEFAULT_PAGES_PER_CONTEXT = 100
DEFAULT_PAGES_PER_BROWSER = 2000
DEFAULT_CONTEXT_IDLE_SECONDS = 60.0
DEFAULT_RENDER_TIMEOUT = 30.0
DEFAULT_SETTLE_SECONDS = 10.0
DEFAULT_IDLE_MS = 500
DEFAULT_MAX_SUBREQUESTS = 300
DEFAULT_MAX_PAGE_BYTES = 50 * 1024 * 1024
DEFAULT_MAX_DOM_ELEMENTS = 200_000
DEFAULT_MAX_HTML_BYTES = 20 * 1024 * 1024
DEFAULT_MAX_FRAMES = 50
DEFAULT_MAX_DIALOGS = 20
DEFAULT_MAX_NAVIGATIONS = 5
DEFAULT_JS_HEAP_MB = 512
DEFAULT_GRACE_SECONDS = 30.0
# Where Chromium would send a request that escaped routing: the discard port, where
# nothing listens, so such a request fails. Tests point it at a canary to prove none does.
DEFAULT_BACKSTOP_PROXY = "http://127.0.0.1:9"


@dataclass(frozen=True, slots=True, kw_only=True)
class RendererSettings:
    bind: str = DEFAULT_BIND
    chromium: str = DEFAULT_CHROMIUM
    # Bounded pages in flight; more calls wait for a slot (within their deadline).
    max_pages: int = DEFAULT_MAX_PAGES
    # Browser contexts open at once (one per job); the least recently used idle one goes.
    max_contexts: int = DEFAULT_MAX_CONTEXTS
    # A job's context is replaced after this many pages (and at once after a crash).
    pages_per_context: int = DEFAULT_PAGES_PER_CONTEXT
    # The whole browser is replaced after this many pages (leaks in long-lived processes).
    pages_per_browser: int = DEFAULT_PAGES_PER_BROWSER
    context_idle_seconds: float = DEFAULT_CONTEXT_IDLE_SECONDS
    # Hard cap on one page, fetch of the document included.
    render_timeout: float = DEFAULT_RENDER_TIMEOUT
    # Longest wait for network idle (or the request's selector); then the DOM is taken as it is.
    settle_seconds: float = DEFAULT_SETTLE_SECONDS
    # Network quiet this long counts as idle.
    idle_ms: int = DEFAULT_IDLE_MS
    max_subrequests: int = DEFAULT_MAX_SUBREQUESTS
    max_page_bytes: int = DEFAULT_MAX_PAGE_BYTES
    max_dom_elements: int = DEFAULT_MAX_DOM_ELEMENTS
    max_html_bytes: int = DEFAULT_MAX_HTML_BYTES
    max_frames: int = DEFAULT_MAX_FRAMES
    max_dialogs: int = DEFAULT_MAX_DIALOGS
    max_navigations: int = DEFAULT_MAX_NAVIGATIONS
    # V8 heap per page: a page that allocates without end crashes alone.
    js_heap_mb: int = DEFAULT_JS_HEAP_MB
    backstop_proxy: str = DEFAULT_BACKSTOP_PROXY
    # The network policy, user agent, timeouts and body cap of every request the browser makes.
    fetch: CrawlerSettings = field(default_factory=CrawlerSettings)
    grace_seconds: float = DEFAULT_GRACE_SECONDS
    log_level: str = "info"
    metrics_port: int = 0
    # Service-to-service auth (docspasta/service_auth.py), off unless configured.
    auth: ServiceAuth = ServiceAuth()

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> RendererSettings:
        return cls(
            bind=env_str(env, "RENDERER_BIND", DEFAULT_BIND),
            chromium=env_str(env, "RENDERER_CHROMIUM", DEFAULT_CHROMIUM),
            max_pages=env_int(env, "RENDERER_MAX_PAGES", DEFAULT_MAX_PAGES, minimum=1),
            max_contexts=env_int(env, "RENDERER_MAX_CONTEXTS", DEFAULT_MAX_CONTEXTS, minimum=1),
            pages_per_context=env_int(env, "RENDERER_PAGES_PER_CONTEXT", DEFAULT_PAGES_PER_CONTEXT, minimum=1),
            pages_per_browser=env_int(env, "RENDERER_PAGES_PER_BROWSER", DEFAULT_PAGES_PER_BROWSER, minimum=1),
            context_idle_seconds=env_float(env, "RENDERER_CONTEXT_IDLE_SECONDS", DEFAULT_CONTEXT_IDLE_SECONDS,
                                           minimum=1.0),
            render_timeout=env_float(env, "RENDERER_RENDER_TIMEOUT", DEFAULT_RENDER_TIMEOUT, minimum=1.0),
            settle_seconds=env_float(env, "RENDERER_SETTLE_SECONDS", DEFAULT_SETTLE_SECONDS, minimum=0.1),
            idle_ms=env_int(env, "RENDERER_IDLE_MS", DEFAULT_IDLE_MS, minimum=50),
            max_subrequests=env_int(env, "RENDERER_MAX_SUBREQUESTS", DEFAULT_MAX_SUBREQUESTS, minimum=1),
            max_page_bytes=env_int(env, "RENDERER_MAX_PAGE_BYTES", DEFAULT_MAX_PAGE_BYTES, minimum=1024),
            max_dom_elements=env_int(env, "RENDERER_MAX_DOM_ELEMENTS", DEFAULT_MAX_DOM_ELEMENTS, minimum=100),
            max_html_bytes=env_int(env, "RENDERER_MAX_HTML_BYTES", DEFAULT_MAX_HTML_BYTES, minimum=1024),
            max_frames=env_int(env, "RENDERER_MAX_FRAMES", DEFAULT_MAX_FRAMES, minimum=1),
            max_dialogs=env_int(env, "RENDERER_MAX_DIALOGS", DEFAULT_MAX_DIALOGS, minimum=0),
            max_navigations=env_int(env, "RENDERER_MAX_NAVIGATIONS", DEFAULT_MAX_NAVIGATIONS, minimum=1),
            js_heap_mb=env_int(env, "RENDERER_JS_HEAP_MB", DEFAULT_JS_HEAP_MB, minimum=32),
            backstop_proxy=env_str(env, "RENDERER_BACKSTOP_PROXY", DEFAULT_BACKSTOP_PROXY),
            fetch=CrawlerSettings.from_env(env),
            grace_seconds=env_float(env, "RENDERER_GRACE_SECONDS", DEFAULT_GRACE_SECONDS),
            log_level=env_str(env, "LOG_LEVEL", "info"),
            metrics_port=env_int(env, "RENDERER_METRICS_PORT", 0),
            auth=ServiceAuth.from_env(env),
        )
