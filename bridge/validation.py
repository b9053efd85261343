"""Checks of a job request body, before anything reaches gRPC. Every failure names
the field and the reason."""

from __future__ import annotations

import ipaddress
import math
import re
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from crawler.safety import is_public, parse_ip
from docspasta.urls import InvalidURL, normalize
from docspasta.v1 import orchestrator_pb2 as pb
from docspasta.webhooks import TYPES_BY_NAME, InvalidWebhook, check_webhook

MAX_URL_LENGTH = 4096
MAX_PATTERNS = 100
MAX_PATTERN_LENGTH = 500
_DOMAIN = re.compile(r"^(\*\.)?([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$")
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa", ".lan")
FIELDS = frozenset({"url", "max_pages", "max_depth", "concurrency", "timeout_seconds", "include_patterns",
                    "exclude_patterns", "allowed_domains", "use_sitemaps", "obey_robots", "render", "webhook"})
# The "webhook" object (docspasta.v1.Webhook; README "Webhooks").
WEBHOOK_FIELDS = frozenset({"url", "secret", "events", "progress_every_pages", "progress_every_seconds"})
# The "render" field: when pages are rendered in a browser (orchestrator/render.py).
RENDER_MODES = {"auto": pb.RENDER_MODE_AUTO, "always": pb.RENDER_MODE_ALWAYS, "never": pb.RENDER_MODE_NEVER}


