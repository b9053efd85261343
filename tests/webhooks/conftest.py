"""A real webhook receiver on 127.0.0.1 (aiohttp, port 0) whose answers a test scripts,
which records every POST it gets; and the verification snippet from the README, so
the tests check messages the way the documentation tells users to."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from docspasta.webhooks import new_secret
from tests.store.postgres_server import PostgresServer

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_verifier() -> Callable[[str, dict[str, str], bytes], None]:
    """``verify_webhook`` exactly as the README documents it."""
    text = README.read_text()
    match = re.search(r"<!-- webhook-verify -->\s*```python\n(.*?)```\s*<!-- /webhook-verify -->", text, re.S)
    assert match, "README has no webhook verification snippet"
    namespace: dict[str, Any] = {}
    exec(compile(match.group(1), "README.md:webhook-verify", "exec"), namespace)  # noqa: S102 - our own docs
    return namespace["verify_webhook"]  # type: ignore[no-any-return]


@dataclass
class Hit:
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() when it arrived
    answered: int  # the status the receiver answered (0: it never answered)


@dataclass
class Receiver:
    """Answers POST / with the next scripted reply: an int status, or a tuple (status,
    headers), or ("sleep", seconds, status). Past the script: ``default``."""
    script: list[Any] = field(default_factory=list)
    default: Any = 204
    hits: list[Hit] = field(default_factory=list)
    url: str = ""
    port: int = 0
    _runner: web.AppRunner | None = None
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        reply = self.script.pop(0) if self.script else self.default
        hit = Hit(headers=dict(request.headers), body=body, at=time.monotonic(), answered=0)
        self.hits.append(hit)
        self._arrived.set()
        headers: dict[str, str] = {}
        if isinstance(reply, tuple) and reply[0] == "sleep":
            await asyncio.sleep(reply[1])
            reply = reply[2]
        if isinstance(reply, tuple):
            reply, headers = reply
        hit.answered = int(reply)
        return web.Response(status=int(reply), headers=headers)

    async def wait_for(self, predicate: Callable[[list[Hit]], bool], *, timeout: float = 60.0) -> list[Hit]:
        """Returns the hits once ``predicate(hits)`` holds (a generous deadline, no sleeps)."""
        deadline = time.monotonic() + timeout
        while not predicate(self.hits):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"receiver condition not met in {timeout} s; got {len(self.hits)} hits")
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), min(left, 0.5))
            except TimeoutError:
                pass
        return self.hits


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = await Receiver().start()
    yield r
    await r.stop()


@pytest.fixture
def secret() -> str:
    return new_secret()


@pytest.fixture(scope="session")
def webhooks_pg() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL 15 (Debian's) for the webhook tests; missing is a failure."""
    with PostgresServer.start() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgres"])
async def job_store_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The job store's DATABASE_URL, on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'jobs.db'}"
        return
    server: PostgresServer = request.getfixturevalue("webhooks_pg")
    async with server.database("wh") as dsn:
        yield dsn


@pytest.fixture
async def pipeline(tmp_path: Path, job_store_url: str) -> AsyncIterator[Any]:
    """The services on each job store backend (tests/webhooks/pipeline.py)."""
    from tests.webhooks.pipeline import Pipeline

    p = await Pipeline(tmp=tmp_path, jobs_url=job_store_url).start()
    yield p
    await p.close()


@pytest.fixture
async def sqlite_pipeline(tmp_path: Path) -> AsyncIterator[Any]:
    """The services on the embedded job store only."""
    from tests.webhooks.pipeline import Pipeline

    p = await Pipeline(tmp=tmp_path, jobs_url=f"sqlite:///{tmp_path / 'jobs.db'}").start()
    yield p
    await p.close()
