import datetime

from docspasta.v2 import crawler_pb2 as _crawler_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RenderRequest(_message.Message):
    __slots__ = ("url", "job_id", "wait_selector", "timeout", "max_requests")
    URL_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    WAIT_SELECTOR_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    MAX_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    url: str
    job_id: str
    wait_selector: str
    timeout: _duration_pb2.Duration
    max_requests: int
    def __init__(self, url: _Optional[str] = ..., job_id: _Optional[str] = ..., wait_selector: _Optional[str] = ..., timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., max_requests: _Optional[int] = ...) -> None: ...

class RenderResponse(_message.Message):
    __slots__ = ("page", "subrequests", "blocked_requests", "dom_elements", "subrequest_bytes")
    PAGE_FIELD_NUMBER: _ClassVar[int]
    SUBREQUESTS_FIELD_NUMBER: _ClassVar[int]
    BLOCKED_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    DOM_ELEMENTS_FIELD_NUMBER: _ClassVar[int]
    SUBREQUEST_BYTES_FIELD_NUMBER: _ClassVar[int]
    page: _crawler_pb2.CrawlResponse
    subrequests: int
    blocked_requests: int
    dom_elements: int
    subrequest_bytes: int
    def __init__(self, page: _Optional[_Union[_crawler_pb2.CrawlResponse, _Mapping]] = ..., subrequests: _Optional[int] = ..., blocked_requests: _Optional[int] = ..., dom_elements: _Optional[int] = ..., subrequest_bytes: _Optional[int] = ...) -> None: ...
