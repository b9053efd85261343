"""The whole pipeline on this machine: crawler, processor and orchestrator as real gRPC
servers (conversion in worker processes).

By default the three servers run in this process on loopback ports. With
``processes=True`` (what ``docspasta crawl`` uses) the crawler and the processor each
run in a child process (``python -m docspasta.local crawler|processor``, settings
sent on its stdin: docspasta/service_process.py) on a unix domain socket, so the fetch/link extraction, the
Process calls/SQLite and the orchestrator's frontier do not share one event loop and
one GIL: on a 2-core machine this is what lets the crawl use both cores. The children
exit when this process closes the stack, and on their own when it dies (their stdin
reaches EOF).

The renderer (a browser) starts only when a job first needs a page rendered: the
orchestrator asks for it through ``start_renderer`` (a child process too, with
``processes=True``), so ordinary sites never pay for Chromium."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import tempfile
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import TYPE_CHECKING, Any

# gRPC, the servers and even the services' settings are imported where they are used:
# a child process imports only its own (its settings arrive pickled on its stdin).
if TYPE_CHECKING:
    import grpc

    from crawler.settings import CrawlerSettings
    from orchestrator.settings import OrchestratorSettings
    from processor.settings import ProcessorSettings

    from docspasta.rpc import ServiceHost
    from docspasta.v1 import orchestrator_pb2
    from orchestrator.jobs import JobRegistry
    from orchestrator.server import Orchestrator
    from renderer.settings import RendererSettings
    from docspasta.service_process import ServiceProcess
    from docspasta.v1 import orchestrator_pb2_grpc, processor_pb2_grpc
    from processor.pool import ConversionPool
    from processor.store.base import StoredPage

LOOPBACK = "127.0.0.1:0"
_ORCHESTRATOR_SERVICE = "docspasta.v1.Orchestrator"
RENDERER_START_ATTEMPTS = 2
# Longest unix socket path (sun_path is 108 bytes on Linux, with the terminating NUL).
_MAX_UNIX_PATH = 100

log = logging.getLogger(__name__)


def jobs_url_for(database_url: str) -> str:
    """The job store beside a page store: a sibling SQLite file, or the same PostgreSQL database."""
    from docspasta.db import is_postgres, sqlite_path

    if is_postgres(database_url):
        return database_url
    path = sqlite_path(database_url)
    if path == ":memory:":
        return "sqlite:///:memory:"
    stem, ext = os.path.splitext(path)
    return f"sqlite:///{stem}-jobs{ext or '.db'}"


def _crawler_settings() -> CrawlerSettings:
    from crawler.settings import CrawlerSettings
    return CrawlerSettings()


def _processor_settings() -> ProcessorSettings:
    from processor.settings import ProcessorSettings
    return ProcessorSettings()


def _orchestrator_settings() -> OrchestratorSettings:
    from orchestrator.settings import OrchestratorSettings
    return OrchestratorSettings()


@dataclass(kw_only=True)
class LocalStack:
    crawler: CrawlerSettings = field(default_factory=_crawler_settings)
    processor: ProcessorSettings = field(default_factory=_processor_settings)
    orchestrator: OrchestratorSettings = field(default_factory=_orchestrator_settings)
    # The page store. None: a temporary SQLite file removed on exit.
    database_url: str | None = None
    # The job store. None: next to a SQLite page store (``pages.db`` -> ``pages-jobs.db``,
    # so the two stores' writers never wait for each other), or the same PostgreSQL database.
    jobs_url: str | None = None
    # The renderer's settings; None: the defaults, with the crawler's network policy.
    renderer: RendererSettings | None = None
    # Crawler and processor (and the renderer, once needed) in child processes.
    processes: bool = False
    # With ``processes``: the crawler and processor children already started (and not yet
    # configured), so they import while the caller did its own start-up (``docspasta
    # crawl`` starts them first thing); the stack configures, uses and stops them. Empty:
    # started here.
    children: Sequence[ServiceProcess] = ()
    hosts: list[ServiceHost] = field(default_factory=list)
    orchestrator_target: str = ""
    processor_target: str = ""
    _crawler_target: str = ""
    _tmpdir: tempfile.TemporaryDirectory[str] | None = None
    _channels: list[grpc.aio.Channel] = field(default_factory=list)
    _children: list[ServiceProcess] = field(default_factory=list)
    _registry: JobRegistry | None = None
    _launched: list[ServiceProcess] | None = None  # by launch: the children sent their settings
    _database_url: str = ""
    _binds: tuple[str, str] | None = None  # the children's unix socket targets (None: loopback ports)

    def launch(self) -> None:
        """Sends the children their settings now, so they get ready to serve while this
        process does its own start-up; ``__aenter__`` does it when not done already (it
        waits for them). Nothing to do in-process. Close the stack after it, even if it
        raises."""
        if self._launched is not None:
            return
        database_url = self.database_url
        if database_url is None or self.processes:
            self._tmpdir = tempfile.TemporaryDirectory(prefix="docspasta-")
        if database_url is None:
            assert self._tmpdir is not None
            database_url = "sqlite:///" + os.path.join(self._tmpdir.name, "pages.db")
        self._database_url = database_url
        self._launched = self._launch_children(database_url) if self.processes else []

    async def __aenter__(self) -> LocalStack:
        try:
            self.launch()
            database_url = self._database_url
            launched = self._launched or []
            if self.processes:
                # The children start while this process imports the orchestrator.
                from orchestrator.server import start as start_orchestrator
                if self._binds is not None:
                    # Unix sockets: the children's targets are known, and the orchestrator
                    # calls them only for a job, so it starts (~15 ms: its job store, its
                    # server) while they get ready. Every start is awaited before an error
                    # is raised, so close() stops whatever did start.
                    self._crawler_target, self.processor_target = self._binds
                    started = await asyncio.gather(self._start_orchestrator(start_orchestrator, database_url),
                                                   *(self._ready(child) for child in launched),
                                                   return_exceptions=True)
                    for outcome in started:
                        if isinstance(outcome, BaseException):
                            raise outcome
                    return self
                self._crawler_target, self.processor_target = await asyncio.gather(
                    *(self._ready(child) for child in launched))
            else:
                assert not self.children, "children= goes with processes=True"
                from orchestrator.server import start as start_orchestrator
                from crawler.server import create_server as create_crawler
                from processor.server import create_server as create_processor
                crawler, crawler_port = await create_crawler(replace(self.crawler, bind=LOOPBACK))
                self.hosts.append(crawler)
                processor, processor_port = await create_processor(
                    replace(self.processor, bind=LOOPBACK, database_url=database_url))
                self.hosts.append(processor)
                self.processor_target = f"127.0.0.1:{processor_port}"
                self._crawler_target = f"127.0.0.1:{crawler_port}"
            await self._start_orchestrator(start_orchestrator, database_url)
        except BaseException:
            await self.close()
            raise
        return self

    async def _start_orchestrator(self, start: Callable[..., Awaitable[Orchestrator]], database_url: str) -> None:
        orchestrator = await start(replace(
            self.orchestrator, bind=LOOPBACK, crawler_target=self._crawler_target,
            processor_target=self.processor_target, database_url=self.jobs_url or jobs_url_for(database_url),
            call_streams=True),  # one crawler, one processor: nothing to balance a call over
            start_renderer=None if self.orchestrator.renderer_target else self._start_renderer)
        # No await between the start and this: a cancelled start-up still stops it (close).
        self.hosts.append(orchestrator.host)
        self._registry = orchestrator.registry
        self.orchestrator_target = f"127.0.0.1:{orchestrator.port}"

    def _launch_children(self, database_url: str) -> list[ServiceProcess]:
        """Starts both children (or takes those started already) and sends them their
        settings; they serve on unix sockets in the stack's temp dir (loopback ports if
        its path is too long)."""
        from docspasta.service_process import ServiceProcess

        assert self._tmpdir is not None
        use_unix = len(os.path.join(self._tmpdir.name, "processor.sock")) <= _MAX_UNIX_PATH

        def bind(name: str) -> str:
            return f"unix:{os.path.join(self._tmpdir.name, name + '.sock')}" if use_unix else LOOPBACK  # type: ignore[union-attr]

        self._binds = (bind("crawler"), bind("processor")) if use_unix else None
        settings = {"crawler": replace(self.crawler, bind=bind("crawler")),
                    "processor": replace(self.processor, bind=bind("processor"), database_url=database_url)}
        started = {child.kind: child for child in self.children}
        assert set(started) <= set(settings) and len(started) == len(self.children), "one crawler, one processor"
        self._children.extend(started.values())  # closed with the stack, whatever happens next
        launched = []
        for kind, value in settings.items():
            child = started.get(kind)
            if child is None:
                child = ServiceProcess(kind)
                self._children.append(child)
            child.configure(value)
            launched.append(child)
        return launched

    async def _start_renderer(self) -> str:
        """Starts the renderer (first page that needs a browser) and returns its target."""
        from renderer.settings import RendererSettings

        settings = self.renderer or RendererSettings(fetch=self.crawler)
        if self.processes and self._tmpdir is not None:
            from docspasta.service_process import ServiceProcess

            path = os.path.join(self._tmpdir.name, "renderer.sock")
            bind = f"unix:{path}" if len(path) <= _MAX_UNIX_PATH else LOOPBACK
            for attempt in range(1, RENDERER_START_ATTEMPTS + 1):
                child = ServiceProcess("renderer")
                self._children.append(child)
                child.configure(replace(settings, bind=bind))
                try:
                    return await self._ready(child)
                except RuntimeError as exc:
                    # Should the browser stack crash while starting, the page that needed it
                    # need not fail: start it once more.
                    if attempt == RENDERER_START_ATTEMPTS or child.returncode is None:
                        raise
                    log.warning("%s; starting it again", exc)
        from renderer.server import create_server as create_renderer
        host, port = await create_renderer(replace(settings, bind=LOOPBACK))
        # First in the list: stopped last, after the orchestrator that calls it.
        self.hosts.insert(0, host)
        return f"127.0.0.1:{port}"

    @staticmethod
    async def _ready(child: ServiceProcess) -> str:
        """The child's gRPC target, once it serves. A child that dies first: RuntimeError
        saying how (the signal that killed it), its stderr's last lines logged."""
        from docspasta.service_process import ServiceDied

        try:
            return await child.ready()
        except ServiceDied as died:
            if died.tail:
                log.error("the %s process (pid %d) %s while starting; its last words on stderr:\n%s",
                          died.kind, died.pid, died.how, died.tail)
            else:
                # Nothing at all: it died before its interpreter could report (faulthandler is
                # on from the start), i.e. between fork and exec, in this process's copy.
                log.error("the %s process (pid %d) %s while starting, before it wrote anything to stderr",
                          died.kind, died.pid, died.how)
            raise

    async def suspend_jobs(self) -> None:
        """Stops the orchestrator now, the other services staying up: its running jobs
        commit what they did and release their leases without ending (so the same
        stores continue them later), and their JobEvents streams end UNAVAILABLE."""
        orchestrators = [h for h in self.hosts if h.service_names[:1] == [_ORCHESTRATOR_SERVICE]]
        for host in orchestrators:
            await host.stop(grace=1.0)
            self.hosts.remove(host)

    def orchestrator_stub(self) -> orchestrator_pb2_grpc.OrchestratorAsyncStub:
        from docspasta.rpc import insecure_channel
        from docspasta.v1 import orchestrator_pb2_grpc

        channel = insecure_channel(self.orchestrator_target)
        self._channels.append(channel)
        return orchestrator_pb2_grpc.OrchestratorStub(channel)

    def job_events(self) -> InProcessEvents:
        """``JobEvents`` as the stub has it, answered in this process by the orchestrator's
        registry: the events of a job it runs come from its in-memory tail as the job
        built them, with no serialisation, no gRPC stream and no read back from the store."""
        assert self._registry is not None, "the stack is not started"
        return InProcessEvents(self._registry)

    def processor_stub(self) -> processor_pb2_grpc.ProcessorAsyncStub:
        from docspasta.rpc import insecure_channel
        from docspasta.v1 import processor_pb2_grpc

        channel = insecure_channel(self.processor_target)
        self._channels.append(channel)
        return processor_pb2_grpc.ProcessorStub(channel)

    async def stored_pages(self, job_id: str) -> AsyncIterator[StoredPage]:
        """The job's pages in crawl order, read from the page store this stack gave the
        processor (a SQLite file of its own, or the database it was given), not over
        ListPages: each streamed Page cost this process ~150 µs of gRPC, 30-40 ms after
        a 217-page crawl, on the command's path to its outputs. The pages of a finished
        (or suspended) job are all committed: the processor answers a page only once
        it is stored."""
        from processor.store import open_store

        store = open_store(self._database_url)
        await store.open()
        try:
            async for page in store.pages(job_id):
                yield page
        finally:
            await store.close()

    def release_services(self) -> None:
        """The job is over and its pages are read: the crawler and processor children may
        stop now, while this process writes the outputs, so their stop (the processor's
        pool, store and exit: 15-25 ms) is off the command's path; ``close`` still waits
        for their exit. Nothing calls them after that: the job finished, or Ctrl-C
        suspended it, which stops the orchestrator first (``suspend_jobs``)."""
        for child in self._children:
            child.close_stdin()

    async def close(self) -> None:
        from docspasta.rpc import stop_all

        for channel in self._channels:
            await channel.close(None)
        self._channels.clear()
        # Orchestrator first: it commits its running jobs and releases their leases (they
        # stay RUNNING in the job store, to be continued) before their backends go away.
        hosts, self.hosts = list(reversed(self.hosts)), []
        try:
            await stop_all(hosts, grace=1.0)
        finally:
            await self._close_children()

    async def _close_children(self) -> None:
        # Closing a child's stdin stops it gracefully (in-flight calls, store, pool); one
        # that is not configured yet exits without starting. Killed after 15 s.
        for child in self._children:
            child.close_stdin()
        await asyncio.gather(*(child.wait() for child in self._children))
        self._children.clear()
        self._launched = None
        if self._tmpdir is not None:
            self._tmpdir.cleanup()
            self._tmpdir = None

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()


