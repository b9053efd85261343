"""Service-to-service authentication (docspasta/service_auth.py): the internal gRPC
services accept any caller unless a deployment turns on the shared token or mTLS;
then a caller without it is refused, and the pipeline still works for callers with it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from crawler.server import create_server as create_crawler
from crawler.settings import CrawlerSettings
from docspasta.local import LocalStack
from docspasta.rpc import insecure_channel, service_channel
from docspasta.service_auth import ServiceAuth
from docspasta.settings import SettingsError
from docspasta.v1 import crawler_pb2, crawler_pb2_grpc, orchestrator_pb2 as pb, orchestrator_pb2_grpc
from docspasta.v1 import processor_pb2, processor_pb2_grpc
from orchestrator.settings import OrchestratorSettings
from processor.settings import ProcessorSettings
from tests.conftest import local_crawler_settings
from tests.support.certs import make_certs
from tests.support.site import FixtureSite, tree_site

pytestmark = pytest.mark.timeout(120)

TOKEN = ServiceAuth(token="s3cret-token-for-tests-0123456789")


async def test_token_refuses_callers_without_it_and_keeps_health_open() -> None:
    host, port = await create_crawler(replace(CrawlerSettings(), bind="127.0.0.1:0", auth=TOKEN))
    target = f"127.0.0.1:{port}"
    plain, wrong = insecure_channel(target), service_channel(target, auth=ServiceAuth(token="x" * 32))
    right = service_channel(target, auth=TOKEN)
    try:
        request = crawler_pb2.CrawlRequest(url="http://10.0.0.1/")
        for channel in (plain, wrong):
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await crawler_pb2_grpc.CrawlerStub(channel).Crawl(request, timeout=10)
            assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
        answer = await crawler_pb2_grpc.CrawlerStub(right).Crawl(request, timeout=10)
        assert answer.error  # served (and refused by the fetch policy, as it should be)
        health = await health_pb2_grpc.HealthStub(plain).Check(health_pb2.HealthCheckRequest(), timeout=10)
        assert health.status == health_pb2.HealthCheckResponse.SERVING  # probes need no token
    finally:
        for channel in (plain, wrong, right):
            await channel.close(None)
        await host.stop(grace=0.5)


async def test_a_pipeline_with_a_token_works_and_strangers_cannot_write_into_jobs(site: FixtureSite) -> None:
    site.pages.update(tree_site(5))
    async with LocalStack(crawler=replace(local_crawler_settings(), auth=TOKEN),
                          processor=replace(ProcessorSettings(), workers=1, auth=TOKEN),
                          orchestrator=replace(OrchestratorSettings(), instance_id="test", auth=TOKEN)) as stack:
        # Without the token: neither a job nor a Process call that writes into one.
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stack.orchestrator_stub().StartJob(pb.StartJobRequest(url=site.url("/docs/")), timeout=60)
        assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stack.processor_stub().Process(processor_pb2.ProcessRequest(
                job_id="someone-elses-job", url="http://x.test/", html="<p>spam</p>", order=1), timeout=60)
        assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
        # With it: the orchestrator's own calls to the crawler and processor carry it.
        channel = service_channel(stack.orchestrator_target, auth=TOKEN)
        try:
            stub = orchestrator_pb2_grpc.OrchestratorStub(channel)
            started = await stub.StartJob(pb.StartJobRequest(url=site.url("/docs/")), timeout=60)
            events = [e async for e in stub.JobEvents(pb.JobEventsRequest(job_id=started.job_id), timeout=120)]
        finally:
            await channel.close(None)
    assert events[-1].WhichOneof("event") == "job_completed"
    assert events[-1].job_completed.totals.processed == 5


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CA, a server certificate for localhost and a client certificate, by openssl."""
    return make_certs(tmp_path_factory.mktemp("certs"))


async def test_mtls_needs_a_client_certificate_from_the_ca(certs: Path) -> None:
    server_auth = ServiceAuth.from_env({"GRPC_TLS_CERT": str(certs / "server.pem"),
                                        "GRPC_TLS_KEY": str(certs / "server.key"), "GRPC_TLS_CA": str(certs / "ca.pem")})
    client_auth = ServiceAuth(tls_cert_file=str(certs / "client.pem"), tls_key_file=str(certs / "client.key"),
                              tls_ca_file=str(certs / "ca.pem"))
    host, port = await create_crawler(replace(CrawlerSettings(), bind="127.0.0.1:0", auth=server_auth))
    target = f"localhost:{port}"
    good = service_channel(target, auth=client_auth)
    anonymous = service_channel(target, auth=ServiceAuth(tls_ca_file=str(certs / "ca.pem")))
    plain = insecure_channel(target)
    try:
        request = crawler_pb2.CrawlRequest(url="http://10.0.0.1/")
        answer = await crawler_pb2_grpc.CrawlerStub(good).Crawl(request, timeout=20)
        assert answer.error
        for channel in (anonymous, plain):
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await crawler_pb2_grpc.CrawlerStub(channel).Crawl(request, timeout=5)
            assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        for channel in (good, anonymous, plain):
            await channel.close(None)
        await host.stop(grace=0.5)


def test_auth_settings_are_checked(certs: Path) -> None:
    assert ServiceAuth.from_env({}) == ServiceAuth()
    with pytest.raises(SettingsError, match="16 characters"):
        ServiceAuth.from_env({"SERVICE_TOKEN": "short"})
    with pytest.raises(SettingsError, match="go together"):
        ServiceAuth.from_env({"GRPC_TLS_CERT": str(certs / "server.pem")})
    with pytest.raises(SettingsError, match="no such file"):
        ServiceAuth.from_env({"GRPC_TLS_CA": "/nonexistent/ca.pem"})
    assert CrawlerSettings.from_env({"SERVICE_TOKEN": TOKEN.token}).auth == TOKEN
