"""The processor's v1 <-> v2 messages: what v2 renamed (docspasta/v2convert.py does the
rest), and a stored page as ListPages messages, a large page in chunks."""

from __future__ import annotations

from collections.abc import Iterator

from docspasta.v1 import processor_pb2 as v1
from docspasta.v2 import processor_pb2 as v2
from docspasta.v2convert import Renames, convert

RENAMES = Renames.of({
    "ProcessStreamRequest": {"timeout": "timeout_seconds"},
    "ProcessResponse": {"skip_reason": "skipped_reason"},
})
# v1 field path -> v2 field path, for the names in refusals.
FIELDS = {"after_order": "page_token", "limit": "page_size"}
# Markdown per ListPages message: with the page's other fields, far under the 4 MiB a
# client with gRPC's default receive limit accepts.
CHUNK_BYTES = 1024 * 1024


def process_request(request: v2.ProcessRequest) -> v1.ProcessRequest:
    return convert(request, v1.ProcessRequest, RENAMES)


def process_response(response: v1.ProcessResponse) -> v2.ProcessResponse:
    return convert(response, v2.ProcessResponse, RENAMES)


def split_utf8(data: bytes, size: int) -> Iterator[tuple[int, str]]:
    """(byte offset, text) parts of UTF-8 ``data``, each at most ``size`` bytes, cut at
    character boundaries."""
    start = 0
    while start < len(data):
        end = min(start + size, len(data))
        while end < len(data) and data[end] & 0xC0 == 0x80:  # a continuation byte: back up
            end -= 1
        yield start, data[start:end].decode("utf-8")
        start = end


def page_messages(page: v1.Page, next_page_token: str, *,
                  chunk_bytes: int = CHUNK_BYTES) -> Iterator[v2.ListPagesResponse]:
    """One stored page as ListPages messages: the page whole, or the page with the first
    part of its Markdown and PageChunks with the rest. ``next_page_token`` goes on the
    message that completes the page. A large ``page`` is consumed (its Markdown cleared)."""
    markdown = page.markdown.encode("utf-8")
    if len(markdown) <= chunk_bytes:
        out = convert(page, v2.Page, RENAMES)
        out.markdown_size = len(markdown)
        yield v2.ListPagesResponse(page=out, next_page_token=next_page_token)
        return
    # A large page's text exists once as bytes and once in the part being sent, not
    # also copied whole into the v2 message.
    page.ClearField("markdown")
    out = convert(page, v2.Page, RENAMES)
    out.markdown_size = len(markdown)
    parts = split_utf8(markdown, chunk_bytes)
    _, out.markdown = next(parts)
    yield v2.ListPagesResponse(page=out)
    del out
    previous: tuple[int, str] | None = None
    for part in parts:
        if previous is not None:
            yield v2.ListPagesResponse(chunk=v2.PageChunk(url=page.url, offset=previous[0], markdown=previous[1]))
        previous = part
    assert previous is not None  # more than one chunk: the page is larger than one
    yield v2.ListPagesResponse(chunk=v2.PageChunk(url=page.url, offset=previous[0], markdown=previous[1], last=True),
                               next_page_token=next_page_token)
