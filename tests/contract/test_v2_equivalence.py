"""docspasta.v1 and docspasta.v2 stay equivalent while both are served: every v1
service, method, message, field and enum value has its v2 counterpart (by name, through
a service's rename table, or as a documented change), so a field added to v1 without
its v2 twin fails here, and the converter has every field it needs."""

from __future__ import annotations

from google.protobuf import any_pb2, descriptor_pb2, descriptor_pool, timestamp_pb2
from google.protobuf.descriptor import FileDescriptor

from crawler.v2.convert import RENAMES as CRAWLER
from docspasta.v1 import (common_pb2 as common1, crawler_pb2 as crawler1, orchestrator_pb2 as orchestrator1,
                          processor_pb2 as processor1, renderer_pb2 as renderer1)
from docspasta.v2 import (common_pb2 as common2, crawler_pb2 as crawler2, orchestrator_pb2 as orchestrator2,
                          processor_pb2 as processor2, renderer_pb2 as renderer2)
from orchestrator.v2.convert import RENAMES as ORCHESTRATOR
from processor.v2.convert import RENAMES as PROCESSOR
from renderer.v2.convert import RENAMES as RENDERER

PAIRS = [(common1, common2), (crawler1, crawler2), (orchestrator1, orchestrator2), (processor1, processor2),
         (renderer1, renderer2)]
# v1 elements v2 changed by design (docs/contract.md, the migration table).
DROPPED = {"TimeUpdate.formatted", "ListPagesRequest.after_order", "ListPagesRequest.limit"}
# v1 message -> its v2 counterpart where the name changed, or None (replaced).
MESSAGES: dict[str, str | None] = {}


def _v1_names() -> dict[str, dict[str, str]]:
    """v2 message -> {v1 field: v2 field} from every service's rename table."""
    out: dict[str, dict[str, str]] = {}
    for renames in (CRAWLER, PROCESSOR, ORCHESTRATOR, RENDERER):
        for message, fields in renames.table:
            for v2_name, v1_name in fields:
                out.setdefault(message, {})[v1_name] = v2_name
    return out


def _files(module: object) -> FileDescriptor:
    return module.DESCRIPTOR  # type: ignore[attr-defined, no-any-return]


def missing_counterparts(pairs: list[tuple[FileDescriptor, FileDescriptor]]) -> list[str]:
    renamed = _v1_names()
    missing = []
    for f1, f2 in pairs:
        for name, message in f1.message_types_by_name.items():
            target = MESSAGES.get(name, name)
            if target is None:
                continue
            other = f2.message_types_by_name.get(target)
            if other is None:
                missing.append(f"message {name}")
                continue
            for field in message.fields:
                key = f"{name}.{field.name}"
                v2_name = renamed.get(target, {}).get(field.name, field.name)
                if key not in DROPPED and v2_name not in other.fields_by_name:
                    missing.append(key)
        for name, enum in f1.enum_types_by_name.items():
            other_enum = f2.enum_types_by_name.get(name)
            if other_enum is None:
                missing.append(f"enum {name}")
                continue
            values = {v.name: v.number for v in other_enum.values}
            missing += [f"{name}.{v.name}" for v in enum.values if values.get(v.name) != v.number]
        for name, service in f1.services_by_name.items():
            other_service = f2.services_by_name.get(f"{name}Service")
            if other_service is None:
                missing.append(f"service {name}")
                continue
            missing += [f"{name}.{m.name}" for m in service.methods if m.name not in other_service.methods_by_name]
    return missing


def test_every_v1_field_and_value_has_a_v2_counterpart() -> None:
    missing = missing_counterparts([(_files(one), _files(two)) for one, two in PAIRS])
    assert not missing, f"v1 elements without a v2 counterpart (add them to proto/docspasta/v2): {missing}"


def test_the_rename_tables_name_real_fields() -> None:
    for renames, module1, module2 in ((CRAWLER, crawler1, crawler2), (PROCESSOR, processor1, processor2),
                                      (ORCHESTRATOR, orchestrator1, orchestrator2),
                                      (RENDERER, renderer1, renderer2)):
        for message, fields in renames.table:
            m2 = _files(module2).message_types_by_name.get(message) or _files(crawler2).message_types_by_name[message]
            m1 = _files(module1).message_types_by_name.get(message) or _files(crawler1).message_types_by_name[message]
            for v2_name, v1_name in fields:
                assert v2_name in m2.fields_by_name, f"{message}.{v2_name} (v2)"
                assert v1_name in m1.fields_by_name, f"{message}.{v1_name} (v1)"


def test_a_new_v1_field_without_a_v2_twin_is_caught() -> None:
    proto = descriptor_pb2.FileDescriptorProto()
    _files(orchestrator1).CopyToProto(proto)
    options = next(m for m in proto.message_type if m.name == "JobOptions")
    options.field.add(name="v1_only", number=99, type=descriptor_pb2.FieldDescriptorProto.TYPE_STRING,
                      label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL, json_name="v1Only")
    pool = descriptor_pool.DescriptorPool()
    for dependency in (any_pb2.DESCRIPTOR, timestamp_pb2.DESCRIPTOR, _files(common1)):
        dependency_proto = descriptor_pb2.FileDescriptorProto()
        dependency.CopyToProto(dependency_proto)
        pool.Add(dependency_proto)
    pool.Add(proto)
    changed = pool.FindFileByName(proto.name)
    assert missing_counterparts([(changed, _files(orchestrator2))]) == ["JobOptions.v1_only"]
