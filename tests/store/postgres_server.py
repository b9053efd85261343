"""A throwaway PostgreSQL server for tests: initdb in a temp dir, loopback TCP on a free
port, its unix socket in the same temp dir, no fsync. Started as an unprivileged user
when the tests run as root (PostgreSQL refuses to run as root).

Importable by other tests (e.g. the cluster test): ``with PostgresServer.start() as pg: pg.dsn``."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


def find_bindir() -> Path:
    if env := os.environ.get("PG_BINDIR"):
        return Path(env)
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                        key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    if candidates:
        return Path(candidates[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise PostgresUnavailable("PostgreSQL server binaries (initdb) not found; run scripts/system-deps.sh")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run_as() -> str | None:
    """The user to run the server as when we are root (None: ourselves)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise PostgresUnavailable("running as root and neither a 'postgres' nor a 'nobody' user exists")


@dataclass
class PostgresServer:
    bindir: Path
    root: Path
    port: int
    user: str | None

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def dsn(self) -> str:
        return self.dsn_for("postgres")

    def dsn_for(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    @asynccontextmanager
    async def database(self, prefix: str = "t") -> AsyncIterator[str]:
        """A fresh database for one test: yields its DSN, drops it afterwards."""
        name = f"{prefix}_{secrets.token_hex(6)}"
        admin = await asyncpg.connect(self.dsn)
        try:
            await admin.execute(f"CREATE DATABASE {name}")
        finally:
            await admin.close()
        try:
            yield self.dsn_for(name)
        finally:
            admin = await asyncpg.connect(self.dsn)
            try:
                await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            finally:
                await admin.close()

    def _cmd(self, *args: str) -> list[str]:
        return ["runuser", "-u", self.user, "--", *args] if self.user else list(args)

    @classmethod
    @contextmanager
    def start(cls) -> Iterator[PostgresServer]:
        bindir = find_bindir()
        user = _run_as()
        root = Path(tempfile.mkdtemp(prefix="docspasta-pg-"))
        try:
            if user:
                entry = pwd.getpwnam(user)
                os.chown(root, entry.pw_uid, entry.pw_gid)
            server = cls(bindir=bindir, root=root, port=0, user=user)
            subprocess.run(server._cmd(str(bindir / "initdb"), "-D", str(server.data), "-U", "postgres",
                                       "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"),
                           check=True, capture_output=True, timeout=120)
            for attempt in range(3):
                server.port = _free_port()
                options = (f"-p {server.port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
                           "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100 "
                           "-c shared_buffers=16MB")
                proc = subprocess.run(
                    server._cmd(str(bindir / "pg_ctl"), "-D", str(server.data), "-l", str(root / "log"),
                                "-w", "-t", "60", "-o", options, "start"),
                    capture_output=True, timeout=90)
                if proc.returncode == 0:
                    break
                if attempt == 2:
                    log = (root / "log").read_text(errors="replace") if (root / "log").exists() else ""
                    raise RuntimeError(f"PostgreSQL did not start: {proc.stderr.decode()}\n{log[-2000:]}")
            try:
                yield server
            finally:
                subprocess.run(server._cmd(str(bindir / "pg_ctl"), "-D", str(server.data), "-m", "immediate",
                                           "-w", "stop"), capture_output=True, timeout=60)
        finally:
            shutil.rmtree(root, ignore_errors=True)
