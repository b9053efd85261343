"""Orchestrator settings, parsed once from the environment (see README: Configuration)."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass

from docspasta.service_auth import ServiceAuth
from docspasta.settings import env_bool, env_float, env_int, env_list, env_str
from orchestrator import budget
from orchestrator.webhooks import settings as webhook_settings
from orchestrator.webhooks.settings import WebhookSettings

DEFAULT_BIND = "127.0.0.1:50053"
DEFAULT_CRAWLER_TARGET = "127.0.0.1:50051"
DEFAULT_PROCESSOR_TARGET = "127.0.0.1:50052"
# No renderer unless one is named: a page that needs rendering then fails saying so.
DEFAULT_RENDERER_TARGET = ""
DEFAULT_RENDER_RPC_TIMEOUT = 60.0
DEFAULT_MAX_PAGES = 5000
DEFAULT_MAX_DEPTH = 20
DEFAULT_CONCURRENCY = 10
DEFAULT_TIMEOUT_SECONDS = 300.0
LIMIT_MAX_PAGES = 100_000
LIMIT_MAX_DEPTH = 100
LIMIT_CONCURRENCY = 200
LIMIT_TIMEOUT_SECONDS = 24 * 3600.0
DEFAULT_CRAWL_RPC_TIMEOUT = 60.0
DEFAULT_PROCESS_RPC_TIMEOUT = 120.0
DEFAULT_JOB_RETENTION_SECONDS = 7 * 24 * 3600.0
DEFAULT_DATABASE_URL = "sqlite:///docspasta.db"
DEFAULT_LEASE_SECONDS = 15.0
DEFAULT_LEASE_RENEW_SECONDS = 4.0
DEFAULT_RECONCILE_SECONDS = 1.0
DEFAULT_FLUSH_SECONDS = 0.05
DEFAULT_FLUSH_EVENTS = 256
DEFAULT_FRONTIER_WINDOW = 2000
DEFAULT_SEEN_CACHE_SIZE = 20_000
DEFAULT_DEDUP_CACHE_SIZE = 10_000
DEFAULT_MAX_ACTIVE_JOBS = 50
DEFAULT_GRACE_SECONDS = 10.0
DEFAULT_MAX_ATTEMPTS = 3
DEFAULT_HOST_CONCURRENCY = 8
DEFAULT_MAX_CRAWL_DELAY = 30.0
DEFAULT_ROBOTS_USER_AGENT = "Docspasta"
DEFAULT_MAX_URL_LENGTH = 1024
DEFAULT_MAX_QUERY_VARIANTS = 50
DEFAULT_MAX_LINKS_PER_PAGE = 2000
DEFAULT_MAX_SITEMAP_DOCUMENTS = 100
DEFAULT_MAX_SITEMAP_URLS = 100_000


@dataclass(frozen=True, slots=True, kw_only=True)
class OrchestratorSettings:
    bind: str = DEFAULT_BIND
    # gRPC targets; "dns:///crawler:50051" balances over every replica behind a headless Service.
    crawler_target: str = DEFAULT_CRAWLER_TARGET
    processor_target: str = DEFAULT_PROCESSOR_TARGET
    # Prefix of the job ids this replica issues, so any bridge can route a job to it.
    instance_id: str = "local"
    default_max_pages: int = DEFAULT_MAX_PAGES
    default_max_depth: int = DEFAULT_MAX_DEPTH
    default_concurrency: int = DEFAULT_CONCURRENCY
    default_timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    limit_max_pages: int = LIMIT_MAX_PAGES
    limit_max_depth: int = LIMIT_MAX_DEPTH
    limit_concurrency: int = LIMIT_CONCURRENCY
    limit_timeout_seconds: float = LIMIT_TIMEOUT_SECONDS
    # Process calls in flight per job (0: twice the job's crawl concurrency).
    process_concurrency: int = 0
    crawl_rpc_timeout: float = DEFAULT_CRAWL_RPC_TIMEOUT
    process_rpc_timeout: float = DEFAULT_PROCESS_RPC_TIMEOUT
    # Crawl and Process calls on one stream per service (docspasta/call_streams.py) instead
    # of unary calls: less CPU a page, but every call of a stream goes to one replica. On in
    # the local stack; for a deployment whose crawler and processor are one replica each.
    call_streams: bool = False
    # The renderer service (renderer/), for pages built by scripts; "" means none.
    renderer_target: str = DEFAULT_RENDERER_TARGET
    render_rpc_timeout: float = DEFAULT_RENDER_RPC_TIMEOUT
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    # Politeness: requests in flight per host at most (adaptive below it), the longest
    # robots.txt Crawl-delay honoured, and the robots.txt user-agent token obeyed.
    host_concurrency: int = DEFAULT_HOST_CONCURRENCY
    max_crawl_delay: float = DEFAULT_MAX_CRAWL_DELAY
    robots_user_agent: str = DEFAULT_ROBOTS_USER_AGENT
    # Trap limits (see docs/scope.md).
    max_url_length: int = DEFAULT_MAX_URL_LENGTH
    max_query_variants: int = DEFAULT_MAX_QUERY_VARIANTS
    max_links_per_page: int = DEFAULT_MAX_LINKS_PER_PAGE
    max_sitemap_documents: int = DEFAULT_MAX_SITEMAP_DOCUMENTS
    max_sitemap_urls: int = DEFAULT_MAX_SITEMAP_URLS
    # The request budget per job (orchestrator/budget.py; README: "Request budget").
    budget: budget.BudgetLimits = budget.BudgetLimits()
    # Finished jobs (row, events, frontier) are deleted from the job store this long after they end.
    job_retention_seconds: float = DEFAULT_JOB_RETENTION_SECONDS
    # Jobs running on this replica at most; more wait in the admission queue (QUEUED).
    max_active_jobs: int = DEFAULT_MAX_ACTIVE_JOBS
    # The job store: sqlite:///path or postgresql://... (the same DATABASE_URL as the processor's).
    database_url: str = DEFAULT_DATABASE_URL
    # A replica runs a job only while it holds the job's lease, renewed every lease_renew_seconds;
    # a dead replica's jobs are adopted lease_seconds after its last renewal.
    lease_seconds: float = DEFAULT_LEASE_SECONDS
    lease_renew_seconds: float = DEFAULT_LEASE_RENEW_SECONDS
    # How often the reconciler looks for queued and orphaned jobs to run.
    reconcile_seconds: float = DEFAULT_RECONCILE_SECONDS
    # False: adopt only the orphaned jobs a StartJob asked for again (the CLI's --resume),
    # not every orphan in the store.
    adopt_orphans: bool = True
    # Write-behind: a running job's changes are committed every flush_seconds or flush_events events.
    flush_seconds: float = DEFAULT_FLUSH_SECONDS
    flush_events: int = DEFAULT_FLUSH_EVENTS
    # Memory per job: queued URLs held in memory, seen URL keys and dedup hashes cached.
    frontier_window: int = DEFAULT_FRONTIER_WINDOW
    seen_cache_size: int = DEFAULT_SEEN_CACHE_SIZE
    dedup_cache_size: int = DEFAULT_DEDUP_CACHE_SIZE
    # Seconds between time_update events.
    tick_seconds: float = 1.0
    grace_seconds: float = DEFAULT_GRACE_SECONDS
    log_level: str = "info"
    metrics_port: int = 0
    # Service-to-service auth (docspasta/service_auth.py), off unless configured.
    auth: ServiceAuth = ServiceAuth()
    # Webhook delivery: secrets, egress, deadlines, retries (orchestrator/webhooks/settings.py).
    webhooks: WebhookSettings = WebhookSettings()

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> OrchestratorSettings:
        return cls(
            bind=env_str(env, "ORCHESTRATOR_BIND", DEFAULT_BIND),
            crawler_target=env_str(env, "CRAWLER_TARGET", DEFAULT_CRAWLER_TARGET),
            processor_target=env_str(env, "PROCESSOR_TARGET", DEFAULT_PROCESSOR_TARGET),
            instance_id=env_str(env, "ORCHESTRATOR_INSTANCE_ID", socket.gethostname().split(".")[0] or "local"),
            default_max_pages=env_int(env, "DEFAULT_MAX_PAGES", DEFAULT_MAX_PAGES, minimum=1),
            default_max_depth=env_int(env, "DEFAULT_MAX_DEPTH", DEFAULT_MAX_DEPTH),
            default_concurrency=env_int(env, "DEFAULT_CONCURRENCY", DEFAULT_CONCURRENCY, minimum=1),
            default_timeout_seconds=env_float(env, "DEFAULT_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS, minimum=1),
            limit_max_pages=env_int(env, "LIMIT_MAX_PAGES", LIMIT_MAX_PAGES, minimum=1),
            limit_max_depth=env_int(env, "LIMIT_MAX_DEPTH", LIMIT_MAX_DEPTH),
            limit_concurrency=env_int(env, "LIMIT_CONCURRENCY", LIMIT_CONCURRENCY, minimum=1),
            limit_timeout_seconds=env_float(env, "LIMIT_TIMEOUT_SECONDS", LIMIT_TIMEOUT_SECONDS, minimum=1),
            process_concurrency=env_int(env, "PROCESS_CONCURRENCY", 0),
            crawl_rpc_timeout=env_float(env, "CRAWL_RPC_TIMEOUT", DEFAULT_CRAWL_RPC_TIMEOUT, minimum=0.1),
            process_rpc_timeout=env_float(env, "PROCESS_RPC_TIMEOUT", DEFAULT_PROCESS_RPC_TIMEOUT, minimum=0.1),
            call_streams=env_bool(env, "CALL_STREAMS", False),
            renderer_target=env_str(env, "RENDERER_TARGET", DEFAULT_RENDERER_TARGET),
            render_rpc_timeout=env_float(env, "RENDER_RPC_TIMEOUT", DEFAULT_RENDER_RPC_TIMEOUT, minimum=1.0),
            max_attempts=env_int(env, "MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS, minimum=1),
            host_concurrency=env_int(env, "HOST_CONCURRENCY", DEFAULT_HOST_CONCURRENCY, minimum=1),
            max_crawl_delay=env_float(env, "MAX_CRAWL_DELAY", DEFAULT_MAX_CRAWL_DELAY),
            robots_user_agent=env_str(env, "ROBOTS_USER_AGENT", DEFAULT_ROBOTS_USER_AGENT),
            max_url_length=env_int(env, "MAX_URL_LENGTH", DEFAULT_MAX_URL_LENGTH, minimum=64),
            max_query_variants=env_int(env, "MAX_QUERY_VARIANTS", DEFAULT_MAX_QUERY_VARIANTS, minimum=1),
            max_links_per_page=env_int(env, "MAX_LINKS_PER_PAGE", DEFAULT_MAX_LINKS_PER_PAGE, minimum=1),
            max_sitemap_documents=env_int(env, "MAX_SITEMAP_DOCUMENTS", DEFAULT_MAX_SITEMAP_DOCUMENTS),
            max_sitemap_urls=env_int(env, "MAX_SITEMAP_URLS", DEFAULT_MAX_SITEMAP_URLS),
            budget=budget.BudgetLimits(
                requests_per_page=env_float(env, "REQUEST_BUDGET_PER_PAGE", budget.DEFAULT_REQUESTS_PER_PAGE,
                                            minimum=1.0),
                extra_requests=env_int(env, "REQUEST_BUDGET_EXTRA", budget.DEFAULT_EXTRA_REQUESTS),
                per_host=env_int(env, "REQUEST_BUDGET_PER_HOST", 0),
                error_window=env_int(env, "HOST_ERROR_WINDOW", budget.DEFAULT_ERROR_WINDOW),
                error_ratio=env_float(env, "HOST_ERROR_RATIO", budget.DEFAULT_ERROR_RATIO, minimum=0.01),
            ),
            job_retention_seconds=env_float(env, "JOB_RETENTION_SECONDS", DEFAULT_JOB_RETENTION_SECONDS),
            max_active_jobs=env_int(env, "MAX_ACTIVE_JOBS", DEFAULT_MAX_ACTIVE_JOBS, minimum=1),
            database_url=env_str(env, "DATABASE_URL", DEFAULT_DATABASE_URL),
            lease_seconds=env_float(env, "JOB_LEASE_SECONDS", DEFAULT_LEASE_SECONDS, minimum=1),
            lease_renew_seconds=env_float(env, "JOB_LEASE_RENEW_SECONDS", DEFAULT_LEASE_RENEW_SECONDS, minimum=0.1),
            reconcile_seconds=env_float(env, "RECONCILE_SECONDS", DEFAULT_RECONCILE_SECONDS, minimum=0.05),
            adopt_orphans=env_bool(env, "ADOPT_ORPHANS", True),
            flush_seconds=env_float(env, "JOB_FLUSH_SECONDS", DEFAULT_FLUSH_SECONDS, minimum=0.001),
            flush_events=env_int(env, "JOB_FLUSH_EVENTS", DEFAULT_FLUSH_EVENTS, minimum=1),
            frontier_window=env_int(env, "FRONTIER_WINDOW", DEFAULT_FRONTIER_WINDOW, minimum=10),
            seen_cache_size=env_int(env, "SEEN_CACHE_SIZE", DEFAULT_SEEN_CACHE_SIZE, minimum=10),
            dedup_cache_size=env_int(env, "DEDUP_CACHE_SIZE", DEFAULT_DEDUP_CACHE_SIZE, minimum=10),
            grace_seconds=env_float(env, "ORCHESTRATOR_GRACE_SECONDS", DEFAULT_GRACE_SECONDS),
            log_level=env_str(env, "LOG_LEVEL", "info"),
            metrics_port=env_int(env, "ORCHESTRATOR_METRICS_PORT", 0),
            auth=ServiceAuth.from_env(env),
            webhooks=WebhookSettings(
                secrets=webhook_settings.parse_secrets(env_str(env, "WEBHOOK_SECRET", "")),
                allow_private_network=env_bool(env, "WEBHOOK_ALLOW_PRIVATE_NETWORK", False),
                allowed_ports=webhook_settings.parse_ports(env_list(env, "WEBHOOK_ALLOWED_PORTS")),
                timeout_seconds=env_float(env, "WEBHOOK_TIMEOUT_SECONDS", webhook_settings.DEFAULT_TIMEOUT_SECONDS,
                                          minimum=0.1),
                concurrency=env_int(env, "WEBHOOK_CONCURRENCY", webhook_settings.DEFAULT_CONCURRENCY, minimum=1),
                batch=env_int(env, "WEBHOOK_BATCH", webhook_settings.DEFAULT_BATCH, minimum=1),
                poll_seconds=env_float(env, "WEBHOOK_POLL_SECONDS", webhook_settings.DEFAULT_POLL_SECONDS,
                                       minimum=0.01),
                retry_base_seconds=env_float(env, "WEBHOOK_RETRY_BASE_SECONDS",
                                             webhook_settings.DEFAULT_RETRY_BASE_SECONDS, minimum=0.01),
                retry_max_seconds=env_float(env, "WEBHOOK_RETRY_MAX_SECONDS",
                                            webhook_settings.DEFAULT_RETRY_MAX_SECONDS, minimum=0.01),
                give_up_seconds=env_float(env, "WEBHOOK_GIVE_UP_SECONDS", webhook_settings.DEFAULT_GIVE_UP_SECONDS,
                                          minimum=1.0),
            ),
        )
