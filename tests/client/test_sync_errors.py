"""The sync Client's handling of status codes, deadlines, error details and stream
resume, against a scripted synchronous servicer hosted by pytest-grpc's fixtures."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import grpc
import pytest

from docspasta import errors
from docspasta.client import CallTimeout, Client, ClientError, InvalidRequest, JobNotFound, Unavailable
from docspasta.v1 import orchestrator_pb2 as pb
from docspasta.v1 import orchestrator_pb2_grpc

# The slow call's length: far beyond the 0.5 s deadline, so a cut call is told from a
# finished one even when a loaded machine delays the client by seconds.
SLOW_SECONDS = 6.0
# pytest-grpc runs the servicer on this many threads (a slow call must not block the rest).
grpc_max_workers = 8
JOB = "0123456789abcdef0123456789abcdef"


class ScriptedOrchestrator(orchestrator_pb2_grpc.OrchestratorServicer):
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.start_request_ids: list[str] = []
        self.event_requests: list[int] = []
        self.get_calls: dict[str, int] = {}

    def _abort(self, context: grpc.ServicerContext, code: grpc.StatusCode, message: str, **kwargs: Any) -> None:
        context.abort_with_status(errors.to_grpc(errors.status(code, message, **kwargs)))

    def StartJob(self, request: pb.StartJobRequest, context: grpc.ServicerContext) -> pb.StartJobResponse:
        with self.lock:
            self.start_request_ids.append(request.request_id)
            first = len(self.start_request_ids) == 1
        if first:  # the first attempt meets a full replica
            self._abort(context, grpc.StatusCode.UNAVAILABLE, "shutting down", reason=errors.SHUTTING_DOWN,
                        retry_after=0.05)
        return pb.StartJobResponse(job_id=JOB, job=pb.Job(job_id=JOB, url=request.url,
                                                          state=pb.JOB_STATE_RUNNING))

    def GetJob(self, request: pb.GetJobRequest, context: grpc.ServicerContext) -> pb.Job:
        with self.lock:
            self.get_calls[request.job_id] = self.get_calls.get(request.job_id, 0) + 1
        if request.job_id == "missing":
            self._abort(context, grpc.StatusCode.NOT_FOUND, "no job 'missing'", reason=errors.JOB_NOT_FOUND,
                        metadata={"job_id": "missing"})
        if request.job_id == "slow":
            time.sleep(SLOW_SECONDS)
        if request.job_id == "denied":
            self._abort(context, grpc.StatusCode.PERMISSION_DENIED, "not yours", reason="DENIED")
        if request.job_id == "busy":
            self._abort(context, grpc.StatusCode.RESOURCE_EXHAUSTED, "too many jobs", reason=errors.TOO_MANY_JOBS,
                        retry_after=0.05)
        return pb.Job(job_id=request.job_id, state=pb.JOB_STATE_COMPLETED,
                      totals=pb.Totals(processed=3, token_estimate=1234))

    def CancelJob(self, request: pb.CancelJobRequest, context: grpc.ServicerContext) -> pb.Job:
        self._abort(context, grpc.StatusCode.INVALID_ARGUMENT, "job_id: not a job id", reason=errors.FIELD_INVALID,
                    violations=[("job_id", "not a job id")])
        raise AssertionError("unreachable")

    def JobEvents(self, request: pb.JobEventsRequest, context: grpc.ServicerContext) -> Iterator[pb.JobEvent]:
        with self.lock:
            self.event_requests.append(request.after_sequence)
            first = len(self.event_requests) == 1
        script = [pb.JobEvent(job_id=JOB, sequence=1, stream_connected=pb.StreamConnected(url="http://x/")),
                  pb.JobEvent(job_id=JOB, sequence=2, url_processed=pb.UrlProcessed(url="http://x/a", title="A")),
                  pb.JobEvent(job_id=JOB, sequence=3, url_processed=pb.UrlProcessed(url="http://x/b", title="B")),
                  pb.JobEvent(job_id=JOB, sequence=4, job_completed=pb.JobCompleted(totals=pb.Totals(processed=2)))]
        for event in script:
            if event.sequence <= request.after_sequence:
                continue
            if first and event.sequence == 3:  # the replica stops mid-stream
                self._abort(context, grpc.StatusCode.UNAVAILABLE, "draining", reason=errors.SHUTTING_DOWN,
                            retry_after=0.05)
            yield event


@pytest.fixture(scope="module")
def grpc_addr() -> str:
    # pytest-grpc's own grpc_addr leaves its probe socket open (a ResourceWarning here).
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture(scope="module")
def grpc_add_to_server() -> Any:
    return orchestrator_pb2_grpc.add_OrchestratorServicer_to_server


@pytest.fixture(scope="module")
def grpc_servicer() -> ScriptedOrchestrator:
    return ScriptedOrchestrator()


@pytest.fixture(scope="module")
def grpc_stub_cls() -> Any:
    return orchestrator_pb2_grpc.OrchestratorStub


@pytest.fixture
def client(grpc_server: grpc.Server, grpc_addr: str) -> Iterator[Client]:
    with Client(grpc_addr, timeout=10) as c:
        yield c


def test_start_retries_unavailable_with_one_request_id(client: Client, grpc_servicer: ScriptedOrchestrator) -> None:
    job = client.start("http://x/")
    assert job.job_id == JOB and job.state == "running"
    ids = grpc_servicer.start_request_ids
    assert len(ids) == 2 and ids[0] == ids[1] and ids[0], "a retry must reuse the request id"


def test_not_found_carries_error_info(client: Client) -> None:
    with pytest.raises(JobNotFound) as info:
        client.get("missing")
    assert info.value.code == "not_found" and info.value.reason == errors.JOB_NOT_FOUND
    assert info.value.metadata == {"job_id": "missing"}


def test_invalid_argument_names_the_field(client: Client) -> None:
    with pytest.raises(InvalidRequest) as info:
        client.cancel("whatever")
    assert info.value.field == "job_id" and info.value.violations == [("job_id", "not a job id")]


def test_deadline_is_enforced(client: Client, grpc_servicer: ScriptedOrchestrator) -> None:
    began = time.monotonic()
    with pytest.raises(CallTimeout) as info:
        client.get("slow", timeout=0.5)
    assert info.value.code == "deadline_exceeded"
    assert time.monotonic() - began < SLOW_SECONDS - 1, "the deadline did not cut the call"
    assert grpc_servicer.get_calls["slow"] == 1, "a timed-out call was retried"


def test_permanent_errors_are_not_retried(client: Client, grpc_servicer: ScriptedOrchestrator) -> None:
    with pytest.raises(ClientError) as info:
        client.get("denied")
    assert info.value.code == "permission_denied" and not isinstance(info.value, Unavailable)
    assert grpc_servicer.get_calls["denied"] == 1


def test_retry_info_is_honoured_until_the_budget_is_spent(client: Client,
                                                         grpc_servicer: ScriptedOrchestrator) -> None:
    with pytest.raises(ClientError) as info:
        client.get("busy", timeout=3)
    assert info.value.code == "resource_exhausted" and info.value.retry_after == pytest.approx(0.05)
    assert grpc_servicer.get_calls["busy"] >= 2, "RESOURCE_EXHAUSTED with RetryInfo was not retried"


def test_event_stream_resumes_after_unavailable(client: Client, grpc_servicer: ScriptedOrchestrator) -> None:
    events = list(client.events(JOB))
    assert [e.sequence for e in events] == [1, 2, 3, 4]
    assert [e.type for e in events][-1] == "job_completed" and events[1].data["title"] == "A"
    assert grpc_servicer.event_requests == [0, 2], "the reconnect did not resume after the last event"
