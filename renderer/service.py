"""The Renderer gRPC servicer: validate, render within the call's deadline, answer."""

from __future__ import annotations

import logging
import math
import time

import grpc

from crawler.service import url_problem
from docspasta import errors, logs, metrics
from docspasta.ids import valid_job_id
from docspasta.rpc import DEFAULT_MAX_MESSAGE_BYTES
from docspasta.v1 import common_pb2, renderer_pb2, renderer_pb2_grpc
from renderer.browser import BrowserUnavailable
from renderer.render import PageRenderer, failed
from renderer.settings import RendererSettings

log = logging.getLogger(__name__)

MAX_SELECTOR_LENGTH = 1000
MAX_TIMEOUT_SECONDS = 3600.0
# Kept back from the call's deadline so the answer (an error, at worst) still arrives.
DEADLINE_MARGIN = 0.5
_RESPONSE_MARGIN = 64 * 1024
# ErrorInfo.reason values of this service (docspasta/errors.py has the shared ones).
BROWSER_MISSING = "BROWSER_MISSING"          # FAILED_PRECONDITION: no Chromium on this machine
DEADLINE_TOO_SHORT = "DEADLINE_TOO_SHORT"    # DEADLINE_EXCEEDED before any work
_RESULTS = {value: name.removeprefix("ERROR_CATEGORY_").lower() for name, value in common_pb2.ErrorCategory.items()}

RenderContext = grpc.aio.ServicerContext[renderer_pb2.RenderRequest, renderer_pb2.RenderResponse]


class RendererService(renderer_pb2_grpc.RendererServicer):
    def __init__(self, *, settings: RendererSettings, renderer: PageRenderer,
                 max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES) -> None:
        self._settings = settings
        self._renderer = renderer
        self._max_message_bytes = max_message_bytes

    async def Render(self, request: renderer_pb2.RenderRequest, context: RenderContext) -> renderer_pb2.RenderResponse:
        url = request.url.strip()
        if problem := url_problem(url, max_length=self._settings.fetch.max_url_length):
            await errors.abort_invalid(context, "url", problem)
        if request.job_id and not valid_job_id(request.job_id):
            await errors.abort_invalid(context, "job_id", "1-128 characters of letters, digits, '_', '-', '.', ':'")
        selector = request.wait_selector.strip()
        if len(selector) > MAX_SELECTOR_LENGTH or any(ord(c) < 0x20 for c in selector):
            await errors.abort_invalid(context, "wait_selector",
                                       f"a CSS selector of at most {MAX_SELECTOR_LENGTH} characters")
        timeout = request.timeout_seconds
        if not math.isfinite(timeout) or not 0 <= timeout <= MAX_TIMEOUT_SECONDS:
            await errors.abort_invalid(context, "timeout_seconds",
                                       f"between 0 (the default) and {MAX_TIMEOUT_SECONDS:g}")
        if request.max_requests < 0:
            await errors.abort_invalid(context, "max_requests", "must not be negative")
        remaining = context.time_remaining()
        if remaining is not None:
            budget = remaining - DEADLINE_MARGIN
            if budget <= 0:
                await errors.abort(context, grpc.StatusCode.DEADLINE_EXCEEDED,
                                   "the call's deadline leaves no time to render", reason=DEADLINE_TOO_SHORT)
            timeout = min(timeout, budget) if timeout else budget
        logs.job_id_var.set(request.job_id)
        logs.url_var.set(url)
        started = time.monotonic()
        metrics.RENDER_PAGES_OPEN.inc()
        try:
            response = await self._renderer.render(url, job_id=request.job_id, wait_selector=selector,
                                                   timeout=timeout, max_requests=request.max_requests)
        except BrowserUnavailable as exc:
            metrics.PAGES_RENDERED.labels("no_browser").inc()
            await errors.abort(context, grpc.StatusCode.FAILED_PRECONDITION, str(exc), reason=BROWSER_MISSING)
        finally:
            metrics.RENDER_PAGES_OPEN.dec()
        result = _RESULTS.get(response.page.error, "invalid") if response.page.error else "ok"
        metrics.PAGES_RENDERED.labels(result).inc()
        metrics.RENDER_SECONDS.observe(time.monotonic() - started)
        metrics.RENDER_SUBREQUESTS.labels("fetched").inc(response.subrequests)
        metrics.RENDER_SUBREQUESTS.labels("blocked").inc(response.blocked_requests)
        if response.page.error:
            log.info("render failed", extra={"category": result, "reason": response.page.error_message})
        if response.ByteSize() > self._max_message_bytes - _RESPONSE_MARGIN:
            return failed(url, "too_large", f"the rendered page does not fit in a {self._max_message_bytes} byte message",
                          final_url=response.page.final_url, status=response.page.status)
        return response
