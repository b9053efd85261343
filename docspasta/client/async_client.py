"""AsyncClient: one API over either server — a bridge (``http(s)://...``) or an
orchestrator (a gRPC target such as ``127.0.0.1:50051``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from types import TracebackType

from docspasta.client.errors import CallTimeout, ClientError
from docspasta.client.grpc_transport import GrpcTransport
from docspasta.client.http_transport import HttpTransport
from docspasta.client.models import CrawlOptions, Event, Job, Page

DEFAULT_TIMEOUT = 30.0
# Downloads stream a whole site's Markdown: a longer budget than a status call.
DEFAULT_DOWNLOAD_TIMEOUT = 300.0

JobRef = Job | str


class AsyncClient:
    """``async with AsyncClient("http://bridge:8080") as client: job = await client.start(url)``;
    over gRPC ``AsyncClient("orchestrator:50051", processor="processor:50052")`` (the
    processor serves the pages and downloads; without it those calls raise).

    Every call has a deadline (``timeout``, default :data:`DEFAULT_TIMEOUT`); calls that
    are safe to repeat (start with its request id, status, cancel, downloads) are
    retried on UNAVAILABLE / 503 / 429 within it; :meth:`events` resumes after a dropped
    stream from the last sequence it delivered. Job tokens (bridge) are remembered per
    job id, so a job id string works wherever a :class:`Job` does."""

    def __init__(self, server: str, *, api_key: str = "", processor: str = "", timeout: float = DEFAULT_TIMEOUT,
                 download_timeout: float = DEFAULT_DOWNLOAD_TIMEOUT) -> None:
        if not server:
            raise ValueError("server: a bridge URL (http://...) or an orchestrator target (host:port)")
        if timeout <= 0 or download_timeout <= 0:
            raise ValueError("timeout, download_timeout: seconds, more than 0")
        self.server = server
        self.timeout = timeout
        self.download_timeout = download_timeout
        self._http: HttpTransport | None = None
        self._grpc: GrpcTransport | None = None
        if server.startswith(("http://", "https://")):
            if processor:
                raise ValueError("processor: only with an orchestrator target (a bridge serves the pages itself)")
            self._http = HttpTransport(base_url=server, api_key=api_key)
        else:
            self._grpc = GrpcTransport(target=server.removeprefix("grpc://"),
                                       processor_target=processor.removeprefix("grpc://"))
        self._tokens: dict[str, str] = {}

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
        if self._grpc is not None:
            await self._grpc.close()

    def _ref(self, job: JobRef) -> tuple[str, str]:
        if isinstance(job, Job):
            if job.token:
                self._tokens[job.job_id] = job.token
            return job.job_id, job.token or self._tokens.get(job.job_id, "")
        return job, self._tokens.get(job, "")

    def remember_token(self, job_id: str, token: str) -> None:
        """A bridge job started elsewhere (its id and token), for the calls below."""
        self._tokens[job_id] = token

    async def start(self, url: str, options: CrawlOptions | None = None, *, request_id: str | None = None,
                    timeout: float | None = None) -> Job:
        """Starts a crawl of ``url``. ``request_id`` (any unique string, default a new
        UUID) is the idempotency key: the same id returns the same job."""
        budget = timeout or self.timeout
        options = options or CrawlOptions()
        if self._http is not None:
            job = await self._http.start(url, options, request_id=request_id, timeout=budget)
        else:
            assert self._grpc is not None
            job = await self._grpc.start(url, options, request_id=request_id, timeout=budget)
        self._ref(job)
        return job

    async def get(self, job: JobRef, *, timeout: float | None = None) -> Job:
        job_id, token = self._ref(job)
        if self._http is not None:
            return await self._http.get(job_id, token, timeout=timeout or self.timeout)
        assert self._grpc is not None
        return await self._grpc.get(job_id, timeout=timeout or self.timeout)

    async def cancel(self, job: JobRef, *, timeout: float | None = None) -> Job:
        job_id, token = self._ref(job)
        if self._http is not None:
            return await self._http.cancel(job_id, token, timeout=timeout or self.timeout)
        assert self._grpc is not None
        return await self._grpc.cancel(job_id, timeout=timeout or self.timeout)

    async def events(self, job: JobRef, *, after: int = 0) -> AsyncGenerator[Event, None]:
        """The job's events after sequence ``after`` (0: all), live, until the terminal
        one: gapless, each once, across reconnects."""
        job_id, token = self._ref(job)
        if self._http is not None:
            async for event in self._http.events(job_id, token, after=after):
                yield event
            return
        assert self._grpc is not None
        async for event in self._grpc.events(job_id, after=after):
            yield event

    async def wait(self, job: JobRef, *, timeout: float | None = None) -> Job:
        """Follows the events to the end and returns the final job."""
        async for _ in self.events(job):
            pass
        return await self.get(job, timeout=timeout)

    async def markdown(self, job: JobRef, *, timeout: float | None = None) -> str:
        """The combined document of the pages stored so far."""
        return (await self.download(job, "markdown", timeout=timeout)).decode("utf-8")

    async def iter_pages(self, job: JobRef, *, timeout: float | None = None) -> AsyncGenerator[Page, None]:
        """The stored pages, in crawl order, with their Markdown, one at a time as they
        arrive (a big job is never held whole); a cut transfer resumes after the last
        page given. ``timeout`` bounds the whole listing (default ``download_timeout``)."""
        job_id, token = self._ref(job)
        budget = timeout or self.download_timeout
        if self._http is not None:
            async for page in self._http.iter_pages(job_id, token, timeout=budget):
                yield page
            return
        assert self._grpc is not None
        async for page in self._grpc.iter_pages(job_id, timeout=budget, call_timeout=self.timeout):
            yield page

    async def pages(self, job: JobRef, *, timeout: float | None = None) -> list[Page]:
        """The stored pages, in crawl order, with their Markdown (see iter_pages)."""
        return [page async for page in self.iter_pages(job, timeout=timeout)]

    async def download(self, job: JobRef, document: str, *, timeout: float | None = None) -> bytes:
        """``markdown``, ``llms.txt``, ``llms-full.txt``, ``archive.zip`` or ``pages``, whole:
        the same bytes from a bridge or over gRPC (the bridge's writers run on ListPages)."""
        job_id, token = self._ref(job)
        budget = timeout or self.download_timeout
        if self._http is not None:
            return await self._http.download(job_id, token, document, timeout=budget)
        assert self._grpc is not None
        try:
            async with asyncio.timeout(budget):  # one budget for the job's URL and the pages
                url = (await self._grpc.get(job_id, timeout=min(self.timeout, budget))).url
                return await self._grpc.download(job_id, document, url=url, timeout=budget,
                                                 call_timeout=self.timeout)
        except TimeoutError as exc:
            if isinstance(exc, ClientError):
                raise
            raise CallTimeout(code="deadline_exceeded", message=f"{document} not read within {budget:g} s") from None
