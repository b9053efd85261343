"""One crawler, one processor and any number of orchestrators (real in-process gRPC
servers on port 0) sharing one job store, SQLite or PostgreSQL: enough to run jobs
with webhooks, restart the orchestrator, and read what was delivered."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import grpc

from docspasta.rpc import ServiceHost, insecure_channel, stop_all
from docspasta.v1 import orchestrator_pb2 as pb, orchestrator_pb2_grpc
from orchestrator.settings import OrchestratorSettings
from orchestrator.webhooks.settings import WebhookSettings
from processor.settings import ProcessorSettings
from tests.conftest import local_crawler_settings

DEADLINE = 120.0
# The receivers are local servers: the deployment allows private networks, any port.
LOCAL_WEBHOOKS = WebhookSettings(allow_private_network=True, allowed_ports=None, poll_seconds=0.05,
                                 retry_base_seconds=0.05, retry_max_seconds=0.5, timeout_seconds=5.0)


@dataclass
class Pipeline:
    tmp: Path
    jobs_url: str
    crawler_target: str = ""
    processor_target: str = ""
    hosts: list[ServiceHost] = field(default_factory=list)
    channels: list[grpc.aio.Channel] = field(default_factory=list)

    async def start(self) -> Pipeline:
        from crawler.server import create_server as create_crawler
        from processor.server import create_server as create_processor

        crawler, port = await create_crawler(replace(local_crawler_settings(), bind="127.0.0.1:0"))
        self.hosts.append(crawler)
        self.crawler_target = f"127.0.0.1:{port}"
        processor, port = await create_processor(replace(ProcessorSettings(), bind="127.0.0.1:0", workers=1,
                                                         database_url=f"sqlite:///{self.tmp / 'pages.db'}"))
        self.hosts.append(processor)
        self.processor_target = f"127.0.0.1:{port}"
        return self

    async def orchestrator(self, *, webhooks: WebhookSettings = LOCAL_WEBHOOKS, **overrides: Any,
                           ) -> tuple[ServiceHost, orchestrator_pb2_grpc.OrchestratorAsyncStub]:
        from orchestrator.server import create_server

        settings = replace(OrchestratorSettings(), bind="127.0.0.1:0", instance_id="wh",
                           crawler_target=self.crawler_target, processor_target=self.processor_target,
                           database_url=self.jobs_url, webhooks=webhooks,
                           **{"reconcile_seconds": 0.1, "lease_renew_seconds": 0.5, "lease_seconds": 5.0,
                              **overrides})
        host, port = await create_server(settings)
        self.hosts.append(host)
        channel = insecure_channel(f"127.0.0.1:{port}")
        self.channels.append(channel)
        return host, orchestrator_pb2_grpc.OrchestratorStub(channel)

    async def stop(self, host: ServiceHost) -> None:
        """The graceful stop SIGTERM gives."""
        await host.stop(grace=5.0)
        self.hosts.remove(host)

    async def close(self) -> None:
        for channel in self.channels:
            await channel.close(None)
        await stop_all(reversed(self.hosts), grace=1.0)


async def run_to_end(stub: orchestrator_pb2_grpc.OrchestratorAsyncStub, job_id: str) -> list[pb.JobEvent]:
    return [e async for e in stub.JobEvents(pb.JobEventsRequest(job_id=job_id), timeout=DEADLINE)]
