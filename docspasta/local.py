"""The whole pipeline on this machine: crawler, processor and orchestrator as real gRPC
servers on loopback ports, in this process (conversion in worker processes)."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field, replace
from types import TracebackType

import grpc

from crawler.server import create_server as create_crawler
from crawler.settings import CrawlerSettings
from docspasta.rpc import ServiceHost, insecure_channel
from docspasta.v1 import orchestrator_pb2_grpc, processor_pb2_grpc
from orchestrator.server import create_server as create_orchestrator
from orchestrator.settings import OrchestratorSettings
from processor.server import create_server as create_processor
from processor.settings import ProcessorSettings

LOOPBACK = "127.0.0.1:0"


@dataclass(kw_only=True)
class LocalStack:
    crawler: CrawlerSettings = field(default_factory=CrawlerSettings)
    processor: ProcessorSettings = field(default_factory=ProcessorSettings)
    orchestrator: OrchestratorSettings = field(default_factory=OrchestratorSettings)
    # None: a temporary SQLite file removed on exit.
    database_url: str | None = None
    hosts: list[ServiceHost] = field(default_factory=list)
    orchestrator_target: str = ""
    processor_target: str = ""
    _tmpdir: tempfile.TemporaryDirectory[str] | None = None
    _channels: list[grpc.aio.Channel] = field(default_factory=list)

    async def __aenter__(self) -> LocalStack:
        database_url = self.database_url
        if database_url is None:
            self._tmpdir = tempfile.TemporaryDirectory(prefix="docspasta-")
            database_url = "sqlite:///" + os.path.join(self._tmpdir.name, "pages.db")
        try:
            crawler, crawler_port = await create_crawler(replace(self.crawler, bind=LOOPBACK))
            self.hosts.append(crawler)
            processor, processor_port = await create_processor(
                replace(self.processor, bind=LOOPBACK, database_url=database_url))
            self.hosts.append(processor)
            self.processor_target = f"127.0.0.1:{processor_port}"
            orchestrator, orchestrator_port = await create_orchestrator(replace(
                self.orchestrator, bind=LOOPBACK, crawler_target=f"127.0.0.1:{crawler_port}",
                processor_target=self.processor_target))
            self.hosts.append(orchestrator)
            self.orchestrator_target = f"127.0.0.1:{orchestrator_port}"
        except BaseException:
            await self.close()
            raise
        return self

    def orchestrator_stub(self) -> orchestrator_pb2_grpc.OrchestratorAsyncStub:
        channel = insecure_channel(self.orchestrator_target)
        self._channels.append(channel)
        return orchestrator_pb2_grpc.OrchestratorStub(channel)

    def processor_stub(self) -> processor_pb2_grpc.ProcessorAsyncStub:
        channel = insecure_channel(self.processor_target)
        self._channels.append(channel)
        return processor_pb2_grpc.ProcessorStub(channel)

    async def close(self) -> None:
        for channel in self._channels:
            await channel.close(None)
        self._channels.clear()
        # Orchestrator first, so its jobs end before their backends go away.
        for host in reversed(self.hosts):
            await host.stop(grace=1.0)
        self.hosts.clear()
        if self._tmpdir is not None:
            self._tmpdir.cleanup()
            self._tmpdir = None

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()
