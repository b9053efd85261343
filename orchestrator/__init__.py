"""The orchestrator service: runs crawl jobs (frontier, dedup, scope, bounded
concurrency) and streams one event per step."""
