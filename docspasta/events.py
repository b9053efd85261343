"""The JSON form of a JobEvent: the same object in the CLI's --events file and in the
bridge's SSE ``data:`` lines. Field names are the proto's; error categories are their
short lower-case names."""

from __future__ import annotations

import json
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message

from docspasta.v1 import common_pb2, orchestrator_pb2

TERMINAL_EVENTS = frozenset({"job_completed", "job_failed", "job_timeout", "job_cancelled"})
# Events about the job's life rather than a URL; none of them ends the stream.
LIFECYCLE_EVENTS = frozenset({"stream_connected", "job_queued", "job_resumed"})
EVENT_NAMES = tuple(f.name for f in orchestrator_pb2.JobEvent.DESCRIPTOR.oneofs_by_name["event"].fields)
JOB_STATE_NAMES = {v: k.removeprefix("JOB_STATE_").lower()
                   for k, v in orchestrator_pb2.JobState.items()}


def category_name(value: int) -> str:
    """``ERROR_CATEGORY_HTTP_4XX`` -> ``http_4xx``; '' for UNSPECIFIED."""
    if value == common_pb2.ERROR_CATEGORY_UNSPECIFIED:
        return ""
    return str(common_pb2.ErrorCategory.Name(value)).removeprefix("ERROR_CATEGORY_").lower()


def message_dict(message: Message) -> dict[str, Any]:
    data = json_format.MessageToDict(message, preserving_proto_field_name=True,
                                     always_print_fields_with_no_presence=True,
                                     use_integers_for_enums=False)
    return dict(_short_enums(data))


def _short_enums(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _short_enums(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_short_enums(v) for v in value]
    if isinstance(value, str):
        if value.startswith("ERROR_CATEGORY_"):
            return "" if value == "ERROR_CATEGORY_UNSPECIFIED" else value.removeprefix("ERROR_CATEGORY_").lower()
        if value.startswith("JOB_STATE_"):
            return value.removeprefix("JOB_STATE_").lower()
    return value


def event_name(event: orchestrator_pb2.JobEvent) -> str:
    return event.WhichOneof("event") or ""


def event_dict(event: orchestrator_pb2.JobEvent) -> dict[str, Any]:
    """{"type", "job_id", "sequence", "timestamp", ...payload fields}."""
    name = event_name(event)
    payload = message_dict(getattr(event, name)) if name else {}
    return {
        "type": name,
        "job_id": event.job_id,
        "sequence": event.sequence,
        "timestamp": event.timestamp.ToJsonString(),
        **payload,
    }


def event_from_dict(data: dict[str, Any]) -> orchestrator_pb2.JobEvent:
    """The JobEvent ``event_dict`` made (the bridge's SSE ``data:``, the --events lines):
    ``event_from_dict(event_dict(e)) == e``. Fields this version does not know are
    ignored (a newer server); a payload that does not parse raises ValueError."""
    name = str(data.get("type", ""))
    event = orchestrator_pb2.JobEvent(job_id=str(data.get("job_id", "")), sequence=int(data.get("sequence", 0)))
    if data.get("timestamp"):
        event.timestamp.FromJsonString(str(data["timestamp"]))
    if name not in EVENT_NAMES:
        return event  # an event type this version does not know: its envelope only
    payload = {k: v for k, v in data.items() if k not in ("type", "job_id", "sequence", "timestamp")}
    target = getattr(event, name)
    try:
        json_format.ParseDict(_long_enums(payload, target.DESCRIPTOR), target, ignore_unknown_fields=True)
    except json_format.ParseError as exc:
        raise ValueError(f"{name} event {event.sequence}: {exc}") from None
    target.SetInParent()  # an event with no fields set is still that event
    return event


def _long_enums(value: Any, descriptor: Any) -> Any:
    """The inverse of _short_enums, guided by the message's descriptor: ``http_4xx`` ->
    ``ERROR_CATEGORY_HTTP_4XX``, ``""`` -> its UNSPECIFIED value."""
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        field = descriptor.fields_by_name.get(key)
        if field is None:
            out[key] = item
        elif field.message_type is not None and not field.message_type.GetOptions().map_entry:
            out[key] = ([_long_enums(v, field.message_type) for v in item] if isinstance(item, list)
                        else _long_enums(item, field.message_type))
        elif field.enum_type is not None:
            out[key] = ([_long_enum(v, field.enum_type) for v in item] if isinstance(item, list)
                        else _long_enum(item, field.enum_type))
        else:
            out[key] = item
    return out


def _long_enum(value: Any, enum: Any) -> Any:
    if not isinstance(value, str) or value in enum.values_by_name:
        return value
    prefix = enum.values[0].name.removesuffix("UNSPECIFIED")  # ERROR_CATEGORY_UNSPECIFIED -> ERROR_CATEGORY_
    return enum.values[0].name if value == "" else prefix + value.upper()


def event_json(event: orchestrator_pb2.JobEvent) -> str:
    return json.dumps(event_dict(event), separators=(",", ":"), ensure_ascii=False)


def job_dict(job: orchestrator_pb2.Job) -> dict[str, Any]:
    return message_dict(job)


def format_elapsed(seconds: float) -> str:
    """``M:SS`` (minutes may exceed 59)."""
    whole = int(seconds)
    return f"{whole // 60}:{whole % 60:02d}"
