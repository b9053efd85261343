"""The crawler's v1 <-> v2 messages: what v2 renamed (docspasta/v2convert.py does the rest)."""

from __future__ import annotations

from docspasta.v1 import common_pb2 as common_v1, crawler_pb2 as v1
from docspasta.v2 import common_pb2 as common_v2, crawler_pb2 as v2
from docspasta.v2convert import Renames, check_enums, convert

RENAMES = Renames.of({
    "CrawlStreamRequest": {"timeout": "timeout_seconds"},
    "CrawlResponse": {"fetch_duration": "fetch_seconds", "retry_delay": "retry_after_seconds"},
})
# v1 field path -> v2 field path, for the names in refusals.
FIELDS: dict[str, str] = {}

check_enums((common_v1.ErrorCategory.DESCRIPTOR, common_v2.ErrorCategory.DESCRIPTOR))


def crawl_request(request: v2.CrawlRequest) -> v1.CrawlRequest:
    return convert(request, v1.CrawlRequest, RENAMES)


def crawl_response(response: v1.CrawlResponse) -> v2.CrawlResponse:
    return convert(response, v2.CrawlResponse, RENAMES)
