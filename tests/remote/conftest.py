"""The bridge fixtures (a real Redis and bridges on port 0) for `docspasta crawl --server`."""

from tests.bridge.conftest import http, make_bridge, redis_url

__all__ = ["http", "make_bridge", "redis_url"]
