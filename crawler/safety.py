"""Which network targets may be fetched.

A URL is checked in the form aiohttp will actually use (yarl's parse: IDNA, NFKC,
tab and newline stripping), so no parser differential lets a host slip through.
Every address a host resolves to must be globally routable (unless private targets
are allowed), and only http(s) on allowed ports is fetched. Hosts that look like
numbers (``2130706433``, ``0177.1``, ``0x7f.1``, ``127.1``) are parsed the way
``inet_aton`` and browsers parse them and checked as the address they mean.
Messages never echo the resolved address."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from yarl import URL

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

PRIVATE_NETWORK_HINT = ("private or local network targets are refused; "
                        "use --allow-private-network (CRAWLER_ALLOW_PRIVATE_NETWORK=true) to crawl your own local docs")

# IPv4 ranges that are never globally routable (RFC 6890 and the IANA special-purpose
# registry): this-network, private, CGNAT, loopback, link-local (cloud metadata at
# 169.254.169.254), IETF protocol assignments, documentation, AS112, 6to4 relay anycast,
# benchmarking, multicast, reserved and broadcast.
_V4_DENIED = tuple(ipaddress.IPv4Network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.0.2.0/24", "192.31.196.0/24", "192.52.193.0/24", "192.88.99.0/24", "192.168.0.0/16",
    "192.175.48.0/24", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4"))
# IPv6: only global unicast (2000::/3) is fetched, minus the special blocks inside it.
# Everything outside 2000::/3 is refused: ::/128, ::1, IPv4-mapped ::ffff:0:0/96,
# IPv4-compatible ::/96, 100::/64 discard, ULA fc00::/7, site-local fec0::/10,
# link-local fe80::/10, multicast ff00::/8 ... NAT64 64:ff9b::/96 is the one
# exception, allowed only when the IPv4 address it carries is itself public.
_V6_GLOBAL = ipaddress.IPv6Network("2000::/3")
_V6_DENIED = tuple(ipaddress.IPv6Network(n) for n in (
    "2001::/23",        # IETF protocol assignments: Teredo 2001::/32, benchmarking 2001:2::/48, ORCHID ...
    "2001:db8::/32",    # documentation
    "2620:4f:8000::/48",  # AS112
    "3fff::/20",        # documentation
))
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_6TO4 = ipaddress.IPv6Network("2002::/16")
_HOST_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")
_DECIMAL = re.compile(r"^[0-9]+$")
_HEX = re.compile(r"^0[xX][0-9a-fA-F]*$")


class Blocked(Exception):
    """The target is not allowed by the fetch policy."""


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address carried inside an IPv6 form (mapped, 6to4, NAT64, Teredo, compatible)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    packed = int(ip)
    if packed >> 32 == 0 and packed > 1:  # deprecated IPv4-compatible ::a.b.c.d
        return ipaddress.IPv4Address(packed)
    return None


def is_public(ip: IPAddress) -> bool:
    """True only for globally routable unicast addresses."""
    if isinstance(ip, ipaddress.IPv4Address):
        return not any(ip in net for net in _V4_DENIED) and ip.is_global
    if ip.scope_id:
        return False
    ip = ipaddress.IPv6Address(int(ip))
    if ip in _NAT64:
        inner = embedded_ipv4(ip)
        return inner is not None and is_public(inner)
    if ip not in _V6_GLOBAL or any(ip in net for net in _V6_DENIED):
        return False
    if ip in _6TO4:
        inner = ip.sixtofour
        return inner is not None and is_public(inner)
    return ip.is_global


def parse_ip(host: str) -> IPAddress | None:
    """The address of a canonical IP-literal host ("[::1]" or "127.0.0.1"), else None.
    Scope ids are kept, so ``is_public`` can refuse them."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _ipv4_part(text: str) -> int:
    if _HEX.match(text):
        return int(text[2:] or "0", 16)
    if not _DECIMAL.match(text):
        raise ValueError(text)
    if len(text) > 1 and text.startswith("0"):
        return int(text, 8)
    return int(text)


