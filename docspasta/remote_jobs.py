"""What ``docspasta crawl --server`` remembers of the job it started, so the same command
with ``--resume`` re-attaches to it after Ctrl-C or a lost connection: the server, the
job id and the job's token (the bridge answers a job only to its token). One small
file per command (server, URL and options) under the state directory, readable by the
user only (the token is a credential for that job); removed once the outputs are written."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from docspasta.v1 import orchestrator_pb2 as pb

REMOTE_DIR = "remote"


def record_key(server: str, url: str, options: pb.JobOptions) -> str:
    digest = hashlib.sha256(server.rstrip("/").encode() + b"\0" + url.encode() + b"\0" +
                            options.SerializeToString(deterministic=True))
    return digest.hexdigest()[:32]


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoteJob:
    server: str
    job_id: str
    token: str
    url: str  # the job's start URL as the server normalised it (the outputs' source URL)


@dataclass(frozen=True, slots=True)
class RemoteRecord:
    path: Path

    @classmethod
    def of(cls, state_dir: Path, server: str, url: str, options: pb.JobOptions) -> RemoteRecord:
        return cls(state_dir / REMOTE_DIR / f"{record_key(server, url, options)}.json")

    def load(self) -> RemoteJob | None:
        """The job an earlier run of this command started, if it left one (a record
        that does not parse is treated as none)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return RemoteJob(server=str(data["server"]), job_id=str(data["job_id"]), token=str(data["token"]),
                             url=str(data["url"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save(self, job: RemoteJob) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(asdict(job), out)
        os.replace(temp, self.path)

    def forget(self) -> None:
        self.path.unlink(missing_ok=True)
