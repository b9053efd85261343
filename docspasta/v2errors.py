"""Refusals of a ``docspasta.v2`` call, made by the one (v1) implementation.

A v2 servicer hands its call's context to the v1 servicer wrapped in a
:class:`V2Context`. Whatever the implementation refuses then leaves as a v2 error: the
same status code and ``ErrorInfo.reason`` (docs/contract.md), ``ErrorInfo.domain``
``docspasta.v2``, and the v2 name of a field v2 renamed (``options.timeout_seconds`` ->
``options.timeout``) in the status message, ``ErrorInfo.metadata["field"]`` and the
``BadRequest`` field violation. The v2 servicer's own checks go through the same wrapper.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NoReturn, cast

import grpc
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from docspasta.errors import DETAILS_METADATA_KEY

DOMAIN_V2 = "docspasta.v2"

Context = grpc.aio.ServicerContext[Any, Any]


class V2Context:
    """``context`` for the v1 implementation, refusing in v2's terms. ``fields`` maps a
    v1 field path to its v2 path, for the fields the service renamed."""

    def __init__(self, context: Context, *, fields: Mapping[str, str] | None = None) -> None:
        self._context = context
        self._fields = dict(fields or {})

    def __getattr__(self, name: str) -> Any:
        # time_remaining, cancelled, invocation_metadata, peer, ...: the call's own.
        return getattr(self._context, name)

    def as_context(self) -> Context:
        """This wrapper where a servicer context is expected (it is one, by delegation)."""
        return cast(Context, self)

    def field(self, path: str) -> str:
        return self._fields.get(path, path)

    def text(self, message: str) -> str:
        """A ``"field: description"`` message with the field's v2 name."""
        head, sep, tail = message.partition(": ")
        if sep and head in self._fields:
            return f"{self._fields[head]}{sep}{tail}"
        return message

    def rewrite(self, status: status_pb2.Status) -> status_pb2.Status:
        out = status_pb2.Status(code=status.code, message=self.text(status.message))
        for detail in status.details:
            info = error_details_pb2.ErrorInfo()
            bad = error_details_pb2.BadRequest()
            if detail.Is(info.DESCRIPTOR) and detail.Unpack(info):
                info.domain = DOMAIN_V2
                if "field" in info.metadata:
                    info.metadata["field"] = self.field(info.metadata["field"])
                out.details.add().Pack(info)
            elif detail.Is(bad.DESCRIPTOR) and detail.Unpack(bad):
                for violation in bad.field_violations:
                    violation.field = self.field(violation.field)
                    violation.description = self.text(violation.description)
                out.details.add().Pack(bad)
            else:
                out.details.add().CopyFrom(detail)
        return out

    async def abort_with_status(self, status: grpc.Status) -> NoReturn:
        details = _details(status.trailing_metadata)
        if details is None:
            await self._context.abort(status.code, self.text(status.details), status.trailing_metadata)
        else:
            await self._context.abort_with_status(  # type: ignore[attr-defined]
                rpc_status.to_status(self.rewrite(details)))
        raise AssertionError("abort returned")  # pragma: no cover - it always raises

    async def abort(self, code: grpc.StatusCode, details: str = "",
                    trailing_metadata: Sequence[tuple[str, str | bytes]] = ()) -> NoReturn:
        await self._context.abort(code, self.text(details), trailing_metadata)
        raise AssertionError("abort returned")  # pragma: no cover - it always raises


def _details(metadata: Sequence[tuple[str, str | bytes]] | None) -> status_pb2.Status | None:
    for key, value in metadata or ():
        if key == DETAILS_METADATA_KEY and isinstance(value, bytes):
            return status_pb2.Status.FromString(value)
    return None
