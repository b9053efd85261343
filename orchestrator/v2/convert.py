"""The orchestrator's v1 <-> v2 messages: what v2 renamed (docspasta/v2convert.py does
the rest: Durations, int64 counters, SkipReason, SkipCount, no TimeUpdate.formatted)."""

from __future__ import annotations

from docspasta.v1 import common_pb2 as common_v1, orchestrator_pb2 as v1
from docspasta.v2 import common_pb2 as common_v2, orchestrator_pb2 as v2
from docspasta.v2convert import Renames, check_enums, convert

RENAMES = Renames.of({
    "JobOptions": {"timeout": "timeout_seconds"},
    "Webhook": {"progress_interval": "progress_every_seconds"},
    "Totals": {"elapsed": "elapsed_seconds"},
    "Job": {"create_time": "created_at"},
    "UrlCrawled": {"fetch_duration": "fetch_seconds"},
    "UrlFailed": {"retry_delay": "retry_in_seconds"},
    "TimeUpdate": {"elapsed": "elapsed_seconds"},
    "JobEvent": {"event_time": "timestamp"},
})
# v1 field path -> v2 field path, for the names in refusals.
FIELDS = {
    "options.timeout_seconds": "options.timeout",
    "webhook.progress_every_seconds": "webhook.progress_interval",
}

check_enums(
    (common_v1.ErrorCategory.DESCRIPTOR, common_v2.ErrorCategory.DESCRIPTOR),
    (v1.JobState.DESCRIPTOR, v2.JobState.DESCRIPTOR),
    (v1.RenderMode.DESCRIPTOR, v2.RenderMode.DESCRIPTOR),
    (v1.WebhookEventType.DESCRIPTOR, v2.WebhookEventType.DESCRIPTOR),
)


def start_job_request(request: v2.StartJobRequest) -> v1.StartJobRequest:
    return convert(request, v1.StartJobRequest, RENAMES)


def job_events_request(request: v2.JobEventsRequest) -> v1.JobEventsRequest:
    return convert(request, v1.JobEventsRequest, RENAMES)


def job(value: v1.Job, *, finished_at: float | None = None) -> v2.Job:
    """The v2 Job; ``finished_at`` (epoch seconds, from the job store) is its finish_time."""
    out = convert(value, v2.Job, RENAMES)
    if finished_at is not None:
        out.finish_time.FromNanoseconds(int(finished_at * 1e9))
    return out


def event(value: v1.JobEvent) -> v2.JobEventsResponse:
    return v2.JobEventsResponse(event=convert(value, v2.JobEvent, RENAMES))
