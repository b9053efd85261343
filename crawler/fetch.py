"""The HTTP fetch step: one URL to a decoded page, within hard limits.

The fetcher is a seam (``Fetcher``): the service depends on the protocol, and the
aiohttp implementation below is the real one. Tests run it against loopback
fixture sites, so they need no internet."""

from __future__ import annotations

import asyncio
import codecs
import contextvars
import re
import socket
import time
import weakref
import zlib
from dataclasses import dataclass, field
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Protocol, TypeVar
from urllib.parse import urljoin

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from crawler.safety import Blocked, FetchPolicy, Target, parse_ip
from crawler.settings import CrawlerSettings
from crawler.tls import VerifiedContext

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
TEXT_TYPES = frozenset({"text/plain", "text/xml", "application/xml", "application/x-gzip", "application/gzip",
                        "application/octet-stream"})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_CHUNK = 64 * 1024
# Most decoded bytes one decompression step may produce.
_STEP = 64 * 1024


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
        self.requests = 0  # HTTP requests sent before the failure (set by fetch)


@dataclass(slots=True, weakref_slot=True)
class FetchResult:
    """A fetched page. A large one holds one of the fetcher's large-body slots until
    it is garbage collected (the service drops it once its answer is built)."""

    url: str
    final_url: str
    status: int
    content_type: str
    text: str
    body_bytes: int
    seconds: float
    redirects: list[str] = field(default_factory=list)
    requests: int = 1  # HTTP requests sent: the first and each redirect hop


@dataclass(slots=True)
class Resource:
    """Whatever a URL answers, any media type and any status, as raw decoded bytes: what
    a browser gets for a subrequest (the renderer fulfils its requests with these)."""
    url: str
    final_url: str
    status: int
    content_type: str
    headers: list[tuple[str, str]]
    body: bytes
    redirects: list[str] = field(default_factory=list)


ReadT = TypeVar("ReadT")


class Fetcher(Protocol):
    async def fetch(self, url: str, *, allow_non_html: bool = False, max_requests: int = 0) -> FetchResult: ...

    async def close(self) -> None: ...


class CheckedResolver(AbstractResolver):
    """Resolves with the system resolver, then refuses the host if any of its addresses
    is not allowed on the port. The connector connects to exactly these checked
    addresses (numeric, AI_NUMERICHOST), so a rebinding DNS server gets no second
    lookup. aiohttp skips resolvers for IP literals: those are checked by
    ``FetchPolicy.check_url`` before every request."""

    def __init__(self, policy: FetchPolicy, *, proxy: tuple[str, int] | None = None) -> None:
        self._policy = policy
        # The egress proxy's own (host, port): it is usually on a private address, and
        # it is the one endpoint connected to when fetches go through it.
        self._proxy = proxy

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        loop = asyncio.get_running_loop()
        if self._proxy is not None and (host.lower(), port) == self._proxy:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, family=family)
            return [ResolveResult(hostname=host, host=str(sockaddr[0]), port=int(sockaddr[1]), family=fam,
                                  proto=proto, flags=socket.AI_NUMERICHOST)
                    for fam, _, proto, _, sockaddr in infos if fam in (socket.AF_INET, socket.AF_INET6)]
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, family=family,
                                       flags=socket.AI_ADDRCONFIG)
        results: list[ResolveResult] = []
        endpoints = []
        for fam, _, proto, _, sockaddr in infos:
            address = str(sockaddr[0])
            ip = parse_ip(address)
            if ip is None or fam not in (socket.AF_INET, socket.AF_INET6):
                raise Blocked("the host resolved to an unusable address")
            endpoints.append((ip, int(sockaddr[1])))
            results.append(ResolveResult(hostname=host, host=address, port=int(sockaddr[1]),
                                         family=fam, proto=proto, flags=socket.AI_NUMERICHOST))
        # Every address is checked before any is used: one bad address refuses the host.
        self._policy.check_endpoints(endpoints)
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


# Codecs Python knows that are not page charsets: they raise odd errors or turn
# bytes into something else entirely.
_NOT_CHARSETS = frozenset({"idna", "punycode", "unicode_escape", "raw_unicode_escape", "undefined", "mbcs",
                           "oem", "charmap", "utf_8_sig_", "uu_codec", "base64_codec", "hex_codec", "zlib_codec",
                           "bz2_codec", "quopri_codec", "rot_13"})


def _text_codec(name: str) -> str | None:
    try:
        info = codecs.lookup(name.strip()[:40])
    except (LookupError, ValueError):
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name.replace("-", "_") in _NOT_CHARSETS:
        return None
    return info.name


