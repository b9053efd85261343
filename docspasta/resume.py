"""Where ``docspasta crawl`` keeps a crawl's state so an interrupted crawl can be
continued with ``--resume``: one directory per command (URL and options), under the
state directory (``$XDG_STATE_HOME/docspasta``, by default ``~/.local/state/docspasta``),
holding the page store and the job store.

The job's request id is derived from the URL and options, so the same command finds
the same job again; the directory is removed once a crawl ended and its outputs were
written, and a run without ``--resume`` starts over."""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

from docspasta.v1 import orchestrator_pb2 as pb

CRAWLS_DIR = "crawls"


def default_state_dir(*, xdg_state_home: str = "", home: str = "") -> Path:
    base = Path(xdg_state_home) if xdg_state_home else Path(home or Path.home()) / ".local" / "state"
    return base / "docspasta"


def crawl_key(url: str, options: pb.JobOptions) -> str:
    digest = hashlib.sha256(url.encode() + b"\0" + options.SerializeToString(deterministic=True))
    return digest.hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class CrawlState:
    directory: Path
    request_id: str
    # True when an earlier, interrupted run of the same command left its state here.
    resumable: bool

    @property
    def pages_url(self) -> str:
        return f"sqlite:///{self.directory / 'pages.db'}"

    @property
    def jobs_url(self) -> str:
        return f"sqlite:///{self.directory / 'jobs.db'}"

    def forget(self) -> None:
        """The crawl ended and its outputs are written: nothing is left to resume."""
        shutil.rmtree(self.directory, ignore_errors=True)


def prepare(state_dir: Path, url: str, options: pb.JobOptions, *, resume: bool) -> CrawlState:
    """The state of this command's crawl: kept for ``--resume``, cleared otherwise."""
    key = crawl_key(url, options)
    directory = state_dir / CRAWLS_DIR / key
    resumable = (directory / "jobs.db").exists()
    if resumable and not resume:
        shutil.rmtree(directory)  # a new run of the same command starts over
        resumable = False
    directory.mkdir(parents=True, exist_ok=True)
    return CrawlState(directory=directory, request_id=f"cli-{key}", resumable=resumable)
