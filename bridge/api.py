"""The JSON API: create, inspect and cancel jobs, stream their events, take their
Markdown and page list."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import grpc
import redis.asyncio as aioredis
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bridge import downloads, idempotency
from bridge.auth import (RateLimiter, api_key_scope, client_ip, new_token, request_token, token_hash,
                         token_matches)
from bridge.body import DEFAULT_MAX_BODY_BYTES, BadBody, read_json
from bridge.buffer import EventBuffer, final_totals
from bridge.clients import Clients
from bridge.errors import error_response, grpc_error, not_found
from bridge.fanout import Hub
from bridge.idempotency import Idempotency
from bridge.pump import Pumps
from bridge.settings import BridgeSettings
from bridge.sse import BadEventId, EventStream, parse_last_event_id
from bridge.validation import Invalid, Limits, parse_job_request, parse_webhook
from docspasta import bundle
from docspasta.errors import retry_after_of
from docspasta.events import job_dict
from docspasta.ids import valid_job_id
from docspasta.v1 import orchestrator_pb2 as pb, processor_pb2

log = logging.getLogger(__name__)
MAX_BODY_BYTES = DEFAULT_MAX_BODY_BYTES
START_RETRY_SECONDS = 0.2
MAX_START_RETRY_SECONDS = 2.0


@dataclass(kw_only=True)
class Bridge:
    """Everything a handler needs, built once per process."""

    settings: BridgeSettings
    redis: aioredis.Redis
    buffer: EventBuffer
    clients: Clients
    pumps: Pumps
    hub: Hub
    limiter: RateLimiter
    idempotency: Idempotency
    # Set on SIGTERM: /healthz answers 503 so balancers stop routing here before we stop.
    draining: bool = False

    @property
    def limits(self) -> Limits:
        s = self.settings
        return Limits(max_pages=s.limit_max_pages, max_depth=s.limit_max_depth, concurrency=s.limit_concurrency,
                      timeout_seconds=s.limit_timeout_seconds, allow_private_network=s.allow_private_network)


BRIDGE = web.AppKey("bridge", Bridge)


def job_urls(job_id: str) -> dict[str, str]:
    base = f"/api/jobs/{job_id}"
    return {"status": base, "events": f"{base}/events", "markdown": f"{base}/markdown", "pages": f"{base}/pages",
            "llms_txt": f"{base}/llms.txt", "llms_full_txt": f"{base}/llms-full.txt",
            "archive": f"{base}/archive.zip"}


async def _authorized(request: web.Request, *, shared_meta: bool = False,
                      ) -> tuple[Bridge, str, dict[str, str]] | None:
    """The job's id and metadata when the request carries its token, else None (404).
    ``shared_meta``: one metadata read serves the job's streams opening together."""
    bridge = request.app[BRIDGE]
    job_id = request.match_info["job_id"]
    if not valid_job_id(job_id):
        return None
    token = request_token(request)
    if not token:
        return None
    meta = await (bridge.hub.meta(job_id) if shared_meta else bridge.buffer.meta(job_id))
    if meta is None or not token_matches(token, meta.get("token_hash", "")):
        return None
    return bridge, job_id, meta


async def create_job(request: web.Request) -> web.StreamResponse:
    bridge = request.app[BRIDGE]
    if request.content_type != "application/json":
        return error_response(415, "unsupported_media_type", "send the job as application/json", field="body")
    try:
        body = await read_json(request, max_bytes=MAX_BODY_BYTES, timeout=bridge.settings.body_timeout)
    except BadBody as exc:
        resp = error_response(exc.status, exc.code, exc.message, field=exc.field)
        if exc.status in (408, 413):  # the rest of the body is not worth waiting for
            resp.force_close()
        return resp
    try:
        url, options = parse_job_request(body, bridge.limits)
        webhook = parse_webhook(body, bridge.limits)
    except Invalid as exc:
        return error_response(400, "invalid_argument", str(exc), field=exc.field)
    claim: idempotency.Claim | None = None
    key = request.headers.get(idempotency.HEADER)
    if key is not None:
        try:
            claim = await bridge.idempotency.claim(idempotency.check_key(key), scope=api_key_scope(request),
                                                   body=body)
        except idempotency.BadKey as exc:
            return error_response(400, "invalid_argument", str(exc), field=idempotency.HEADER)
        except idempotency.KeyReused as exc:
            return error_response(422, "idempotency_key_reused", str(exc), field=idempotency.HEADER)
    if claim is None or not claim.job_id:  # a replay of a started job costs no new job
        wait = await bridge.limiter.take(client_ip(request, bridge.settings.trusted_proxies))
        if wait:
            retry = max(1, int(wait + 0.999))
            return error_response(429, "rate_limited", f"too many jobs from this client; retry in {retry} s",
                                  headers={"Retry-After": str(retry)})
    # Shielded: a client that goes away mid-request must not leave a job without metadata.
    return await asyncio.shield(_start(bridge, url, options, claim, webhook))