def decode(body: bytes | bytearray, declared: str | None) -> str:
    """Decode a page, surviving a declared charset that lies (or is no charset at all)."""
    candidates = []
    if declared:
        candidates.append(declared)
    if match := _META_CHARSET.search(bytes(body[:4096])):
        candidates.append(match.group(1).decode("ascii", "replace"))
    candidates.append("utf-8")
    for charset in candidates:
        codec = _text_codec(charset)
        if codec is None:
            continue
        try:
            return body.decode(codec)
        except (UnicodeError, ValueError, LookupError):
            continue
    return body.decode("utf-8", "replace")


class _Inflater:
    """Incremental gzip/deflate decoding that never produces more than ``_STEP`` bytes
    per step, so a decompression bomb is stopped at the body cap after at most one
    step past it, whatever the size of the chunk it arrived in."""

    def __init__(self, encoding: str) -> None:
        self._gzip = encoding in ("gzip", "x-gzip")
        self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS if self._gzip else zlib.MAX_WBITS)
        self._started = False
        self._members = 1
        self._done = False

    def feed(self, data: bytes | bytearray) -> Iterator[bytes]:
        if not self._started and data:
            self._started = True
            if not self._gzip and data[0] & 0x0F != 8:  # raw deflate without the zlib header
                self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
        buf: bytes | bytearray = data
        while buf and not self._done:
            try:
                out = self._obj.decompress(buf, _STEP)
            except zlib.error:
                if self._members > 1:  # trailing garbage after a complete gzip member
                    self._done = True
                    return
                raise
            if out:
                yield out
            if self._obj.eof:
                buf = self._obj.unused_data
                if buf and self._gzip:
                    self._members += 1
                    self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS)
                else:
                    self._done = True
            else:
                buf = self._obj.unconsumed_tail


