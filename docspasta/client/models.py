"""Typed results of the client: what a job is, what it did, what it stored.

Both transports hand the same JSON shapes to these parsers (the bridge's JSON is the
orchestrator's messages through docspasta/events.py), so a result never depends on
which server answered."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from docspasta.events import TERMINAL_EVENTS

TERMINAL_STATES = frozenset({"completed", "failed", "timeout", "cancelled"})


@dataclass(frozen=True, kw_only=True)
class CrawlOptions:
    """Limits and scope of a job; None / empty means the service default."""

    max_pages: int | None = None
    max_depth: int | None = None
    concurrency: int | None = None
    timeout_seconds: float | None = None
    include_patterns: tuple[str, ...] = ()
    exclude_patterns: tuple[str, ...] = ()
    allowed_domains: tuple[str, ...] = ()
    use_sitemaps: bool | None = None
    obey_robots: bool | None = None
    # "auto", "always" or "never"; None: auto.
    render: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The bridge's POST /api/jobs fields (without the url)."""
        out: dict[str, Any] = {}
        for name in ("max_pages", "max_depth", "concurrency", "timeout_seconds", "use_sitemaps", "obey_robots",
                     "render"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        for name in ("include_patterns", "exclude_patterns", "allowed_domains"):
            if getattr(self, name):
                out[name] = list(getattr(self, name))
        return out


@dataclass(frozen=True, kw_only=True)
class Totals:
    processed: int = 0
    failed: int = 0
    discovered: int = 0
    queued: int = 0
    in_flight: int = 0
    elapsed_seconds: float = 0.0
    token_estimate: int = 0
    word_count: int = 0
    retries: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Totals:
        data = data or {}
        return cls(processed=int(data.get("processed", 0)), failed=int(data.get("failed", 0)),
                   discovered=int(data.get("discovered", 0)), queued=int(data.get("queued", 0)),
                   in_flight=int(data.get("in_flight", 0)), elapsed_seconds=float(data.get("elapsed_seconds", 0.0)),
                   # int64 fields are strings in protobuf's JSON form.
                   token_estimate=int(data.get("token_estimate", 0)), word_count=int(data.get("word_count", 0)),
                   retries=int(data.get("retries", 0)),
                   skipped={str(k): int(v) for k, v in (data.get("skipped") or {}).items()})


@dataclass(frozen=True, kw_only=True)
class Job:
    """A job as of the call that returned it. ``token`` is the bridge's job token
    (empty over gRPC, which needs none)."""

    job_id: str
    state: str
    url: str = ""
    totals: Totals = field(default_factory=Totals)
    last_sequence: int = 0
    error: str = ""
    scope: tuple[str, ...] = ()
    token: str = ""
    # Answered for a retried request (same request id / Idempotency-Key) with its earlier job.
    replayed: bool = False

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL_STATES

    @classmethod
    def from_json(cls, data: dict[str, Any], *, token: str = "", replayed: bool = False) -> Job:
        return cls(job_id=str(data.get("job_id", "")), state=str(data.get("state", "")), url=str(data.get("url", "")),
                   totals=Totals.from_json(data.get("totals")), last_sequence=int(data.get("last_sequence", 0)),
                   error=str(data.get("error", "")), scope=tuple(data.get("scope") or ()), token=token,
                   replayed=replayed)


@dataclass(frozen=True, kw_only=True)
class Event:
    """One job event: its name (``url_processed``...), sequence and JSON payload (the
    same JSON as ``docspasta crawl --events`` and the bridge's SSE ``data:``)."""

    type: str
    sequence: int
    data: dict[str, Any]

    @property
    def terminal(self) -> bool:
        return self.type in TERMINAL_EVENTS

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Event:
        return cls(type=str(data.get("type", "")), sequence=int(data.get("sequence", 0)), data=data)


@dataclass(frozen=True, kw_only=True)
class Page:
    """One stored page of a job."""

    url: str
    title: str
    markdown: str
    word_count: int = 0
    token_estimate: int = 0
    description: str = ""

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Page:
        return cls(url=str(data.get("url", "")), title=str(data.get("title", "")),
                   markdown=str(data.get("markdown", "")), word_count=int(data.get("word_count", 0)),
                   token_estimate=int(data.get("token_estimate", 0)), description=str(data.get("description", "")))
