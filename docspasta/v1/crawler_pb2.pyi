from docspasta.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CrawlStreamRequest(_message.Message):
    __slots__ = ("tag", "request", "timeout_seconds", "request_id", "cancel")
    TAG_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CANCEL_FIELD_NUMBER: _ClassVar[int]
    tag: int
    request: CrawlRequest
    timeout_seconds: float
    request_id: str
    cancel: bool
    def __init__(self, tag: _Optional[int] = ..., request: _Optional[_Union[CrawlRequest, _Mapping]] = ..., timeout_seconds: _Optional[float] = ..., request_id: _Optional[str] = ..., cancel: _Optional[bool] = ...) -> None: ...

class CrawlStreamResponse(_message.Message):
    __slots__ = ("tag", "response", "status")
    TAG_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    tag: int
    response: CrawlResponse
    status: _common_pb2.CallStatus
    def __init__(self, tag: _Optional[int] = ..., response: _Optional[_Union[CrawlResponse, _Mapping]] = ..., status: _Optional[_Union[_common_pb2.CallStatus, _Mapping]] = ...) -> None: ...

class CrawlRequest(_message.Message):
    __slots__ = ("url", "job_id", "allow_non_html", "max_requests")
    URL_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    ALLOW_NON_HTML_FIELD_NUMBER: _ClassVar[int]
    MAX_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    url: str
    job_id: str
    allow_non_html: bool
    max_requests: int
    def __init__(self, url: _Optional[str] = ..., job_id: _Optional[str] = ..., allow_non_html: _Optional[bool] = ..., max_requests: _Optional[int] = ...) -> None: ...

class CrawlResponse(_message.Message):
    __slots__ = ("url", "final_url", "status", "content_type", "html", "title", "links", "fetch_seconds", "error", "error_message", "redirects", "retry_after_seconds", "canonical_url", "nofollow", "content_length", "requests_sent", "text_hash")
    URL_FIELD_NUMBER: _ClassVar[int]
    FINAL_URL_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    HTML_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    LINKS_FIELD_NUMBER: _ClassVar[int]
    FETCH_SECONDS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    REDIRECTS_FIELD_NUMBER: _ClassVar[int]
    RETRY_AFTER_SECONDS_FIELD_NUMBER: _ClassVar[int]
    CANONICAL_URL_FIELD_NUMBER: _ClassVar[int]
    NOFOLLOW_FIELD_NUMBER: _ClassVar[int]
    CONTENT_LENGTH_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_SENT_FIELD_NUMBER: _ClassVar[int]
    TEXT_HASH_FIELD_NUMBER: _ClassVar[int]
    url: str
    final_url: str
    status: int
    content_type: str
    html: str
    title: str
    links: _containers.RepeatedScalarFieldContainer[str]
    fetch_seconds: float
    error: _common_pb2.ErrorCategory
    error_message: str
    redirects: _containers.RepeatedScalarFieldContainer[str]
    retry_after_seconds: float
    canonical_url: str
    nofollow: bool
    content_length: int
    requests_sent: int
    text_hash: bytes
    def __init__(self, url: _Optional[str] = ..., final_url: _Optional[str] = ..., status: _Optional[int] = ..., content_type: _Optional[str] = ..., html: _Optional[str] = ..., title: _Optional[str] = ..., links: _Optional[_Iterable[str]] = ..., fetch_seconds: _Optional[float] = ..., error: _Optional[_Union[_common_pb2.ErrorCategory, str]] = ..., error_message: _Optional[str] = ..., redirects: _Optional[_Iterable[str]] = ..., retry_after_seconds: _Optional[float] = ..., canonical_url: _Optional[str] = ..., nofollow: _Optional[bool] = ..., content_length: _Optional[int] = ..., requests_sent: _Optional[int] = ..., text_hash: _Optional[bytes] = ...) -> None: ...
