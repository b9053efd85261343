"""What the bench/crawl scripts share: a free loopback port, the interpreter of a
checkout under test (its own .venv, else this one's: a `git archive` of another commit),
and the command line of the one-service benches (crawler_cpu.py, processor_cpu.py)."""

from __future__ import annotations

import argparse
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


def tree_arguments(doc: str | None) -> argparse.ArgumentParser:
    """A site folder, the trees to compare, rounds, concurrency and a page limit."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("site", type=Path)
    ap.add_argument("--tree", action="append", default=[], help="NAME=PATH of a checkout with its .venv")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--limit", type=int, default=0, help="at most this many pages")
    return ap
