from google.protobuf import any_pb2 as _any_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ErrorCategory(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ERROR_CATEGORY_UNSPECIFIED: _ClassVar[ErrorCategory]
    ERROR_CATEGORY_TIMEOUT: _ClassVar[ErrorCategory]
    ERROR_CATEGORY_DNS: _ClassVar[ErrorCategory]
    ERROR_CATEGORY_CONNECT: _ClassVar[ErrorCategory]
    ERROR_CATEGORY_HTTP_4XX: _ClassVar[ErrorCategory]
    ERROR_CATEGORY_HTTP_5XX: _ClassVar[ErrorCategory]
    ERROR_CATEGORY_TOO_LARGE: _ClassVar[ErrorCategory]
    ERROR_CATEGORY_NOT_HTML: _ClassVar[ErrorCategory]
    ERROR_CATEGORY_BLOCKED: _ClassVar[ErrorCategory]
    ERROR_CATEGORY_INVALID: _ClassVar[ErrorCategory]
    ERROR_CATEGORY_ROBOTS: _ClassVar[ErrorCategory]
    ERROR_CATEGORY_PROCESSING: _ClassVar[ErrorCategory]
    ERROR_CATEGORY_TOO_SLOW: _ClassVar[ErrorCategory]
    ERROR_CATEGORY_REQUEST_BUDGET: _ClassVar[ErrorCategory]
ERROR_CATEGORY_UNSPECIFIED: ErrorCategory
ERROR_CATEGORY_TIMEOUT: ErrorCategory
ERROR_CATEGORY_DNS: ErrorCategory
ERROR_CATEGORY_CONNECT: ErrorCategory
ERROR_CATEGORY_HTTP_4XX: ErrorCategory
ERROR_CATEGORY_HTTP_5XX: ErrorCategory
ERROR_CATEGORY_TOO_LARGE: ErrorCategory
ERROR_CATEGORY_NOT_HTML: ErrorCategory
ERROR_CATEGORY_BLOCKED: ErrorCategory
ERROR_CATEGORY_INVALID: ErrorCategory
ERROR_CATEGORY_ROBOTS: ErrorCategory
ERROR_CATEGORY_PROCESSING: ErrorCategory
ERROR_CATEGORY_TOO_SLOW: ErrorCategory
ERROR_CATEGORY_REQUEST_BUDGET: ErrorCategory

class CallStatus(_message.Message):
    __slots__ = ("code", "message", "details")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    code: int
    message: str
    details: _containers.RepeatedCompositeFieldContainer[_any_pb2.Any]
    def __init__(self, code: _Optional[int] = ..., message: _Optional[str] = ..., details: _Optional[_Iterable[_Union[_any_pb2.Any, _Mapping]]] = ...) -> None: ...