class HttpFetcher:
    """aiohttp fetcher: every URL (first and each redirect hop) checked by the policy,
    every resolved address checked by the resolver, redirects followed by hand one hop
    at a time, bodies decompressed here with a decoded-size cap, a total deadline per
    fetch.

    ``policy`` replaces the one built from ``settings`` (tests use it to allow exactly
    one loopback fixture endpoint)."""

    def __init__(self, *, settings: CrawlerSettings, policy: FetchPolicy | None = None) -> None:
        self._settings = settings
        self._policy = policy or FetchPolicy(allow_private_network=settings.allow_private_network,
                                             allowed_ports=settings.allowed_ports,
                                             max_url_length=settings.max_url_length)
        self._session: aiohttp.ClientSession | None = None
        self._tls = VerifiedContext()  # https only (crawler/tls.py: never aiohttp's own)
        self._large_bodies = asyncio.Semaphore(settings.large_bodies)
        # CRAWLER_PROXY: every request goes through this HTTP proxy (CONNECT for https).
        # The proxy resolves target names, so it must enforce the egress rules (README:
        # "Egress proxy"); URL, scheme, port and IP-literal checks still run here.
        self._proxy = settings.proxy or None
        self._proxy_endpoint: tuple[str, int] | None = None
        if self._proxy:
            parsed = URL(self._proxy)
            if parsed.host is None:
                raise ValueError(f"CRAWLER_PROXY has no host: {self._proxy!r}")
            self._proxy_endpoint = (parsed.host.lower(), parsed.port or 80)

    @property
    def policy(self) -> FetchPolicy:
        return self._policy

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(resolver=CheckedResolver(self._policy, proxy=self._proxy_endpoint),
                                             limit=self._settings.connections, limit_per_host=0,
                                             ttl_dns_cache=60, enable_cleanup_closed=False)
            timeout = aiohttp.ClientTimeout(total=None, connect=self._settings.connect_timeout,
                                            sock_read=self._settings.fetch_timeout)
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=timeout, cookie_jar=aiohttp.DummyCookieJar(),
                headers={"User-Agent": self._settings.user_agent,
                         "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
                         "Accept-Encoding": "gzip, deflate"},
                # Bodies are decompressed by _read, counting decoded bytes against the cap.
                auto_decompress=False,
                max_line_size=self._settings.max_header_bytes, max_field_size=self._settings.max_header_bytes,
                max_headers=self._settings.max_headers, trust_env=False)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def fetch(self, url: str, *, allow_non_html: bool = False, max_requests: int = 0) -> FetchResult:
        """``max_requests`` (the caller's request budget, 0 for none) bounds the HTTP
        requests this fetch sends, redirect hops included."""
        started = time.monotonic()
        redirects: list[str] = []
        max_redirects = self._settings.max_redirects
        if max_requests > 0:
            max_redirects = min(max_redirects, max_requests - 1)
        sent = [0]

        async def read(resp: aiohttp.ClientResponse, current: str) -> FetchResult:
            return await self._read(resp, url, current, allow_non_html, redirects, started)

        try:
            async with asyncio.timeout(self._settings.fetch_timeout) as deadline:
                _deadline.set(deadline)
                result = await self._fetch(url, redirects, read, max_redirects=max_redirects, sent=sent)
        except TimeoutError:
            error = FetchError("timeout", f"no complete response within {self._settings.fetch_timeout:g} s",
                               redirects=redirects)
            error.requests = sent[0]
            raise error from None
        except FetchError as exc:
            exc.requests = sent[0]
            raise
        result.requests = sent[0]
        return result

    async def fetch_resource(self, url: str, *, method: str = "GET", headers: Mapping[str, str] | None = None,
                             data: bytes | None = None, max_bytes: int | None = None,
                             timeout: float | None = None) -> Resource:
        """Any response (any media type, any status) under the same policy, resolver,
        redirect checks and decoded-size cap (``max_bytes``, at most the body cap) as a
        page. 301/302/303 turn the request into a GET without a body, as browsers do."""
        redirects: list[str] = []
        limit = min(max_bytes or self._settings.max_body_bytes, self._settings.max_body_bytes)

        async def read(resp: aiohttp.ClientResponse, current: str) -> Resource:
            body, _, release = await self._read_body(resp, limit, current, redirects)
            release()
            return Resource(url=url, final_url=current, status=resp.status,
                            content_type=(resp.content_type or "").lower(),
                            headers=[(k, v) for k, v in resp.headers.items()], body=bytes(body), redirects=redirects)

        seconds = min(timeout or self._settings.fetch_timeout, self._settings.fetch_timeout)
        try:
            async with asyncio.timeout(seconds):
                return await self._fetch(url, redirects, read, method=method, headers=headers, data=data)
        except TimeoutError:
            raise FetchError("timeout", f"no complete response within {seconds:g} s", redirects=redirects) from None

    def _check(self, url: str, redirects: list[str]) -> Target:
        try:
            return self._policy.check_url(url)
        except Blocked as exc:
            raise FetchError("blocked", str(exc), final_url=url, redirects=redirects) from None
        except ValueError as exc:
            raise FetchError("invalid", str(exc), final_url=url, redirects=redirects) from None

    async def _fetch(self, url: str, redirects: list[str],
                     read: Callable[[aiohttp.ClientResponse, str], Awaitable[ReadT]], *, method: str = "GET",
                     headers: Mapping[str, str] | None = None, data: bytes | None = None,
                     max_redirects: int | None = None, sent: list[int] | None = None) -> ReadT:
        if max_redirects is None:
            max_redirects = self._settings.max_redirects
        current = url
        visited: set[str] = set()
        session = self._client()
        while True:
            target = self._check(current, redirects)
            key = str(target.url.with_fragment(None))
            if key in visited:
                raise FetchError("invalid", f"redirect loop after {len(redirects)} redirects", final_url=current,
                                 redirects=redirects)
            visited.add(key)
            try:
                if sent is not None:
                    sent[0] += 1  # counted before the attempt: a request that fails was still sent
                tls = await self._tls.get() if target.url.scheme == "https" else True
                async with session.request(method, target.url, headers=headers, data=data,
                                           allow_redirects=False, proxy=self._proxy, ssl=tls) as resp:
                    if self._proxy and (refusal := _proxy_refusal(resp.status, resp.headers)):
                        raise FetchError("blocked", refusal, status=resp.status, final_url=current,
                                         redirects=redirects)
                    location = resp.headers.get("Location")
                    if resp.status in REDIRECT_STATUSES and location:
                        if len(redirects) >= max_redirects:
                            reason = (f"more than {max_redirects} redirects"
                                      if max_redirects == self._settings.max_redirects else
                                      f"more than {max_redirects} redirects (the job's request budget)")
                            raise FetchError("invalid", reason, status=resp.status, final_url=current,
                                             redirects=redirects)
                        redirects.append(current)
                        current = _join(current, location)
                        if resp.status in (301, 302, 303) and method != "HEAD":
                            method, data = "GET", None
                        continue
                    return await read(resp, current)
            except Blocked as exc:
                raise FetchError("blocked", str(exc), final_url=current, redirects=redirects) from None
            except FetchError:
                raise
            except aiohttp.ClientHttpProxyError as exc:  # a CONNECT (https) the proxy refused
                raise FetchError("blocked", _proxy_refusal(exc.status, exc.headers or {}) or
                                 f"the egress proxy refused the connection (HTTP {exc.status})",
                                 status=exc.status, final_url=current, redirects=redirects) from None
            except aiohttp.ClientProxyConnectionError:
                raise FetchError("connect", "the egress proxy (CRAWLER_PROXY) cannot be reached", final_url=current,
                                 redirects=redirects) from None
            except aiohttp.ClientConnectorDNSError:
                raise FetchError("dns", "the host name could not be resolved", final_url=current,
                                 redirects=redirects) from None
            except (aiohttp.ClientConnectorError, aiohttp.ServerDisconnectedError, ConnectionError) as exc:
                raise FetchError("connect", f"connection failed: {type(exc).__name__}", final_url=current,
                                 redirects=redirects) from None
            except aiohttp.ClientPayloadError as exc:
                raise FetchError("connect", f"the response body was cut short or malformed: {exc}"[:300],
                                 final_url=current, redirects=redirects) from None
            except aiohttp.ClientResponseError as exc:
                # Includes responses whose status line or headers break the size limits.
                raise FetchError("connect", f"bad response: {type(exc).__name__}: {exc.message}"[:300],
                                 final_url=current, redirects=redirects) from None
            except aiohttp.ClientError as exc:
                raise FetchError("connect", f"bad response: {type(exc).__name__}"[:300],
                                 final_url=current, redirects=redirects) from None
            except ValueError as exc:  # yarl rejects some malformed URLs
                raise FetchError("invalid", f"malformed URL: {exc}"[:300], final_url=current,
                                 redirects=redirects) from None

    async def _read(self, resp: aiohttp.ClientResponse, url: str, final_url: str, allow_non_html: bool,
                    redirects: list[str], started: float) -> FetchResult:
        status = resp.status
        if status >= 400:
            category = "http_4xx" if status < 500 else "http_5xx"
            raise FetchError(category, f"HTTP {status} {resp.reason or ''}".strip()[:200], status=status,
                             retry_after=parse_retry_after(resp.headers.get("Retry-After")),
                             final_url=final_url, redirects=redirects)
        content_type = (resp.content_type or "").lower()
        declared_html = content_type in HTML_TYPES
        if not declared_html and not (allow_non_html and (content_type in TEXT_TYPES or not content_type)):
            if content_type and content_type != "application/octet-stream":
                raise FetchError("not_html", f"not an HTML page ({content_type[:100]})", status=status,
                                 final_url=final_url, redirects=redirects)
        limit = self._settings.max_body_bytes

        def too_large() -> FetchError:
            return FetchError("too_large", f"the page is larger than {limit} bytes", status=status,
                              final_url=final_url, redirects=redirects)

        body, size, release = await self._read_body(resp, limit, final_url, redirects)
        try:
            result = self._page(resp, body, size, url, final_url, allow_non_html, redirects, started,
                                content_type, declared_html, too_large)
        except BaseException:
            release()
            raise
        # A large page's slot now follows its text, not this read.
        weakref.finalize(result, release)
        return result

    def _page(self, resp: aiohttp.ClientResponse, body: bytearray, size: int, url: str, final_url: str,
              allow_non_html: bool, redirects: list[str], started: float, content_type: str, declared_html: bool,
              too_large: Callable[[], FetchError]) -> FetchResult:
        status = resp.status
        limit = self._settings.max_body_bytes
        inflated = resp.headers.get("Content-Encoding", "").strip().lower() not in ("", "identity")
        if allow_non_html and not inflated and body[:2] == b"\x1f\x8b":
            # A raw .gz file (sitemap.xml.gz without Content-Encoding): the caller
            # wants its text, decompressed under the same cap.
            try:
                inflated_body = bytearray()
                for piece in _Inflater("gzip").feed(body):
                    if len(inflated_body) + len(piece) > limit:
                        raise too_large()
                    inflated_body += piece
            except zlib.error:
                raise FetchError("invalid", "the gzip file is corrupt", status=status, final_url=final_url,
                                 redirects=redirects) from None
            body = inflated_body
            size = len(body)
        if not declared_html and not allow_non_html and _looks_binary(body):
            raise FetchError("not_html", "the response is not HTML", status=status, final_url=final_url,
                             redirects=redirects)
        if declared_html and _looks_binary(body):
            raise FetchError("not_html", "the response is declared HTML but holds binary data", status=status,
                             final_url=final_url, redirects=redirects)
        text = decode(body, resp.charset)
        return FetchResult(url=url, final_url=final_url, status=status, content_type=content_type, text=text,
                           body_bytes=size, seconds=time.monotonic() - started, redirects=redirects)

    async def _read_body(self, resp: aiohttp.ClientResponse, limit: int, final_url: str,
                         redirects: list[str]) -> tuple[bytearray, int, Callable[[], None]]:
        """The decoded body, its size and the release of its large-body slot (a no-op
        for a small body), refused past ``limit`` decoded bytes. One growing buffer: no
        list of chunks joined into a second copy. A body past the small-page size waits
        for one of the few large-body slots, so concurrent huge pages cannot add up."""
        status = resp.status

        def too_large() -> FetchError:
            return FetchError("too_large", f"the page is larger than {limit} bytes", status=status,
                              final_url=final_url, redirects=redirects)

        encoding = resp.headers.get("Content-Encoding", "").strip().lower()
        inflater: _Inflater | None = None
        if encoding in ("gzip", "x-gzip", "deflate"):
            inflater = _Inflater(encoding)
        elif encoding not in ("", "identity"):
            raise FetchError("invalid", f"unsupported Content-Encoding {encoding[:40]!r}", status=status,
                             final_url=final_url, redirects=redirects)
        declared_length = resp.content_length
        if declared_length is not None and declared_length > limit:
            raise too_large()
        body = bytearray()
        raw_size = 0
        slot = _Slot(self._large_bodies)
        try:
            # Counted as decoded: a small gzip body cannot expand past the cap.
            async for data in resp.content.iter_chunked(_CHUNK):
                raw_size += len(data)
                if raw_size > limit:
                    raise too_large()
                try:
                    for piece in (inflater.feed(data) if inflater is not None else (data,)):
                        if len(body) + len(piece) > limit:
                            raise too_large()
                        if len(body) + len(piece) > self._settings.large_body_bytes:
                            # Waiting for a slot is not the site's slowness: the fetch's
                            # deadline moves by the time waited.
                            waited = time.monotonic()
                            await slot.acquire()
                            if (deadline := _deadline.get()) is not None and (when := deadline.when()) is not None:
                                deadline.reschedule(when + time.monotonic() - waited)
                        body += piece
                except zlib.error:
                    raise FetchError("connect", f"the {encoding} body is corrupt", status=status,
                                     final_url=final_url, redirects=redirects) from None
        except BaseException:
            slot.release()
            raise
        return body, len(body), slot.release


