"""The SSE bridge: HTTP API, Server-Sent Events buffered in Redis, and the web page."""

import docspasta  # noqa: F401 - sets gRPC's process environment before grpc is imported
