"""The job id rule every service checks (ids are ``<orchestrator instance>-<hex>``)."""

from __future__ import annotations

import re

JOB_ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
JOB_ID_RULE = "job_id: required, 1-128 characters of letters, digits, '_', '-', '.', ':'"


def valid_job_id(job_id: str) -> bool:
    return JOB_ID_RE.match(job_id) is not None
