"""The crawler service: fetches one URL and returns the page and its links. Stateless."""

import docspasta  # noqa: F401 - sets gRPC's process environment before grpc is imported
