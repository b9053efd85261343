"""A Docspasta cluster as separate processes on loopback: ``python -m crawler`` etc.
with env settings, each waited for until its gRPC health says SERVING; bridges as
``python -m bridge`` (tests/bridge/procs.py). Logs go to files in a temp dir.

The orchestrators keep their jobs in PostgreSQL (``DATABASE_URL``, the same database
as the processors' pages), so any replica answers any job: the bridges reach them
through one round-robin target, with no routing by job id."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client.parser import text_string_to_metric_families

from tests.bridge.procs import BridgeProcess

ROOT = Path(__file__).resolve().parents[2]
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ipv4_list(targets: Sequence[str]) -> str:
    """A balanced gRPC target over several loopback replicas (round_robin, docspasta/rpc.py)."""
    return "ipv4:" + ",".join(targets)


@dataclass
class Service:
    """One gRPC service process (kind: crawler, processor or orchestrator)."""

    kind: str
    name: str
    env: dict[str, str]
    logdir: Path
    port: int = field(default_factory=free_port)
    proc: asyncio.subprocess.Process | None = None
    _log: IO[bytes] | None = None

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.logdir / f"{self.name}.log"

    async def restart(self) -> Service:
        """Starts the service again on the same port (after it exited) and waits until
        it is SERVING."""
        assert self.proc is None or self.proc.returncode is not None, f"{self.name} is still running"
        await self.start()
        await self.wait_serving()
        return self

    async def start(self) -> Service:
        bind = {"crawler": "CRAWLER_BIND", "processor": "PROCESSOR_BIND", "orchestrator": "ORCHESTRATOR_BIND"}
        env = {**os.environ, "PYTHONPATH": str(ROOT), "LOG_LEVEL": "info", bind[self.kind]: self.target, **self.env}
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in wait()
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", self.kind, cwd=str(ROOT), env=env, stdin=asyncio.subprocess.DEVNULL,
            stdout=self._log, stderr=self._log, start_new_session=True)
        return self

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    async def wait_serving(self, timeout: float = 90.0) -> None:
        async with grpc.aio.insecure_channel(self.target) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            deadline = time.monotonic() + timeout
            while True:
                assert self.proc is not None
                if self.proc.returncode is not None:
                    raise RuntimeError(f"{self.name} exited ({self.proc.returncode}):\n{self.log_tail()}")
                try:
                    reply = await stub.Check(health_pb2.HealthCheckRequest(), timeout=2)
                    if reply.status == SERVING:
                        return
                except grpc.aio.AioRpcError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.name} not SERVING after {timeout:g} s:\n{self.log_tail()}")
                await asyncio.sleep(0.2)

    def signal(self, sig: signal.Signals) -> None:
        """SIGTERM goes to the service; SIGKILL to its whole process group (its
        conversion workers too), as when a container dies."""
        assert self.proc is not None
        if sig == signal.SIGKILL:
            self.kill_group()
        else:
            self.proc.send_signal(sig)

    def kill_group(self) -> None:
        assert self.proc is not None
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    async def wait(self, timeout: float = 30.0) -> int:
        assert self.proc is not None
        try:
            async with asyncio.timeout(timeout):
                code = await self.proc.wait()
        finally:
            if self.proc.returncode is not None and self._log is not None:
                self._log.close()
                self._log = None
        return code

    async def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await self.wait(20)
            except TimeoutError:
                self.kill_group()
                await self.wait(10)
        if self._log is not None:
            self._log.close()
            self._log = None


class HealthWatch:
    """Follows one server's overall health with the standard Watch stream, recording
    every status it reports (a status that arrives was sent by a live process)."""

    def __init__(self, target: str) -> None:
        self.channel = grpc.aio.insecure_channel(target)
        self.statuses: list[tuple[float, int]] = []
        self.ended: str = ""
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        stub = health_pb2_grpc.HealthStub(self.channel)
        try:
            async for reply in stub.Watch(health_pb2.HealthCheckRequest()):
                self.statuses.append((time.monotonic(), reply.status))
        except grpc.aio.AioRpcError as exc:
            self.ended = exc.code().name

    async def wait_for(self, status: int, timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            while not any(s == status for _, s in self.statuses):
                await asyncio.sleep(0.05)

    def first(self, status: int) -> float | None:
        return next((t for t, s in self.statuses if s == status), None)

    async def close(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        await self.channel.close(None)


def crawl_calls(metrics_text: str) -> int:
    """Crawl RPCs a crawler served, from its Prometheus endpoint."""
    total = 0.0
    for family in text_string_to_metric_families(metrics_text):
        if family.name != "docspasta_rpc_seconds":
            continue
        for sample in family.samples:
            if sample.name.endswith("_count") and sample.labels.get("method") == "Crawl":
                total += sample.value
    return int(total)


@dataclass
class Cluster:
    """2 crawlers, 2 processors and 2 orchestrators (orch-a, orch-b) on one PostgreSQL,
    and 2 bridges (bridge-a, bridge-b) sharing one Redis."""

    logdir: Path
    database_url: str
    redis_url: str
    bridge_env: dict[str, Any] = field(default_factory=dict)
    orchestrator_env: dict[str, Any] = field(default_factory=dict)
    crawlers: list[Service] = field(default_factory=list)
    processors: list[Service] = field(default_factory=list)
    orchestrators: list[Service] = field(default_factory=list)
    bridges: list[BridgeProcess] = field(default_factory=list)
    metrics_ports: dict[str, int] = field(default_factory=dict)

    @property
    def services(self) -> list[Service]:
        return [*self.crawlers, *self.processors, *self.orchestrators]

    async def start(self) -> Cluster:
        for i in (1, 2):
            port = free_port()
            self.metrics_ports[f"crawler-{i}"] = port
            self.crawlers.append(Service("crawler", f"crawler-{i}", {
                "CRAWLER_ALLOW_PRIVATE_NETWORK": "true", "CRAWLER_ALLOWED_PORTS": "*",
                "CRAWLER_METRICS_PORT": str(port)}, self.logdir))
            self.processors.append(Service("processor", f"processor-{i}", {
                "DATABASE_URL": self.database_url, "PROCESSOR_WORKERS": "1"}, self.logdir))
        crawler_target = ipv4_list([c.target for c in self.crawlers])
        processor_target = ipv4_list([p.target for p in self.processors])
        for name in ("orch-a", "orch-b"):
            self.orchestrators.append(Service("orchestrator", name, {
                "ORCHESTRATOR_INSTANCE_ID": name, "CRAWLER_TARGET": crawler_target,
                "PROCESSOR_TARGET": processor_target, "DATABASE_URL": self.database_url,
                **{k: str(v) for k, v in self.orchestrator_env.items()}}, self.logdir))
        await asyncio.gather(*(s.start() for s in self.services))
        await asyncio.gather(*(s.wait_serving() for s in self.services))
        # One balanced target for every call: any orchestrator answers any job.
        common = {"REDIS_URL": self.redis_url, "ORCHESTRATOR_TARGET": ipv4_list([o.target for o in self.orchestrators]),
                  "PROCESSOR_TARGET": processor_target, "BRIDGE_ALLOW_PRIVATE_NETWORK": "true",
                  "BRIDGE_LEASE_SECONDS": "1.5", "BRIDGE_RATE_LIMIT_BURST": "100", "LOG_LEVEL": "info",
                  **{k: str(v) for k, v in self.bridge_env.items()}}
        self.bridges = [BridgeProcess({**common, "BRIDGE_INSTANCE_ID": f"bridge-{x}"}) for x in "ab"]
        await asyncio.gather(*(b.start() for b in self.bridges))
        return self

    def orchestrator_named(self, owner: str) -> Service | None:
        """The orchestrator a lease owner names: its instance id, then the process
        (``orch-a-<pid>-<random>``)."""
        return next((o for o in self.orchestrators if owner == o.name or owner.startswith(o.name + "-")), None)

    def other(self, orchestrator: Service) -> Service:
        return next(o for o in self.orchestrators if o is not orchestrator)

    async def stop(self) -> None:
        await asyncio.gather(*(b.stop() for b in self.bridges), return_exceptions=True)
        # Orchestrators first, so their jobs end before the backends go.
        await asyncio.gather(*(o.stop() for o in self.orchestrators), return_exceptions=True)
        await asyncio.gather(*(s.stop() for s in [*self.crawlers, *self.processors]), return_exceptions=True)
