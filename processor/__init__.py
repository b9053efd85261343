"""The processor service: HTML to Markdown (main content only), and the page store."""

import docspasta  # noqa: F401 - sets gRPC's process environment before grpc is imported