class InProcessEvents:
    """The ``JobEvents`` call of an orchestrator in this process (see ``LocalStack.job_events``)."""

    def __init__(self, registry: JobRegistry) -> None:
        self._registry = registry

    def JobEvents(self, request: orchestrator_pb2.JobEventsRequest,  # noqa: N802 - the stub's method name
                  timeout: float | None = None) -> EventStream:
        return EventStream(self._registry.follow(request.job_id, request.after_sequence), timeout,
                           stopping=self._registry.closing)


class EventStream:
    """Iterated once, like a gRPC stream; ``timeout`` bounds the whole stream, as a
    deadline does (TimeoutError past it). It ends without a terminal event when the
    orchestrator stops (Ctrl-C suspends the job)."""

    def __init__(self, events: AsyncGenerator[orchestrator_pb2.JobEvent, None], timeout: float | None, *,
                 stopping: asyncio.Event | None = None) -> None:
        self._events = events
        self._deadline = None if timeout is None else asyncio.get_running_loop().time() + timeout
        self._stopping = stopping

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> orchestrator_pb2.JobEvent:
        async with asyncio.timeout_at(self._deadline):
            try:
                return await self._events.__anext__()
            except (StopAsyncIteration, TimeoutError, asyncio.CancelledError):
                raise
            except Exception:
                # The orchestrator is stopping: its store may close under a read of the
                # events committed so far (nothing cancels this in-process stream, as a
                # server's stop cancels a gRPC one). The stream ends there, as a gRPC
                # stream would with UNAVAILABLE; the job itself is committed and resumable.
                if self._stopping is not None and self._stopping.is_set():
                    raise StopAsyncIteration from None
                raise

    def cancel(self) -> None:
        """Nothing to cancel between events (``aclose`` ends the follower)."""

    async def aclose(self) -> None:
        await self._events.aclose()


