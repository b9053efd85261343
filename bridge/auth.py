"""Who may do what: job credentials, operator API keys, CORS, and the per-client rate
limit on job creation.

A job credential is a random token handed out once at creation; Redis keeps only its
SHA-256. A request for a job with a missing or wrong token gets the same 404 as a job
that does not exist. Tokens and keys never reach a log line (see ``AccessLogger``)."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Awaitable, Callable

import redis.asyncio as aioredis
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.typedefs import Middleware
from multidict import CIMultiDict

from bridge.errors import error_response

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
TOKEN_BYTES = 32


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def request_token(request: web.Request) -> str:
    """``Authorization: Bearer <token>``, else ``?token=`` (EventSource cannot set headers)."""
    auth = request.headers.get("Authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.query.get("token", "")


def token_matches(token: str, stored_hash: str) -> bool:
    if not token or not stored_hash:
        return False
    return hmac.compare_digest(token_hash(token), stored_hash)


def _is_mcp(request: web.Request) -> bool:
    return request.path == "/mcp" or request.path.startswith("/mcp/")


def given_api_key(request: web.Request) -> str:
    """The operator API key a request carries: ``X-API-Key``, else ``?api_key=``; on
    ``/mcp`` also ``Authorization: Bearer <key>``, what MCP clients know how to send
    (on ``/api/`` the bearer token is a job's token)."""
    given = request.headers.get("X-API-Key") or request.query.get("api_key", "")
    if not given and _is_mcp(request):
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        given = value.strip() if scheme.lower() == "bearer" else ""
    return given


def api_key_scope(request: web.Request) -> str:
    """What an ``Idempotency-Key`` (and a job started over MCP) is scoped to: the
    operator API key the request carries (hashed), or one shared scope when the server
    needs none."""
    given = given_api_key(request)
    return hashlib.sha256(given.encode("utf-8", "surrogatepass")).hexdigest() if given else ""


def api_key_middleware(keys: tuple[str, ...]) -> Middleware:
    """Every ``/api/`` and ``/mcp`` request needs one of ``keys`` (``given_api_key``)."""
    digests = [hashlib.sha256(k.encode()).digest() for k in keys]

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        guarded = request.path.startswith("/api/") or _is_mcp(request)
        if digests and guarded and request.method != "OPTIONS":
            given = given_api_key(request)
            digest = hashlib.sha256(given.encode("utf-8", "surrogatepass")).digest()
            if not given or not any(hmac.compare_digest(digest, d) for d in digests):
                return error_response(401, "unauthenticated", "a valid API key is required (X-API-Key)",
                                      headers={"WWW-Authenticate": 'ApiKey realm="docspasta"'})
        return await handler(request)

    return middleware


def cors_middleware(origins: tuple[str, ...]) -> Middleware:
    """CORS headers only for configured origins, echoed (never ``*``); no credentials
    are needed since job tokens travel in a header or the query."""
    allowed = frozenset(origins)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get("Origin", "")
        ok = bool(origin) and origin in allowed
        if request.method == "OPTIONS" and request.headers.get("Access-Control-Request-Method"):
            if not ok:
                return web.Response(status=403)
            resp: web.StreamResponse = web.Response(status=204)
            resp.headers["Access-Control-Allow-Methods"] = "GET, POST, DELETE, OPTIONS"
            resp.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type, Idempotency-Key, Last-Event-ID, X-API-Key"
            resp.headers["Access-Control-Max-Age"] = "600"
        else:
            try:
                resp = await handler(request)
            except web.HTTPException as exc:
                # Raised on (an HTTPException returned as a response is deprecated and skips
                # errors_middleware's JSON body), with the CORS headers it would have had.
                _cors_headers(exc.headers, origin if ok else "")
                raise
        if not resp.prepared:
            _cors_headers(resp.headers, origin if ok else "")
        return resp

    return middleware


def _cors_headers(headers: CIMultiDict[str], origin: str) -> None:
    if origin:
        headers["Access-Control-Allow-Origin"] = origin
        headers["Access-Control-Expose-Headers"] = "Content-Disposition, Idempotent-Replayed, Retry-After, Location"
    headers.add("Vary", "Origin")


def client_ip(request: web.Request, trusted_proxies: int) -> str:
    if trusted_proxies > 0:
        hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
        if len(hops) >= trusted_proxies:
            candidate = hops[-trusted_proxies]
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                pass
    return request.remote or "unknown"


_BUCKET = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local data = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(data[1]) or burst
local ts = tonumber(data[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local allowed = 0
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait = math.ceil((1 - tokens) / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate) + 1000)
return {allowed, wait}
"""


class RateLimiter:
    """A token bucket per client in Redis, shared by every replica."""

    def __init__(self, redis: aioredis.Redis, *, prefix: str, per_minute: float, burst: int) -> None:
        self.redis = redis
        self.prefix = prefix
        self.rate_per_ms = per_minute / 60_000
        self.burst = burst

    async def take(self, client: str) -> float:
        """0 when allowed, else the seconds to wait."""
        allowed, wait_ms = await self.redis.eval(_BUCKET, 1, f"{self.prefix}rate:{client}",
                                                 repr(self.rate_per_ms), str(self.burst))
        return 0.0 if int(allowed) else max(int(wait_ms), 1) / 1000


class AccessLogger(AbstractAccessLogger):
    """Method, path without the query (it may hold a token), status and time."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info("%s %s %s %.3fs", request.method, request.rel_url.path, response.status, time)

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(20)
