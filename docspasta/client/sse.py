"""An incremental text/event-stream parser (the WHATWG rules the bridge's stream
uses): bytes in, complete events out; a partial event waits for the rest."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SSEMessage:
    id: str | None
    event: str
    data: str


class SSEParser:
    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, chunk: bytes) -> list[SSEMessage]:
        self._buffer += chunk
        out: list[SSEMessage] = []
        while True:
            text = self._buffer.replace(b"\r\n", b"\n")
            end = text.find(b"\n\n")
            if end < 0:
                self._buffer = text
                return out
            block, self._buffer = text[:end].decode("utf-8"), text[end + 2:]
            message = _parse_block(block)
            if message is not None:
                out.append(message)


def _parse_block(block: str) -> SSEMessage | None:
    event_id: str | None = None
    event = "message"
    data: list[str] = []
    for line in block.split("\n"):
        if not line or line.startswith(":"):
            continue  # a comment (keep-alive)
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "id":
            event_id = value
        elif name == "event":
            event = value
        elif name == "data":
            data.append(value)
    if not data:
        return None
    return SSEMessage(id=event_id, event=event, data="\n".join(data))