class Invalid(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    max_pages: int
    max_depth: int
    concurrency: int
    timeout_seconds: float
    allow_private_network: bool


def _literal_ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    ip = parse_ip(host)
    if ip is not None:
        return ip
    # Short, decimal, octal and hex IPv4 forms ("127.1", "2130706433", "0x7f.0.0.1").
    if re.fullmatch(r"[0-9a-fA-FxX.]+", host) and not re.fullmatch(r"[a-fA-F.]+", host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def check_target(url: str, *, allow_private_network: bool) -> None:
    """Refuses literal private addresses and local-only names unless allowed. Host
    names are resolved and checked again by the crawler at fetch time."""
    if allow_private_network:
        return
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    ip = _literal_ip(host)
    if (ip is not None and not is_public(ip)) or host == "localhost" or host.endswith(_LOCAL_SUFFIXES):
        raise Invalid("url", "private or local network targets are not allowed by this server "
                             "(its operator can allow them: --allow-private-network)")


def _int(body: dict[str, Any], name: str, low: int, high: int) -> int:
    value = body.get(name)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(name, "must be an integer")
    if value < low:
        raise Invalid(name, f"must be at least {low}")
    if value > high:
        raise Invalid(name, f"must be at most {high}")
    return value


def _patterns(body: dict[str, Any], name: str) -> list[str]:
    value = body.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise Invalid(name, "must be a list of strings")
    if len(value) > MAX_PATTERNS:
        raise Invalid(name, f"at most {MAX_PATTERNS} entries")
    out = []
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise Invalid(name, "every entry must be a non-empty string")
        if len(item) > MAX_PATTERN_LENGTH or "\x00" in item:
            raise Invalid(name, f"an entry is longer than {MAX_PATTERN_LENGTH} characters or has NUL")
        out.append(item.strip())
    return out


def parse_job_request(body: object, limits: Limits) -> tuple[str, pb.JobOptions]:
    """The start URL (normalised) and the job options, or Invalid."""
    if not isinstance(body, dict):
        raise Invalid("body", "must be a JSON object")
    for key in body:
        if key not in FIELDS:
            raise Invalid(str(key)[:64], "unknown field")
    url = body.get("url")
    if not isinstance(url, str) or not url.strip():
        raise Invalid("url", "required, a string")
    if len(url) > MAX_URL_LENGTH:
        raise Invalid("url", f"longer than {MAX_URL_LENGTH} characters")
    try:
        # The index name stays (as the CLI and the orchestrator keep it): it is the form to
        # fetch — not every server answers /dir/ — and the job's URL, the outputs' source.
        start = normalize(url, fold_index=False)
    except InvalidURL as exc:
        raise Invalid("url", str(exc)) from None
    check_target(start, allow_private_network=limits.allow_private_network)

    timeout = body.get("timeout_seconds")
    if timeout is not None:
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not math.isfinite(timeout):
            raise Invalid("timeout_seconds", "must be a number")
        if timeout <= 0:
            raise Invalid("timeout_seconds", "must be greater than 0")
        if timeout > limits.timeout_seconds:
            raise Invalid("timeout_seconds", f"must be at most {limits.timeout_seconds:g}")
    domains = _patterns(body, "allowed_domains")
    for domain in domains:
        if not _DOMAIN.match(domain.lower()):
            raise Invalid("allowed_domains", f"{domain[:80]!r} is not a domain or *.domain")
    options = pb.JobOptions(
        max_pages=_int(body, "max_pages", 1, limits.max_pages),
        # 0 = only the start page (the field has presence; absent = the default).
        max_depth=_int(body, "max_depth", 0, limits.max_depth) if body.get("max_depth") is not None else None,
        concurrency=_int(body, "concurrency", 1, limits.concurrency),
        timeout_seconds=float(timeout or 0.0),
        include_patterns=_patterns(body, "include_patterns"),
        exclude_patterns=_patterns(body, "exclude_patterns"),
        allowed_domains=[d.lower() for d in domains])
    for flag in ("use_sitemaps", "obey_robots"):
        value = body.get(flag)
        if value is None:
            continue
        if not isinstance(value, bool):
            raise Invalid(flag, "must be true or false")
        setattr(options, flag, value)
    render = body.get("render")
    if render is not None:
        if not isinstance(render, str) or render not in RENDER_MODES:
            raise Invalid("render", "must be one of auto, always, never")
        options.render_mode = RENDER_MODES[render]
    return start, options


def parse_webhook(body: object, limits: Limits) -> pb.Webhook | None:
    """The body's "webhook" object as a Webhook message (None when absent), checked by
    the rules the orchestrator applies (docspasta/webhooks.py), or Invalid naming the
    field ("webhook.url", ...)."""
    if not isinstance(body, dict) or body.get("webhook") is None:
        return None
    value = body["webhook"]
    if not isinstance(value, dict):
        raise Invalid("webhook", "must be an object: {\"url\": ..., \"secret\": ..., \"events\": [...]}")
    for key in value:
        if key not in WEBHOOK_FIELDS:
            raise Invalid(f"webhook.{str(key)[:64]}", "unknown field")
    url, secret = value.get("url"), value.get("secret", "")
    if not isinstance(url, str):
        raise Invalid("webhook.url", "required, a string")
    if not isinstance(secret, str):
        raise Invalid("webhook.secret", "must be a string")
    events = value.get("events", [])
    if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
        raise Invalid("webhook.events", "must be a list of event type names")
    unknown = [e for e in events if e not in TYPES_BY_NAME]
    if unknown:
        raise Invalid("webhook.events", f"unknown type {unknown[0][:64]!r}; known: " + ", ".join(TYPES_BY_NAME))
    pages, seconds = value.get("progress_every_pages", 0), value.get("progress_every_seconds", 0)
    if isinstance(pages, bool) or not isinstance(pages, int):
        raise Invalid("webhook.progress_every_pages", "must be an integer")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not math.isfinite(seconds):
        raise Invalid("webhook.progress_every_seconds", "must be a number")
    if not -(2 ** 31) <= pages < 2 ** 31:
        raise Invalid("webhook.progress_every_pages", f"must be 0 (the default) or 1 to {limits.max_pages}")
    webhook = pb.Webhook(url=url, secret=secret, events=[TYPES_BY_NAME[e] for e in events],  # type: ignore[misc]
                         progress_every_pages=pages, progress_every_seconds=float(seconds))
    try:
        check_webhook(webhook, max_pages=limits.max_pages)
    except InvalidWebhook as exc:
        raise Invalid(exc.field, exc.reason) from None
    try:
        check_target(url, allow_private_network=limits.allow_private_network)
    except Invalid as exc:
        raise Invalid("webhook.url", exc.reason.replace("targets", "receivers")) from None
    return webhook
