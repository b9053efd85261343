import datetime

from docspasta.v2 import common_pb2 as _common_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RenderMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RENDER_MODE_UNSPECIFIED: _ClassVar[RenderMode]
    RENDER_MODE_AUTO: _ClassVar[RenderMode]
    RENDER_MODE_ALWAYS: _ClassVar[RenderMode]
    RENDER_MODE_NEVER: _ClassVar[RenderMode]

class WebhookEventType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WEBHOOK_EVENT_TYPE_UNSPECIFIED: _ClassVar[WebhookEventType]
    WEBHOOK_EVENT_TYPE_JOB_QUEUED: _ClassVar[WebhookEventType]
    WEBHOOK_EVENT_TYPE_JOB_STARTED: _ClassVar[WebhookEventType]
    WEBHOOK_EVENT_TYPE_JOB_PROGRESS: _ClassVar[WebhookEventType]
    WEBHOOK_EVENT_TYPE_JOB_RESUMED: _ClassVar[WebhookEventType]
    WEBHOOK_EVENT_TYPE_JOB_COMPLETED: _ClassVar[WebhookEventType]
    WEBHOOK_EVENT_TYPE_JOB_FAILED: _ClassVar[WebhookEventType]
    WEBHOOK_EVENT_TYPE_JOB_TIMEOUT: _ClassVar[WebhookEventType]
    WEBHOOK_EVENT_TYPE_JOB_CANCELLED: _ClassVar[WebhookEventType]

class JobState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    JOB_STATE_UNSPECIFIED: _ClassVar[JobState]
    JOB_STATE_RUNNING: _ClassVar[JobState]
    JOB_STATE_COMPLETED: _ClassVar[JobState]
    JOB_STATE_FAILED: _ClassVar[JobState]
    JOB_STATE_TIMEOUT: _ClassVar[JobState]
    JOB_STATE_CANCELLED: _ClassVar[JobState]
    JOB_STATE_QUEUED: _ClassVar[JobState]
    JOB_STATE_CANCELLING: _ClassVar[JobState]
RENDER_MODE_UNSPECIFIED: RenderMode
RENDER_MODE_AUTO: RenderMode
RENDER_MODE_ALWAYS: RenderMode
RENDER_MODE_NEVER: RenderMode
WEBHOOK_EVENT_TYPE_UNSPECIFIED: WebhookEventType
WEBHOOK_EVENT_TYPE_JOB_QUEUED: WebhookEventType
WEBHOOK_EVENT_TYPE_JOB_STARTED: WebhookEventType
WEBHOOK_EVENT_TYPE_JOB_PROGRESS: WebhookEventType
WEBHOOK_EVENT_TYPE_JOB_RESUMED: WebhookEventType
WEBHOOK_EVENT_TYPE_JOB_COMPLETED: WebhookEventType
WEBHOOK_EVENT_TYPE_JOB_FAILED: WebhookEventType
WEBHOOK_EVENT_TYPE_JOB_TIMEOUT: WebhookEventType
WEBHOOK_EVENT_TYPE_JOB_CANCELLED: WebhookEventType
JOB_STATE_UNSPECIFIED: JobState
JOB_STATE_RUNNING: JobState
JOB_STATE_COMPLETED: JobState
JOB_STATE_FAILED: JobState
JOB_STATE_TIMEOUT: JobState
JOB_STATE_CANCELLED: JobState
JOB_STATE_QUEUED: JobState
JOB_STATE_CANCELLING: JobState

