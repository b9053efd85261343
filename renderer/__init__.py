"""The renderer service: renders one page in headless Chromium (Playwright) under the
crawler's network policy, and answers with the page's DOM and links. Stateless."""

import docspasta  # noqa: F401 - sets gRPC's process environment before grpc is imported