async def _start_job(bridge: Bridge, target: str, request: pb.StartJobRequest) -> pb.StartJobResponse:
    """StartJob, retried while the orchestrators are full or unreachable and the RPC
    budget lasts: safe because the request id makes every retry return the same job."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + bridge.settings.rpc_timeout
    delay = START_RETRY_SECONDS
    refused: grpc.aio.AioRpcError | None = None
    while True:
        try:
            return await bridge.clients.orchestrator(target).StartJob(
                request, timeout=max(0.1, deadline - loop.time()))
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.DEADLINE_EXCEEDED and refused is not None:
                # The last retry ran out of budget while the channel was still reconnecting:
                # the truthful answer is the unreachable backend (503), not a slow one (504).
                raise refused from exc
            if exc.code() not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED):
                raise
            refused = exc
            wait = min(retry_after_of(exc) or delay, MAX_START_RETRY_SECONDS)
            if loop.time() + wait + 0.1 >= deadline:
                raise
            await asyncio.sleep(wait)
            delay = min(delay * 2, MAX_START_RETRY_SECONDS)


async def _start(bridge: Bridge, url: str, options: pb.JobOptions, claim: idempotency.Claim | None,
                 webhook: pb.Webhook | None = None) -> web.Response:
    if claim and claim.job_id:
        replay = await _replay(bridge, claim)
        if replay is not None:
            return replay
    target = bridge.settings.orchestrator_target
    request_id = claim.request_id if claim else idempotency.new_request_id()
    try:
        started = await _start_job(bridge, target, pb.StartJobRequest(url=url, options=options,
                                                                       request_id=request_id, webhook=webhook))
    except grpc.aio.AioRpcError as exc:
        return grpc_error(exc)
    job_id = started.job_id
    token = claim.token if claim else new_token()
    meta = await bridge.buffer.meta(job_id)
    # A job already registered was started by a concurrent request with the same key
    # (the orchestrator returned its job for our request id): same token, nothing to add.
    if meta is None:
        await bridge.buffer.create_job(job_id, token_hash=token_hash(token), url=started.job.url or url,
                                       orchestrator=target, timeout_seconds=started.job.options.timeout_seconds)
    if claim:
        await bridge.idempotency.remember(claim, job_id)
    await bridge.pumps.ensure(job_id)
    return _created(job_id, token, job_dict(started.job), replayed=meta is not None)


async def _replay(bridge: Bridge, claim: idempotency.Claim) -> web.Response | None:
    """The answer to a retry of a request that already started its job, or None when
    that job is no longer known here (start again: the orchestrator decides)."""
    meta = await bridge.buffer.meta(claim.job_id)
    if meta is None or not token_matches(claim.token, meta.get("token_hash", "")):
        return None
    try:
        job = job_dict(await _job_call(bridge, claim.job_id, meta, "GetJob", pb.GetJobRequest(job_id=claim.job_id)))
    except grpc.aio.AioRpcError as exc:
        if not meta.get("terminal"):
            return grpc_error(exc)
        job = _fallback_status(claim.job_id, meta, await bridge.buffer.last_sequence(claim.job_id))
    return _created(claim.job_id, claim.token, job, replayed=True)


def _created(job_id: str, token: str, job: dict[str, Any], *, replayed: bool) -> web.Response:
    urls = job_urls(job_id)
    headers = {"Location": urls["status"]}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return web.json_response({"job_id": job_id, "token": token, "state": job.get("state", ""), "urls": urls,
                              "job": job}, status=201, headers=headers)


async def _job_call(bridge: Bridge, job_id: str, meta: dict[str, str], method: str,
                    request: pb.GetJobRequest | pb.CancelJobRequest) -> pb.Job:
    """GetJob / CancelJob on the replica the job id names, else on any replica (every
    replica serves every job from the store): one that is down is not the job's end."""
    targets = bridge.clients.job_targets(job_id, meta.get("orchestrator", ""))
    for i, target in enumerate(targets):
        stub = bridge.clients.orchestrator(target)
        try:
            job: pb.Job = await getattr(stub, method)(request, timeout=bridge.settings.rpc_timeout)
            return job
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.UNAVAILABLE or i == len(targets) - 1:
                raise
    raise AssertionError("no orchestrator target")  # pragma: no cover - job_targets is never empty


