"""The Model Context Protocol tools, once for both transports: ``docspasta mcp`` over
stdio (docspasta/mcp_server.py, against a bridge through docspasta.client) and the
bridge's own streamable HTTP endpoint ``/mcp`` (bridge/mcp_http.py, in-process).

A tool reaches jobs through a ``Backend``: the calls of docspasta.client's AsyncClient
that the tools use. Which backend serves a call is asked per call (``Resolve``), since
over HTTP it depends on who is asking (their API key owns their jobs)."""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from docspasta.client import ClientError, CrawlOptions, Event, Job, Page

# The SDK is the optional extra `mcp` (pip install 'docspasta[mcp]'). At module level:
# the SDK reads the tools' annotations.
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError

# Results stay small by default; every tool says how to ask for more.
DEFAULT_PAGE_LIMIT = 50
MAX_PAGE_LIMIT = 500
DEFAULT_CHUNK_TOKENS = 8000
MIN_CHUNK_TOKENS = 500
MAX_CHUNK_TOKENS = 100_000
DEFAULT_WAIT_SECONDS = 60.0
MAX_WAIT_SECONDS = 600.0

# Finished jobs whose page lists are kept for read_page / list_pages (bounded memory).
CACHED_JOBS = 8
INSTRUCTIONS = ("Crawl a documentation site into clean Markdown, then read it in pieces: crawl -> job_status "
                "(waits, with progress) -> list_pages / read_page / read_document (token-bounded chunks).")
T = TypeVar("T")


class Backend(Protocol):
    """What the tools need of a server: docspasta.client.AsyncClient's job calls."""

    async def start(self, url: str, options: CrawlOptions | None = None) -> Job: ...

    async def get(self, job: str) -> Job: ...

    async def cancel(self, job: str) -> Job: ...

    def events(self, job: str, *, after: int = 0) -> AsyncIterator[Event]: ...

    async def pages(self, job: str) -> list[Page]: ...

    async def markdown(self, job: str) -> str: ...


@dataclass(frozen=True, slots=True)
class Caller:
    """The backend serving one call, and who it serves: cached pages are shared only
    between calls of the same ``scope``."""

    backend: Backend
    scope: str = ""


Resolve = Callable[[Context], Caller]


@contextlib.asynccontextmanager
async def _refusals() -> AsyncIterator[None]:
    try:
        yield
    except ClientError as exc:
        raise ToolError(str(exc)) from None


async def _ask(call: Awaitable[T]) -> T:
    """A client call whose refusal the model reads (a ToolError carries its message;
    any other exception reaches the model only as "Error executing tool")."""
    try:
        return await call
    except ClientError as exc:
        raise ToolError(str(exc)) from None


def _tokens(text: str) -> int:
    from processor.tokens import token_estimate

    return token_estimate(text)


