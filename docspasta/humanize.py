"""Failure and skip reasons as a person reads them: "could not connect" rather than
"connection failed: ClientConnectorError"."""

from __future__ import annotations

import re

# Error categories (common.proto ErrorCategory, short names) and skip reasons (Totals.skipped).
REASONS = {
    "timeout": "timed out",
    "dns": "host name not found",
    "connect": "could not connect",
    "http_4xx": "HTTP 4xx (not found, forbidden, ...)",
    "http_5xx": "HTTP 5xx (server error)",
    "too_large": "page too large",
    "not_html": "not an HTML page",
    "blocked": "blocked (private network or port not allowed)",
    "invalid": "invalid URL or response",
    "robots": "disallowed by robots.txt",
    "processing": "could not be converted",
    "too_slow": "took too long to convert",
    "request_budget": "request budget used up (too many redirects or requests)",
    "out_of_scope": "out of scope",
    "excluded": "excluded by a pattern",
    "non_page": "not a page (images, archives, ...)",
    "duplicate": "duplicate",
    "trap": "crawler trap",
    "max_depth": "beyond --max-depth",
    "max_pages": "beyond --max-pages",
}
# Exception class names that some messages carry, and what they mean.
_CLASS_MEANINGS = {
    "ClientConnectorError": "could not connect (nothing listens there, or the network is unreachable)",
    "ClientConnectorCertificateError": "the TLS certificate was refused",
    "ClientConnectorSSLError": "the TLS handshake failed",
    "ServerDisconnectedError": "the server closed the connection",
    "ClientOSError": "the connection failed",
    "ServerTimeoutError": "the server did not answer in time",
    "ConnectionRefusedError": "connection refused (nothing listens there)",
}
_CLASS_NAME = re.compile(r"\b([A-Z][A-Za-z]+(?:Error|Exception))\b(?::\s*)?")


def reason_label(reason: str) -> str:
    return REASONS.get(reason, reason.replace("_", " "))


def failure_text(category: str, message: str) -> str:
    """``message`` with exception class names replaced by what they mean."""
    def meaning(match: re.Match[str]) -> str:
        return _CLASS_MEANINGS.get(match.group(1), "")

    text = _CLASS_NAME.sub(meaning, message)
    text = re.sub(r"connection failed:\s*(could not connect)", r"\1", text)
    text = " ".join(text.split()).strip(" :")
    return text or reason_label(category) or "failed"
