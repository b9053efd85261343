"""The MCP tools' backend inside the bridge (docspasta/mcp_tools.py ``Backend``): the
same job calls as the JSON API, made in-process on the bridge's own Redis buffer, gRPC
clients and pumps — no HTTP round trip to itself, and the caller's own address for the
rate limit.

Jobs started over MCP belong to the API key that started them (its hash, one shared
scope on a server without keys, like an ``Idempotency-Key``): a Redis record per job
says which, and every later call checks it, so one key's jobs are invisible to
another's. The record lives as long as the job's buffer; any replica can serve any
call (the MCP endpoint is stateless)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, cast

import grpc
from aiohttp import web

from bridge import api, downloads
from bridge.api import Bridge
from bridge.errors import grpc_error
from bridge.validation import Invalid, parse_job_request
from docspasta.client import ClientError, CrawlOptions, Event, InvalidRequest, Job, JobNotFound, Page, Unavailable
from docspasta.client.errors import CallTimeout
from docspasta.client.grpc_pages import download
from docspasta.events import job_dict
from docspasta.ids import valid_job_id
from docspasta.v1 import orchestrator_pb2 as pb

# How long one wait for new events blocks on Redis before the job's end is checked again.
EVENTS_BLOCK_MS = 5000


def _error_of(resp: web.Response) -> ClientError:
    """A JSON error response of the API (bridge/errors.py) as the client's error."""
    try:
        error = json.loads(cast(bytes, resp.body)).get("error", {})
    except (TypeError, ValueError, AttributeError):
        error = {}
    kind: type[ClientError] = {400: InvalidRequest, 404: JobNotFound, 502: Unavailable, 503: Unavailable,
                               504: CallTimeout}.get(resp.status, ClientError)
    retry = resp.headers.get("Retry-After")
    return kind(code=str(error.get("code") or f"http_{resp.status}"), message=str(error.get("message", "")),
                field=str(error.get("field") or ""), status=resp.status,
                retry_after=float(retry) if retry and retry.isdigit() else None)


def _not_found() -> JobNotFound:
    return JobNotFound(code="not_found", message="no such job (jobs are visible to the API key that started them)",
                       status=404)


@dataclass(kw_only=True)
class BridgeBackend:
    """The job calls of one MCP request: ``scope`` owns the jobs, ``client`` is the
    address its rate limit is counted against."""

    bridge: Bridge
    scope: str
    client: str

    def _owner_key(self, job_id: str) -> str:
        return f"{self.bridge.settings.redis_prefix}job:{{{job_id}}}:mcp-owner"

    async def _meta(self, job_id: str) -> dict[str, str]:
        if not valid_job_id(job_id):
            raise _not_found()
        owner = await self.bridge.redis.get(self._owner_key(job_id))
        meta = await self.bridge.buffer.meta(job_id) if owner is not None else None
        if meta is None or owner != self.scope:
            raise _not_found()
        return meta

    async def start(self, url: str, options: CrawlOptions | None = None) -> Job:
        bridge = self.bridge
        try:
            start_url, job_options = parse_job_request({"url": url, **(options or CrawlOptions()).to_json()},
                                                       bridge.limits)
        except Invalid as exc:
            raise InvalidRequest(code="invalid_argument", message=str(exc), field=exc.field, status=400) from None
        wait = await bridge.limiter.take(self.client)
        if wait:
            retry = max(1, int(wait + 0.999))
            raise ClientError(code="rate_limited", message=f"too many jobs from this client; retry in {retry} s",
                              retry_after=float(retry), status=429)
        # Shielded, as in POST /api/jobs: a caller gone mid-call leaves no job without its records.
        resp = await asyncio.shield(self._start(start_url, job_options))
        data = json.loads(cast(bytes, resp.body))
        return Job.from_json({**data["job"], "job_id": data["job_id"]})

    async def _start(self, url: str, options: pb.JobOptions) -> web.Response:
        resp = await api._start(self.bridge, url, options, None)
        if resp.status >= 400:
            raise _error_of(resp)
        job_id = json.loads(cast(bytes, resp.body))["job_id"]
        await self.bridge.redis.set(self._owner_key(job_id), self.scope,
                                    px=int(self.bridge.settings.job_ttl_seconds * 1000))
        return resp

    async def get(self, job: str) -> Job:
        meta = await self._meta(job)
        try:
            found = await api._job_call(self.bridge, job, meta, "GetJob", pb.GetJobRequest(job_id=job))
        except grpc.aio.AioRpcError as exc:
            if meta.get("terminal") and exc.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.UNAVAILABLE):
                return await self._from_buffer(job, meta)
            raise _error_of(grpc_error(exc)) from None
        return Job.from_json(job_dict(found))

    async def cancel(self, job: str) -> Job:
        meta = await self._meta(job)
        if meta.get("terminal"):
            return await self._from_buffer(job, meta)
        try:
            found = await api._job_call(self.bridge, job, meta, "CancelJob", pb.CancelJobRequest(job_id=job))
        except grpc.aio.AioRpcError as exc:
            raise _error_of(grpc_error(exc)) from None
        return Job.from_json(job_dict(found))

    async def _from_buffer(self, job: str, meta: dict[str, str]) -> Job:
        return Job.from_json(api._fallback_status(job, meta, await self.bridge.buffer.last_sequence(job)))

    async def events(self, job: str, *, after: int = 0) -> AsyncIterator[Event]:
        """The job's events after ``after`` from the Redis buffer, live, to the terminal one."""
        meta = await self._meta(job)
        buffer = self.bridge.buffer
        if not meta.get("terminal"):
            await self.bridge.pumps.ensure(job, meta)
        cursor = after
        while True:
            entries = await buffer.read_blocking(job, cursor, block_ms=EVENTS_BLOCK_MS)
            for entry in entries:
                cursor = entry.sequence
                yield Event.from_json(json.loads(entry.data))
                if entry.terminal:
                    return
            if not entries:
                meta = await buffer.meta(job) or {}
                if not meta or cursor >= int(meta.get("terminal_sequence") or 0) > 0:
                    return  # finished (or expired) with nothing more to read

    async def pages(self, job: str) -> list[Page]:
        await self._meta(job)
        source = downloads.PageSource(clients=self.bridge.clients, job_id=job,
                                      timeout=self.bridge.settings.list_pages_timeout)
        try:
            return [Page(url=p.url, title=p.title, markdown=p.markdown, word_count=p.word_count,
                         token_estimate=p.token_estimate, description=p.description)
                    async for p in source.crawl_order()]
        except grpc.aio.AioRpcError as exc:
            raise _error_of(grpc_error(exc)) from None

    async def markdown(self, job: str) -> str:
        meta = await self._meta(job)
        source = downloads.PageSource(clients=self.bridge.clients, job_id=job,
                                      timeout=self.bridge.settings.list_pages_timeout)
        try:
            data = await download(source, "markdown", url=meta.get("url", ""))
        except grpc.aio.AioRpcError as exc:
            raise _error_of(grpc_error(exc)) from None
        return data.decode("utf-8")

