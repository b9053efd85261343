"""The contract from outside Python: a Node.js @grpc/grpc-js client with every option at
its default (tests/contract/grpc_js_client.js for docspasta.v1, grpc_js_client_v2.js for
docspasta.v2) against the real services — a job end to end, replays from the middle
byte-identical to the first read, machine-readable error details decoded from
grpc-status-details-bin, and (v2) a page over 4 MiB read in chunks with default limits. npm installs the client's packages
(scripts/contract-tools.sh, run by `make test`)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
from dataclasses import replace
from pathlib import Path

import google.rpc
import pytest

from docspasta import errors
from docspasta.local import LocalStack
from docspasta.v1 import processor_pb2
from orchestrator.settings import OrchestratorSettings
from processor.settings import ProcessorSettings
from tests.conftest import local_crawler_settings
from tests.support.site import FixtureSite, page, tree_site

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
NODE_MODULES = HERE / "node_modules"


def node() -> str:
    path = shutil.which("node")
    if not path or not (NODE_MODULES / "@grpc" / "grpc-js").is_dir():
        pytest.skip("node and tests/contract/node_modules (scripts/contract-tools.sh) are needed")
    return path


async def test_grpc_js_client_runs_a_job_replays_it_and_reads_error_details(stack: LocalStack) -> None:
    site = await FixtureSite(pages=tree_site(30)).start()
    try:
        process = await asyncio.create_subprocess_exec(
            node(), str(HERE / "grpc_js_client.js"), "--target", stack.orchestrator_target,
            "--url", site.url("/docs/"), "--proto", str(ROOT / "proto"),
            "--googleapis", str(Path(google.rpc.__path__[0]).parent.parent),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=HERE,
            env={**os.environ, "NODE_PATH": str(NODE_MODULES)})
        out, err = await asyncio.wait_for(process.communicate(), timeout=240)
    finally:
        await site.stop()
    assert process.returncode == 0, err.decode()
    seen = json.loads(out)
    assert seen["terminal"] == "job_completed" and seen["pages_processed"] == 30, seen
    assert seen["events"] > 60 and seen["replays"] == 20 and seen["replayed_from"] == seen["events"] // 2

    invalid = seen["invalid"]
    assert invalid["grpcCode"] == 3  # INVALID_ARGUMENT
    info = invalid["status"]["details"]["ErrorInfo"]
    assert info["domain"] == errors.DOMAIN and info["reason"] == errors.FIELD_INVALID
    [violation] = invalid["status"]["details"]["BadRequest"]["field_violations"]
    assert violation["field"] == "url" and violation["description"]

    missing = seen["missing"]
    assert missing["grpcCode"] == 5  # NOT_FOUND
    assert missing["status"]["details"]["ErrorInfo"]["reason"] == errors.JOB_NOT_FOUND

    beyond = seen["beyond"]
    assert beyond is not None and beyond["grpcCode"] == 11, beyond  # OUT_OF_RANGE
    assert beyond["status"]["details"]["ErrorInfo"]["reason"] == errors.SEQUENCE_OUT_OF_RANGE
    assert int(beyond["status"]["details"]["ErrorInfo"]["metadata"]["last_sequence"]) == seen["events"]


async def test_grpc_js_client_drives_v2_with_default_limits(site: FixtureSite) -> None:
    """docspasta.v2 from Node.js with default options: a job, a replay from the middle,
    pages in AIP-158 pages with a page over 4 MiB reassembled from chunks (the same page
    through v1 is over the default limit), v2 error details."""
    pages = tree_site(7)
    line = "docspasta v2 streams a large page in chunks " * 2 + "\n"
    pages["/docs/big.html"] = (f"<html><head><title>Big</title></head><body><main><h1>Big</h1>"
                               f"<pre>{line * (5 * 1024 * 1024 // len(line))}</pre></main></body></html>")
    pages["/docs/"] = page("Home", links=[f"page-{i}.html" for i in range(1, 7)] + ["big.html"])
    site.pages.update(pages)
    async with LocalStack(crawler=local_crawler_settings(),
                          processor=replace(ProcessorSettings(), workers=1, max_markdown_bytes=16 * 1024 * 1024),
                          orchestrator=replace(OrchestratorSettings(), instance_id="test")) as stack:
        process = await asyncio.create_subprocess_exec(
            node(), str(HERE / "grpc_js_client_v2.js"), "--target", stack.orchestrator_target,
            "--processor", stack.processor_target, "--url", site.url("/docs/"), "--proto", str(ROOT / "proto"),
            "--googleapis", str(Path(google.rpc.__path__[0]).parent.parent),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=HERE,
            env={**os.environ, "NODE_PATH": str(NODE_MODULES)})
        out, err = await asyncio.wait_for(process.communicate(), timeout=300)
        assert process.returncode == 0, err.decode()
        seen = json.loads(out)
        stored = [p async for p in stack.processor_stub().ListPages(
            processor_pb2.ListPagesRequest(job_id=seen["job_id"]), timeout=120)]
    assert seen["terminal"] == "job_completed" and seen["state"] == "JOB_STATE_COMPLETED", seen
    assert seen["pages_processed"] == len(stored) == 8
    assert seen["replays"] == 10 and seen["replayed_from"] == seen["events"] // 2
    # Every page as Node.js reassembled it is the stored page, byte for byte.
    assert [(p["url"], p["sha256"]) for p in seen["pages"]] == [
        (p.url, hashlib.sha256(p.markdown.encode()).hexdigest()) for p in stored]
    assert seen["calls"] == [3, 3, 2]
    big = seen["big"]
    assert big["url"].endswith("/docs/big.html") and big["markdown_size"] > 4 * 1024 * 1024 and big["chunks"] >= 5
    assert seen["largest_chunk"] <= 1024 * 1024
    assert seen["v1_big"]["grpcCode"] == 8  # RESOURCE_EXHAUSTED: over grpc-js's default receive limit
    assert int(seen["finish_time"]["seconds"]) >= int(seen["create_time"]["seconds"]) > 0

    invalid = seen["invalid"]
    assert invalid["grpcCode"] == 3
    info = invalid["status"]["details"]["ErrorInfo"]
    assert info["domain"] == "docspasta.v2" and info["reason"] == errors.FIELD_INVALID
    [violation] = invalid["status"]["details"]["BadRequest"]["field_violations"]
    assert violation["field"] == "options.timeout" and violation["description"]
    assert seen["missing"]["grpcCode"] == 5
    assert seen["missing"]["status"]["details"]["ErrorInfo"]["reason"] == errors.JOB_NOT_FOUND
    bad_token = seen["bad_token"]
    assert bad_token["grpcCode"] == 3
    assert bad_token["status"]["details"]["BadRequest"]["field_violations"][0]["field"] == "page_token"
    beyond = seen["beyond"]
    assert beyond["grpcCode"] == 11
    assert beyond["status"]["details"]["ErrorInfo"]["domain"] == "docspasta.v2"
    assert int(beyond["status"]["details"]["ErrorInfo"]["metadata"]["last_sequence"]) == seen["events"]
