"""The renderer's v1 <-> v2 messages: what v2 renamed (docspasta/v2convert.py does the rest)."""

from __future__ import annotations

from crawler.v2.convert import RENAMES as CRAWL_RENAMES
from docspasta.v1 import renderer_pb2 as v1
from docspasta.v2 import renderer_pb2 as v2
from docspasta.v2convert import Renames, convert

RENAMES = Renames.of({
    **{name: dict(fields) for name, fields in CRAWL_RENAMES.table},  # RenderResponse.page is a CrawlResponse
    "RenderRequest": {"timeout": "timeout_seconds"},
})
# v1 field path -> v2 field path, for the names in refusals.
FIELDS = {"timeout_seconds": "timeout"}


def render_request(request: v2.RenderRequest) -> v1.RenderRequest:
    return convert(request, v1.RenderRequest, RENAMES)


def render_response(response: v1.RenderResponse) -> v2.RenderResponse:
    return convert(response, v2.RenderResponse, RENAMES)
