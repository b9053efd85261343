"""Server interceptors' wrapped method handlers, built once per method handler.

grpc.aio runs every server interceptor on every call to find the call's handler. A
method's handler (from the generated servicer registration) is the same object on each
call, so the wrapper an interceptor builds around it can be too: building the closures
and ``handler._replace`` per call cost ~20 µs a call per interceptor (bench: a unary
call's server CPU 200-236 µs through ServiceHost, 170-175 µs without its interceptors)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# Handlers kept per interceptor. The services have a handful of methods; a handler made
# per call (an auth refusal) is wrapped per call once the cache is full.
MAX_HANDLERS = 64


class WrappedHandlers:
    """``wrap(handler, method)`` once per (handler, method): one handler object may
    serve several methods (an auth refusal), and a wrapper may name its method."""

    def __init__(self, wrap: Callable[[Any, Any], Any]) -> None:
        self._wrap = wrap
        # (id(handler), method) -> (handler, its wrapper); the handler is kept so its id
        # is not reused by another object.
        self._wrapped: dict[tuple[int, Any], tuple[Any, Any]] = {}

    def get(self, handler: Any, method: Any) -> Any:
        key = (id(handler), method)
        cached = self._wrapped.get(key)
        if cached is not None and cached[0] is handler:
            return cached[1]
        wrapped = self._wrap(handler, method)
        if len(self._wrapped) < MAX_HANDLERS:
            self._wrapped[key] = (handler, wrapped)
        return wrapped
