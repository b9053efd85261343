"""Service-to-service authentication, for deployments that want more than the
NetworkPolicy (docs/operations.md, "Service authentication"). Off by default, and off in
the embedded stack (`docspasta crawl` / `serve`, unix sockets on one machine).

Two independent mechanisms, both configured the same way in every service:

* a shared token (``SERVICE_TOKEN``): every call carries ``authorization: Bearer <token>``
  in its metadata, and every server refuses calls without it (UNAUTHENTICATED). The
  standard health service stays open, so kubelet probes and balancers keep working;
* TLS (``GRPC_TLS_CERT`` + ``GRPC_TLS_KEY``, and ``GRPC_TLS_CA``): servers listen with
  TLS; with a CA they also require a client certificate signed by it (mTLS), and clients
  verify the server against it and present their own certificate."""

from __future__ import annotations

import hmac
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import grpc

from docspasta.settings import SettingsError, env_str

TOKEN_KEY = "authorization"
# Open to every caller: probes and client-side health checking carry no token.
OPEN_SERVICES = ("grpc.health.v1.Health",)


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceAuth:
    token: str = ""
    tls_cert_file: str = ""
    tls_key_file: str = ""
    tls_ca_file: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> ServiceAuth:
        auth = cls(token=env_str(env, "SERVICE_TOKEN", ""), tls_cert_file=env_str(env, "GRPC_TLS_CERT", ""),
                   tls_key_file=env_str(env, "GRPC_TLS_KEY", ""), tls_ca_file=env_str(env, "GRPC_TLS_CA", ""))
        if auth.token and (len(auth.token) < 16 or any(c.isspace() for c in auth.token)):
            raise SettingsError("SERVICE_TOKEN must be at least 16 characters without spaces")
        if bool(auth.tls_cert_file) != bool(auth.tls_key_file):
            raise SettingsError("GRPC_TLS_CERT and GRPC_TLS_KEY go together")
        for name, path in (("GRPC_TLS_CERT", auth.tls_cert_file), ("GRPC_TLS_KEY", auth.tls_key_file),
                           ("GRPC_TLS_CA", auth.tls_ca_file)):
            if path and not os.path.isfile(path):
                raise SettingsError(f"{name}: no such file {path!r}")
        return auth

    @property
    def tls(self) -> bool:
        return bool(self.tls_cert_file or self.tls_ca_file)

    def _read(self, path: str) -> bytes | None:
        if not path:
            return None
        with open(path, "rb") as f:
            return f.read()

    def server_credentials(self) -> grpc.ServerCredentials:
        key, cert = self._read(self.tls_key_file), self._read(self.tls_cert_file)
        if key is None or cert is None:
            raise SettingsError("a TLS server needs GRPC_TLS_CERT and GRPC_TLS_KEY")
        ca = self._read(self.tls_ca_file)
        return grpc.ssl_server_credentials([(key, cert)], root_certificates=ca, require_client_auth=ca is not None)

    def channel_credentials(self) -> grpc.ChannelCredentials:
        return grpc.ssl_channel_credentials(root_certificates=self._read(self.tls_ca_file),
                                            private_key=self._read(self.tls_key_file),
                                            certificate_chain=self._read(self.tls_cert_file))


class TokenServerInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """Refuses every call without the shared token (except the open services)."""

    def __init__(self, token: str) -> None:
        self._expected = f"Bearer {token}".encode()

        async def refuse(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> None:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "this service needs the shared service token")

        self._refusal = grpc.unary_unary_rpc_method_handler(refuse)

    async def intercept_service(self, continuation: Callable[[Any], Awaitable[Any]],
                                handler_call_details: Any) -> Any:
        method = handler_call_details.method or ""
        if method.lstrip("/").startswith(OPEN_SERVICES):
            return await continuation(handler_call_details)
        for key, value in handler_call_details.invocation_metadata or ():
            if key == TOKEN_KEY:
                given = value.encode() if isinstance(value, str) else value
                if hmac.compare_digest(given, self._expected):
                    return await continuation(handler_call_details)
                break
        handler = await continuation(handler_call_details)
        if handler is None:
            return self._refusal
        # Answer with the refusal in the method's own shape (unary or streaming).
        return _refusing_like(handler)


def _refusing_like(handler: Any) -> Any:
    message = "this service needs the shared service token"

    async def unary(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> None:
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, message)

    async def stream(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, message)
        yield  # pragma: no cover - an async generator, as streaming handlers are

    kwargs = {"request_deserializer": handler.request_deserializer,
              "response_serializer": handler.response_serializer}
    if handler.request_streaming and handler.response_streaming:
        return grpc.stream_stream_rpc_method_handler(stream, **kwargs)
    if handler.request_streaming:
        return grpc.stream_unary_rpc_method_handler(unary, **kwargs)
    if handler.response_streaming:
        return grpc.unary_stream_rpc_method_handler(stream, **kwargs)
    return grpc.unary_unary_rpc_method_handler(unary, **kwargs)


class _TokenMetadata:
    """Adds the shared token to every call's metadata."""

    def __init__(self, token: str) -> None:
        self._pair = (TOKEN_KEY, f"Bearer {token}")

    def _details(self, details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
        metadata = grpc.aio.Metadata(*(details.metadata or ()), self._pair)
        return grpc.aio.ClientCallDetails(method=details.method, timeout=details.timeout, metadata=metadata,
                                          credentials=details.credentials, wait_for_ready=details.wait_for_ready)


# grpc.aio files an interceptor under its first matching kind only: one class per kind.
class _TokenUnaryUnary(_TokenMetadata, grpc.aio.UnaryUnaryClientInterceptor):  # type: ignore[type-arg]
    async def intercept_unary_unary(self, continuation: Any, client_call_details: grpc.aio.ClientCallDetails,
                                    request: Any) -> Any:
        return await continuation(self._details(client_call_details), request)


class _TokenUnaryStream(_TokenMetadata, grpc.aio.UnaryStreamClientInterceptor):  # type: ignore[type-arg]
    async def intercept_unary_stream(self, continuation: Any, client_call_details: grpc.aio.ClientCallDetails,
                                     request: Any) -> Any:
        return await continuation(self._details(client_call_details), request)


class _TokenStreamStream(_TokenMetadata, grpc.aio.StreamStreamClientInterceptor):  # type: ignore[type-arg]
    # The orchestrator's CrawlStream / ProcessStream calls (docspasta/call_streams.py).
    async def intercept_stream_stream(self, continuation: Any, client_call_details: grpc.aio.ClientCallDetails,
                                      request_iterator: Any) -> Any:
        return await continuation(self._details(client_call_details), request_iterator)


def client_interceptors(auth: ServiceAuth | None) -> list[Any]:
    if auth is None or not auth.token:
        return []
    return [_TokenUnaryUnary(auth.token), _TokenUnaryStream(auth.token), _TokenStreamStream(auth.token)]


def server_interceptors(auth: ServiceAuth | None) -> list[Any]:
    return [TokenServerInterceptor(auth.token)] if auth is not None and auth.token else []