async def _serve_child(kind: str, settings: Any, pool: ConversionPool | None = None) -> None:
    if kind == "crawler":
        from crawler.server import create_server as create_crawler
        host, port = await create_crawler(settings)
    elif kind == "renderer":
        from renderer.server import create_server as create_renderer
        host, port = await create_renderer(settings)
    else:
        # The conversion workers start first (forked already by _child_main): they warm up
        # while this process creates its server.
        assert pool is not None, "_child_main forks the processor's workers"
        pool.launch()
        await asyncio.sleep(0)  # the spawn tasks hand their first worker start to a thread
        from processor.server import create_server as create_processor
        host, port = await create_processor(settings, pool=pool)
        host.cleanups.append(pool.close)
    bind: str = settings.bind
    target = bind if bind.startswith("unix:") else f"127.0.0.1:{port}"
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    # EOF on stdin: the parent closed the stack, or died.
    def wait_for_eof() -> None:
        sys.stdin.buffer.read()
        loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=wait_for_eof, name="parent-watch", daemon=True).start()
    sys.stdout.write(f"ready {target}\n")
    sys.stdout.flush()
    await stop.wait()
    await host.stop(grace=1.0)
    # Everything is closed (server, store, pool): skip the event loop's and the
    # interpreter's teardown. Not after aio.run: its close waits for the default
    # executor, where a conversion worker still warming up (a crawl shorter than that)
    # holds a thread until it is ready.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _child_main(kind: str | None = None) -> None:
    """A service child's life (``kind``: from the command line when None), started by
    docspasta/service_process.py as ``python -m docspasta.local KIND`` or forked."""
    # Ctrl-C reaches the whole process group: the parent stops the children in order.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from docspasta.service_process import KINDS, decode_settings

    if kind is None:
        kind = sys.argv[1] if len(sys.argv) > 1 else ""
    if kind not in KINDS:
        sys.exit("usage: python -m docspasta.local crawler|processor|renderer (started by LocalStack)")
    # The imports first (most of a child's start-up), while the parent works out the
    # settings: the processor's server too, so that once they come only its workers'
    # forks and the server's creation are left (it is the last child to serve).
    if kind == "crawler":
        from crawler.tls import without_default_ca_file

        with without_default_ca_file():  # aiohttp's import-time contexts, never used (crawler/tls.py)
            import crawler.server  # noqa: F401
    elif kind == "renderer":
        import renderer.server  # noqa: F401
    else:
        import processor.pool  # noqa: F401
        import processor.server  # noqa: F401
    from docspasta import metrics

    metrics.disable()  # nothing scrapes a local child (and prometheus_client stays unimported)
    line = sys.stdin.buffer.readline()
    if not line:
        os._exit(0)  # the command ended before it needed this service
    from docspasta import aio

    settings = decode_settings(line)
    pool = None
    if kind == "processor":
        # The conversion workers forked from this process now, while it runs one thread
        # and has no gRPC channel or server (so no gRPC thread), with the converter
        # imported already (processor.pool imports it): warm at the cost of a fork each
        # (processor/pool.py, prefork).
        from processor.pool import ConversionPool
        pool = ConversionPool(workers=settings.worker_count, limits=settings.limits).prefork()
    aio.run(_serve_child(kind, settings, pool))  # it ends the process once stopped


if __name__ == "__main__":
    _child_main()
