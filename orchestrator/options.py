"""A job's effective options: the request's values checked against the service's
bounds, with defaults filled in."""

from __future__ import annotations

import re
from dataclasses import dataclass

from docspasta.urls import InvalidURL, normalize
from docspasta.v1 import orchestrator_pb2
from orchestrator.render import AUTO, mode_from_proto, mode_to_proto
from orchestrator.settings import OrchestratorSettings

MAX_PATTERNS = 100
MAX_PATTERN_LENGTH = 500
# Extended globs (+(a|aa), *(...)) compile to backtracking regexes: one pattern and a
# long path can hold the event loop for minutes. Braces must expand to few patterns.
_EXTGLOB = re.compile(r"[?*+@!]\(")
MAX_BRACE_EXPANSION = 100


class InvalidOptions(ValueError):
    """A request field is out of bounds; the message names the field and why."""


@dataclass(frozen=True, slots=True, kw_only=True)
class JobOptions:
    max_pages: int
    max_depth: int
    concurrency: int
    timeout_seconds: float
    include_patterns: tuple[str, ...] = ()
    exclude_patterns: tuple[str, ...] = ()
    allowed_domains: tuple[str, ...] = ()
    use_sitemaps: bool = True
    obey_robots: bool = True
    # auto, always or never (orchestrator/render.py).
    render_mode: str = AUTO

    def to_proto(self) -> orchestrator_pb2.JobOptions:
        return orchestrator_pb2.JobOptions(
            max_pages=self.max_pages, max_depth=self.max_depth, concurrency=self.concurrency,
            timeout_seconds=self.timeout_seconds, include_patterns=self.include_patterns,
            exclude_patterns=self.exclude_patterns, allowed_domains=self.allowed_domains,
            use_sitemaps=self.use_sitemaps, obey_robots=self.obey_robots,
            render_mode=mode_to_proto(self.render_mode))

    @classmethod
    def from_proto(cls, p: orchestrator_pb2.JobOptions) -> JobOptions:
        """Effective options as stored with the job (every field filled in)."""
        return cls(max_pages=p.max_pages, max_depth=p.max_depth, concurrency=p.concurrency,
                   timeout_seconds=p.timeout_seconds, include_patterns=tuple(p.include_patterns),
                   exclude_patterns=tuple(p.exclude_patterns), allowed_domains=tuple(p.allowed_domains),
                   use_sitemaps=p.use_sitemaps if p.HasField("use_sitemaps") else True,
                   obey_robots=p.obey_robots if p.HasField("obey_robots") else True,
                   render_mode=mode_from_proto(p.render_mode))


def _number(value: float) -> str:
    """1000000 as "1000000", not "1e+06"."""
    return str(int(value)) if float(value).is_integer() else f"{value}"


def _bounded(name: str, value: float, default: float, upper: float) -> float:
    if value < 0:
        raise InvalidOptions(f"options.{name}: must not be negative, got {_number(value)}")
    if value > upper:
        raise InvalidOptions(f"options.{name}: at most {_number(upper)}, got {_number(value)}")
    return value or default


def _patterns(name: str, values: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    if len(values) > MAX_PATTERNS:
        raise InvalidOptions(f"options.{name}: at most {MAX_PATTERNS} patterns")
    out = []
    for value in values:
        value = value.strip()
        if not value:
            raise InvalidOptions(f"options.{name}: empty pattern")
        if len(value) > MAX_PATTERN_LENGTH:
            raise InvalidOptions(f"options.{name}: a pattern is longer than {MAX_PATTERN_LENGTH} characters")
        if _EXTGLOB.search(value):
            raise InvalidOptions(f"options.{name}: extended globs like +(...) or *(...) are not supported")
        from orchestrator.scope import glob_module

        glob = glob_module()
        try:
            glob.translate(value, flags=glob.GLOBSTAR | glob.BRACE | glob.IGNORECASE | glob.DOTGLOB,
                           limit=MAX_BRACE_EXPANSION)
        except Exception:  # wcmatch's PatternLimitException and malformed patterns
            raise InvalidOptions(f"options.{name}: {value[:60]!r} expands to more than "
                                 f"{MAX_BRACE_EXPANSION} patterns or is malformed") from None
        out.append(value)
    return tuple(out)


def validate_url(url: str) -> str:
    """The normalised start URL, or InvalidOptions naming the field."""
    if not url.strip():
        raise InvalidOptions("url: required")
    if len(url) > 4096:
        raise InvalidOptions("url: longer than 4096 characters")
    try:
        return normalize(url, fold_index=False)
    except InvalidURL as exc:
        raise InvalidOptions(f"url: {exc}") from None


def effective_options(request: orchestrator_pb2.JobOptions, settings: OrchestratorSettings) -> JobOptions:
    s = settings
    timeout = request.timeout_seconds
    if timeout != timeout:  # NaN
        raise InvalidOptions("options.timeout_seconds: not a number")
    domains = _patterns("allowed_domains", list(request.allowed_domains))
    for domain in domains:
        bare = domain.removeprefix("*.")
        if not bare or "/" in bare or "*" in bare or " " in bare:
            raise InvalidOptions(f"options.allowed_domains: {domain!r} is not a domain or *.domain")
    return JobOptions(
        max_pages=int(_bounded("max_pages", request.max_pages, s.default_max_pages, s.limit_max_pages)),
        # max_depth has presence: 0 means the start page only, unset the default.
        max_depth=(int(_bounded("max_depth", request.max_depth, 0, s.limit_max_depth))
                   if request.HasField("max_depth") else s.default_max_depth),
        concurrency=int(_bounded("concurrency", request.concurrency, s.default_concurrency, s.limit_concurrency)),
        timeout_seconds=_bounded("timeout_seconds", timeout, s.default_timeout_seconds, s.limit_timeout_seconds),
        include_patterns=_patterns("include_patterns", list(request.include_patterns)),
        exclude_patterns=_patterns("exclude_patterns", list(request.exclude_patterns)),
        allowed_domains=tuple(d.lower() for d in domains),
        use_sitemaps=request.use_sitemaps if request.HasField("use_sitemaps") else True,
        obey_robots=request.obey_robots if request.HasField("obey_robots") else True,
        render_mode=_render_mode(request.render_mode),
    )


def _render_mode(value: int) -> str:
    if value not in orchestrator_pb2.RenderMode.values():
        raise InvalidOptions(f"options.render_mode: unknown value {value} (auto, always or never)")
    return mode_from_proto(value)
