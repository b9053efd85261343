import datetime

from docspasta.v2 import common_pb2 as _common_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ProcessRequest(_message.Message):
    __slots__ = ("job_id", "url", "html", "order", "depth", "omit_markdown")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    HTML_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    DEPTH_FIELD_NUMBER: _ClassVar[int]
    OMIT_MARKDOWN_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    url: str
    html: str
    order: int
    depth: int
    omit_markdown: bool
    def __init__(self, job_id: _Optional[str] = ..., url: _Optional[str] = ..., html: _Optional[str] = ..., order: _Optional[int] = ..., depth: _Optional[int] = ..., omit_markdown: _Optional[bool] = ...) -> None: ...

class ProcessResponse(_message.Message):
    __slots__ = ("url", "title", "markdown", "word_count", "token_estimate", "description", "content_hash", "skip_reason")
    URL_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    MARKDOWN_FIELD_NUMBER: _ClassVar[int]
    WORD_COUNT_FIELD_NUMBER: _ClassVar[int]
    TOKEN_ESTIMATE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CONTENT_HASH_FIELD_NUMBER: _ClassVar[int]
    SKIP_REASON_FIELD_NUMBER: _ClassVar[int]
    url: str
    title: str
    markdown: str
    word_count: int
    token_estimate: int
    description: str
    content_hash: str
    skip_reason: _common_pb2.SkipReason
    def __init__(self, url: _Optional[str] = ..., title: _Optional[str] = ..., markdown: _Optional[str] = ..., word_count: _Optional[int] = ..., token_estimate: _Optional[int] = ..., description: _Optional[str] = ..., content_hash: _Optional[str] = ..., skip_reason: _Optional[_Union[_common_pb2.SkipReason, str]] = ...) -> None: ...

class ListPagesRequest(_message.Message):
    __slots__ = ("job_id", "page_size", "page_token")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    page_size: int
    page_token: str
    def __init__(self, job_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListPagesResponse(_message.Message):
    __slots__ = ("page", "chunk", "next_page_token")
    PAGE_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page: Page
    chunk: PageChunk
    next_page_token: str
    def __init__(self, page: _Optional[_Union[Page, _Mapping]] = ..., chunk: _Optional[_Union[PageChunk, _Mapping]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class Page(_message.Message):
    __slots__ = ("job_id", "url", "title", "markdown", "word_count", "token_estimate", "description", "order", "depth", "markdown_size")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    MARKDOWN_FIELD_NUMBER: _ClassVar[int]
    WORD_COUNT_FIELD_NUMBER: _ClassVar[int]
    TOKEN_ESTIMATE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    DEPTH_FIELD_NUMBER: _ClassVar[int]
    MARKDOWN_SIZE_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    url: str
    title: str
    markdown: str
    word_count: int
    token_estimate: int
    description: str
    order: int
    depth: int
    markdown_size: int
    def __init__(self, job_id: _Optional[str] = ..., url: _Optional[str] = ..., title: _Optional[str] = ..., markdown: _Optional[str] = ..., word_count: _Optional[int] = ..., token_estimate: _Optional[int] = ..., description: _Optional[str] = ..., order: _Optional[int] = ..., depth: _Optional[int] = ..., markdown_size: _Optional[int] = ...) -> None: ...

class PageChunk(_message.Message):
    __slots__ = ("url", "offset", "markdown", "last")
    URL_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    MARKDOWN_FIELD_NUMBER: _ClassVar[int]
    LAST_FIELD_NUMBER: _ClassVar[int]
    url: str
    offset: int
    markdown: str
    last: bool
    def __init__(self, url: _Optional[str] = ..., offset: _Optional[int] = ..., markdown: _Optional[str] = ..., last: _Optional[bool] = ...) -> None: ...

class ProcessStreamRequest(_message.Message):
    __slots__ = ("tag", "request", "timeout", "request_id", "cancel")
    TAG_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CANCEL_FIELD_NUMBER: _ClassVar[int]
    tag: int
    request: ProcessRequest
    timeout: _duration_pb2.Duration
    request_id: str
    cancel: bool
    def __init__(self, tag: _Optional[int] = ..., request: _Optional[_Union[ProcessRequest, _Mapping]] = ..., timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., request_id: _Optional[str] = ..., cancel: _Optional[bool] = ...) -> None: ...

class ProcessStreamResponse(_message.Message):
    __slots__ = ("tag", "response", "status")
    TAG_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    tag: int
    response: ProcessResponse
    status: _common_pb2.CallStatus
    def __init__(self, tag: _Optional[int] = ..., response: _Optional[_Union[ProcessResponse, _Mapping]] = ..., status: _Optional[_Union[_common_pb2.CallStatus, _Mapping]] = ...) -> None: ...
