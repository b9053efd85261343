"""https fetches use the fetcher's own verified context, made on the first one
(crawler/tls.py), and a crawler process imports aiohttp without loading a CA file."""

from __future__ import annotations

import asyncio
import os
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from crawler.fetch import FetchError, HttpFetcher
from crawler.tls import VerifiedContext, without_default_ca_file
from tests.conftest import local_crawler_settings
from tests.support.certs import make_certs

PAGE = "<html><head><title>Secure</title></head><body><p>over TLS</p></body></html>"


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_certs(tmp_path_factory.mktemp("certs"), names=("server",))


@pytest.fixture
async def https_url(certs: Path) -> AsyncIterator[str]:
    """A loopback https site signed by the test CA."""
    async def page(request: web.Request) -> web.Response:
        return web.Response(text=PAGE, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", page)
    runner = web.AppRunner(app)
    await runner.setup()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certs / "server.pem", certs / "server.key")
    tcp = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await tcp.start()
    port = tcp._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"https://localhost:{port}/"
    finally:
        await runner.cleanup()


def _ca_count() -> int:
    return ssl.create_default_context().cert_store_stats()["x509_ca"]


@pytest.mark.parametrize("before", [None, "ca.pem"])
def test_without_default_ca_file_loads_none_and_restores_the_environment(
        certs: Path, monkeypatch: pytest.MonkeyPatch, before: str | None) -> None:
    if before is None:
        monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    else:
        monkeypatch.setenv("SSL_CERT_FILE", str(certs / before))
        assert _ca_count() == 1
    monkeypatch.setenv("SSL_CERT_DIR", str(certs / "no-such-dir"))  # nothing else to count
    with without_default_ca_file():
        assert _ca_count() == 0
    assert os.environ.get("SSL_CERT_FILE") == (None if before is None else str(certs / before))


def test_a_crawler_process_imports_aiohttp_without_its_ca_file(certs: Path) -> None:
    """The entry point's import, in a fresh interpreter: aiohttp's import-time
    verified context holds no CA, and the environment is as it was."""
    probe = ("import os\n"
             "from crawler.tls import without_default_ca_file\n"
             "with without_default_ca_file():\n"
             "    import crawler.server\n"
             "import aiohttp.connector\n"
             "print(aiohttp.connector._SSL_CONTEXT_VERIFIED.cert_store_stats()['x509_ca'], os.environ['SSL_CERT_FILE'])\n")
    env = {**os.environ, "SSL_CERT_FILE": str(certs / "ca.pem"), "SSL_CERT_DIR": str(certs / "no-such-dir")}
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120,
                         cwd=Path(__file__).resolve().parents[2], check=True).stdout.split()
    assert out == ["0", str(certs / "ca.pem")]


async def test_https_fetch_trusts_the_store_read_at_its_first_request(
        https_url: str, certs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # aiohttp's own contexts were made at import, before this CA was the trust store:
    # only a context made at the first request trusts it.
    monkeypatch.setenv("SSL_CERT_FILE", str(certs / "ca.pem"))
    fetcher = HttpFetcher(settings=local_crawler_settings())
    try:
        first, second = await asyncio.gather(fetcher.fetch(https_url), fetcher.fetch(https_url))
        assert "over TLS" in first.text and "over TLS" in second.text
    finally:
        await fetcher.close()


async def test_https_fetch_refuses_a_certificate_it_cannot_verify(
        https_url: str, certs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", os.devnull)
    monkeypatch.setenv("SSL_CERT_DIR", str(certs / "no-such-dir"))
    fetcher = HttpFetcher(settings=local_crawler_settings())
    try:
        with pytest.raises(FetchError) as info:
            await fetcher.fetch(https_url)
        assert info.value.category == "connect"
        assert "Certificate" in info.value.message
    finally:
        await fetcher.close()


async def test_the_context_is_made_once() -> None:
    made = VerifiedContext()
    first, second = await asyncio.gather(made.get(), made.get())
    assert first is second is await made.get()
    assert first.verify_mode == ssl.CERT_REQUIRED and first.check_hostname
