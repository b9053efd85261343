"""The bridge's HTTP API as an OpenAPI 3.1 document, served at ``/api/openapi.json``.

One source of truth, kept honest by tests rather than by a framework: this module
declares every operation next to the limits the handlers enforce (the constants of
bridge/validation.py, bridge/body.py, bridge/idempotency.py, bridge/sse.py and the
server's own settings, read here, never copied), and tests/bridge/test_openapi.py
checks it against the app — every route documented, every documented route served
with the same methods, every job field the validator accepts documented and no
other — and fuzzes the running bridge against it with Schemathesis. Rewriting the
handlers around a schema library would have moved every error message and status
into that library's hands; the checks keep the document and the code in step.

The document is built per server: the API-key scheme appears only when the server
has keys, and the numeric bounds are the server's configured limits."""

from __future__ import annotations

import json
from importlib import metadata
from typing import Any

from aiohttp import web

from bridge.api import DOCUMENTS
from bridge.body import DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_JSON_DEPTH
from bridge.idempotency import HEADER as IDEMPOTENCY_HEADER, MAX_KEY_LENGTH
from bridge.settings import BridgeSettings
from bridge.sse import MAX_SEQUENCE
from bridge.validation import MAX_PATTERN_LENGTH, MAX_PATTERNS, MAX_URL_LENGTH, RENDER_MODES
from docspasta.events import EVENT_NAMES
from docspasta.ids import JOB_ID_RE
from docspasta.v1 import orchestrator_pb2 as pb
from docspasta.webhooks import (MAX_PROGRESS_SECONDS as WEBHOOK_MAX_PROGRESS_SECONDS,
                                MAX_URL_LENGTH as WEBHOOK_MAX_URL_LENGTH, TYPES_BY_NAME as WEBHOOK_TYPES)

