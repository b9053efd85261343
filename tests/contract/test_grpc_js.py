"""The contract from outside Python: a Node.js @grpc/grpc-js client with every option at
its default (tests/contract/grpc_js_client.js) against the real services — a job end to
end, 20 replays from the middle byte-identical to the first read, and machine-readable
error details decoded from grpc-status-details-bin. npm installs the client's packages
(scripts/contract-tools.sh, run by `make test`)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path

import google.rpc
import pytest

from docspasta import errors
from docspasta.local import LocalStack
from tests.support.site import FixtureSite, tree_site

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
