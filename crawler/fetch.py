"""The HTTP fetch step: one URL to a decoded page, within hard limits.

The fetcher is a seam (``Fetcher``): the service depends on the protocol, and the
aiohttp implementation below is the real one. Tests run it against loopback
fixture sites, so they need no internet."""

from __future__ import annotations

import asyncio
import re
import socket
import time
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urljoin

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from crawler.safety import Blocked, FetchPolicy, parse_ip
from crawler.settings import CrawlerSettings

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
TEXT_TYPES = frozenset({"text/plain", "text/xml", "application/xml", "application/x-gzip", "application/gzip",
                        "application/octet-stream"})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_CHUNK = 64 * 1024


class FetchError(Exception):
    """A fetch that produced no usable page. ``category`` is the short error name."""

    def __init__(self, category: str, message: str, *, status: int = 0, retry_after: float = 0.0,
                 final_url: str = "", redirects: list[str] | None = None) -> None:
        super().__init__(message)
        self.category = category
        self.message = message
        self.status = status
        self.retry_after = retry_after
        self.final_url = final_url
        self.redirects = redirects or []


@dataclass(slots=True)
class FetchResult:
    url: str
    final_url: str
    status: int
    content_type: str
    text: str
    body_bytes: int
    seconds: float
    redirects: list[str] = field(default_factory=list)


class Fetcher(Protocol):
    async def fetch(self, url: str, *, allow_non_html: bool = False) -> FetchResult: ...

    async def close(self) -> None: ...


class CheckedResolver(AbstractResolver):
    """Resolves with the system resolver, then refuses the host if any of its addresses
    is not allowed. The connector connects to exactly these checked addresses, so a
    rebinding DNS server gets no second lookup."""

    def __init__(self, policy: FetchPolicy) -> None:
        self._policy = policy

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, family=family,
                                       flags=socket.AI_ADDRCONFIG)
        results: list[ResolveResult] = []
        for fam, _, proto, _, sockaddr in infos:
            address = str(sockaddr[0])
            ip = parse_ip(address)
            if ip is None:
                raise Blocked("host resolved to an unusable address")
            self._policy.check_address(ip)
            results.append(ResolveResult(hostname=host, host=address, port=int(sockaddr[1]),
                                         family=fam, proto=proto, flags=socket.AI_NUMERICHOST))
        if not results:
            raise OSError(f"no address for {host}")
        return results

    async def close(self) -> None:
        return None


def parse_retry_after(value: str | None) -> float:
    if not value:
        return 0.0
    try:
        return max(0.0, min(float(value.strip()), 3600.0))
    except ValueError:
        from email.utils import parsedate_to_datetime
        try:
            return max(0.0, min(parsedate_to_datetime(value).timestamp() - time.time(), 3600.0))
        except (TypeError, ValueError, OverflowError):
            return 0.0


def decode(body: bytes, declared: str | None) -> str:
    """Decode a page, surviving a declared charset that lies."""
    candidates = []
    if declared:
        candidates.append(declared)
    if match := _META_CHARSET.search(body[:4096]):
        candidates.append(match.group(1).decode("ascii", "replace"))
    candidates.append("utf-8")
    for charset in candidates:
        try:
            return body.decode(charset)
        except (LookupError, UnicodeDecodeError):
            continue
    return body.decode("utf-8", "replace")


