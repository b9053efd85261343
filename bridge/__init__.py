"""The SSE bridge: HTTP API, Server-Sent Events buffered in Redis, and the web page."""