def _fallback_status(job_id: str, meta: dict[str, str], last_sequence: int) -> dict[str, Any]:
    state = meta.get("terminal", "").removeprefix("job_") or "unknown"
    return {"job_id": job_id, "url": meta.get("url", ""), "state": state, "totals": final_totals(meta),
            "last_sequence": last_sequence, "source": "buffer"}


async def get_job(request: web.Request) -> web.StreamResponse:
    found = await _authorized(request)
    if found is None:
        return not_found()
    bridge, job_id, meta = found
    try:
        job = await _job_call(bridge, job_id, meta, "GetJob", pb.GetJobRequest(job_id=job_id))
    except grpc.aio.AioRpcError as exc:
        if meta.get("terminal") and exc.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.UNAVAILABLE):
            return web.json_response(_fallback_status(job_id, meta, await bridge.buffer.last_sequence(job_id)))
        return grpc_error(exc)
    data = job_dict(job)
    data["buffered_sequence"] = await bridge.buffer.last_sequence(job_id)
    return web.json_response(data)


async def cancel_job(request: web.Request) -> web.StreamResponse:
    found = await _authorized(request)
    if found is None:
        return not_found()
    bridge, job_id, meta = found
    if meta.get("terminal"):
        return web.json_response(_fallback_status(job_id, meta, await bridge.buffer.last_sequence(job_id)))
    try:
        job = await _job_call(bridge, job_id, meta, "CancelJob", pb.CancelJobRequest(job_id=job_id))
    except grpc.aio.AioRpcError as exc:
        return grpc_error(exc)
    return web.json_response(job_dict(job))


async def job_events(request: web.Request) -> web.StreamResponse:
    found = await _authorized(request, shared_meta=True)
    if found is None:
        return not_found()
    bridge, job_id, meta = found
    try:
        cursor = parse_last_event_id(request)
    except BadEventId as exc:
        return error_response(400, "invalid_argument", str(exc), field=str(exc).split(":", 1)[0])
    if bridge.hub.clients >= bridge.settings.max_sse_clients:
        return error_response(503, "busy", "too many open event streams on this server",
                              headers={"Retry-After": "5"})
    if not meta.get("terminal"):
        await bridge.pumps.ensure(job_id, meta)
    stream = EventStream(hub=bridge.hub, job_id=job_id, cursor=cursor, retry_ms=bridge.settings.sse_retry_ms)
    return await stream.run(request)


# Each download: (writer, content type, file name suffix), from the pages stored so far.
DOCUMENTS: dict[str, tuple[downloads.Writer, str, str]] = {
    "markdown": (downloads.write_combined, "text/markdown; charset=utf-8", ".md"),
    "llms.txt": (downloads.write_llms, "text/plain; charset=utf-8", "-llms.txt"),
    "llms-full.txt": (downloads.write_llms_full, "text/plain; charset=utf-8", "-llms-full.txt"),
    "archive.zip": (downloads.write_archive, "application/zip", ".zip"),
}
SELECTION_MAX_BYTES = 4 * 1024 * 1024


