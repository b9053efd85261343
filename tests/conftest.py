"""Shared fixtures: a local fixture website and the whole pipeline as real in-process
grpc.aio servers on loopback port 0.

pytest-grpc hosts only synchronous grpc servers; every Docspasta service is grpc.aio,
so the tests start them in-process with their own factories instead."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Generator
from dataclasses import replace
from typing import Any

import pytest

from crawler.settings import CrawlerSettings
from docspasta.local import LocalStack
from orchestrator.settings import OrchestratorSettings
from processor.settings import ProcessorSettings
from tests.support.site import FixtureSite

# Names the test that left a non-daemon thread (an unclosed store) and ends the run anyway.
pytest_plugins = ["tests.support.threadleaks"]

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Generator[None, Any, None]:
    """In CI a skipped test is a failure: a missing dependency must not pass silently."""
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI (CI=true), which counts as a failure: {report.longrepr}"


@pytest.fixture(autouse=True)
def _crawl_state_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """``docspasta crawl`` keeps resumable state in a state directory: a temporary one
    in tests, never the user's ~/.local/state."""
    monkeypatch.setenv("DOCSPASTA_STATE_DIR", str(tmp_path_factory.mktemp("state")))


@pytest.fixture
async def site() -> AsyncIterator[FixtureSite]:
    s = await FixtureSite().start()
    yield s
    await s.stop()


def local_crawler_settings(**overrides: Any) -> CrawlerSettings:
    return replace(CrawlerSettings(), allow_private_network=True, allowed_ports=None, **overrides)


@pytest.fixture
async def stack() -> AsyncIterator[LocalStack]:
    """Crawler, processor (SQLite in a temp dir) and orchestrator on loopback."""
    async with LocalStack(crawler=local_crawler_settings(),
                          processor=replace(ProcessorSettings(), workers=1),
                          orchestrator=replace(OrchestratorSettings(), instance_id="test")) as s:
        yield s
