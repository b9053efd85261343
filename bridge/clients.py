"""gRPC channels to the orchestrators and the processor, one per target, shared by
every request of this process."""

from __future__ import annotations

import grpc

from docspasta.rpc import insecure_channel
from docspasta.v1 import orchestrator_pb2, orchestrator_pb2_grpc, processor_pb2, processor_pb2_grpc

ORCHESTRATOR_SERVICE = orchestrator_pb2.DESCRIPTOR.services_by_name["Orchestrator"].full_name
PROCESSOR_SERVICE = processor_pb2.DESCRIPTOR.services_by_name["Processor"].full_name


class Clients:
    def __init__(self, *, processor_target: str) -> None:
        self.processor_target = processor_target
        self._channels: dict[str, grpc.aio.Channel] = {}

    def _channel(self, target: str, service: str) -> grpc.aio.Channel:
        channel = self._channels.get(target)
        if channel is None:
            channel = insecure_channel(target, retry_services=[service])
            self._channels[target] = channel
        return channel

    def orchestrator(self, target: str) -> orchestrator_pb2_grpc.OrchestratorAsyncStub:
        return orchestrator_pb2_grpc.OrchestratorStub(
            self._channel(target, ORCHESTRATOR_SERVICE))

    def processor(self) -> processor_pb2_grpc.ProcessorAsyncStub:
        return processor_pb2_grpc.ProcessorStub(
            self._channel(self.processor_target, PROCESSOR_SERVICE))

    async def close(self) -> None:
        channels, self._channels = list(self._channels.values()), {}
        for channel in channels:
            await channel.close(None)
