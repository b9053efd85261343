"""The reader path: one Redis reader per job per bridge process, fanning out to every
local SSE client of that job.

A ``JobFeed`` has two tasks. Its reader follows the job's stream with blocking XREADs
into an in-memory cache of the most recent entries, each encoded as an SSE frame once
(``Entry.wire``). Its writer *sweeps* the clients that are caught up ("live"): one plain
loop over them, sending each everything from its cursor to the tail as the sweep
reaches it, joined into one body, framed once (a chunk for HTTP/1.1, as is for
HTTP/1.0) and shared by every client at that cursor, written with ``transport.write``
directly: no coroutine, no task wake-up and no await per client, which is what lets one
process hold thousands of streams (the kernel's loopback send is then most of the
cost). A client late in a sweep gets what arrived while the sweep ran, so an event
waits about one sweep period, not the rest of one pass and all of the next. Sweeps are
spaced by the number of live clients (up to MAX_PASS_SPACING), so a write is shared by
every event that arrived meanwhile, and yield to the loop every PASS_SLICE clients.

A client further behind (a resume, a slow reader) catches up with its own awaited
writes (from the cache or XRANGE reads shared per cursor), then joins the live set
exactly when its cursor equals the feed's tail, with no await in between; from then on
the writer sends it exactly the entries after its cursor, so a hand-over can neither
skip nor repeat an event. A live client whose unsent bytes pass ``MAX_PENDING_BYTES``
(it stopped reading) is cut off; it resumes with Last-Event-ID like any other, and
never delays the others. While the job is unfinished the feed also makes sure some
replica pumps it: every half lease it tries to take the lease."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from itertools import islice

from bridge.buffer import Entry, EventBuffer
from bridge.pump import Pumps

log = logging.getLogger(__name__)

CACHE_ENTRIES = 2048
READ_COUNT = 500
LINGER_SECONDS = 5.0
# The bound of a live client's queue: the bytes its transport holds beyond what the
# kernel took. A client with more unsent than this is too slow: it is cut off (its
# EventSource reconnects after ``retry:`` and resumes with Last-Event-ID), so a stalled
# reader costs at most this much memory and never delays the others.
MAX_PENDING_BYTES = 1024 * 1024
# Sweeps are spaced so that one write per live client is shared by every event that
# arrives meanwhile: the next sweep starts PASS_SPACING_PER_CLIENT per live client after
# the previous one began (one client: no wait; 100: 4 ms; 1,250 and more:
# MAX_PASS_SPACING). A write costs ~10-15 µs of CPU here, mostly the kernel's loopback
# send, so the fan-out uses about a quarter of a core while sweeps are spaced; 40 µs
# rather than 20 at 1,000 clients: bridge CPU 4.3 against 6.3 s, p99 58 against 75 ms
# (bench/sse, one run, alternated). An event waits about one sweep period, so the cap
# bounds the delay where the CPU allows it; a sweep that took longer than that is
# followed at once (on a starved CPU waiting longer would only add delay; the pump and
# new connections get the loop between the slices of a sweep).
PASS_SPACING_PER_CLIENT = 40e-6
MAX_PASS_SPACING = 0.05
# Every PASS_SLICE clients a sweep yields to the loop: the pump gets one gRPC message
# per loop turn, so on a starved CPU long slices starve the pump (seen: events reaching
# Redis seconds late at 1,000+ clients with slices of 250).
PASS_SLICE = 50
# The keep-alive comment, sent by the feed to all its live clients at once when it has
# written nothing to them for the keep-alive interval (a job between events): one
# shared sweep instead of a timer, a task wake-up and a write per client every interval,
# and none at all while events flow (any bytes keep proxies and EventSource content).
PING = b": ping\n\n"
DEFAULT_KEEPALIVE_SECONDS = 15.0
# How long one metadata read serves new streams of the same job (token check, terminal).
META_SECONDS = 1.0
META_ENTRIES = 10_000


def chunk(body: bytes) -> bytes:
    """``body`` as one HTTP/1.1 chunk: the framing aiohttp's writer gives each write of
    a chunked response, done once per sweep and cursor instead of once per client."""
    return b"%x\r\n%b\r\n" % (len(body), body)


class LiveClient:
    """A caught-up stream the feed writes for. ``chunked`` is its response's framing
    (HTTP/1.1; False for HTTP/1.0, whose body is the bare bytes); ``ended`` mirrors
    ``done`` as a plain attribute, the cheapest check in a sweep's loop."""

    __slots__ = ("transport", "chunked", "cursor", "ended", "done")

    def __init__(self, transport: asyncio.Transport, cursor: int, *, chunked: bool) -> None:
        self.transport = transport
        self.chunked = chunked
        self.cursor = cursor
        self.ended = False
        self.done: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def finish(self, reason: str) -> None:
        self.ended = True
        if not self.done.done():
            self.done.set_result(reason)


