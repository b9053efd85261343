from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from orchestrator.settings import OrchestratorSettings
from processor.settings import ProcessorSettings
from docspasta.local import LocalStack
from tests.conftest import local_crawler_settings
from tests.orchestrator.vhosts import VirtualHosts, patch_resolver


@pytest.fixture
async def vhosts(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[VirtualHosts]:
    patch_resolver(monkeypatch)
    hosts = await VirtualHosts().start()
    yield hosts
    await hosts.stop()


@pytest.fixture
async def small_stack() -> AsyncIterator[LocalStack]:
    """The pipeline with small trap limits, so traps show on small fixture sites."""
    async with LocalStack(crawler=local_crawler_settings(),
                          processor=replace(ProcessorSettings(), workers=1),
                          orchestrator=replace(OrchestratorSettings(), instance_id="test", max_query_variants=3,
                                               max_links_per_page=40)) as s:
        yield s
