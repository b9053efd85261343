"""gRPC channels to the orchestrators and the processor, one per target, shared by
every request of this process, and the routing of a job's calls to the orchestrator
replica that runs it.

Job ids start with the issuing orchestrator's ``ORCHESTRATOR_INSTANCE_ID``
(``<instance>-<16 hex>``, see orchestrator/jobs.py). StartJob goes to
``ORCHESTRATOR_TARGET`` (any replica, possibly a balanced target); every later call
for a job (JobEvents, GetJob, CancelJob) goes to the replica its id names: the
target listed for that instance in ``ORCHESTRATOR_INSTANCES``, else
``ORCHESTRATOR_TARGET_TEMPLATE`` with ``{instance}`` filled in, else (no routing
configured) the target the job was started through. Every replica serves every job
(the job store is shared), so when that replica does not answer the call goes to
``ORCHESTRATOR_TARGET`` (``job_targets``): the prefix saves a hop, it is not needed
for correctness."""

from __future__ import annotations

import re
from collections.abc import Iterable

import grpc

from docspasta.rpc import service_channel
from docspasta.service_auth import ServiceAuth
from docspasta.v1 import orchestrator_pb2, orchestrator_pb2_grpc, processor_pb2, processor_pb2_grpc

ORCHESTRATOR_SERVICE = orchestrator_pb2.DESCRIPTOR.services_by_name["Orchestrator"].full_name
PROCESSOR_SERVICE = processor_pb2.DESCRIPTOR.services_by_name["Processor"].full_name
# <instance>-<token>: the instance is everything before the last '-' (instance ids such
# as StatefulSet pod names contain '-' themselves).
_JOB_ID = re.compile(r"^(?P<instance>[A-Za-z0-9_.:-]+)-[0-9a-f]{8,}$")
# What an instance id may put into a DNS name or host:port target.
_SAFE_INSTANCE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,62})$")


def job_instance(job_id: str) -> str | None:
    """The orchestrator instance id a job id starts with, or None."""
    match = _JOB_ID.match(job_id)
    return match.group("instance") if match else None


class Clients:
    def __init__(self, *, processor_target: str, orchestrator_target: str = "",
                 orchestrator_target_template: str = "",
                 orchestrator_instances: Iterable[tuple[str, str]] = (), auth: ServiceAuth | None = None) -> None:
        self._auth = auth
        self.processor_target = processor_target
        self.orchestrator_target = orchestrator_target
        self.template = orchestrator_target_template
        self.instances = dict(orchestrator_instances)
        self._channels: dict[str, grpc.aio.Channel] = {}

    @property
    def routed(self) -> bool:
        return bool(self.template or self.instances)

    def orchestrator_target_for(self, job_id: str, started_through: str = "") -> str:
        """The target of the orchestrator replica that runs ``job_id``."""
        fallback = started_through or self.orchestrator_target
        instance = job_instance(job_id)
        if instance is None:
            return fallback
        if instance in self.instances:
            return self.instances[instance]
        if self.template and _SAFE_INSTANCE.match(instance):
            return self.template.replace("{instance}", instance)
        return fallback

    def job_targets(self, job_id: str, started_through: str = "") -> list[str]:
        """Where to call for ``job_id``, in order: the replica its id names, then any replica."""
        first = self.orchestrator_target_for(job_id, started_through)
        return list(dict.fromkeys([first, self.orchestrator_target or first]))

    def _channel(self, target: str, service: str) -> grpc.aio.Channel:
        channel = self._channels.get(target)
        if channel is None:
            channel = service_channel(target, auth=self._auth, retry_services=[service])
            self._channels[target] = channel
        return channel

    def orchestrator(self, target: str) -> orchestrator_pb2_grpc.OrchestratorAsyncStub:
        return orchestrator_pb2_grpc.OrchestratorStub(
            self._channel(target, ORCHESTRATOR_SERVICE))

    def orchestrator_for(self, job_id: str, started_through: str = "") -> orchestrator_pb2_grpc.OrchestratorAsyncStub:
        """A stub on the replica that runs ``job_id`` (channels cached per target)."""
        return self.orchestrator(self.orchestrator_target_for(job_id, started_through))

    def processor(self) -> processor_pb2_grpc.ProcessorAsyncStub:
        return processor_pb2_grpc.ProcessorStub(
            self._channel(self.processor_target, PROCESSOR_SERVICE))

    async def close(self) -> None:
        channels, self._channels = list(self._channels.values()), {}
        for channel in channels:
            await channel.close(None)
