"""Crawler settings, parsed once from the environment (see README: Configuration)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from docspasta.service_auth import ServiceAuth
from docspasta.settings import SettingsError, env_bool, env_float, env_int, env_list, env_str

DEFAULT_BIND = "127.0.0.1:50051"
DEFAULT_USER_AGENT = "Docspasta/0.1 (+https://github.com/docspasta/docspasta; documentation to Markdown)"
DEFAULT_MAX_BODY_BYTES = 20 * 1024 * 1024
DEFAULT_FETCH_TIMEOUT = 30.0
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_MAX_REDIRECTS = 5
DEFAULT_MAX_URL_LENGTH = 2048
DEFAULT_MAX_LINKS = 5000
DEFAULT_MAX_HEADER_BYTES = 16 * 1024
DEFAULT_MAX_HEADERS = 100
DEFAULT_ALLOWED_PORTS = (80, 443)
DEFAULT_GRACE_SECONDS = 10.0
DEFAULT_CONNECTIONS = 100
DEFAULT_MAX_ELEMENTS = 1_000_000
DEFAULT_LARGE_BODY_BYTES = 1024 * 1024
DEFAULT_LARGE_BODIES = 2


def _proxy(value: str) -> str:
    value = value.strip()
    if not value:
        return ""
    parts = urlsplit(value)
    if parts.scheme != "http" or not parts.hostname or parts.path not in ("", "/"):
        raise SettingsError(f"CRAWLER_PROXY must be http://host:port (an HTTP proxy; https targets go "
                            f"through CONNECT), got {value!r}")
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class CrawlerSettings:
    bind: str = DEFAULT_BIND
    user_agent: str = DEFAULT_USER_AGENT
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    fetch_timeout: float = DEFAULT_FETCH_TIMEOUT
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    max_redirects: int = DEFAULT_MAX_REDIRECTS
    max_url_length: int = DEFAULT_MAX_URL_LENGTH
    max_links: int = DEFAULT_MAX_LINKS
    # Link extraction stops after this many elements (bounds its time; it builds no tree).
    max_elements: int = DEFAULT_MAX_ELEMENTS
    # Bodies past large_body_bytes need one of large_bodies slots while they are read,
    # decoded, parsed for links and answered: memory is about
    # connections x large_body_bytes + large_bodies x 4 x max_body_bytes at worst.
    large_body_bytes: int = DEFAULT_LARGE_BODY_BYTES
    large_bodies: int = DEFAULT_LARGE_BODIES
    # Egress proxy for every fetch (http://host:port; CONNECT for https targets), "" for
    # none. Pair it with a proxy that enforces egress (README: "Egress proxy").
    proxy: str = ""
    # Longest response header line (status line or one field) and most header fields.
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES
    max_headers: int = DEFAULT_MAX_HEADERS
    # Loopback, private, link-local... targets are refused unless this is set.
    allow_private_network: bool = False
    # Ports besides 80/443 that may be fetched; None means any port.
    allowed_ports: frozenset[int] | None = frozenset(DEFAULT_ALLOWED_PORTS)
    connections: int = DEFAULT_CONNECTIONS
    grace_seconds: float = DEFAULT_GRACE_SECONDS
    log_level: str = "info"
    metrics_port: int = 0
    # Service-to-service auth (docspasta/service_auth.py), off unless configured.
    auth: ServiceAuth = ServiceAuth()

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> CrawlerSettings:
        ports = env_list(env, "CRAWLER_ALLOWED_PORTS")
        allowed: frozenset[int] | None
        if "*" in ports:
            allowed = None
        else:
            extra = set()
            for p in ports:
                if not p.isdigit() or not 0 < int(p) < 65536:
                    raise SettingsError(f"CRAWLER_ALLOWED_PORTS must list ports (1-65535) or '*', got {p!r}")
                extra.add(int(p))
            allowed = frozenset(DEFAULT_ALLOWED_PORTS) | extra
        return cls(
            bind=env_str(env, "CRAWLER_BIND", DEFAULT_BIND),
            user_agent=env_str(env, "CRAWLER_USER_AGENT", DEFAULT_USER_AGENT),
            max_body_bytes=env_int(env, "CRAWLER_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES, minimum=1024),
            fetch_timeout=env_float(env, "CRAWLER_FETCH_TIMEOUT", DEFAULT_FETCH_TIMEOUT, minimum=0.1),
            connect_timeout=env_float(env, "CRAWLER_CONNECT_TIMEOUT", DEFAULT_CONNECT_TIMEOUT, minimum=0.1),
            max_redirects=env_int(env, "CRAWLER_MAX_REDIRECTS", DEFAULT_MAX_REDIRECTS),
            max_url_length=env_int(env, "CRAWLER_MAX_URL_LENGTH", DEFAULT_MAX_URL_LENGTH, minimum=64),
            max_links=env_int(env, "CRAWLER_MAX_LINKS", DEFAULT_MAX_LINKS, minimum=1),
            max_elements=env_int(env, "CRAWLER_MAX_ELEMENTS", DEFAULT_MAX_ELEMENTS, minimum=1000),
            large_body_bytes=env_int(env, "CRAWLER_LARGE_BODY_BYTES", DEFAULT_LARGE_BODY_BYTES, minimum=1024),
            large_bodies=env_int(env, "CRAWLER_LARGE_BODIES", DEFAULT_LARGE_BODIES, minimum=1),
            proxy=_proxy(env_str(env, "CRAWLER_PROXY", "")),
            max_header_bytes=env_int(env, "CRAWLER_MAX_HEADER_BYTES", DEFAULT_MAX_HEADER_BYTES, minimum=1024),
            max_headers=env_int(env, "CRAWLER_MAX_HEADERS", DEFAULT_MAX_HEADERS, minimum=8),
            allow_private_network=env_bool(env, "CRAWLER_ALLOW_PRIVATE_NETWORK", False),
            allowed_ports=allowed,
            connections=env_int(env, "CRAWLER_CONNECTIONS", DEFAULT_CONNECTIONS, minimum=1),
            grace_seconds=env_float(env, "CRAWLER_GRACE_SECONDS", DEFAULT_GRACE_SECONDS),
            log_level=env_str(env, "LOG_LEVEL", "info"),
            metrics_port=env_int(env, "CRAWLER_METRICS_PORT", 0),
            auth=ServiceAuth.from_env(env),
        )