async def _download(request: web.Request, bridge: Bridge, job_id: str, meta: dict[str, str],
                    write: downloads.Writer, content_type: str, suffix: str | None,
                    keep: Callable[[processor_pb2.Page], bool] | None = None) -> web.StreamResponse:
    """Streams one download (bridge/downloads.py). A processor error before the first
    byte is a JSON error; after it the connection is cut, so the client sees a
    truncated (failed) transfer rather than a short file that looks complete."""
    url = meta.get("url", "")
    today = date.today()
    headers = {"Content-Type": content_type, "Cache-Control": "no-store"}
    if suffix is not None:
        headers["Content-Disposition"] = f'attachment; filename="{bundle.default_filename(url, today, suffix=suffix)}"'
    source = downloads.PageSource(clients=bridge.clients, job_id=job_id, timeout=bridge.settings.list_pages_timeout)
    if keep is not None:
        source.keep = keep
    body = downloads.Body(request, web.StreamResponse(headers=headers))
    try:
        await write(source, body, url, today)
    except grpc.aio.AioRpcError as exc:
        if not body.resp.prepared:
            return grpc_error(exc)
        log.warning("download cut: the processor failed", extra={"job_id": job_id, "code": exc.code().name})
        raise
    return await body.finish()


async def job_document(request: web.Request) -> web.StreamResponse:
    found = await _authorized(request)
    if found is None:
        return not_found()
    bridge, job_id, meta = found
    write, content_type, suffix = DOCUMENTS[request.match_info["document"]]
    return await _download(request, bridge, job_id, meta, write, content_type, suffix)


async def job_pages(request: web.Request) -> web.StreamResponse:
    found = await _authorized(request)
    if found is None:
        return not_found()
    bridge, job_id, meta = found
    return await _download(request, bridge, job_id, meta, downloads.write_jsonl,
                           "application/x-ndjson; charset=utf-8", None)


async def job_selection(request: web.Request) -> web.StreamResponse:
    """POST /api/jobs/{id}/markdown {"urls": [...]} or {"exclude": [...]}: the combined
    document of some of the job's pages (the page's select-before-copy)."""
    found = await _authorized(request)
    if found is None:
        return not_found()
    bridge, job_id, meta = found
    try:
        body = await read_json(request, max_bytes=SELECTION_MAX_BYTES, timeout=bridge.settings.body_timeout)
    except BadBody as exc:
        return error_response(exc.status, exc.code, exc.message, field=exc.field)
    if not isinstance(body, dict) or len(body) != 1 or not ({"urls", "exclude"} & set(body)):
        return error_response(400, "invalid_argument", 'body: {"urls": [...]} or {"exclude": [...]}', field="body")
    key, listed = next(iter(body.items()))
    if not isinstance(listed, list) or not all(isinstance(u, str) for u in listed):
        return error_response(400, "invalid_argument", f"{key}: must be a list of URLs", field=key)
    chosen = frozenset(listed)
    include = key == "urls"
    write, content_type, suffix = DOCUMENTS["markdown"]
    return await _download(request, bridge, job_id, meta, write, content_type, suffix,
                           keep=lambda page: (page.url in chosen) == include)


async def healthz(request: web.Request) -> web.StreamResponse:
    bridge = request.app[BRIDGE]
    if bridge.draining:
        return web.json_response({"status": "draining", "instance": bridge.settings.instance_id}, status=503)
    try:
        async with asyncio.timeout(2):
            await bridge.redis.ping()
    except (OSError, TimeoutError, aioredis.RedisError):
        return web.json_response({"status": "unhealthy", "redis": "down"}, status=503)
    return web.json_response({"status": "ok", "instance": bridge.settings.instance_id,
                              "sse_clients": bridge.hub.clients, "feeds": len(bridge.hub.feeds)})


async def metrics_endpoint(request: web.Request) -> web.StreamResponse:
    """Prometheus metrics of this bridge process (SSE clients, buffer lag, ...)."""
    return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/jobs", create_job)
    app.router.add_get("/api/jobs/{job_id}", get_job)
    app.router.add_delete("/api/jobs/{job_id}", cancel_job)
    app.router.add_get("/api/jobs/{job_id}/events", job_events)
    documents = "|".join(re.escape(name) for name in DOCUMENTS)
    app.router.add_get("/api/jobs/{job_id}/{document:(" + documents + ")}", job_document)
    app.router.add_get("/api/jobs/{job_id}/pages", job_pages)
    app.router.add_post("/api/jobs/{job_id}/markdown", job_selection)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_endpoint)
