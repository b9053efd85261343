"""gRPC server reflection under both names tools ask for: ``grpc.reflection.v1`` (what
grpcurl, grpcui, Postman and buf curl try first) and ``grpc.reflection.v1alpha`` (older
tools). grpcio-reflection implements only v1alpha; v1 is the same protocol with the
same messages in another package, so v1 is served by the same servicer: its file
descriptor is v1alpha's with the package renamed, added to the default descriptor pool
(so reflection describes itself under both names), and its method handler parses and
writes the identical wire format with v1alpha's message classes.

The descriptors the generated Python modules register carry no comments, so reflection
would describe the services without their documentation. ``make proto`` also writes
``docspasta/v1/descriptors.binpb`` and ``docspasta/v2/descriptors.binpb`` (the same
files with source info); the servicer sends
those file descriptors instead, so `grpcurl describe` shows every comment of the proto."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import Any

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool
from grpc_reflection.v1alpha import _async as reflection_aio, reflection, reflection_pb2, reflection_pb2_grpc

V1ALPHA_SERVICE = reflection.SERVICE_NAME  # grpc.reflection.v1alpha.ServerReflection
V1_PACKAGE = "grpc.reflection.v1"
V1_SERVICE = f"{V1_PACKAGE}.ServerReflection"
V1_FILE = "grpc/reflection/v1/reflection.proto"
_METHOD = "ServerReflectionInfo"


def _register_v1_descriptor() -> None:
    pool = descriptor_pool.Default()
    try:
        pool.FindFileByName(V1_FILE)
        return
    except KeyError:
        pass
    proto = descriptor_pb2.FileDescriptorProto()
    reflection_pb2.DESCRIPTOR.CopyToProto(proto)
    old = proto.package
    proto.name = V1_FILE
    proto.package = V1_PACKAGE
    for service in proto.service:
        for method in service.method:
            method.input_type = method.input_type.replace(f".{old}.", f".{V1_PACKAGE}.")
            method.output_type = method.output_type.replace(f".{old}.", f".{V1_PACKAGE}.")
    for msg in proto.message_type:
        for field in msg.field:
            if field.type_name.startswith(f".{old}."):
                field.type_name = field.type_name.replace(f".{old}.", f".{V1_PACKAGE}.", 1)
    proto.options.Clear()
    pool.Add(proto)


# The contract's packages, each with its descriptor set from `make proto`; both are served
# side by side for v1's deprecation period.
CONTRACT_PACKAGES = ("docspasta.v1", "docspasta.v2")


@cache
def documented_files() -> dict[str, bytes]:
    """File name -> serialized FileDescriptorProto with comments (source info), for the
    docspasta.v1 and docspasta.v2 files; a package whose descriptor set is missing
    contributes none."""
    out: dict[str, bytes] = {}
    for package in CONTRACT_PACKAGES:
        try:
            data = resources.files(package).joinpath("descriptors.binpb").read_bytes()
        except (FileNotFoundError, ModuleNotFoundError):
            continue
        for f in descriptor_pb2.FileDescriptorSet.FromString(data).file:
            out[f.name] = f.SerializeToString()
    return out


class DocumentedReflectionServicer(reflection_aio.ReflectionServicer):  # type: ignore[misc]
    """grpcio-reflection's servicer, answering with the documented file descriptors."""

    def _documented(self, response: Any) -> Any:
        if not response.HasField("file_descriptor_response"):
            return response
        documented = documented_files()
        protos = response.file_descriptor_response.file_descriptor_proto
        for i, raw in enumerate(protos):
            name = descriptor_pb2.FileDescriptorProto.FromString(raw).name
            if name in documented:
                protos[i] = documented[name]
        return response

    def _file_by_filename(self, request: Any, filename: str) -> Any:
        return self._documented(super()._file_by_filename(request, filename))

    def _file_containing_symbol(self, request: Any, fully_qualified_name: str) -> Any:
        return self._documented(super()._file_containing_symbol(request, fully_qualified_name))


def enable(server: grpc.aio.Server, service_names: Iterable[str]) -> None:
    """Serve reflection v1 and v1alpha on ``server`` for ``service_names`` (and for the
    reflection and health services themselves, which the caller lists)."""
    _register_v1_descriptor()
    names = [*service_names, V1_SERVICE, V1ALPHA_SERVICE]
    servicer = DocumentedReflectionServicer(names)
    # v1alpha: grpcio-reflection's own registration.
    reflection_pb2_grpc.add_ServerReflectionServicer_to_server(servicer, server)
    # v1: the same servicer behind the v1 method name.
    handler = grpc.stream_stream_rpc_method_handler(
        servicer.ServerReflectionInfo,
        request_deserializer=reflection_pb2.ServerReflectionRequest.FromString,
        response_serializer=reflection_pb2.ServerReflectionResponse.SerializeToString,
    )
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(V1_SERVICE, {_METHOD: handler}),))
