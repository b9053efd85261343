from docspasta.v1 import common_pb2 as _common_pb2
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
    __slots__ = ("url", "title", "markdown", "word_count", "token_estimate", "description", "content_hash", "skipped_reason")
    URL_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    MARKDOWN_FIELD_NUMBER: _ClassVar[int]
    WORD_COUNT_FIELD_NUMBER: _ClassVar[int]
    TOKEN_ESTIMATE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CONTENT_HASH_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_REASON_FIELD_NUMBER: _ClassVar[int]
    url: str
    title: str
    markdown: str
    word_count: int
    token_estimate: int
    description: str
    content_hash: str
    skipped_reason: str
    def __init__(self, url: _Optional[str] = ..., title: _Optional[str] = ..., markdown: _Optional[str] = ..., word_count: _Optional[int] = ..., token_estimate: _Optional[int] = ..., description: _Optional[str] = ..., content_hash: _Optional[str] = ..., skipped_reason: _Optional[str] = ...) -> None: ...

class ListPagesRequest(_message.Message):
    __slots__ = ("job_id", "after_order", "limit")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    AFTER_ORDER_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    after_order: int
    limit: int
    def __init__(self, job_id: _Optional[str] = ..., after_order: _Optional[int] = ..., limit: _Optional[int] = ...) -> None: ...

class Page(_message.Message):
    __slots__ = ("job_id", "url", "title", "markdown", "word_count", "token_estimate", "description", "order", "depth")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    MARKDOWN_FIELD_NUMBER: _ClassVar[int]
    WORD_COUNT_FIELD_NUMBER: _ClassVar[int]
    TOKEN_ESTIMATE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    DEPTH_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    url: str
    title: str
    markdown: str
    word_count: int
    token_estimate: int
    description: str
    order: int
    depth: int
    def __init__(self, job_id: _Optional[str] = ..., url: _Optional[str] = ..., title: _Optional[str] = ..., markdown: _Optional[str] = ..., word_count: _Optional[int] = ..., token_estimate: _Optional[int] = ..., description: _Optional[str] = ..., order: _Optional[int] = ..., depth: _Optional[int] = ...) -> None: ...

class ProcessStreamRequest(_message.Message):
    __slots__ = ("tag", "request", "timeout_seconds", "request_id", "cancel")
    TAG_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CANCEL_FIELD_NUMBER: _ClassVar[int]
    tag: int
    request: ProcessRequest
    timeout_seconds: float
    request_id: str
    cancel: bool
    def __init__(self, tag: _Optional[int] = ..., request: _Optional[_Union[ProcessRequest, _Mapping]] = ..., timeout_seconds: _Optional[float] = ..., request_id: _Optional[str] = ..., cancel: _Optional[bool] = ...) -> None: ...

class ProcessStreamResponse(_message.Message):
    __slots__ = ("tag", "response", "status")
    TAG_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    tag: int
    response: ProcessResponse
    status: _common_pb2.CallStatus
    def __init__(self, tag: _Optional[int] = ..., response: _Optional[_Union[ProcessResponse, _Mapping]] = ..., status: _Optional[_Union[_common_pb2.CallStatus, _Mapping]] = ...) -> None: ...