def numeric_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address a numeric host names, the way browsers (WHATWG URL) and
    ``inet_aton`` read it: 1 to 4 dot-separated parts, each decimal, octal (leading
    0) or hex (0x), the last filling the remaining bytes, one trailing dot allowed.
    None when the host does not end in a number (a domain name); ValueError when it
    does but is not a valid address."""
    labels = host.split(".")
    if len(labels) > 1 and labels[-1] == "":
        labels.pop()
    last = labels[-1]
    if not (_DECIMAL.match(last) or _HEX.match(last)):
        return None
    if len(labels) > 4 or any(not label for label in labels):
        raise ValueError("malformed IPv4 address")
    try:
        parts = [_ipv4_part(label) for label in labels]
    except ValueError:
        raise ValueError("malformed IPv4 address") from None
    if any(p > 255 for p in parts[:-1]) or parts[-1] >= 256 ** (5 - len(parts)):
        raise ValueError("malformed IPv4 address")
    value = parts[-1]
    for i, p in enumerate(parts[:-1]):
        value += p << (8 * (3 - i))
    return ipaddress.IPv4Address(value)


@dataclass(frozen=True, slots=True)
class Target:
    """A URL that passed the static checks: the parsed URL aiohttp gets, its host
    (IDNA, lower-case), port, and the address when the host is an IP literal."""
    url: URL
    host: str
    port: int
    ip: IPAddress | None


class FetchPolicy:
    """Scheme, port and address rules for one crawler.

    ``allowed_endpoints`` is an explicit exception list of (address, port) pairs that
    may be fetched even though the address is not public or the port is not in
    ``allowed_ports``. It is only ever set by code (tests pointing a crawler at a
    loopback fixture site), never from the environment: one exact endpoint, not a
    range, so everything else on the same host stays refused."""

    def __init__(self, *, allow_private_network: bool, allowed_ports: frozenset[int] | None,
                 max_url_length: int, allowed_endpoints: Iterable[tuple[str, int]] = ()) -> None:
        self.allow_private_network = allow_private_network
        self.allowed_ports = allowed_ports
        self.max_url_length = max_url_length
        self.allowed_endpoints = frozenset((ipaddress.ip_address(a), int(p)) for a, p in allowed_endpoints)
        self._endpoint_ports = frozenset(p for _, p in self.allowed_endpoints)

    def port_allowed(self, port: int) -> bool:
        return self.allowed_ports is None or port in self.allowed_ports

    def _port_error(self, port: int) -> Blocked:
        allowed = ", ".join(str(p) for p in sorted(self.allowed_ports or ()))
        return Blocked(f"port {port} is not allowed (allowed: {allowed}; more with CRAWLER_ALLOWED_PORTS)")

    def check_url(self, url: str) -> Target:
        """Scheme, length, port, userinfo and literal-IP rules; raises Blocked or ValueError."""
        if len(url) > self.max_url_length:
            raise ValueError(f"URL is longer than {self.max_url_length} characters")
        try:
            parsed = URL(url)
            netloc = urlsplit(url).netloc
        except Exception as exc:  # yarl raises IndexError on some malformed hosts ("0://[]@")
            raise ValueError(f"malformed URL: {exc}"[:200]) from None
        scheme = (parsed.scheme or "").lower()
        if scheme not in ("http", "https"):
            raise Blocked(f"only http and https URLs are fetched, not {scheme or 'a relative URL'!r}")
        if parsed.raw_user is not None or parsed.raw_password is not None or "@" in netloc:
            raise Blocked("URLs with credentials (user@host) are not fetched")
        if "\\" in netloc:
            raise ValueError("malformed URL: backslash in the host")
        raw_host = parsed.raw_host
        if not parsed.absolute or not raw_host:
            raise ValueError("URL has no host")
        port = parsed.port
        if port is None or not 0 < port < 65536:
            raise ValueError("URL has an invalid port")
        host = raw_host.lower()
        ip: IPAddress | None
        if "%" in host and "[" not in netloc:
            raise ValueError("the host is percent-encoded (or holds a '%'); write the host name or address as is")
        if ":" in host or "%" in host or "[" in netloc:
            try:
                ip = ipaddress.ip_address(host.replace("%25", "%"))
            except ValueError:
                raise ValueError("malformed IPv6 address") from None
        else:
            ip = numeric_ipv4(host)
            if ip is None:
                # aiohttp takes any all-digit-and-dot host for an IP and skips the resolver.
                if host.replace(".", "").isdigit():
                    raise ValueError("malformed IPv4 address")
                labels = (host[:-1] if host.endswith(".") else host).split(".")
                if len(host) > 253 or not all(_HOST_LABEL.match(label) for label in labels):
                    raise ValueError("host is not a valid domain name")
                if labels[-1] == "localhost" and not self.allow_private_network:
                    raise Blocked(PRIVATE_NETWORK_HINT)
        if ip is not None:
            self.check_endpoint(ip, port)
        elif not self.port_allowed(port) and port not in self._endpoint_ports:
            raise self._port_error(port)
        return Target(url=parsed, host=host, port=port, ip=ip)

    def check_endpoint(self, ip: IPAddress, port: int) -> None:
        """Raises Blocked unless ``ip``:``port`` may be connected to."""
        self.check_endpoints([(ip, port)])

    def check_endpoints(self, endpoints: list[tuple[IPAddress, int]]) -> None:
        """Raises Blocked unless every endpoint may be connected to; a private address
        anywhere in the list is reported as such (not as a port problem)."""
        others = [(ip, port) for ip, port in endpoints if (ip, port) not in self.allowed_endpoints]
        for ip, _ in others:
            if not is_public(ip):
                if not self.allow_private_network:
                    raise Blocked(PRIVATE_NETWORK_HINT)
                if ip.is_multicast or ip == ipaddress.IPv4Address("255.255.255.255"):
                    raise Blocked("multicast and broadcast addresses are never fetched")
        for _, port in others:
            if not self.port_allowed(port):
                raise self._port_error(port)
