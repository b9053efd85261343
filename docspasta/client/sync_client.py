"""Client: the AsyncClient for code without an event loop. Its calls run on a private
loop in a background thread, so they behave exactly as the async ones (deadlines,
retries, resume) and work from any thread, also inside a program that has its own loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncGenerator, Coroutine, Iterator
from types import TracebackType
from typing import Any, TypeVar

from docspasta.client.async_client import DEFAULT_DOWNLOAD_TIMEOUT, DEFAULT_TIMEOUT, AsyncClient, JobRef
from docspasta.client.models import CrawlOptions, Event, Job, Page

T = TypeVar("T")


class Client:
    """``with Client("http://bridge:8080") as client: job = client.start(url)``; see AsyncClient."""

    def __init__(self, server: str, *, api_key: str = "", processor: str = "", timeout: float = DEFAULT_TIMEOUT,
                 download_timeout: float = DEFAULT_DOWNLOAD_TIMEOUT) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="docspasta-client", daemon=True)
        self._thread.start()
        self._async = self._run(self._make(server, api_key=api_key, processor=processor, timeout=timeout,
                                           download_timeout=download_timeout))

    @staticmethod
    async def _make(server: str, **kwargs: Any) -> AsyncClient:
        return AsyncClient(server, **kwargs)  # built on the loop it will use (gRPC channels bind to it)

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        if self._loop.is_closed():
            return
        self._run(self._async.close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    def remember_token(self, job_id: str, token: str) -> None:
        self._async.remember_token(job_id, token)

    def start(self, url: str, options: CrawlOptions | None = None, *, request_id: str | None = None,
              timeout: float | None = None) -> Job:
        return self._run(self._async.start(url, options, request_id=request_id, timeout=timeout))

    def get(self, job: JobRef, *, timeout: float | None = None) -> Job:
        return self._run(self._async.get(job, timeout=timeout))

    def cancel(self, job: JobRef, *, timeout: float | None = None) -> Job:
        return self._run(self._async.cancel(job, timeout=timeout))

    def events(self, job: JobRef, *, after: int = 0) -> Iterator[Event]:
        return self._iterate(self._async.events(job, after=after))

    def iter_pages(self, job: JobRef, *, timeout: float | None = None) -> Iterator[Page]:
        return self._iterate(self._async.iter_pages(job, timeout=timeout))

    def _iterate(self, stream: AsyncGenerator[T, None]) -> Iterator[T]:
        try:
            while True:
                try:
                    yield self._run(_next(stream))
                except StopAsyncIteration:
                    return
        finally:
            self._run(stream.aclose())

    def wait(self, job: JobRef, *, timeout: float | None = None) -> Job:
        return self._run(self._async.wait(job, timeout=timeout))

    def markdown(self, job: JobRef, *, timeout: float | None = None) -> str:
        return self._run(self._async.markdown(job, timeout=timeout))

    def pages(self, job: JobRef, *, timeout: float | None = None) -> list[Page]:
        return self._run(self._async.pages(job, timeout=timeout))

    def download(self, job: JobRef, document: str, *, timeout: float | None = None) -> bytes:
        return self._run(self._async.download(job, document, timeout=timeout))


async def _next(stream: AsyncGenerator[T, None]) -> T:
    return await stream.__anext__()
