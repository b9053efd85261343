"""Which network targets may be fetched. Every address a host resolves to must be
globally routable (unless private targets are allowed), and only http(s) on allowed
ports is fetched. Messages never echo the resolved address."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

PRIVATE_NETWORK_HINT = ("private or local network targets are refused; "
                        "use --allow-private-network (CRAWLER_ALLOW_PRIVATE_NETWORK=true) to crawl your own local docs")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_CGNAT = ipaddress.ip_network("100.64.0.0/10")


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
    if ip in _NAT64 or ip in _NAT64_LOCAL:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    packed = int(ip)
    if packed >> 32 == 0 and packed > 1:  # deprecated IPv4-compatible ::a.b.c.d
        return ipaddress.IPv4Address(packed)
    return None


def is_public(ip: IPAddress) -> bool:
    """True only for globally routable unicast addresses."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            return False
        inner = embedded_ipv4(ip.__class__(int(ip)))
        if inner is not None:
            return is_public(inner)
    if ip in _CGNAT if isinstance(ip, ipaddress.IPv4Address) else False:
        return False
    return bool(ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified
                                      or ip.is_loopback or ip.is_link_local or ip.is_private))


def parse_ip(host: str) -> IPAddress | None:
    """The address of an IP-literal host ("[::1]" or "127.0.0.1"), else None."""
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


class FetchPolicy:
    """Scheme, port and address rules for one crawler."""

    def __init__(self, *, allow_private_network: bool, allowed_ports: frozenset[int] | None,
                 max_url_length: int) -> None:
        self.allow_private_network = allow_private_network
        self.allowed_ports = allowed_ports
        self.max_url_length = max_url_length

    def check_url(self, url: str) -> None:
        """Scheme, length, port, userinfo and literal-IP rules; raises Blocked or ValueError."""
        if len(url) > self.max_url_length:
            raise ValueError(f"URL is longer than {self.max_url_length} characters")
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            raise Blocked(f"only http and https URLs are fetched, not {scheme or 'a relative URL'!r}")
        if parts.username is not None or parts.password is not None:
            raise Blocked("URLs with credentials (user@host) are not fetched")
        host = parts.hostname
        if not host:
            raise ValueError("URL has no host")
        port = parts.port or (443 if scheme == "https" else 80)
        if self.allowed_ports is not None and port not in self.allowed_ports and not self.allow_private_network:
            allowed = ", ".join(str(p) for p in sorted(self.allowed_ports))
            raise Blocked(f"port {port} is not allowed (allowed: {allowed})")
        ip = parse_ip(host)
        if ip is not None:
            self.check_address(ip)

    def check_address(self, ip: IPAddress) -> None:
        if not self.allow_private_network and not is_public(ip):
            raise Blocked(PRIVATE_NETWORK_HINT)