class JobOptions(_message.Message):
    __slots__ = ("max_pages", "max_depth", "concurrency", "timeout", "include_patterns", "exclude_patterns", "allowed_domains", "use_sitemaps", "obey_robots", "render_mode")
    MAX_PAGES_FIELD_NUMBER: _ClassVar[int]
    MAX_DEPTH_FIELD_NUMBER: _ClassVar[int]
    CONCURRENCY_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_PATTERNS_FIELD_NUMBER: _ClassVar[int]
    EXCLUDE_PATTERNS_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_DOMAINS_FIELD_NUMBER: _ClassVar[int]
    USE_SITEMAPS_FIELD_NUMBER: _ClassVar[int]
    OBEY_ROBOTS_FIELD_NUMBER: _ClassVar[int]
    RENDER_MODE_FIELD_NUMBER: _ClassVar[int]
    max_pages: int
    max_depth: int
    concurrency: int
    timeout: _duration_pb2.Duration
    include_patterns: _containers.RepeatedScalarFieldContainer[str]
    exclude_patterns: _containers.RepeatedScalarFieldContainer[str]
    allowed_domains: _containers.RepeatedScalarFieldContainer[str]
    use_sitemaps: bool
    obey_robots: bool
    render_mode: RenderMode
    def __init__(self, max_pages: _Optional[int] = ..., max_depth: _Optional[int] = ..., concurrency: _Optional[int] = ..., timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., include_patterns: _Optional[_Iterable[str]] = ..., exclude_patterns: _Optional[_Iterable[str]] = ..., allowed_domains: _Optional[_Iterable[str]] = ..., use_sitemaps: _Optional[bool] = ..., obey_robots: _Optional[bool] = ..., render_mode: _Optional[_Union[RenderMode, str]] = ...) -> None: ...

class StartJobRequest(_message.Message):
    __slots__ = ("url", "options", "request_id", "webhook")
    URL_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_FIELD_NUMBER: _ClassVar[int]
    url: str
    options: JobOptions
    request_id: str
    webhook: Webhook
    def __init__(self, url: _Optional[str] = ..., options: _Optional[_Union[JobOptions, _Mapping]] = ..., request_id: _Optional[str] = ..., webhook: _Optional[_Union[Webhook, _Mapping]] = ...) -> None: ...

