"""The orchestrator service: runs crawl jobs (frontier, dedup, scope, bounded
concurrency) and streams one event per step."""

import docspasta  # noqa: F401 - sets gRPC's process environment before grpc is imported
