"""Fixtures every security test module shares."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.security.hostile_site import HostileSite


@pytest.fixture
async def hostile() -> AsyncIterator[HostileSite]:
    site = await HostileSite().start()
    yield site
    await site.stop()