class HttpFetcher:
    """aiohttp fetcher: manual redirects checked hop by hop, decoded-size cap, total
    deadline per fetch."""

    def __init__(self, *, settings: CrawlerSettings) -> None:
        self._settings = settings
        self._policy = FetchPolicy(allow_private_network=settings.allow_private_network,
                                   allowed_ports=settings.allowed_ports,
                                   max_url_length=settings.max_url_length)
        self._session: aiohttp.ClientSession | None = None

    @property
    def policy(self) -> FetchPolicy:
        return self._policy

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(resolver=CheckedResolver(self._policy),
                                             limit=self._settings.connections, limit_per_host=0,
                                             ttl_dns_cache=60, enable_cleanup_closed=False)
            timeout = aiohttp.ClientTimeout(total=None, connect=self._settings.connect_timeout,
                                            sock_read=self._settings.fetch_timeout)
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=timeout, cookie_jar=aiohttp.DummyCookieJar(),
                headers={"User-Agent": self._settings.user_agent,
                         "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
                         "Accept-Encoding": "gzip, deflate"},
                max_line_size=self._settings.max_header_bytes, max_field_size=self._settings.max_header_bytes,
                trust_env=False)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def fetch(self, url: str, *, allow_non_html: bool = False) -> FetchResult:
        started = time.monotonic()
        redirects: list[str] = []
        try:
            async with asyncio.timeout(self._settings.fetch_timeout):
                return await self._fetch(url, allow_non_html, redirects, started)
        except TimeoutError:
            raise FetchError("timeout", f"no complete response within {self._settings.fetch_timeout:g} s",
                             redirects=redirects) from None

    async def _fetch(self, url: str, allow_non_html: bool, redirects: list[str], started: float) -> FetchResult:
        current = url
        session = self._client()
        for _ in range(self._settings.max_redirects + 1):
            try:
                self._policy.check_url(current)
            except Blocked as exc:
                raise FetchError("blocked", str(exc), final_url=current, redirects=redirects) from None
            except ValueError as exc:
                raise FetchError("invalid", str(exc), final_url=current, redirects=redirects) from None
            try:
                async with session.get(current, allow_redirects=False) as resp:
                    location = resp.headers.get("Location")
                    if resp.status in REDIRECT_STATUSES and location:
                        redirects.append(current)
                        current = urljoin(current, location.strip()).split("#", 1)[0]
                        continue
                    return await self._read(resp, url, current, allow_non_html, redirects, started)
            except Blocked as exc:
                raise FetchError("blocked", str(exc), final_url=current, redirects=redirects) from None
            except FetchError:
                raise
            except aiohttp.ClientConnectorDNSError:
                raise FetchError("dns", "the host name could not be resolved", final_url=current,
                                 redirects=redirects) from None
            except (aiohttp.ClientConnectorError, aiohttp.ServerDisconnectedError, ConnectionError) as exc:
                raise FetchError("connect", f"connection failed: {type(exc).__name__}", final_url=current,
                                 redirects=redirects) from None
            except aiohttp.ClientPayloadError as exc:
                raise FetchError("connect", f"the response body was cut short or malformed: {exc}",
                                 final_url=current, redirects=redirects) from None
            except (aiohttp.ClientResponseError, aiohttp.ClientError) as exc:
                raise FetchError("connect", f"bad response: {type(exc).__name__}: {exc}"[:300],
                                 final_url=current, redirects=redirects) from None
            except ValueError as exc:  # yarl rejects some malformed URLs
                raise FetchError("invalid", f"malformed URL: {exc}"[:300], final_url=current,
                                 redirects=redirects) from None
        raise FetchError("invalid", f"more than {self._settings.max_redirects} redirects", final_url=current,
                         redirects=redirects)

    async def _read(self, resp: aiohttp.ClientResponse, url: str, final_url: str, allow_non_html: bool,
                    redirects: list[str], started: float) -> FetchResult:
        status = resp.status
        if status >= 400:
            category = "http_4xx" if status < 500 else "http_5xx"
            raise FetchError(category, f"HTTP {status} {resp.reason or ''}".strip(), status=status,
                             retry_after=parse_retry_after(resp.headers.get("Retry-After")),
                             final_url=final_url, redirects=redirects)
        content_type = (resp.content_type or "").lower()
        declared_html = content_type in HTML_TYPES
        if not declared_html and not (allow_non_html and (content_type in TEXT_TYPES or not content_type)):
            if content_type and content_type != "application/octet-stream":
                raise FetchError("not_html", f"not an HTML page ({content_type})", status=status,
                                 final_url=final_url, redirects=redirects)
        limit = self._settings.max_body_bytes
        declared_length = resp.content_length
        if declared_length is not None and declared_length > limit and not resp.headers.get("Content-Encoding"):
            raise FetchError("too_large", f"the page is larger than {limit} bytes", status=status,
                             final_url=final_url, redirects=redirects)
        chunks: list[bytes] = []
        size = 0
        # Counted as decoded: a small gzip body cannot expand past the cap.
        async for chunk in resp.content.iter_chunked(_CHUNK):
            size += len(chunk)
            if size > limit:
                raise FetchError("too_large", f"the page is larger than {limit} bytes", status=status,
                                 final_url=final_url, redirects=redirects)
            chunks.append(chunk)
        body = b"".join(chunks)
        if not declared_html and not allow_non_html and _looks_binary(body):
            raise FetchError("not_html", "the response is not HTML", status=status, final_url=final_url,
                             redirects=redirects)
        if declared_html and _looks_binary(body):
            raise FetchError("not_html", "the response is declared HTML but holds binary data", status=status,
                             final_url=final_url, redirects=redirects)
        text = decode(body, resp.charset)
        return FetchResult(url=url, final_url=final_url, status=status, content_type=content_type, text=text,
                           body_bytes=size, seconds=time.monotonic() - started, redirects=redirects)


def _looks_binary(body: bytes) -> bool:
    head = body[:1024]
    if head.startswith((b"%PDF-", b"\x89PNG", b"PK\x03\x04", b"\x1f\x8b", b"GIF8", b"\xff\xd8\xff")):
        return True
    return head.count(b"\x00") > 8