class Webhook(_message.Message):
    __slots__ = ("url", "secret", "events", "progress_every_pages", "progress_interval")
    URL_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_EVERY_PAGES_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    url: str
    secret: str
    events: _containers.RepeatedScalarFieldContainer[WebhookEventType]
    progress_every_pages: int
    progress_interval: _duration_pb2.Duration
    def __init__(self, url: _Optional[str] = ..., secret: _Optional[str] = ..., events: _Optional[_Iterable[_Union[WebhookEventType, str]]] = ..., progress_every_pages: _Optional[int] = ..., progress_interval: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class StartJobResponse(_message.Message):
    __slots__ = ("job_id", "job")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    job: Job
    def __init__(self, job_id: _Optional[str] = ..., job: _Optional[_Union[Job, _Mapping]] = ...) -> None: ...

class GetJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class CancelJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class JobEventsRequest(_message.Message):
    __slots__ = ("job_id", "after_sequence")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    AFTER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    after_sequence: int
    def __init__(self, job_id: _Optional[str] = ..., after_sequence: _Optional[int] = ...) -> None: ...

class JobEventsResponse(_message.Message):
    __slots__ = ("event",)
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: JobEvent
    def __init__(self, event: _Optional[_Union[JobEvent, _Mapping]] = ...) -> None: ...

class SkipCount(_message.Message):
    __slots__ = ("reason", "count")
    REASON_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    reason: _common_pb2.SkipReason
    count: int
    def __init__(self, reason: _Optional[_Union[_common_pb2.SkipReason, str]] = ..., count: _Optional[int] = ...) -> None: ...

class Totals(_message.Message):
    __slots__ = ("processed", "failed", "discovered", "queued", "in_flight", "elapsed", "token_estimate", "word_count", "skipped", "retries")
    PROCESSED_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    DISCOVERED_FIELD_NUMBER: _ClassVar[int]
    QUEUED_FIELD_NUMBER: _ClassVar[int]
    IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
    ELAPSED_FIELD_NUMBER: _ClassVar[int]
    TOKEN_ESTIMATE_FIELD_NUMBER: _ClassVar[int]
    WORD_COUNT_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    RETRIES_FIELD_NUMBER: _ClassVar[int]
    processed: int
    failed: int
    discovered: int
    queued: int
    in_flight: int
    elapsed: _duration_pb2.Duration
    token_estimate: int
    word_count: int
    skipped: _containers.RepeatedCompositeFieldContainer[SkipCount]
    retries: int
    def __init__(self, processed: _Optional[int] = ..., failed: _Optional[int] = ..., discovered: _Optional[int] = ..., queued: _Optional[int] = ..., in_flight: _Optional[int] = ..., elapsed: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., token_estimate: _Optional[int] = ..., word_count: _Optional[int] = ..., skipped: _Optional[_Iterable[_Union[SkipCount, _Mapping]]] = ..., retries: _Optional[int] = ...) -> None: ...

class Job(_message.Message):
    __slots__ = ("job_id", "url", "state", "options", "totals", "create_time", "finish_time", "scope", "last_sequence", "error")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    TOTALS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    FINISH_TIME_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    LAST_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    url: str
    state: JobState
    options: JobOptions
    totals: Totals
    create_time: _timestamp_pb2.Timestamp
    finish_time: _timestamp_pb2.Timestamp
    scope: _containers.RepeatedScalarFieldContainer[str]
    last_sequence: int
    error: str
    def __init__(self, job_id: _Optional[str] = ..., url: _Optional[str] = ..., state: _Optional[_Union[JobState, str]] = ..., options: _Optional[_Union[JobOptions, _Mapping]] = ..., totals: _Optional[_Union[Totals, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., finish_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., scope: _Optional[_Iterable[str]] = ..., last_sequence: _Optional[int] = ..., error: _Optional[str] = ...) -> None: ...

class StreamConnected(_message.Message):
    __slots__ = ("url", "options", "scope")
    URL_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    url: str
    options: JobOptions
    scope: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, url: _Optional[str] = ..., options: _Optional[_Union[JobOptions, _Mapping]] = ..., scope: _Optional[_Iterable[str]] = ...) -> None: ...

class UrlStarted(_message.Message):
    __slots__ = ("url", "depth", "attempt")
    URL_FIELD_NUMBER: _ClassVar[int]
    DEPTH_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    url: str
    depth: int
    attempt: int
    def __init__(self, url: _Optional[str] = ..., depth: _Optional[int] = ..., attempt: _Optional[int] = ...) -> None: ...

class UrlCrawled(_message.Message):
    __slots__ = ("url", "title", "content_length", "status", "final_url", "fetch_duration", "rendered")
    URL_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_LENGTH_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    FINAL_URL_FIELD_NUMBER: _ClassVar[int]
    FETCH_DURATION_FIELD_NUMBER: _ClassVar[int]
    RENDERED_FIELD_NUMBER: _ClassVar[int]
    url: str
    title: str
    content_length: int
    status: int
    final_url: str
    fetch_duration: _duration_pb2.Duration
    rendered: bool
    def __init__(self, url: _Optional[str] = ..., title: _Optional[str] = ..., content_length: _Optional[int] = ..., status: _Optional[int] = ..., final_url: _Optional[str] = ..., fetch_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., rendered: _Optional[bool] = ...) -> None: ...

class UrlsDiscovered(_message.Message):
    __slots__ = ("source_url", "discovered_urls", "count", "total_discovered")
    SOURCE_URL_FIELD_NUMBER: _ClassVar[int]
    DISCOVERED_URLS_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_DISCOVERED_FIELD_NUMBER: _ClassVar[int]
    source_url: str
    discovered_urls: _containers.RepeatedScalarFieldContainer[str]
    count: int
    total_discovered: int
    def __init__(self, source_url: _Optional[str] = ..., discovered_urls: _Optional[_Iterable[str]] = ..., count: _Optional[int] = ..., total_discovered: _Optional[int] = ...) -> None: ...

class SentToProcessing(_message.Message):
    __slots__ = ("url",)
    URL_FIELD_NUMBER: _ClassVar[int]
    url: str
    def __init__(self, url: _Optional[str] = ...) -> None: ...

class UrlProcessed(_message.Message):
    __slots__ = ("url", "title", "word_count", "token_estimate")
    URL_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    WORD_COUNT_FIELD_NUMBER: _ClassVar[int]
    TOKEN_ESTIMATE_FIELD_NUMBER: _ClassVar[int]
    url: str
    title: str
    word_count: int
    token_estimate: int
    def __init__(self, url: _Optional[str] = ..., title: _Optional[str] = ..., word_count: _Optional[int] = ..., token_estimate: _Optional[int] = ...) -> None: ...

class UrlFailed(_message.Message):
    __slots__ = ("url", "error", "message", "attempt", "will_retry", "retry_delay")
    URL_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    WILL_RETRY_FIELD_NUMBER: _ClassVar[int]
    RETRY_DELAY_FIELD_NUMBER: _ClassVar[int]
    url: str
    error: _common_pb2.ErrorCategory
    message: str
    attempt: int
    will_retry: bool
    retry_delay: _duration_pb2.Duration
    def __init__(self, url: _Optional[str] = ..., error: _Optional[_Union[_common_pb2.ErrorCategory, str]] = ..., message: _Optional[str] = ..., attempt: _Optional[int] = ..., will_retry: _Optional[bool] = ..., retry_delay: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class UrlSkipped(_message.Message):
    __slots__ = ("url", "reason", "detail")
    URL_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    url: str
    reason: _common_pb2.SkipReason
    detail: str
    def __init__(self, url: _Optional[str] = ..., reason: _Optional[_Union[_common_pb2.SkipReason, str]] = ..., detail: _Optional[str] = ...) -> None: ...

class Progress(_message.Message):
    __slots__ = ("processed", "discovered", "queued", "in_flight", "failed")
    PROCESSED_FIELD_NUMBER: _ClassVar[int]
    DISCOVERED_FIELD_NUMBER: _ClassVar[int]
    QUEUED_FIELD_NUMBER: _ClassVar[int]
    IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    processed: int
    discovered: int
    queued: int
    in_flight: int
    failed: int
    def __init__(self, processed: _Optional[int] = ..., discovered: _Optional[int] = ..., queued: _Optional[int] = ..., in_flight: _Optional[int] = ..., failed: _Optional[int] = ...) -> None: ...

class TimeUpdate(_message.Message):
    __slots__ = ("elapsed", "processed", "discovered", "queued", "in_flight")
    ELAPSED_FIELD_NUMBER: _ClassVar[int]
    PROCESSED_FIELD_NUMBER: _ClassVar[int]
    DISCOVERED_FIELD_NUMBER: _ClassVar[int]
    QUEUED_FIELD_NUMBER: _ClassVar[int]
    IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
    elapsed: _duration_pb2.Duration
    processed: int
    discovered: int
    queued: int
    in_flight: int
    def __init__(self, elapsed: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., processed: _Optional[int] = ..., discovered: _Optional[int] = ..., queued: _Optional[int] = ..., in_flight: _Optional[int] = ...) -> None: ...

class JobQueued(_message.Message):
    __slots__ = ("position",)
    POSITION_FIELD_NUMBER: _ClassVar[int]
    position: int
    def __init__(self, position: _Optional[int] = ...) -> None: ...

class JobResumed(_message.Message):
    __slots__ = ("owner", "requeued_urls", "last_sequence")
    OWNER_FIELD_NUMBER: _ClassVar[int]
    REQUEUED_URLS_FIELD_NUMBER: _ClassVar[int]
    LAST_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    owner: str
    requeued_urls: int
    last_sequence: int
    def __init__(self, owner: _Optional[str] = ..., requeued_urls: _Optional[int] = ..., last_sequence: _Optional[int] = ...) -> None: ...

class JobCompleted(_message.Message):
    __slots__ = ("totals",)
    TOTALS_FIELD_NUMBER: _ClassVar[int]
    totals: Totals
    def __init__(self, totals: _Optional[_Union[Totals, _Mapping]] = ...) -> None: ...

class JobFailed(_message.Message):
    __slots__ = ("error", "totals")
    ERROR_FIELD_NUMBER: _ClassVar[int]
    TOTALS_FIELD_NUMBER: _ClassVar[int]
    error: str
    totals: Totals
    def __init__(self, error: _Optional[str] = ..., totals: _Optional[_Union[Totals, _Mapping]] = ...) -> None: ...

class JobTimeout(_message.Message):
    __slots__ = ("totals", "message")
    TOTALS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    totals: Totals
    message: str
    def __init__(self, totals: _Optional[_Union[Totals, _Mapping]] = ..., message: _Optional[str] = ...) -> None: ...

class JobCancelled(_message.Message):
    __slots__ = ("totals",)
    TOTALS_FIELD_NUMBER: _ClassVar[int]
    totals: Totals
    def __init__(self, totals: _Optional[_Union[Totals, _Mapping]] = ...) -> None: ...

class JobEvent(_message.Message):
    __slots__ = ("job_id", "sequence", "event_time", "stream_connected", "url_started", "url_crawled", "urls_discovered", "sent_to_processing", "url_processed", "url_failed", "progress", "time_update", "job_completed", "job_failed", "job_timeout", "job_cancelled", "url_skipped", "job_queued", "job_resumed")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    STREAM_CONNECTED_FIELD_NUMBER: _ClassVar[int]
    URL_STARTED_FIELD_NUMBER: _ClassVar[int]
    URL_CRAWLED_FIELD_NUMBER: _ClassVar[int]
    URLS_DISCOVERED_FIELD_NUMBER: _ClassVar[int]
    SENT_TO_PROCESSING_FIELD_NUMBER: _ClassVar[int]
    URL_PROCESSED_FIELD_NUMBER: _ClassVar[int]
    URL_FAILED_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    TIME_UPDATE_FIELD_NUMBER: _ClassVar[int]
    JOB_COMPLETED_FIELD_NUMBER: _ClassVar[int]
    JOB_FAILED_FIELD_NUMBER: _ClassVar[int]
    JOB_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    JOB_CANCELLED_FIELD_NUMBER: _ClassVar[int]
    URL_SKIPPED_FIELD_NUMBER: _ClassVar[int]
    JOB_QUEUED_FIELD_NUMBER: _ClassVar[int]
    JOB_RESUMED_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    sequence: int
    event_time: _timestamp_pb2.Timestamp
    stream_connected: StreamConnected
    url_started: UrlStarted
    url_crawled: UrlCrawled
    urls_discovered: UrlsDiscovered
    sent_to_processing: SentToProcessing
    url_processed: UrlProcessed
    url_failed: UrlFailed
    progress: Progress
    time_update: TimeUpdate
    job_completed: JobCompleted
    job_failed: JobFailed
    job_timeout: JobTimeout
    job_cancelled: JobCancelled
    url_skipped: UrlSkipped
    job_queued: JobQueued
    job_resumed: JobResumed
    def __init__(self, job_id: _Optional[str] = ..., sequence: _Optional[int] = ..., event_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., stream_connected: _Optional[_Union[StreamConnected, _Mapping]] = ..., url_started: _Optional[_Union[UrlStarted, _Mapping]] = ..., url_crawled: _Optional[_Union[UrlCrawled, _Mapping]] = ..., urls_discovered: _Optional[_Union[UrlsDiscovered, _Mapping]] = ..., sent_to_processing: _Optional[_Union[SentToProcessing, _Mapping]] = ..., url_processed: _Optional[_Union[UrlProcessed, _Mapping]] = ..., url_failed: _Optional[_Union[UrlFailed, _Mapping]] = ..., progress: _Optional[_Union[Progress, _Mapping]] = ..., time_update: _Optional[_Union[TimeUpdate, _Mapping]] = ..., job_completed: _Optional[_Union[JobCompleted, _Mapping]] = ..., job_failed: _Optional[_Union[JobFailed, _Mapping]] = ..., job_timeout: _Optional[_Union[JobTimeout, _Mapping]] = ..., job_cancelled: _Optional[_Union[JobCancelled, _Mapping]] = ..., url_skipped: _Optional[_Union[UrlSkipped, _Mapping]] = ..., job_queued: _Optional[_Union[JobQueued, _Mapping]] = ..., job_resumed: _Optional[_Union[JobResumed, _Mapping]] = ...) -> None: ...