PATH = "/api/openapi.json"
JSON = "application/json"
JOB_STATES = ["unspecified", "queued", "running", "cancelling", "completed", "failed", "timeout", "cancelled"]
# What each download of bridge/api.py DOCUMENTS is (its content type is taken from there).
DOWNLOADS: dict[str, str] = {
    "markdown": "The combined document: a header, the contents, then every page (section) in the contents' "
                "order; links between pages point inside the document.",
    "llms.txt": "An llms.txt index of the pages (https://llmstxt.org).",
    "llms-full.txt": "llms-full.txt: the index followed by every page's Markdown.",
    "archive.zip": "A zip with one .md file per page, in the site's own folder layout.",
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _error(description: str, *, retry_after: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"description": description, "content": {JSON: {"schema": _ref("Error")}}}
    if retry_after:
        out["headers"] = {"Retry-After": {"$ref": "#/components/headers/Retry-After"}}
    return out


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` or JSON null (every job option: null means the server's default)."""
    return {"oneOf": [schema, {"type": "null"}]}


def _patterns(description: str, item: dict[str, Any]) -> dict[str, Any]:
    return _nullable({"type": "array", "maxItems": MAX_PATTERNS, "description": description,
                      "items": {"type": "string", "minLength": 1, "maxLength": MAX_PATTERN_LENGTH, **item}})


# A non-blank string without NUL (the validator strips the entry and refuses NUL).
_TEXT_ITEM = {"pattern": "^[^\\x00]*[^\\s\\x00][^\\x00]*$"}
# bridge/validation.py _DOMAIN, case-insensitive (the validator lower-cases first).
_DOMAIN_ITEM = {"pattern": "^(\\*\\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)"
                           "(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"}


def job_request_schema(settings: BridgeSettings) -> dict[str, Any]:
    """``POST /api/jobs``: the fields bridge/validation.py accepts, with this server's limits."""
    return {
        "type": "object", "additionalProperties": False, "required": ["url"],
        "properties": {
            "url": {"type": "string", "minLength": 1, "maxLength": MAX_URL_LENGTH, "pattern": "\\S",
                    "description": "The start URL (http or https). Unless the server allows it, private and "
                                   "local network targets are refused.",
                    "examples": ["https://docs.python.org/3/library/"]},
            "max_pages": _nullable({"type": "integer", "minimum": 1, "maximum": settings.limit_max_pages,
                                    "description": "Pages to convert at most."}),
            "max_depth": _nullable({"type": "integer", "minimum": 0, "maximum": settings.limit_max_depth,
                                    "description": "Link depth from the start page (0: only the start page)."}),
            "concurrency": _nullable({"type": "integer", "minimum": 1, "maximum": settings.limit_concurrency,
                                      "description": "Fetches at once."}),
            "timeout_seconds": _nullable({"type": "number", "exclusiveMinimum": 0,
                                          "maximum": settings.limit_timeout_seconds,
                                          "description": "The job's time budget; it ends as `timeout` after it."}),
            "include_patterns": _patterns("URL globs a page must match to be crawled.", _TEXT_ITEM),
            "exclude_patterns": _patterns("URL globs that keep a page out.", _TEXT_ITEM),
            "allowed_domains": _patterns("Hosts (or *.domain) the crawl may leave the start host for.",
                                         _DOMAIN_ITEM),
            "use_sitemaps": _nullable({"type": "boolean", "description": "Seed from the site's sitemaps."}),
            "obey_robots": _nullable({"type": "boolean", "description": "Honour robots.txt (default true)."}),
            "render": _nullable({"type": "string", "enum": sorted(RENDER_MODES),
                                 "description": "When pages are rendered in a browser: auto (pages built by "
                                                "scripts), always or never."}),
            "webhook": _nullable(_webhook_schema(settings)),
        },
    }


def _webhook_schema(settings: BridgeSettings) -> dict[str, Any]:
    """The "webhook" object (bridge/validation.py parse_webhook; README "Webhooks")."""
    return {
        "type": "object", "additionalProperties": False, "required": ["url"],
        "description": "Where the job's lifecycle events are POSTed, signed as Standard Webhooks says "
                       "(webhook-id, webhook-timestamp, webhook-signature), at least once.",
        "properties": {
            "url": {"type": "string", "minLength": 1, "maxLength": WEBHOOK_MAX_URL_LENGTH,
                    "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://", "format": "uri",
                    "description": "The receiver, http or https, no credentials or fragment. Unless the "
                                   "deployment allows it, private and local network receivers are refused.",
                    "examples": ["https://hooks.example.com/docspasta"]},
            "secret": {"type": "string",
                       "description": "whsec_ + base64 of 24-64 random bytes; empty or absent: the "
                                      "deployment's secret (refused when it has none)."},
            "events": {"type": "array", "items": {"type": "string", "enum": list(WEBHOOK_TYPES)},
                       "description": "Event types to send; empty or absent: all."},
            "progress_every_pages": {"type": "integer", "minimum": 0, "maximum": settings.limit_max_pages,
                                     "description": "A job.progress each this many pages (0: 100)."},
            "progress_every_seconds": {"type": "number", "minimum": 0, "maximum": WEBHOOK_MAX_PROGRESS_SECONDS,
                                       "description": "Or after this many seconds when pages were processed "
                                                      "meanwhile (0: 30; else at least 1)."},
        },
    }


_INT64 = {"oneOf": [{"type": "integer"}, {"type": "string", "pattern": "^-?[0-9]+$"}],
          "description": "A 64-bit count (protobuf's JSON writes it as a string)."}
_TOTALS = {
    "type": "object",
    "properties": {
        "processed": {"type": "integer", "description": "Pages converted and stored."},
        "failed": {"type": "integer", "description": "URLs that failed for good."},
        "discovered": {"type": "integer", "description": "Distinct URLs in scope found so far."},
        "queued": {"type": "integer"}, "in_flight": {"type": "integer"}, "retries": {"type": "integer"},
        "elapsed_seconds": {"type": "number"},
        "token_estimate": _INT64, "word_count": _INT64,
        "skipped": {"type": "object", "additionalProperties": {"type": "integer"},
                    "description": "URLs left out, by reason (out_of_scope, robots, duplicate, max_pages...)."},
    },
}
_JOB = {
    "type": "object", "required": ["job_id", "state"],
    "description": "A job as the orchestrator reports it (docspasta.v1 Job in JSON form). When the "
                   "orchestrator no longer knows a finished job, the bridge answers from its buffer: "
                   "`source` is then `buffer` and only the fields it keeps are present.",
    "properties": {
        "job_id": {"type": "string"},
        "url": {"type": "string", "description": "The start URL, normalised."},
        "state": {"type": "string", "enum": [*JOB_STATES, "unknown"]},
        "options": {
            "type": "object", "description": "The effective options, defaults filled in (docspasta.v1 JobOptions).",
            "properties": {
                "max_pages": {"type": "integer"}, "max_depth": {"type": "integer"}, "concurrency": {"type": "integer"},
                "timeout_seconds": {"type": "number"}, "use_sitemaps": {"type": "boolean"},
                "obey_robots": {"type": "boolean"},
                "render_mode": {"type": "string", "enum": list(pb.RenderMode.keys())},
                "include_patterns": {"type": "array", "items": {"type": "string"}},
                "exclude_patterns": {"type": "array", "items": {"type": "string"}},
                "allowed_domains": {"type": "array", "items": {"type": "string"}},
            },
        },
        "totals": _ref("Totals"),
        "created_at": {"type": "string", "format": "date-time"},
        "scope": {"type": "array", "items": {"type": "string"}, "description": "The scope rules in words."},
        "last_sequence": {"type": "integer", "description": "The sequence of the job's latest event."},
        "buffered_sequence": {"type": "integer", "description": "The latest event this bridge has buffered."},
        "error": {"type": "string", "description": "Why the job failed; empty otherwise."},
        "source": {"type": "string", "enum": ["buffer"]},
    },
}
_ERROR = {
    "type": "object", "required": ["error"], "additionalProperties": False,
    "description": "Every error of the API. `code` is stable and machine-readable (invalid_argument, "
                   "unsupported_media_type, unauthenticated, not_found, method_not_allowed, too_large, timeout, "
                   "idempotency_key_reused, rate_limited, busy, unavailable, backend_error, internal); "
                   "`field` names the bad input when there is one.",
    "properties": {"error": {
        "type": "object", "required": ["code", "message"], "additionalProperties": False,
        "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "field": {"type": "string"}},
    }},
    "examples": [{"error": {"code": "invalid_argument", "message": "max_pages: must be at least 1",
                            "field": "max_pages"}}],
}


def _schemas(settings: BridgeSettings) -> dict[str, Any]:
    links = {name: {"type": "string"} for name in ("status", "events", "markdown", "pages", "llms_txt",
                                                   "llms_full_txt", "archive")}
    return {
        "Error": _ERROR,
        "JobRequest": job_request_schema(settings),
        "Totals": _TOTALS,
        "Job": _JOB,
        "JobCreated": {
            "type": "object", "required": ["job_id", "token", "state", "urls", "job"],
            "properties": {
                "job_id": {"type": "string"},
                "token": {"type": "string", "description": "The job's credential, shown once: send it as "
                                                           "`Authorization: Bearer <token>` (or `?token=`)."},
                "state": {"type": "string", "enum": JOB_STATES},
                "urls": {"type": "object", "required": sorted(links), "properties": links},
                "job": _ref("Job"),
            },
        },
        "Selection": {
            "description": "Some of the job's pages, by URL: only those (`urls`) or all but those (`exclude`).",
            "oneOf": [
                {"type": "object", "required": ["urls"], "additionalProperties": False,
                 "properties": {"urls": {"type": "array", "items": {"type": "string"}}}},
                {"type": "object", "required": ["exclude"], "additionalProperties": False,
                 "properties": {"exclude": {"type": "array", "items": {"type": "string"}}}},
            ],
        },
        "Page": {
            "type": "object", "description": "One line of the pages download.",
            "required": ["url", "title", "markdown", "word_count", "token_estimate", "description"],
            "properties": {"url": {"type": "string"}, "title": {"type": "string"}, "markdown": {"type": "string"},
                           "word_count": {"type": "integer"}, "token_estimate": {"type": "integer"},
                           "description": {"type": "string"}},
        },
        "SSEEvent": {
            "type": "object", "required": ["data"],
            "description": "One Server-Sent Event of a job's stream.",
            "properties": {
                "id": {"type": "string", "pattern": "^[0-9]+$", "description": "The event's sequence."},
                "event": {"type": "string", "enum": [*EVENT_NAMES, "reset"]},
                "retry": {"type": "integer"},
                "data": {"type": "string", "contentMediaType": JSON, "contentSchema": _ref("JobEvent")},
            },
        },
        "JobEvent": {
            "type": "object", "required": ["type"],
            "description": "An event's JSON: its type and sequence, then the event's own fields (the "
                           "docspasta.v1 JobEvent payload); a `reset` has `first_sequence` and `message`.",
            "properties": {"type": {"type": "string"}, "job_id": {"type": "string"},
                           "sequence": {"type": "integer"}, "timestamp": {"type": "string"}},
        },
        "Health": {
            "type": "object", "required": ["status"],
            "properties": {"status": {"type": "string", "enum": ["ok", "draining", "unhealthy"]},
                           "instance": {"type": "string"}, "sse_clients": {"type": "integer"},
                           "feeds": {"type": "integer"}, "redis": {"type": "string"}},
        },
    }


_BACKEND_ERRORS = {
    "502": _error("A backend service failed (`backend_error`)."),
    "503": _error("The orchestrators are full (`busy`) or a backend is unreachable (`unavailable`).",
                  retry_after=True),
    "504": _error("A backend service did not answer in time (`timeout`)."),
}


def _job_responses(ok: dict[str, Any], settings: BridgeSettings) -> dict[str, Any]:
    out = {"200": ok, **_auth_errors(settings),
           "404": _error("No such job, or not with this token (the same answer for both)."),
           **_BACKEND_ERRORS}
    return out


def _auth_errors(settings: BridgeSettings) -> dict[str, Any]:
    if not settings.api_keys:
        return {}
    return {"401": {**_error("No valid API key (`unauthenticated`)."),
                    "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}}}}


def _body_errors() -> dict[str, Any]:
    return {
        "400": _error("The body or a field is invalid (`invalid_argument`, `field` names it)."),
        "408": _error("The body did not arrive in time (`timeout`)."),
        "413": _error(f"The body is larger than the limit (`too_large`, {DEFAULT_MAX_BODY_BYTES} bytes for a job)."),
    }


def _security(settings: BridgeSettings, *, job: bool) -> list[dict[str, list[str]]]:
    keys: list[dict[str, list[str]]] = [{"ApiKey": []}, {"ApiKeyQuery": []}] if settings.api_keys else [{}]
    if not job:
        return keys if settings.api_keys else []
    return [{**key, token: []} for key in keys for token in ("JobToken", "JobTokenQuery")]


def _job_id_param() -> dict[str, Any]:
    return {"name": "job_id", "in": "path", "required": True, "description": "The job's id (from POST /api/jobs).",
            "schema": {"type": "string", "pattern": JOB_ID_RE.pattern}}


def _paths(settings: BridgeSettings) -> dict[str, Any]:
    job_security = _security(settings, job=True)
    api_security = _security(settings, job=False)
    job_param = [{"$ref": "#/components/parameters/JobId"}]
    download_errors = {"404": _error("No such job, or not with this token."), **_auth_errors(settings),
                       **_BACKEND_ERRORS}
    paths: dict[str, Any] = {
        "/api/jobs": {"post": {
            "operationId": "createJob", "tags": ["jobs"], "summary": "Start a crawl",
            "description": "Starts a job and returns its id and token (the token is shown only here). Retries "
                           f"with the same `{IDEMPOTENCY_HEADER}` and body return the same job and token.",
            "security": api_security,
            "parameters": [{"name": IDEMPOTENCY_HEADER, "in": "header", "required": False,
                            "description": "Any unique string (a random UUID) per logical request.",
                            "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH,
                                       "pattern": f"^[\\x21-\\x7e]{{1,{MAX_KEY_LENGTH}}}$"}}],
            "requestBody": {"required": True, "content": {JSON: {"schema": _ref("JobRequest")}}},
            "responses": {
                "201": {"description": "The job started (or, for a replayed key, the job it started).",
                        "headers": {"Location": {"description": "The job's status URL.",
                                                 "schema": {"type": "string"}},
                                    "Idempotent-Replayed": {"description": "`true` on a replay.",
                                                            "schema": {"type": "string", "enum": ["true"]}}},
                        "content": {JSON: {"schema": _ref("JobCreated")}}},
                **_body_errors(), **_auth_errors(settings),
                "415": _error("The body is not `application/json` (`unsupported_media_type`)."),
                "422": _error(f"This `{IDEMPOTENCY_HEADER}` was used with another body (`idempotency_key_reused`)."),
                "429": _error("Too many jobs from this client (`rate_limited`).", retry_after=True),
                **_BACKEND_ERRORS,
            },
        }},
        "/api/jobs/{job_id}": {
            "parameters": job_param,
            "get": {"operationId": "getJob", "tags": ["jobs"], "summary": "A job's state and counters",
                    "security": job_security,
                    "responses": _job_responses({"description": "The job.",
                                                 "content": {JSON: {"schema": _ref("Job")}}}, settings)},
            "delete": {"operationId": "cancelJob", "tags": ["jobs"], "summary": "Cancel a job",
                       "description": "Stops a running job; its stored pages stay. A finished job is returned "
                                      "as it is.", "security": job_security,
                       "responses": _job_responses({"description": "The job, cancelling or finished.",
                                                    "content": {JSON: {"schema": _ref("Job")}}}, settings)},
        },
        "/api/jobs/{job_id}/events": {"parameters": job_param, "get": {
            "operationId": "jobEvents", "tags": ["jobs"], "summary": "The job's events, live (Server-Sent Events)",
            "description": "A `text/event-stream`: each event has `id:` (its sequence), `event:` (its type: "
                           "stream_connected, url_started, url_processed, progress, job_completed, ...) and "
                           "`data:` (its JSON). It ends after the job's terminal event. Reconnect with "
                           "`Last-Event-ID` to resume exactly after the last event received; an `event: reset` "
                           "means events before `first_sequence` are no longer buffered.",
            "security": job_security,
            "parameters": [
                {"name": "Last-Event-ID", "in": "header", "required": False,
                 "description": "Resume after this sequence (set by EventSource on reconnect; wins over the query).",
                 "schema": {"type": "integer", "minimum": 0, "maximum": MAX_SEQUENCE}},
                {"name": "last_event_id", "in": "query", "required": False,
                 "description": "Resume after this sequence on a first connection.",
                 "schema": {"type": "integer", "minimum": 0, "maximum": MAX_SEQUENCE}},
            ],
            "responses": {
                "200": {"description": "The event stream; each event as `SSEEvent`.",
                        "content": {"text/event-stream": {"schema": _ref("SSEEvent")}}},
                "400": _error("`Last-Event-ID` / `last_event_id` is not a sequence number."),
                **_auth_errors(settings),
                "404": _error("No such job, or not with this token."),
                "503": _error("Too many open event streams on this server (`busy`).", retry_after=True),
            },
        }},
        "/api/jobs/{job_id}/pages": {"parameters": job_param, "get": {
            "operationId": "jobPages", "tags": ["downloads"], "summary": "The stored pages as JSON lines",
            "description": "One `Page` object (#/components/schemas/Page) per line, in crawl order, with "
                           "its Markdown: the pages stored so far (a running job's download is a snapshot).",
            "security": job_security,
            "responses": {"200": {"description": "JSON lines, one Page each.",
                                  "content": {"application/x-ndjson": {"schema": {"type": "string"}}}},
                          **download_errors},
        }},
        "/api/openapi.json": {"get": {
            "operationId": "openapi", "tags": ["meta"], "summary": "This document", "security": api_security,
            "responses": {"200": {"description": "The OpenAPI 3.1 document of this server.",
                                  "content": {JSON: {"schema": {"type": "object"}}}}, **_auth_errors(settings)},
        }},
        "/healthz": {"get": {
            "operationId": "health", "tags": ["meta"], "summary": "Readiness", "security": [],
            "responses": {"200": {"description": "Serving.", "content": {JSON: {"schema": _ref("Health")}}},
                          "503": {"description": "Draining (shutting down) or Redis is down.",
                                  "content": {JSON: {"schema": _ref("Health")}}}},
        }},
        "/metrics": {"get": {
            "operationId": "metrics", "tags": ["meta"], "summary": "Prometheus metrics", "security": [],
            "responses": {"200": {"description": "The Prometheus text format.",
                                  "content": {"text/plain": {"schema": {"type": "string"}}}}},
        }},
    }
    for name, (_, media_type, _) in DOCUMENTS.items():
        content_type, description = media_type.split(";")[0], DOWNLOADS[name]
        operation = {
            "operationId": "download" + "".join(p.capitalize() for p in name.replace("-", ".").split(".")),
            "tags": ["downloads"], "summary": f"Download {name}",
            "description": description + " Built from the pages stored so far, streamed; a transfer cut short "
                                         "means the download failed.",
            "security": job_security,
            "responses": {"200": {"description": name, "headers": {"Content-Disposition": {
                "description": "attachment; filename=\"<site>-<date>...\"", "schema": {"type": "string"}}},
                "content": {content_type: {"schema": {"type": "string", **(
                    {"format": "binary"} if content_type == "application/zip" else {})}}}},
                **download_errors},
        }
        paths[f"/api/jobs/{{job_id}}/{name}"] = {"parameters": job_param, "get": operation}
    paths["/api/jobs/{job_id}/markdown"]["post"] = {
        "operationId": "downloadSelection", "tags": ["downloads"],
        "summary": "The combined document of some of the pages",
        "description": "Like GET markdown, with only the pages `urls` names (or all but those `exclude` names).",
        "security": job_security,
        "requestBody": {"required": True, "content": {JSON: {"schema": _ref("Selection")}}},
        "responses": {"200": {"description": "The combined document.",
                              "content": {"text/markdown": {"schema": {"type": "string"}}}},
                      **_body_errors(), **download_errors},
    }
    return paths


def document(settings: BridgeSettings) -> dict[str, Any]:
    """The OpenAPI document of a bridge with these settings."""
    schemes: dict[str, Any] = {
        "JobToken": {"type": "http", "scheme": "bearer",
                     "description": "The job's token from POST /api/jobs: `Authorization: Bearer <token>`."},
        "JobTokenQuery": {"type": "apiKey", "in": "query", "name": "token",
                          "description": "The job's token as `?token=` (EventSource cannot set headers)."},
    }
    if settings.api_keys:
        schemes["ApiKey"] = {"type": "apiKey", "in": "header", "name": "X-API-Key",
                             "description": "An operator API key; every /api/ request needs one."}
        schemes["ApiKeyQuery"] = {"type": "apiKey", "in": "query", "name": "api_key",
                                  "description": "The API key as `?api_key=` (for EventSource)."}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Docspasta bridge", "version": metadata.version("docspasta"),
                 "description": "Crawl a documentation site into clean Markdown and watch it happen: start a job, "
                                "follow its events (Server-Sent Events, resumable), download the result. Errors "
                                "are JSON (`Error`). JSON bodies are at most "
                                f"{DEFAULT_MAX_BODY_BYTES} bytes, nested at most {DEFAULT_MAX_JSON_DEPTH} levels. "
                                "MCP (Model Context Protocol) clients use /mcp instead (see the README)."},
        "servers": [{"url": "/"}],
        "tags": [{"name": "jobs"}, {"name": "downloads"}, {"name": "meta"}],
        "paths": _paths(settings),
        "components": {
            "schemas": _schemas(settings),
            "parameters": {"JobId": _job_id_param()},
            "headers": {"Retry-After": {"description": "Seconds to wait before retrying.",
                                        "schema": {"type": "string", "pattern": "^[0-9]+$"}}},
            "securitySchemes": schemes,
        },
    }


OPENAPI_BODY = web.AppKey("openapi_body", bytes)


def add_route(app: web.Application, settings: BridgeSettings) -> None:
    """``GET /api/openapi.json``, the document rendered once for this app."""
    app[OPENAPI_BODY] = json.dumps(document(settings), indent=1).encode()
    app.router.add_get(PATH, serve)


async def serve(request: web.Request) -> web.StreamResponse:
    return web.Response(body=request.app[OPENAPI_BODY], content_type=JSON)
