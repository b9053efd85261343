"""What an LLM tool does with the Docspasta MCP tools, the same over every transport
(stdio, streamable HTTP on the bridge, the stdio server against a remote bridge)."""

from __future__ import annotations

import json
from typing import Any

from mcp.client.session import ClientSession

from tests.support.site import FixtureSite

CALL_TIMEOUT = 240.0
TOOLS = {"crawl", "job_status", "list_pages", "read_page", "read_document", "cancel"}


def result_of(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content
    if result.structured_content is not None:
        data: dict[str, Any] = result.structured_content
        return data.get("result", data) if set(data) == {"result"} else data
    return dict(json.loads(result.content[0].text))


async def drive_a_crawl(session: ClientSession, site: FixtureSite) -> tuple[str, list[dict[str, Any]]]:
    """Crawl 12 pages of ``site``, wait with progress, list, read a page (by index and by
    URL), read the document in chunks. Returns the job id and the listed pages."""
    progress: list[tuple[float, float | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append((done, total))

    assert {t.name for t in (await session.list_tools()).tools} >= TOOLS
    started = result_of(await session.call_tool("crawl", {"url": site.url("/docs/"), "max_pages": 12,
                                                          "concurrency": 2}))
    job_id = str(started["job_id"])
    status = result_of(await session.call_tool("job_status", {"job_id": job_id, "wait_seconds": 200},
                                               progress_callback=on_progress))
    assert status["state"] == "completed" and status["pages"] == 12, status
    assert len(progress) >= 2, "no progress notification while the job ran"
    assert all(b[0] >= a[0] for a, b in zip(progress, progress[1:])), progress
    assert progress[0][0] < 12 and progress[-1][0] == 12, progress

    first = result_of(await session.call_tool("list_pages", {"job_id": job_id, "limit": 5}))
    assert first["total"] == 12 and len(first["pages"]) == 5 and first["next_offset"] == 5
    rest = result_of(await session.call_tool("list_pages", {"job_id": job_id, "offset": 5, "limit": 50}))
    listed: list[dict[str, Any]] = first["pages"] + rest["pages"]
    assert len(rest["pages"]) == 7 and rest["next_offset"] is None
    assert len({p["url"] for p in listed}) == 12 and all(p["tokens"] > 0 and p["title"] for p in listed)

    page = result_of(await session.call_tool("read_page", {"job_id": job_id, "index": 3}))
    assert page["url"] == listed[3]["url"] and page["title"] == listed[3]["title"]
    assert page["markdown"].strip() and page["chunks"] == 1
    by_url = result_of(await session.call_tool("read_page", {"job_id": job_id, "url": listed[3]["url"]}))
    assert by_url["markdown"] == page["markdown"]

    chunks: list[str] = []
    chunk: int | None = 0
    while chunk is not None:
        part = result_of(await session.call_tool("read_document", {"job_id": job_id, "chunk": chunk,
                                                                   "chunk_tokens": 500}))
        chunks.append(part["markdown"])
        chunk = part["next_chunk"]
    assert len(chunks) == part["chunks"] >= 2, "a 500-token budget should need several chunks"
    assert all(p["title"] in "".join(chunks) for p in listed)
    bad = await session.call_tool("read_document", {"job_id": job_id, "chunk": 999, "chunk_tokens": 500})
    assert bad.is_error
    return job_id, listed