class JobFeed:
    def __init__(self, hub: Hub, job_id: str) -> None:
        self.hub = hub
        self.keepalive = hub.keepalive
        self.job_id = job_id
        self.entries: deque[Entry] = deque(maxlen=CACHE_ENTRIES)
        self.tail = 0  # last sequence this feed has seen
        self.swept = 0  # every live client has been sent everything up to here
        self.terminal_sequence = 0
        self.closed = False
        self.subscribers = 0
        # Insertion-ordered: a sweep visits the clients in the order they joined.
        self.live: dict[LiveClient, None] = {}
        self._changed = asyncio.Event()
        self._work = asyncio.Event()  # set when entries arrive or the feed ends: the sweeper has work
        self._reads: dict[int, asyncio.Future[list[Entry]]] = {}  # cursor -> XRANGE in flight
        self.last_write = asyncio.get_running_loop().time()  # when a sweep last wrote
        self._task: asyncio.Task[None] | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._linger: asyncio.TimerHandle | None = None
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def start(self) -> None:
        try:
            last = await self.hub.buffer.last(self.job_id)
            if last is not None:
                self.tail = self.swept = last.sequence
                if last.terminal:
                    self.terminal_sequence = last.sequence
            if not self.terminal_sequence:
                self._task = asyncio.create_task(self._follow(), name=f"feed-{self.job_id}")
                self._sweeper = asyncio.create_task(self._sweep(), name=f"sweep-{self.job_id}")
            self.ready.set_result(None)
        except Exception as exc:  # noqa: BLE001 - handed to every acquirer through `ready`
            self.closed = True
            self.ready.set_exception(exc)
            self.ready.exception()  # marked retrieved; acquirers re-raise it

    def _publish(self, entries: list[Entry]) -> None:
        for entry in entries:
            if entry.sequence != self.tail + 1 and self.tail:
                if entry.sequence <= self.tail:
                    continue
                # Trimmed under us: never a hole in the cache, and live clients go back to
                # catching up, where they get an explicit reset.
                self.entries.clear()
                self._end_live("behind")
            self.entries.append(entry)
            self.tail = entry.sequence
            if entry.terminal:
                self.terminal_sequence = entry.sequence
        self._wake()  # clients catching up (not live) read the new entries from the cache
        self._work.set()

    async def _sweep(self) -> None:
        """The writer: while some live client is behind the tail, a sweep over all of
        them, each sent everything from its cursor to the tail *when the sweep reaches
        it* (so a client late in a sweep also gets what arrived while the sweep ran, and
        an event waits at most about one sweep, not the rest of one and all of the next).
        Sweeps begin at least ``len(live) * PASS_SPACING_PER_CLIENT`` (at most
        MAX_PASS_SPACING) apart, so a write per client is shared by every event that
        arrived meanwhile; a sweep that took longer is followed at once. Idle, it sends
        the keep-alive (no Redis involved). Ends once the feed has ended and every live
        client has been sent all of it."""
        loop = asyncio.get_running_loop()
        try:
            while True:
                if self.tail <= self.swept:
                    if self.closed or self.terminal_sequence:
                        return
                    self._work.clear()
                    ping_in = self.last_write + self.keepalive - loop.time()
                    if ping_in > 0:
                        with contextlib.suppress(TimeoutError):
                            async with asyncio.timeout(ping_in):
                                await self._work.wait()
                    elif self.live:
                        await self._ping()
                    else:
                        self.last_write = loop.time()  # nobody to keep alive
                    continue
                began = loop.time()
                await self._sweep_once()
                spacing = min(MAX_PASS_SPACING, len(self.live) * PASS_SPACING_PER_CLIENT)
                pause = began + spacing - loop.time()
                if pause > 0.001:
                    await asyncio.sleep(pause)
        finally:
            self._end_live("ended" if self.closed or self.terminal_sequence else "stopped")

    async def _sweep_once(self) -> None:
        """One sweep: each live client's missing entries (from the cache), the same
        bytes object for every client at the same cursor, written straight to its
        transport: aiohttp's response has sent its headers, and the framing is one chunk
        built here once (aiohttp's writer would build a coroutine and copy the payload
        for every client). Every PASS_SLICE clients the loop gets a turn (the pump's
        gRPC reads, the feed's reader, new connections, other jobs' feeds), so a sweep
        over thousands of clients never holds it for long."""
        self.last_write = asyncio.get_running_loop().time()
        clients = list(self.live)
        reached = self.tail  # every client swept now is at least here (clients joining meanwhile too)
        limit = MAX_PENDING_BYTES
        frames: dict[int, tuple[bytes, bytes, int] | None] = {}  # cursor -> (body, chunk, last sequence)
        frames_tail = self.tail
        # Clients sent the terminal event are finished after the sweep: each finish wakes
        # its stream, which then ends its response, and 5,000 of those between the
        # slices delayed the terminal event to the clients after them by ~0.4 s.
        completed: list[LiveClient] = []
        for start in range(0, len(clients), PASS_SLICE):
            if start:
                await asyncio.sleep(0)
            tail = self.tail
            if tail != frames_tail:
                frames, frames_tail = {}, tail
            for client in clients[start:start + PASS_SLICE]:
                cursor = client.cursor
                if client.ended or cursor >= tail:  # ended meanwhile, or joined at the tail
                    continue
                transport = client.transport
                if transport.is_closing():
                    client.finish("closed")
                    continue
                frame = frames[cursor] if cursor in frames else frames.setdefault(cursor, self._frame(cursor))
                if frame is None:  # fell out of the cache: it catches up from Redis instead
                    client.finish("behind")
                    continue
                body, framed, upto = frame
                try:
                    transport.write(framed if client.chunked else body)
                except (RuntimeError, ConnectionError):  # closed under us (uvloop raises, asyncio logs)
                    client.finish("closed")
                    continue
                client.cursor = upto
                if upto < reached:
                    reached = upto  # more than READ_COUNT behind: the rest next sweep
                if self.terminal_sequence and upto >= self.terminal_sequence:
                    completed.append(client)
                elif transport.get_write_buffer_size() > limit:
                    transport.abort()
                    client.finish("slow")
        self.swept = reached
        for client in completed:
            client.finish("terminal")

    def _frame(self, cursor: int) -> tuple[bytes, bytes, int] | None:
        batch = self.since(cursor)
        if batch is None:
            return None
        body = b"".join(e.wire for e in batch)
        return body, chunk(body), batch[-1].sequence

    async def _ping(self) -> None:
        """The keep-alive to every live client (all are at the tail: the feed is idle)."""
        self.last_write = asyncio.get_running_loop().time()
        framed = chunk(PING)
        clients = list(self.live)
        for start in range(0, len(clients), PASS_SLICE):
            if start:
                await asyncio.sleep(0)
            for client in clients[start:start + PASS_SLICE]:
                transport = client.transport
                if client.ended:
                    continue
                if transport.is_closing():
                    client.finish("closed")
                    continue
                try:
                    transport.write(framed if client.chunked else PING)
                except (RuntimeError, ConnectionError):
                    client.finish("closed")
                    continue
                if transport.get_write_buffer_size() > MAX_PENDING_BYTES:
                    transport.abort()
                    client.finish("slow")

    def join(self, transport: asyncio.Transport, cursor: int, *, chunked: bool) -> LiveClient:
        """Called exactly when ``cursor == tail``: from now on the feed writes for it."""
        client = LiveClient(transport, cursor, chunked=chunked)
        if self.closed or self.terminal_sequence:
            client.finish("ended")
        else:
            self.live[client] = None
        return client

    def leave(self, client: LiveClient) -> None:
        client.ended = True  # a sweep that took it in its snapshot skips it (its stream went away)
        self.live.pop(client, None)

    def _wake(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def _follow(self) -> None:
        """The reader: the job's new entries from Redis into the cache, for the sweeper
        and for streams catching up; every half lease it also makes sure some replica
        pumps the job."""
        buffer, pumps = self.hub.buffer, self.hub.pumps
        check_every = pumps.lease_ms / 2000
        block_ms = max(100, min(int(check_every * 1000), 5000))
        loop = asyncio.get_running_loop()
        next_check = 0.0
        errors = 0
        try:
            while not self.terminal_sequence and not self.closed:
                try:
                    if loop.time() >= next_check:
                        next_check = loop.time() + check_every
                        meta = await buffer.meta(self.job_id)
                        if meta is None:  # expired or deleted: nothing more will come
                            break
                        if not meta.get("terminal"):
                            await pumps.ensure(self.job_id, meta)
                    entries = await buffer.read_blocking(self.job_id, self.tail, block_ms=block_ms, count=READ_COUNT)
                    errors = 0
                except asyncio.CancelledError:
                    raise
                except Exception:  # noqa: BLE001 - Redis hiccup: retry with backoff
                    errors += 1
                    log.warning("feed read failed", exc_info=True, extra={"job_id": self.job_id})
                    await asyncio.sleep(min(0.1 * 2 ** errors, 5.0))
                    continue
                if entries:
                    self._publish(entries)
        finally:
            if not self.terminal_sequence:
                self.closed = True
            self._wake()
            self._work.set()  # the sweeper sends what is left, then ends the live clients

    def _end_live(self, reason: str) -> None:
        for client in self.live:
            client.finish(reason)
        self.live.clear()

    def since(self, cursor: int) -> list[Entry] | None:
        """Cached entries after ``cursor`` (at most READ_COUNT), or None when the cache
        no longer (or not yet) holds ``cursor + 1``."""
        if not self.entries:
            return None
        first = self.entries[0].sequence
        index = cursor + 1 - first
        if index < 0 or index >= len(self.entries):
            return None
        out = list(islice(self.entries, index, index + READ_COUNT))
        return out if out[0].sequence == cursor + 1 else None

    async def read_after(self, cursor: int) -> list[Entry]:
        """Buffered entries after ``cursor`` from Redis (the cache missed): one XRANGE
        shared by every stream asking for the same cursor at once, as thousands of
        EventSources do when they open or reconnect together (after a bridge restart,
        with the same Last-Event-ID). A read that reaches the tail while the cache is
        empty fills it, so the next such stream reads no Redis at all. A read of its own
        task: a stream that goes away does not cancel it for the others."""
        read = self._reads.get(cursor)
        if read is None:
            read = asyncio.ensure_future(self.hub.buffer.read_after(self.job_id, cursor, count=READ_COUNT))
            self._reads[cursor] = read
            read.add_done_callback(lambda done: self._read_done(cursor, done))
        return await asyncio.shield(read)

    def _read_done(self, cursor: int, read: asyncio.Future[list[Entry]]) -> None:
        if self._reads.get(cursor) is read:
            del self._reads[cursor]
        if read.cancelled() or read.exception() is not None:  # each waiter re-raises it; marked retrieved
            return
        batch = read.result()
        if (batch and not self.entries and batch[-1].sequence == self.tail
                and all(e.sequence == batch[0].sequence + i for i, e in enumerate(batch))):
            self.entries.extend(batch)

    async def wait(self, cursor: int, timeout: float) -> None:
        """Returns once the feed has entries after ``cursor``, ends, or ``timeout`` passes."""
        if self.tail > cursor or self.closed or self.terminal_sequence:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._changed.wait()

    async def stop(self) -> None:
        self.closed = True
        tasks = [t for t in (self._task, self._sweeper) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._end_live("stopped")
        self._wake()


class Hub:
    def __init__(self, *, buffer: EventBuffer, pumps: Pumps, keepalive: float = DEFAULT_KEEPALIVE_SECONDS) -> None:
        self.buffer = buffer
        self.pumps = pumps
        self.keepalive = keepalive
        self.feeds: dict[str, JobFeed] = {}
        self.clients = 0
        self._starting: set[asyncio.Task[None]] = set()
        self._meta: dict[str, tuple[float, asyncio.Future[dict[str, str] | None]]] = {}  # job -> (when, read)

    async def meta(self, job_id: str) -> dict[str, str] | None:
        """The job's metadata for a new event stream: one Redis read shared by every
        stream that opens within META_SECONDS (thousands of EventSources reconnecting at
        once would otherwise queue one HGETALL each for the command pool). The read is a
        task of its own, so a client that goes away does not cancel it for the others."""
        now = asyncio.get_running_loop().time()
        cached = self._meta.get(job_id)
        if cached is None or now - cached[0] > META_SECONDS or (cached[1].done() and cached[1].exception()):
            if len(self._meta) >= META_ENTRIES:
                self._meta = {k: v for k, v in self._meta.items() if now - v[0] <= META_SECONDS}
            cached = (now, asyncio.ensure_future(self.buffer.meta(job_id)))
            self._meta[job_id] = cached
        return await asyncio.shield(cached[1])

    async def acquire(self, job_id: str) -> JobFeed:
        feed = self.feeds.get(job_id)
        if feed is None or (feed.closed and not feed.terminal_sequence):
            feed = JobFeed(self, job_id)
            self.feeds[job_id] = feed
            task = asyncio.create_task(feed.start())
            self._starting.add(task)
            task.add_done_callback(self._starting.discard)
        feed.subscribers += 1
        if feed._linger is not None:
            feed._linger.cancel()
            feed._linger = None
        try:
            await asyncio.shield(feed.ready)
        except BaseException:
            self.release(feed)
            if self.feeds.get(job_id) is feed and feed.ready.done() and feed.ready.exception():
                del self.feeds[job_id]
            raise
        return feed

    def release(self, feed: JobFeed) -> None:
        feed.subscribers -= 1
        if feed.subscribers <= 0:
            feed._linger = asyncio.get_running_loop().call_later(LINGER_SECONDS, self._drop, feed)

    def _drop(self, feed: JobFeed) -> None:
        feed._linger = None
        if feed.subscribers <= 0 and self.feeds.get(feed.job_id) is feed:
            del self.feeds[feed.job_id]
            task = asyncio.create_task(feed.stop())
            self._starting.add(task)
            task.add_done_callback(self._starting.discard)

    async def close(self) -> None:
        feeds, self.feeds = list(self.feeds.values()), {}
        for feed in feeds:
            if feed._linger is not None:
                feed._linger.cancel()
        await asyncio.gather(*(f.stop() for f in feeds), *self._starting, return_exceptions=True)
