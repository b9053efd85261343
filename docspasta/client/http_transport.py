"""The client over HTTP: the bridge's /api/jobs endpoints and its SSE event stream."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp

from docspasta.client.errors import CallTimeout, ClientError, InvalidRequest, JobNotFound, Unavailable
from docspasta.client.models import CrawlOptions, Event, Job, Page
from docspasta.client.retry import RETRYABLE, retrying
from docspasta.client.sse import SSEParser

# Reconnects in a row that bring no event before the stream counts as broken.
MAX_IDLE_RECONNECTS = 5
# The SSE stream sends keep-alive comments; this long without a byte means a dead connection.
DEFAULT_READ_TIMEOUT = 60.0
DOCUMENTS = ("markdown", "llms.txt", "llms-full.txt", "archive.zip", "pages")
# One page's JSON line from /pages: a page's Markdown is at most 4 MiB
# (PROCESSOR_MAX_MARKDOWN_BYTES) and JSON escapes a few characters; far above both.
MAX_PAGE_LINE_BYTES = 64 * 1024 * 1024


async def _error_of(resp: aiohttp.ClientResponse) -> ClientError:
    try:
        body = await resp.json(content_type=None)
        error = body.get("error", {}) if isinstance(body, dict) else {}
    except (ValueError, aiohttp.ClientError):
        error = {}
    code = str(error.get("code") or f"http_{resp.status}")
    message = str(error.get("message") or resp.reason or "")
    retry_after: float | None = None
    try:
        retry_after = float(resp.headers["Retry-After"])
    except (KeyError, ValueError):
        pass
    kind: type[ClientError] = ClientError
    if resp.status == 404:
        kind = JobNotFound
    elif resp.status == 400:
        kind = InvalidRequest
    elif resp.status in (502, 503):
        kind = Unavailable
    elif resp.status == 504:
        kind = CallTimeout
    if resp.status in (502, 503) and code.startswith("http_"):
        code = "unavailable"  # a proxy's answer: the bridge is not reachable right now
    return kind(code=code, message=message, field=str(error.get("field") or ""), retry_after=retry_after,
                status=resp.status)


def _network_error(exc: BaseException) -> ClientError:
    if isinstance(exc, TimeoutError):
        return CallTimeout(code="deadline_exceeded", message="the bridge did not answer in time")
    return Unavailable(code="unavailable", message=f"cannot reach the bridge: {exc}")


class HttpTransport:
    def __init__(self, *, base_url: str, api_key: str = "", session: aiohttp.ClientSession | None = None,
                 read_timeout: float = DEFAULT_READ_TIMEOUT) -> None:
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._own_session = session is None
        self._session = session
        self._read_timeout = read_timeout

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    def _headers(self, token: str = "") -> dict[str, str]:
        headers = {}
        if self._api_key:
            headers["X-API-Key"] = self._api_key
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    async def _json(self, method: str, path: str, *, timeout: float, token: str = "", body: Any = None,
                    headers: dict[str, str] | None = None) -> tuple[dict[str, Any], aiohttp.ClientResponse]:
        try:
            async with self._http().request(method, self.base_url + path, json=body,
                                            headers={**self._headers(token), **(headers or {})},
                                            timeout=aiohttp.ClientTimeout(total=timeout)) as resp:
                if resp.status >= 400:
                    raise await _error_of(resp)
                data = await resp.json()
                return data, resp
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _network_error(exc) from None

    async def start(self, url: str, options: CrawlOptions, *, request_id: str | None, timeout: float) -> Job:
        # One Idempotency-Key for every retry: the bridge answers them all with one job and token.
        key = request_id or str(uuid.uuid4())
        body = {"url": url, **options.to_json()}

        async def call(remaining: float) -> Job:
            data, resp = await self._json("POST", "/api/jobs", timeout=remaining, body=body,
                                          headers={"Idempotency-Key": key})
            job = dict(data.get("job") or {})
            job.setdefault("job_id", data.get("job_id", ""))
            return Job.from_json(job, token=str(data.get("token", "")),
                                 replayed=resp.headers.get("Idempotent-Replayed") == "true")

        return await retrying(call, timeout=timeout)

    async def get(self, job_id: str, token: str, *, timeout: float) -> Job:
        async def call(remaining: float) -> Job:
            data, _ = await self._json("GET", f"/api/jobs/{job_id}", timeout=remaining, token=token)
            return Job.from_json(data, token=token)

        return await retrying(call, timeout=timeout)

    async def cancel(self, job_id: str, token: str, *, timeout: float) -> Job:
        async def call(remaining: float) -> Job:
            data, _ = await self._json("DELETE", f"/api/jobs/{job_id}", timeout=remaining, token=token)
            return Job.from_json(data, token=token)

        return await retrying(call, timeout=timeout)

    async def download(self, job_id: str, token: str, document: str, *, timeout: float) -> bytes:
        """One of the job's downloads (DOCUMENTS), whole. A transfer cut short is an
        error and is retried (a GET), never returned as a short file."""
        if document not in DOCUMENTS:
            raise InvalidRequest(code="invalid_argument", message=f"document: one of {', '.join(DOCUMENTS)}",
                                 field="document")

        async def call(remaining: float) -> bytes:
            try:
                async with self._http().get(f"{self.base_url}/api/jobs/{job_id}/{document}",
                                            headers=self._headers(token),
                                            timeout=aiohttp.ClientTimeout(total=remaining)) as resp:
                    if resp.status >= 400:
                        raise await _error_of(resp)
                    return await resp.read()
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise _network_error(exc) from None

        return await retrying(call, timeout=timeout)

    async def iter_pages(self, job_id: str, token: str, *, timeout: float) -> AsyncIterator[Page]:
        """The stored pages (``/pages``, JSON lines) one at a time as they arrive, so a big
        job is never held whole. A transfer cut short (a dropped connection, a line
        without its end) is asked for again and the pages already given are skipped:
        each page once, none missing (the job's stored pages do not change once it ended)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        given = 0
        failures = 0
        url = f"{self.base_url}/api/jobs/{job_id}/pages"
        while True:
            seen = 0
            try:
                async with asyncio.timeout_at(deadline):
                    resp = await self._http().get(url, headers=self._headers(token),
                                                  timeout=aiohttp.ClientTimeout(total=None, sock_connect=30,
                                                                                sock_read=self._read_timeout))
                try:
                    if resp.status >= 400:
                        raise await _error_of(resp)
                    while True:
                        async with asyncio.timeout_at(deadline):
                            line = await resp.content.readline(max_line_length=MAX_PAGE_LINE_BYTES)
                        if not line:
                            return
                        if not line.endswith(b"\n"):
                            raise aiohttp.ClientPayloadError("the pages ended inside a line")
                        if not line.strip():
                            continue
                        seen += 1
                        if seen <= given:
                            continue  # given before the transfer was cut
                        try:
                            page = Page.from_json(json.loads(line))
                        except ValueError:
                            raise ClientError(code="data_loss", message="the bridge sent a page that is not JSON",
                                              status=resp.status) from None
                        given += 1
                        failures = 0
                        yield page
                finally:
                    resp.release()
            except TimeoutError:
                raise CallTimeout(code="deadline_exceeded", message=f"pages not read within {timeout:g} s") from None
            except (aiohttp.ClientError, ClientError) as exc:
                error = exc if isinstance(exc, ClientError) else _network_error(exc)
                failures += 1
                if error.code not in RETRYABLE or failures > MAX_IDLE_RECONNECTS or loop.time() >= deadline:
                    raise error from None
                await asyncio.sleep(min(error.retry_after or 0.2 * 2 ** failures, 5.0,
                                        max(0.0, deadline - loop.time())))

    async def pages(self, job_id: str, token: str, *, timeout: float) -> list[Page]:
        return [page async for page in self.iter_pages(job_id, token, timeout=timeout)]

    async def events(self, job_id: str, token: str, *, after: int) -> AsyncIterator[Event]:
        """Every event after ``after``; a dropped connection is reopened with
        ``Last-Event-ID`` = the last sequence received, so nothing is missed or repeated."""
        last = after
        idle = 0
        url = f"{self.base_url}/api/jobs/{job_id}/events"
        while True:
            got_any = False
            try:
                headers = self._headers(token)
                if last:
                    headers["Last-Event-ID"] = str(last)
                timeout = aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=self._read_timeout)
                async with self._http().get(url, headers=headers, timeout=timeout) as resp:
                    if resp.status >= 400:
                        error = await _error_of(resp)
                        if resp.status not in (502, 503) or idle >= MAX_IDLE_RECONNECTS:
                            raise error
                        idle += 1
                        await asyncio.sleep(min(error.retry_after or 0.2 * 2 ** idle, 5.0))
                        continue
                    parser = SSEParser()
                    async for chunk in resp.content.iter_any():
                        for message in parser.feed(chunk):
                            if message.event == "reset":
                                raise ClientError(code="data_loss", message=json.loads(message.data).get(
                                    "message", "events were dropped"), status=resp.status)
                            event = Event.from_json(json.loads(message.data))
                            if event.sequence <= last:
                                continue  # never repeat one (a proxy replaying the stream)
                            got_any = True
                            idle = 0
                            last = event.sequence
                            yield event
                            if event.terminal:
                                return
            except (aiohttp.ClientError, TimeoutError) as exc:
                if got_any:
                    continue
                idle += 1
                if idle > MAX_IDLE_RECONNECTS:
                    raise _network_error(exc) from None
                await asyncio.sleep(min(0.2 * 2 ** idle, 5.0))
                continue
            if not got_any:
                # The stream closed with nothing new and no terminal event.
                idle += 1
                if idle > MAX_IDLE_RECONNECTS:
                    raise Unavailable(code="unavailable", message="the event stream keeps closing without events")
                await asyncio.sleep(min(0.2 * 2 ** idle, 5.0))
