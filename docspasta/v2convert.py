"""Messages between ``docspasta.v1`` and ``docspasta.v2``: one converter, driven by the
descriptors, so the two contracts cannot drift apart field by field.

The v2 servicers (``<service>/v2/``) take a v2 request, convert it to v1, hand it to the
one implementation (the v1 servicer and the objects behind it: job registry, page
store, fetcher, renderer), and convert the answer back. What differs between the
packages is written down once, per service, as a table of renamed fields (v2 name ->
v1 name, see ``<service>/v2/convert.py``); everything else follows from the types:

- same name and shape: copied (int32 -> int64 widened; int64 -> int32 clamped, so an
  out-of-range v2 value reaches v1's own bounds check and is refused there by name);
- ``double`` seconds <-> ``google.protobuf.Duration`` (0 <-> unset);
- a skip reason string <-> the ``SkipReason`` enum; ``map<string, int32> skipped`` ->
  ``repeated SkipCount`` in enum order;
- enums with identical numbering (checked at import, :func:`check_enums`) by number;
- a v1 field v2 does not have (``TimeUpdate.formatted``) is dropped, a v2 field v1 does
  not have (``Job.finish_time``, ``Page.markdown_size``) is the caller's to fill.

Presence is kept: optional scalars, messages and oneof members are copied only when set.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

from google.protobuf import duration_pb2
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.protobuf.message import Message

from docspasta.v2 import common_pb2 as common_v2

M = TypeVar("M", bound=Message)


@dataclass(frozen=True, slots=True)
class Renames:
    """The fields a service's v2 messages renamed: v2 message name (short, e.g.
    "JobOptions") -> {v2 field name: v1 field name}. Frozen, so plans are cached by it."""

    table: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]

    @classmethod
    def of(cls, mapping: Mapping[str, Mapping[str, str]]) -> Renames:
        return cls(tuple(sorted((name, tuple(sorted(fields.items()))) for name, fields in mapping.items())))


INT32_MIN, INT32_MAX = -(2 ** 31), 2 ** 31 - 1
_DURATION = duration_pb2.Duration.DESCRIPTOR.full_name
_SKIP_REASON = common_v2.SkipReason.DESCRIPTOR.full_name
_SKIP_COUNT_SUFFIX = ".SkipCount"
_SKIP_PREFIX = "SKIP_REASON_"
_INT32 = {FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_SINT32, FieldDescriptor.TYPE_SFIXED32}

# "duplicate" -> SKIP_REASON_DUPLICATE, ... (the v1 strings are the enum names, lower case).
SKIP_REASONS: dict[str, int] = {name.removeprefix(_SKIP_PREFIX).lower(): number
                                for name, number in common_v2.SkipReason.items() if number}
SKIP_REASON_NAMES: dict[int, str] = {number: name for name, number in SKIP_REASONS.items()}


def skip_reason(text: str) -> int:
    """The SkipReason of a v1 reason string; SKIP_REASON_UNSPECIFIED for one v2 does not
    know (a test keeps the orchestrator's reasons and the enum in step)."""
    return SKIP_REASONS.get(text, common_v2.SKIP_REASON_UNSPECIFIED)


def seconds_to_duration(seconds: float, into: duration_pb2.Duration) -> None:
    into.FromNanoseconds(round(seconds * 1e9))


def duration_to_seconds(value: duration_pb2.Duration) -> float:
    return float(value.ToNanoseconds()) / 1e9


def duration_problem(value: duration_pb2.Duration) -> str | None:
    """Why a Duration from a client is not one (protobuf's own rules), or None."""
    if not -315_576_000_000 <= value.seconds <= 315_576_000_000:
        return "seconds out of range"
    if not -999_999_999 <= value.nanos <= 999_999_999:
        return "nanos must be within +-999,999,999"
    if (value.seconds > 0 and value.nanos < 0) or (value.seconds < 0 and value.nanos > 0):
        return "seconds and nanos must have the same sign"
    return None


def clamp_int32(value: int) -> int:
    return max(INT32_MIN, min(INT32_MAX, value))


def convert(source: Message, target_type: type[M], renames: Renames) -> M:
    """``source`` (one package) as a ``target_type`` (the other), see the module docstring.
    ``renames`` is keyed by the v2 side, whichever direction this is."""
    target = target_type()
    _copy(source, target, renames)
    return target


def _copy(source: Message, target: Message, renames: Renames) -> None:
    for target_field, source_field in _plan(source.DESCRIPTOR, target.DESCRIPTOR, renames):
        _transfer(source, source_field, target, target_field, renames)


@cache
def _plan(source: Descriptor, target: Descriptor, renames: Renames,
          ) -> tuple[tuple[FieldDescriptor, FieldDescriptor], ...]:
    """(target field, source field) pairs: by v2 name, through the rename table."""
    table = {name: dict(fields) for name, fields in renames.table}
    v2_is_target = target.file.package == "docspasta.v2"
    v2_name = target.name if v2_is_target else source.name
    names = table.get(v2_name, {})
    if not v2_is_target:
        names = {v1: v2 for v2, v1 in names.items()}
    pairs = []
    for field in target.fields:
        other = source.fields_by_name.get(names.get(field.name, field.name))
        if other is not None:
            pairs.append((field, other))
    return tuple(pairs)


def _transfer(source: Message, sf: FieldDescriptor, target: Message, tf: FieldDescriptor, renames: Renames) -> None:
    value = getattr(source, sf.name)
    if sf.is_repeated:
        if sf.message_type is not None and sf.message_type.GetOptions().map_entry:
            if tf.message_type is not None and tf.message_type.full_name.endswith(_SKIP_COUNT_SUFFIX):
                _skip_counts(value, getattr(target, tf.name))
                return
            getattr(target, tf.name).update(value)
            return
        out = getattr(target, tf.name)
        if tf.message_type is not None:
            for item in value:
                _copy(item, out.add(), renames)
        else:
            out.extend(_scalar(item, sf, tf) for item in value)
        return
    if sf.has_presence and not source.HasField(sf.name):
        return
    if tf.message_type is not None:
        if tf.message_type.full_name == _DURATION and sf.message_type is None:
            if value:
                seconds_to_duration(value, getattr(target, tf.name))
            return
        if sf.message_type is not None and sf.message_type.full_name == tf.message_type.full_name:
            getattr(target, tf.name).CopyFrom(value)
            return
        _copy(value, getattr(target, tf.name), renames)
        return
    if sf.message_type is not None and sf.message_type.full_name == _DURATION:
        setattr(target, tf.name, duration_to_seconds(value))
        return
    setattr(target, tf.name, _scalar(value, sf, tf))


def _scalar(value: Any, sf: FieldDescriptor, tf: FieldDescriptor) -> Any:
    if tf.enum_type is not None and tf.enum_type.full_name == _SKIP_REASON and sf.enum_type is None:
        return skip_reason(value)
    if sf.enum_type is not None and sf.enum_type.full_name == _SKIP_REASON and tf.enum_type is None:
        return SKIP_REASON_NAMES.get(value, "")
    if tf.type in _INT32 and sf.type not in _INT32:
        return clamp_int32(value)
    return value


def _skip_counts(counts: Mapping[str, int], out: Any) -> None:
    merged: dict[int, int] = {}
    for text, count in counts.items():
        if count:
            reason = skip_reason(text)
            merged[reason] = merged.get(reason, 0) + count
    for reason in sorted(merged):
        out.add(reason=reason, count=merged[reason])


def check_enums(*pairs: tuple[EnumDescriptor, EnumDescriptor]) -> None:
    """Enums copied by number must have the same values under the same names."""
    for v1, v2 in pairs:
        one = {value.number: value.name for value in v1.values}
        two = {value.number: value.name for value in v2.values}
        if one != two:
            raise AssertionError(f"{v1.full_name} and {v2.full_name} differ: {one} != {two}")