# Headers with which egress proxies say why they refused: Smokescreen, Squid.
_PROXY_REASONS = ("X-Smokescreen-Error", "X-Squid-Error")


def _proxy_refusal(status: int, headers: Mapping[str, str]) -> str:
    """The refusal message when an egress proxy (not the site) refused the request."""
    reason = next((headers.get(h, "") for h in _PROXY_REASONS if headers.get(h)), "")
    if status == 407 or (reason and status in (403, 502, 503)):
        return f"the egress proxy refused the request: {(reason or 'HTTP 407')[:200]}"
    return ""


# The running page fetch's deadline (an asyncio.Timeout), for _read_body.
_deadline: contextvars.ContextVar[asyncio.Timeout | None] = contextvars.ContextVar("fetch_deadline", default=None)


class _Slot:
    """One large-body slot, taken at most once and released at most once."""

    __slots__ = ("_semaphore", "_held")

    def __init__(self, semaphore: asyncio.Semaphore) -> None:
        self._semaphore = semaphore
        self._held = False

    async def acquire(self) -> None:
        if not self._held:
            await self._semaphore.acquire()
            self._held = True

    def release(self) -> None:
        if self._held:
            self._held = False
            self._semaphore.release()


def _join(base: str, location: str) -> str:
    """The absolute, fragment-free URL a Location header points to (checked by the
    caller like any other URL)."""
    location = location.strip()
    try:
        return urljoin(base, location).split("#", 1)[0]
    except ValueError:
        return location


def _looks_binary(body: bytes | bytearray) -> bool:
    head = bytes(body[:1024])
    if head.startswith((b"%PDF-", b"\x89PNG", b"PK\x03\x04", b"\x1f\x8b", b"GIF8", b"\xff\xd8\xff")):
        return True
    return head.count(b"\x00") > 8
