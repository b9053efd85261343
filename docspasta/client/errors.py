"""What a failed client call raises: one exception type with the server's reason, so
callers switch on ``code`` / ``reason`` instead of parsing messages."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass(kw_only=True, eq=False)
class ClientError(Exception):
    """A call the server refused or could not answer.

    ``code`` is the canonical status name in lower case (``not_found``,
    ``invalid_argument``, ``unavailable``, ``deadline_exceeded``, ``resource_exhausted``,
    ``out_of_range``...; from the bridge its error code); ``reason`` the
    ``ErrorInfo.reason`` (gRPC); ``field`` the bad request field; ``retry_after`` the
    server's hint in seconds; ``status`` the HTTP status (bridge)."""

    code: str
    message: str
    reason: str = ""
    field: str = ""
    violations: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    metadata: dict[str, str] = dataclasses.field(default_factory=dict)
    retry_after: float | None = None
    status: int = 0

    def __post_init__(self) -> None:
        super().__init__(f"{self.code}: {self.message}")

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class JobNotFound(ClientError):
    """No such job, or (bridge) not with this token."""


class InvalidRequest(ClientError):
    """A bad argument; ``field`` names it."""


class Unavailable(ClientError):
    """The server could not take the call now (down, draining, full); retries ran out."""


class CallTimeout(ClientError, TimeoutError):
    """The call's deadline passed."""
