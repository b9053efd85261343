"""``docspasta mcp`` as a real subprocess over stdio, driven by the SDK's own client:
a crawl of the local fixture site from start to the document read in chunks."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from tests.support.site import FixtureSite, tree_site

CALL_TIMEOUT = 240.0


def _result(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content
    if result.structured_content is not None:
        data: dict[str, Any] = result.structured_content
        return data.get("result", data) if set(data) == {"result"} else data
    return dict(json.loads(result.content[0].text))


async def test_an_llm_tool_crawls_and_reads_a_site(site: FixtureSite) -> None:
    site.pages.update(tree_site(12))
    site.delay = 0.1
    params = StdioServerParameters(command=sys.executable,
                                   args=["-m", "docspasta.cli", "mcp", "--allow-private-network"],
                                   env={"DOCSPASTA_STATE_DIR": os.environ["DOCSPASTA_STATE_DIR"]})
    progress: list[tuple[float, float | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append((done, total))

    with open(os.devnull, "w") as errlog:
        async with stdio_client(params, errlog=errlog) as (read, write), \
                ClientSession(read, write, read_timeout_seconds=CALL_TIMEOUT) as session:
            await session.initialize()
            tools = {t.name for t in (await session.list_tools()).tools}
            assert tools >= {"crawl", "job_status", "list_pages", "read_page", "read_document", "cancel"}

            started = _result(await session.call_tool("crawl", {"url": site.url("/docs/"), "max_pages": 12,
                                                                "concurrency": 2}))
            job_id = started["job_id"]
            status = _result(await session.call_tool("job_status", {"job_id": job_id, "wait_seconds": 200},
                                                     progress_callback=on_progress))
            assert status["state"] == "completed" and status["pages"] == 12, status
            assert len(progress) >= 2, "no progress notification while the job ran"
            assert all(b[0] >= a[0] for a, b in zip(progress, progress[1:])), progress
            assert progress[0][0] < 12 and progress[-1][0] == 12, progress

            first = _result(await session.call_tool("list_pages", {"job_id": job_id, "limit": 5}))
            assert first["total"] == 12 and len(first["pages"]) == 5 and first["next_offset"] == 5
            rest = _result(await session.call_tool("list_pages", {"job_id": job_id, "offset": 5, "limit": 50}))
            assert len(rest["pages"]) == 7 and rest["next_offset"] is None
            listed = first["pages"] + rest["pages"]
            assert len({p["url"] for p in listed}) == 12 and all(p["tokens"] > 0 and p["title"] for p in listed)

            page = _result(await session.call_tool("read_page", {"job_id": job_id, "url": listed[3]["url"]}))
            assert page["title"] == listed[3]["title"] and page["markdown"].strip() and page["chunks"] == 1

            chunks: list[str] = []
            chunk: int | None = 0
            while chunk is not None:
                part = _result(await session.call_tool("read_document", {"job_id": job_id, "chunk": chunk,
                                                                         "chunk_tokens": 500}))
                chunks.append(part["markdown"])
                chunk = part["next_chunk"]
            assert len(chunks) == part["chunks"] >= 2, "a 500-token budget should need several chunks"
            document = "".join(chunks)
            assert all(p["title"] in document for p in listed)

            bad = await session.call_tool("read_document", {"job_id": job_id, "chunk": 999, "chunk_tokens": 500})
            assert bad.is_error