def chunk_text(text: str, budget: int) -> list[str]:
    """``text`` cut at line ends into chunks of at most ``budget`` estimated tokens
    (a single longer line is cut by characters). Deterministic: the same document and
    budget give the same chunks, so "chunk 3 of 7" means the same thing on every call."""
    chunks: list[str] = []
    current: list[str] = []
    used = 0
    for line in text.splitlines(keepends=True):
        cost = _tokens(line)
        if cost > budget:  # one huge line (minified code): cut it by characters
            if current:
                chunks.append("".join(current))
                current, used = [], 0
            step = max(1, len(line) * budget // max(cost, 1))
            chunks.extend(line[i:i + step] for i in range(0, len(line), step))
            continue
        if used + cost > budget and current:
            chunks.append("".join(current))
            current, used = [], 0
        current.append(line)
        used += cost
    if current:
        chunks.append("".join(current))
    return chunks or [""]


def _job_summary(job: Job) -> dict[str, Any]:
    t = job.totals
    out: dict[str, Any] = {"job_id": job.job_id, "state": job.state, "url": job.url, "finished": job.terminal,
                           "pages": t.processed, "failed": t.failed, "discovered": t.discovered,
                           "queued": t.queued, "tokens": t.token_estimate, "elapsed_seconds": round(t.elapsed_seconds, 1)}
    if job.error:
        out["error"] = job.error
    if job.scope:
        out["scope"] = list(job.scope)
    return out


def _bounded(value: int, low: int, high: int, name: str) -> int:
    if value < low or value > high:
        raise ToolError(f"{name}: must be between {low} and {high}")
    return value


def build_server(resolve: Resolve) -> MCPServer[Any]:
    """The MCP server and its tools; ``resolve`` names the backend of each call."""
    server: MCPServer[Any] = MCPServer("docspasta", instructions=INSTRUCTIONS)
    cache: OrderedDict[tuple[str, str], list[Page]] = OrderedDict()

    async def pages_of(caller: Caller, job_id: str) -> list[Page]:
        key = (caller.scope, job_id)
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
        job = await _ask(caller.backend.get(job_id))
        pages = await _ask(caller.backend.pages(job_id))
        if job.terminal:  # a finished job's pages no longer change
            cache[key] = pages
            while len(cache) > CACHED_JOBS:
                cache.popitem(last=False)
        return pages

    @server.tool()
    async def crawl(url: str, ctx: Context, max_pages: int | None = None, max_depth: int | None = None,
                    include_patterns: list[str] | None = None, exclude_patterns: list[str] | None = None,
                    allowed_domains: list[str] | None = None, concurrency: int | None = None,
                    timeout_seconds: float | None = None, obey_robots: bool | None = None,
                    render: str | None = None) -> dict[str, Any]:
        """Start crawling a documentation site. Returns at once with a job_id; follow it
        with job_status. Scope: by default the start URL's directory; include_patterns /
        exclude_patterns are URL globs; max_pages / max_depth limit it; render is auto,
        always or never (a browser for script-built pages)."""
        options = CrawlOptions(max_pages=max_pages, max_depth=max_depth, concurrency=concurrency,
                               timeout_seconds=timeout_seconds, include_patterns=tuple(include_patterns or ()),
                               exclude_patterns=tuple(exclude_patterns or ()),
                               allowed_domains=tuple(allowed_domains or ()), obey_robots=obey_robots, render=render)
        job = await _ask(resolve(ctx).backend.start(url, options))
        return {**_job_summary(job), "next": "call job_status with this job_id to wait for it"}

    @server.tool()
    async def job_status(job_id: str, ctx: Context, wait: bool = True,
                         wait_seconds: float = DEFAULT_WAIT_SECONDS) -> dict[str, Any]:
        """A job's state and counters. With wait (the default) it follows the job until it
        ends or wait_seconds pass, sending progress notifications (pages done of pages
        found) meanwhile; call it again to keep waiting."""
        if not 0 <= wait_seconds <= MAX_WAIT_SECONDS:
            raise ToolError(f"wait_seconds: must be between 0 and {MAX_WAIT_SECONDS:g}")
        client = resolve(ctx).backend
        job = await _ask(client.get(job_id))
        if wait and not job.terminal:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait_seconds), _refusals():
                    # From where the job is now: what happened before is in the counters.
                    async for event in client.events(job_id, after=job.last_sequence):
                        if event.type in ("progress", "time_update"):
                            done = int(event.data.get("processed", 0))
                            found = int(event.data.get("discovered", 0))
                            await ctx.report_progress(done, max(found, done) or None,
                                                      f"{done} pages converted, {found} found")
            job = await _ask(client.get(job_id))
        if wait:
            done, found = job.totals.processed, job.totals.discovered
            await ctx.report_progress(done, max(found, done) or None,
                                      f"{job.state}: {done} pages converted, {found} found")
        out = _job_summary(job)
        out["next"] = ("list_pages / read_page / read_document" if job.terminal
                       else "still running: call job_status again (or read what is done so far)")
        return out

    @server.tool()
    async def list_pages(job_id: str, ctx: Context, offset: int = 0,
                         limit: int = DEFAULT_PAGE_LIMIT) -> dict[str, Any]:
        """The job's pages in crawl order: index, URL, title and token count, `limit` at a
        time from `offset` (next_offset is where the next call starts; null at the end)."""
        _bounded(limit, 1, MAX_PAGE_LIMIT, "limit")
        if offset < 0:
            raise ToolError("offset: must be 0 or more")
        pages = await pages_of(resolve(ctx), job_id)
        window = pages[offset:offset + limit]
        end = offset + len(window)
        return {"total": len(pages), "offset": offset, "next_offset": end if end < len(pages) else None,
                "total_tokens": sum(p.token_estimate for p in pages),
                "pages": [{"index": offset + i, "url": p.url, "title": p.title, "tokens": p.token_estimate}
                          for i, p in enumerate(window)]}

    @server.tool()
    async def read_page(job_id: str, ctx: Context, url: str | None = None, index: int | None = None,
                        chunk: int = 0, chunk_tokens: int = DEFAULT_CHUNK_TOKENS) -> dict[str, Any]:
        """One page's Markdown, by its url or its index from list_pages; a page longer than
        chunk_tokens comes in chunks (ask for chunk 1, 2, ... up to chunks - 1)."""
        _bounded(chunk_tokens, MIN_CHUNK_TOKENS, MAX_CHUNK_TOKENS, "chunk_tokens")
        pages = await pages_of(resolve(ctx), job_id)
        if (url is None) == (index is None):
            raise ToolError("give url or index (from list_pages)")
        if index is not None:
            if not 0 <= index < len(pages):
                raise ToolError(f"index: the job has {len(pages)} pages (0 to {len(pages) - 1})")
            page = pages[index]
        else:
            found = [p for p in pages if p.url == url]
            if not found:
                raise ToolError(f"url: no stored page {url!r}; list_pages shows the job's pages")
            page = found[0]
        parts = chunk_text(page.markdown, chunk_tokens)
        if not 0 <= chunk < len(parts):
            raise ToolError(f"chunk: the page has {len(parts)} chunks (0 to {len(parts) - 1})")
        return {"url": page.url, "title": page.title, "tokens": page.token_estimate, "chunk": chunk,
                "chunks": len(parts), "markdown": parts[chunk]}

    @server.tool()
    async def read_document(job_id: str, ctx: Context, chunk: int = 0,
                            chunk_tokens: int = DEFAULT_CHUNK_TOKENS) -> dict[str, Any]:
        """The combined document of every page (a header, contents, then each page) in
        chunks of at most chunk_tokens estimated tokens: chunk 0 first, then 1, 2, ... up
        to chunks - 1. Chunks of a finished job never change."""
        _bounded(chunk_tokens, MIN_CHUNK_TOKENS, MAX_CHUNK_TOKENS, "chunk_tokens")
        if chunk < 0:
            raise ToolError("chunk: must be 0 or more")
        parts = chunk_text(await _ask(resolve(ctx).backend.markdown(job_id)), chunk_tokens)
        if chunk >= len(parts):
            raise ToolError(f"chunk: the document has {len(parts)} chunks (0 to {len(parts) - 1})")
        return {"chunk": chunk, "chunks": len(parts), "next_chunk": chunk + 1 if chunk + 1 < len(parts) else None,
                "markdown": parts[chunk]}

    @server.tool()
    async def cancel(job_id: str, ctx: Context) -> dict[str, Any]:
        """Stop a running job; the pages done so far are kept and stay readable."""
        return _job_summary(await _ask(resolve(ctx).backend.cancel(job_id)))

    return server

