"""Processor settings, parsed once from the environment (see README: Configuration)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from docspasta.service_auth import ServiceAuth
from docspasta.settings import env_float, env_int, env_str
from processor import limits as page

DEFAULT_BIND = "127.0.0.1:50052"
DEFAULT_DATABASE_URL = "sqlite:///docspasta.db"
DEFAULT_MAX_HTML_BYTES = 32 * 1024 * 1024
# The largest Markdown one page may have: under gRPC's common 4 MiB default receive limit
# (grpc-js, grpc-go, grpc-java) with room for the rest of a Page/ProcessResponse, so a
# client that keeps its defaults reads every page (docs/contract.md, Message sizes).
DEFAULT_MAX_MARKDOWN_BYTES = 4 * 1024 * 1024 - 64 * 1024
DEFAULT_GRACE_SECONDS = 10.0


@dataclass(frozen=True, slots=True, kw_only=True)
class ProcessorSettings:
    bind: str = DEFAULT_BIND
    # sqlite:///path/to/file.db (the default) or postgresql://user:pass@host/db
    database_url: str = DEFAULT_DATABASE_URL
    # Conversion runs in this many worker processes (0: the number of CPUs).
    workers: int = 0
    max_html_bytes: int = DEFAULT_MAX_HTML_BYTES
    max_markdown_bytes: int = DEFAULT_MAX_MARKDOWN_BYTES
    # The per-page budget (processor/limits.py; README: "Per-page limits").
    limits: page.PageLimits = page.PageLimits()
    grace_seconds: float = DEFAULT_GRACE_SECONDS
    log_level: str = "info"
    metrics_port: int = 0
    # Service-to-service auth (docspasta/service_auth.py), off unless configured.
    auth: ServiceAuth = ServiceAuth()

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> ProcessorSettings:
        return cls(
            bind=env_str(env, "PROCESSOR_BIND", DEFAULT_BIND),
            database_url=env_str(env, "DATABASE_URL", DEFAULT_DATABASE_URL),
            workers=env_int(env, "PROCESSOR_WORKERS", 0),
            max_html_bytes=env_int(env, "PROCESSOR_MAX_HTML_BYTES", DEFAULT_MAX_HTML_BYTES, minimum=1024),
            max_markdown_bytes=env_int(env, "PROCESSOR_MAX_MARKDOWN_BYTES", DEFAULT_MAX_MARKDOWN_BYTES,
                                       minimum=1024),
            limits=page.PageLimits(
                max_elements=env_int(env, "PROCESSOR_MAX_ELEMENTS", page.DEFAULT_MAX_ELEMENTS),
                max_depth=env_int(env, "PROCESSOR_MAX_DEPTH", page.DEFAULT_MAX_DEPTH),
                max_text_chars=env_int(env, "PROCESSOR_MAX_TEXT_CHARS", page.DEFAULT_MAX_TEXT_CHARS),
                max_table_cells=env_int(env, "PROCESSOR_MAX_TABLE_CELLS", page.DEFAULT_MAX_TABLE_CELLS),
                cpu_seconds=env_float(env, "PROCESSOR_PAGE_CPU_SECONDS", page.DEFAULT_CPU_SECONDS),
                wall_seconds=env_float(env, "PROCESSOR_PAGE_SECONDS", page.DEFAULT_WALL_SECONDS),
                memory_bytes=env_int(env, "PROCESSOR_WORKER_MEMORY_BYTES", page.DEFAULT_MEMORY_BYTES),
            ),
            grace_seconds=env_float(env, "PROCESSOR_GRACE_SECONDS", DEFAULT_GRACE_SECONDS),
            log_level=env_str(env, "LOG_LEVEL", "info"),
            metrics_port=env_int(env, "PROCESSOR_METRICS_PORT", 0),
            auth=ServiceAuth.from_env(env),
        )

    @property
    def worker_count(self) -> int:
        return self.workers or os.cpu_count() or 1
