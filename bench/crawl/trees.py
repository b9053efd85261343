"""What the bench/crawl scripts share: a free loopback port, and the interpreter of a
checkout under test (its own .venv, else this one's: a `git archive` of another commit)."""

from __future__ import annotations

import socket
import sys
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tree_python(tree: Path) -> Path:
    python = tree / ".venv" / "bin" / "python"
    return python if python.exists() else Path(sys.executable)
