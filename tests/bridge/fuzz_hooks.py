"""Schemathesis hooks for tests/bridge/test_schemathesis.py (loaded by the CLI through
SCHEMATHESIS_HOOKS; the test passes its fixture values in the environment).

- Every start URL that the bridge would accept is pointed at the local fixture site, so
  fuzzed jobs crawl only 127.0.0.1 (invalid URLs stay as generated: they must be refused).
  A webhook URL keeps everything but its host and port, which become a loopback
  receiver's: whatever made it valid or invalid stays, and no delivery leaves 127.0.0.1.
- About half the requests for a job go to the real, finished job with its token
  (chosen by a hash of the case), so the fuzzer reaches the downloads and the event
  stream, not only the 404 of an unknown job; until an operation has had a 200 from the
  real job, every one of its requests goes there. A seed does not fix the cases Hypothesis generates when the machine is slow,
  and an operation with few cases could miss the job by the coin alone (CI saw
  `/llms.txt` answer only 404s once)."""

from __future__ import annotations

import hashlib
import os
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import schemathesis

from docspasta.ids import valid_job_id
from docspasta.urls import InvalidURL, normalize

SITE_URL = os.environ.get("DOCSPASTA_FUZZ_SITE_URL", "")
JOB_ID = os.environ.get("DOCSPASTA_FUZZ_JOB_ID", "")
JOB_TOKEN = os.environ.get("DOCSPASTA_FUZZ_JOB_TOKEN", "")
RECEIVER_URL = os.environ.get("DOCSPASTA_FUZZ_RECEIVER", "")
# The operations (method, path) that the real job has answered 200.
_REACHED: set[tuple[str, str]] = set()


def _crawlable(url: Any) -> bool:
    if not isinstance(url, str) or not url.strip():
        return False
    try:
        normalize(url)
    except (InvalidURL, ValueError):
        return False
    return True


def _local_receiver(url: str) -> str:
    try:
        parts = urlsplit(url)
        if not parts.hostname:
            return url
        userinfo = parts.netloc.rpartition("@")[0]
        netloc = (userinfo + "@" if "@" in parts.netloc else "") + urlsplit(RECEIVER_URL).netloc
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    except ValueError:
        return url


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    body = case.body
    if isinstance(body, dict) and _crawlable(body.get("url")):
        body["url"] = SITE_URL
    webhook = body.get("webhook") if isinstance(body, dict) else None
    if isinstance(webhook, dict) and isinstance(webhook.get("url"), str):
        webhook["url"] = _local_receiver(webhook["url"])
    params = case.path_parameters or {}
    job_id = params.get("job_id")
    if isinstance(job_id, str) and valid_job_id(job_id):
        coin = hashlib.sha256(repr((case.method, case.path, job_id)).encode()).digest()[0]
        operation = (case.method, case.path)
        if operation not in _REACHED or coin % 2 == 0:
            params["job_id"] = JOB_ID
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {JOB_TOKEN}"}


@schemathesis.hook
def after_call(context: Any, case: Any, response: Any) -> None:
    """One line per response (operation, status) for the test to check what was reached."""
    if response.status_code == 200 and (case.path_parameters or {}).get("job_id") == JOB_ID:
        _REACHED.add((case.method, case.path))
    log = os.environ.get("DOCSPASTA_FUZZ_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as out:
            out.write(f"{case.method} {case.path} {response.status_code}\n")
