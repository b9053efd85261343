"""Bridge settings, parsed once from the environment.

========================================  ====================  =====================================================
Environment variable                      Default               Meaning
========================================  ====================  =====================================================
BRIDGE_HOST                               127.0.0.1             HTTP listen address
BRIDGE_PORT                               8080                  HTTP listen port (0: any free port)
ORCHESTRATOR_TARGET                       127.0.0.1:50053       Orchestrator gRPC target, any replica (may balance:
                                                                dns:///orchestrator-headless:50053, ipv4:a:1,b:2):
                                                                new jobs, and a job's calls whenever the replica its
                                                                id names does not answer (every replica serves
                                                                every job from the job store)
ORCHESTRATOR_TARGET_TEMPLATE              (empty)               Target of the replica that runs a job, from the
                                                                instance id prefixing the job id, e.g.
                                                                dns:///{instance}.orchestrator-headless:50053
ORCHESTRATOR_INSTANCES                    (empty)               Same, as an explicit list: orch-a=host:port,... (wins
                                                                over the template for the instances it names)
PROCESSOR_TARGET                          127.0.0.1:50052       Processor gRPC target (ListPages)
REDIS_URL                                 (empty)               redis:// or unix:// URL; empty starts an embedded
                                                                redis-server in a temp dir
BRIDGE_REDIS_PREFIX                       docspasta:            Prefix of every Redis key the bridge writes
BRIDGE_INSTANCE_ID                        <host>-<pid>-<rand>   Identity of this replica in pump leases
BRIDGE_BUFFER_MAXLEN                      100000                Events kept per job stream (XADD MAXLEN)
BRIDGE_BUFFER_RETENTION_SECONDS           3600                  Expiry of a job's stream and metadata after its
                                                                terminal event
BRIDGE_JOB_TTL_SECONDS                    172800                Safety expiry of a job's keys while it runs
BRIDGE_LEASE_SECONDS                      3                     Pump lease length; renewed every third of it
BRIDGE_SSE_RETRY_MS                       2000                  `retry:` sent to EventSource clients
BRIDGE_KEEPALIVE_SECONDS                  15                    Keep-alive comment interval on SSE streams (<= 15)
BRIDGE_MAX_SSE_CLIENTS                    20000                 Open SSE streams per process; more get 503
BRIDGE_RPC_TIMEOUT                        10                    Deadline of unary gRPC calls (s)
BRIDGE_LIST_PAGES_TIMEOUT                 300                   Deadline of a ListPages stream (s)
BRIDGE_API_KEYS                           (empty)               Comma-separated operator API keys; when set, every
                                                                /api/ request needs X-API-Key (or ?api_key=) -> 401
BRIDGE_CORS_ORIGINS                       (empty)               Comma-separated origins allowed cross-origin
BRIDGE_RATE_LIMIT_PER_MINUTE              30                    Job creations refilled per client IP per minute
BRIDGE_RATE_LIMIT_BURST                   10                    Token-bucket size per client IP
BRIDGE_TRUSTED_PROXIES                    0                     Reverse proxies in front; >0 takes the client IP
                                                                from X-Forwarded-For that many hops from the right
BRIDGE_ALLOW_PRIVATE_NETWORK              false                 Accept loopback/private literal targets and
                                                                localhost names (the crawler checks DNS too)
BRIDGE_LIMIT_MAX_PAGES / _MAX_DEPTH       100000 / 100          Upper bounds the bridge validates before gRPC
BRIDGE_LIMIT_CONCURRENCY / _TIMEOUT       200 / 86400
BRIDGE_IDLE_TIMEOUT                       15                    A connection is closed when no complete request
                                                                header has arrived this many seconds after it
                                                                opened or after its last response (slow-header and
                                                                idle keep-alive connections alike; aiohttp's
                                                                keep-alive timer)
BRIDGE_BODY_TIMEOUT                       15                    A request body must arrive whole within this many
                                                                seconds, else 408
BRIDGE_GRACE_SECONDS                      5                     Shutdown grace on SIGTERM
BRIDGE_DRAIN_SECONDS                      1                     After SIGTERM, /healthz answers 503 "draining"
                                                                this long (at most the grace) before connections
                                                                close: balancers polling it take the bridge out
LOG_LEVEL                                 info                  Log level
========================================  ====================  =====================================================
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Mapping
from dataclasses import dataclass

from docspasta.service_auth import ServiceAuth
from docspasta.settings import SettingsError, env_bool, env_float, env_int, env_list, env_str

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
DEFAULT_ORCHESTRATOR_TARGET = "127.0.0.1:50053"
DEFAULT_PROCESSOR_TARGET = "127.0.0.1:50052"
DEFAULT_REDIS_PREFIX = "docspasta:"
DEFAULT_BUFFER_MAXLEN = 100_000
DEFAULT_BUFFER_RETENTION_SECONDS = 3600.0
DEFAULT_JOB_TTL_SECONDS = 48 * 3600.0
DEFAULT_LEASE_SECONDS = 3.0
DEFAULT_SSE_RETRY_MS = 2000
DEFAULT_KEEPALIVE_SECONDS = 15.0
DEFAULT_MAX_SSE_CLIENTS = 20_000
DEFAULT_RPC_TIMEOUT = 10.0
DEFAULT_LIST_PAGES_TIMEOUT = 300.0
DEFAULT_RATE_LIMIT_PER_MINUTE = 30.0
DEFAULT_RATE_LIMIT_BURST = 10
DEFAULT_LIMIT_MAX_PAGES = 100_000
DEFAULT_LIMIT_MAX_DEPTH = 100
DEFAULT_LIMIT_CONCURRENCY = 200
DEFAULT_LIMIT_TIMEOUT_SECONDS = 24 * 3600.0
DEFAULT_GRACE_SECONDS = 5.0
DEFAULT_DRAIN_SECONDS = 1.0
DEFAULT_IDLE_TIMEOUT = 15.0
DEFAULT_BODY_TIMEOUT = 15.0


def parse_instances(items: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """``("orch-a=127.0.0.1:1", ...)`` -> ``(("orch-a", "127.0.0.1:1"), ...)``."""
    out = []
    for item in items:
        name, sep, target = item.partition("=")
        if not sep or not name.strip() or not target.strip():
            raise SettingsError(f"ORCHESTRATOR_INSTANCES: {item!r} is not instance=target")
        out.append((name.strip(), target.strip()))
    return tuple(out)


def default_instance_id() -> str:
    return f"{socket.gethostname().split('.')[0] or 'bridge'}-{os.getpid()}-{secrets.token_hex(3)}"


@dataclass(frozen=True, slots=True, kw_only=True)
class BridgeSettings:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    orchestrator_target: str = DEFAULT_ORCHESTRATOR_TARGET
    # Routing of every call after StartJob to the replica named by the job id's prefix
    # (see docs/operations.md); neither set: every call goes to orchestrator_target.
    orchestrator_target_template: str = ""
    orchestrator_instances: tuple[tuple[str, str], ...] = ()
    processor_target: str = DEFAULT_PROCESSOR_TARGET
    # Empty: start an embedded redis-server for this process.
    redis_url: str = ""
    redis_prefix: str = DEFAULT_REDIS_PREFIX
    instance_id: str = ""
    buffer_maxlen: int = DEFAULT_BUFFER_MAXLEN
    buffer_retention_seconds: float = DEFAULT_BUFFER_RETENTION_SECONDS
    job_ttl_seconds: float = DEFAULT_JOB_TTL_SECONDS
    lease_seconds: float = DEFAULT_LEASE_SECONDS
    sse_retry_ms: int = DEFAULT_SSE_RETRY_MS
    keepalive_seconds: float = DEFAULT_KEEPALIVE_SECONDS
    max_sse_clients: int = DEFAULT_MAX_SSE_CLIENTS
    rpc_timeout: float = DEFAULT_RPC_TIMEOUT
    list_pages_timeout: float = DEFAULT_LIST_PAGES_TIMEOUT
    api_keys: tuple[str, ...] = ()
    cors_origins: tuple[str, ...] = ()
    rate_limit_per_minute: float = DEFAULT_RATE_LIMIT_PER_MINUTE
    rate_limit_burst: int = DEFAULT_RATE_LIMIT_BURST
    trusted_proxies: int = 0
    allow_private_network: bool = False
    limit_max_pages: int = DEFAULT_LIMIT_MAX_PAGES
    limit_max_depth: int = DEFAULT_LIMIT_MAX_DEPTH
    limit_concurrency: int = DEFAULT_LIMIT_CONCURRENCY
    limit_timeout_seconds: float = DEFAULT_LIMIT_TIMEOUT_SECONDS
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT
    body_timeout: float = DEFAULT_BODY_TIMEOUT
    grace_seconds: float = DEFAULT_GRACE_SECONDS
    drain_seconds: float = DEFAULT_DRAIN_SECONDS
    log_level: str = "info"
    # Service-to-service auth (docspasta/service_auth.py), off unless configured.
    auth: ServiceAuth = ServiceAuth()

    def __post_init__(self) -> None:
        if not self.instance_id:
            object.__setattr__(self, "instance_id", default_instance_id())
        if not 0 < self.keepalive_seconds <= 15:
            raise SettingsError("BRIDGE_KEEPALIVE_SECONDS must be in (0, 15]")
        if self.lease_seconds < 0.3:
            raise SettingsError("BRIDGE_LEASE_SECONDS must be at least 0.3")
        if self.orchestrator_target_template and "{instance}" not in self.orchestrator_target_template:
            raise SettingsError("ORCHESTRATOR_TARGET_TEMPLATE must contain {instance}")

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> BridgeSettings:
        return cls(
            host=env_str(env, "BRIDGE_HOST", DEFAULT_HOST),
            port=env_int(env, "BRIDGE_PORT", DEFAULT_PORT),
            orchestrator_target=env_str(env, "ORCHESTRATOR_TARGET", DEFAULT_ORCHESTRATOR_TARGET),
            orchestrator_target_template=env_str(env, "ORCHESTRATOR_TARGET_TEMPLATE", ""),
            orchestrator_instances=parse_instances(env_list(env, "ORCHESTRATOR_INSTANCES")),
            processor_target=env_str(env, "PROCESSOR_TARGET", DEFAULT_PROCESSOR_TARGET),
            redis_url=env_str(env, "REDIS_URL", ""),
            redis_prefix=env_str(env, "BRIDGE_REDIS_PREFIX", DEFAULT_REDIS_PREFIX),
            instance_id=env_str(env, "BRIDGE_INSTANCE_ID", ""),
            buffer_maxlen=env_int(env, "BRIDGE_BUFFER_MAXLEN", DEFAULT_BUFFER_MAXLEN, minimum=10),
            buffer_retention_seconds=env_float(env, "BRIDGE_BUFFER_RETENTION_SECONDS",
                                               DEFAULT_BUFFER_RETENTION_SECONDS, minimum=1),
            job_ttl_seconds=env_float(env, "BRIDGE_JOB_TTL_SECONDS", DEFAULT_JOB_TTL_SECONDS, minimum=60),
            lease_seconds=env_float(env, "BRIDGE_LEASE_SECONDS", DEFAULT_LEASE_SECONDS, minimum=0.3),
            sse_retry_ms=env_int(env, "BRIDGE_SSE_RETRY_MS", DEFAULT_SSE_RETRY_MS),
            keepalive_seconds=env_float(env, "BRIDGE_KEEPALIVE_SECONDS", DEFAULT_KEEPALIVE_SECONDS, minimum=0.1),
            max_sse_clients=env_int(env, "BRIDGE_MAX_SSE_CLIENTS", DEFAULT_MAX_SSE_CLIENTS, minimum=1),
            rpc_timeout=env_float(env, "BRIDGE_RPC_TIMEOUT", DEFAULT_RPC_TIMEOUT, minimum=0.1),
            list_pages_timeout=env_float(env, "BRIDGE_LIST_PAGES_TIMEOUT", DEFAULT_LIST_PAGES_TIMEOUT, minimum=1),
            api_keys=env_list(env, "BRIDGE_API_KEYS"),
            cors_origins=tuple(o.rstrip("/") for o in env_list(env, "BRIDGE_CORS_ORIGINS")),
            rate_limit_per_minute=env_float(env, "BRIDGE_RATE_LIMIT_PER_MINUTE", DEFAULT_RATE_LIMIT_PER_MINUTE,
                                            minimum=0.001),
            rate_limit_burst=env_int(env, "BRIDGE_RATE_LIMIT_BURST", DEFAULT_RATE_LIMIT_BURST, minimum=1),
            trusted_proxies=env_int(env, "BRIDGE_TRUSTED_PROXIES", 0),
            allow_private_network=env_bool(env, "BRIDGE_ALLOW_PRIVATE_NETWORK", False),
            limit_max_pages=env_int(env, "BRIDGE_LIMIT_MAX_PAGES", DEFAULT_LIMIT_MAX_PAGES, minimum=1),
            limit_max_depth=env_int(env, "BRIDGE_LIMIT_MAX_DEPTH", DEFAULT_LIMIT_MAX_DEPTH),
            limit_concurrency=env_int(env, "BRIDGE_LIMIT_CONCURRENCY", DEFAULT_LIMIT_CONCURRENCY, minimum=1),
            limit_timeout_seconds=env_float(env, "BRIDGE_LIMIT_TIMEOUT_SECONDS", DEFAULT_LIMIT_TIMEOUT_SECONDS,
                                            minimum=1),
            idle_timeout=env_float(env, "BRIDGE_IDLE_TIMEOUT", DEFAULT_IDLE_TIMEOUT, minimum=0.1),
            body_timeout=env_float(env, "BRIDGE_BODY_TIMEOUT", DEFAULT_BODY_TIMEOUT, minimum=0.1),
            grace_seconds=env_float(env, "BRIDGE_GRACE_SECONDS", DEFAULT_GRACE_SECONDS),
            drain_seconds=env_float(env, "BRIDGE_DRAIN_SECONDS", DEFAULT_DRAIN_SECONDS),
            log_level=env_str(env, "LOG_LEVEL", "info"),
            auth=ServiceAuth.from_env(env),
        )
