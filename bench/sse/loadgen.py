"""One load-generator process of the SSE benchmark: M raw connections to one job's
event stream, far cheaper per event than the bridge it measures.

No asyncio and no SSE parser: plain non-blocking sockets on one epoll. A
received buffer is cut at its last complete event; its first and last ``id:`` give
the events it holds (every read must start right after the previous one's last id),
and for each the delay now − emit time goes into a histogram of 0.1 ms buckets. On one
connection in VERIFY_EVERY the count of ``id:`` lines of every read (found in C) also
proves the read itself gapless: that count scans every byte (~2 µs per KiB here, 50 µs
for the 20 KiB a starved bridge's passes carry), which on every connection made the
generators cost as much CPU as the bridge they measure; the bridge writes the same
bytes object to all its live clients, so a hole inside a pass shows on the counted
connections too. The emit time (the event's ``timestamp``, set by the orchestrator) is parsed
once per process, by the first connection that sees the event. Each connection also
checks that the terminal event arrived.
Works with HTTP/1.1 chunked bodies (chunk-size lines never start an ``id:`` line) and
HTTP/1.0 plain ones.

Talks to bench/sse/run.py over stdout, one JSON object a line:
``{"ready": n, "failed": n}`` once every connection has received the job's first event
(so it is caught up and live), then ``{"done": ...}`` with the histogram when every
connection ended or ``--deadline`` passed.

    python bench/sse/loadgen.py --port P --path '/api/jobs/ID/events?token=T' --connections M
"""

from __future__ import annotations

import argparse
import gc
import json
import re
import resource
import select
import socket
import sys
import time
from collections.abc import Callable
from datetime import datetime

# id, event name and the timestamp of one SSE event as the bridge frames it
# (docspasta/events.py: "type", "job_id", "sequence", "timestamp" lead the JSON).
EVENT = re.compile(rb'id: (\d+)\nevent: (\w+)\ndata: \{[^\n]*?"timestamp":"([^"]+)"')
TERMINAL = {b"job_completed", b"job_failed", b"job_timeout", b"job_cancelled"}
BUCKET_S = 0.0001                  # histogram resolution: 0.1 ms
BUCKETS = 200_000                  # up to 20 s; later ones land in the last bucket
VERIFY_EVERY = 8
# Below glibc's mmap threshold (128 KiB): a larger recv() buffer is mmap'ed and
# unmapped on every call, which costs more than the read itself.
RECV_BYTES = 65536


class Shared:
    """What every connection of this process adds to."""

    def __init__(self, connections: int) -> None:
        self.connections = connections
        self.ready = 0
        self.failed = 0
        self.ended = 0
        self.complete = 0
        self.gaps = 0
        self.bytes = 0
        # Emit time by sequence, parsed once per process (the first connection to see it).
        self.stamps: list[float] = [0.0]
        self.terminal = 0  # sequence of the terminal event, once seen
        self.reads: list[tuple[float, int, int]] = []  # (received at, first, last sequence)
        self.errors: dict[str, int] = {}

    def slowest(self, n: int = 5) -> list[tuple[float, int]]:
        """The ``n`` largest delays (ms) with their sequences, over every read's first event."""
        firsts = sorted(((now - self.stamps[low]) * 1000, low) for now, low, _high in self.reads)
        return [(round(d, 1), seq) for d, seq in firsts[-n:]]

    def histogram(self) -> tuple[dict[int, int], float, int]:
        """Every (event, connection) delay in 0.1 ms buckets, the largest, the count."""
        hist: dict[int, int] = {}
        worst = 0.0
        events = 0
        stamps, last_bucket = self.stamps, BUCKETS - 1
        for now, low, high in self.reads:
            events += high - low + 1
            for sequence in range(low, high + 1):
                delay = now - stamps[sequence]
                bucket = min(max(int(delay / BUCKET_S), 0), last_bucket)
                hist[bucket] = hist.get(bucket, 0) + 1
                worst = max(worst, delay)
        return hist, worst, events

    def learn(self, body: bytes, cut: int) -> None:
        for match in EVENT.finditer(body, 0, cut + 2):
            sequence = int(match[1])
            while len(self.stamps) <= sequence:
                self.stamps.append(0.0)
            self.stamps[sequence] = datetime.fromisoformat(match[3].decode()).timestamp()
            if match[2] in TERMINAL:
                self.terminal = sequence


class SSEConnection:
    """One stream: a non-blocking socket read whenever epoll says it is readable."""

    __slots__ = ("shared", "sock", "head", "body", "in_body", "last", "was_ready", "finished", "verify")

    def __init__(self, shared: Shared, sock: socket.socket, *, verify: bool) -> None:
        self.shared = shared
        self.verify = verify  # count every read's events (see the module's docstring)
        self.sock = sock
        self.head = b""
        self.body = b""
        self.in_body = False
        self.last = 0
        self.was_ready = False
        self.finished = False

    def readable(self) -> None:
        try:
            data = self.sock.recv(RECV_BYTES)
        except BlockingIOError:
            return
        except OSError as exc:
            self.end(type(exc).__name__)
            return
        now = time.time()
        if not data:
            self.end("closed early")
            return
        shared = self.shared
        shared.bytes += len(data)
        if not self.in_body:
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return
            status = self.head[:self.head.find(b"\r\n")].split(b" ")
            if len(status) < 2 or status[1] != b"200":
                self.end(f"status {status[1].decode() if len(status) > 1 else '?'}")
                return
            self.in_body = True
            data, self.head = self.head[end + 4:], b""
        body = self.body + data if self.body else data
        cut = body.rfind(b"\n\n")
        if cut < 0:
            self.body = body
            return
        self.body = body[cut + 2:]
        # The bridge writes whole events in sequence order, so a read's events are the
        # ids from its first to its last: counting the id lines (in C) and comparing with
        # that span checks the read is gapless without a Python step per event.
        first = body.find(b"id: ")
        if first < 0 or first > cut:
            return
        low = int(body[first + 4:body.index(b"\n", first)])
        at = body.rfind(b"\nid: ", first, cut) + 1 or first
        high = int(body[at + 4:body.index(b"\n", at)])
        if low != self.last + 1:
            shared.gaps += 1
        elif self.verify and high - low + 1 != body.count(b"\nid: ", first, cut) + 1:
            shared.gaps += 1
        self.last = high
        if low == 1:  # stream_connected, emitted before the clients connected
            if not self.was_ready:
                self.was_ready = True
                shared.ready += 1
            low = 2
            if high < 2:
                return
        if high >= len(shared.stamps):
            shared.learn(body, cut)
        # The delays are worked out after the run: here, one tuple per read.
        shared.reads.append((now, low, high))
        if shared.terminal and high >= shared.terminal:
            shared.complete += 1
            self.end(None)

    def end(self, error: str | None) -> None:
        if self.finished:
            return
        self.finished = True
        shared = self.shared
        if error and not self.was_ready:
            shared.failed += 1
        shared.ended += 1
        if error:
            shared.errors[error] = shared.errors.get(error, 0) + 1
        self.sock.close()


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def emit(message: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--path", required=True)
    ap.add_argument("--connections", type=int, required=True)
    ap.add_argument("--http", choices=["1.0", "1.1"], default="1.1")
    ap.add_argument("--poll-interval", type=float, default=0.002,
                    help="sleep between polls when there are several connections (s)")
    ap.add_argument("--deadline", type=float, default=300.0, help="give up after this many seconds")
    args = ap.parse_args()
    # Nothing here makes reference cycles, and the reads list grows to 100,000s of
    # tuples: the collector's full passes over it would be stalls charged to the bridge.
    gc.disable()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # this process only
    shared = Shared(args.connections)
    request = (f"GET {args.path} HTTP/{args.http}\r\nHost: {args.host}:{args.port}\r\n"
               f"Accept: text/event-stream\r\n\r\n").encode()
    deadline = time.monotonic() + args.deadline
    poller = select.epoll()
    conns: dict[int, SSEConnection] = {}
    started = time.time()
    for _ in range(args.connections):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.settimeout(max(1.0, deadline - time.monotonic()))
        try:
            sock.connect((args.host, args.port))
            sock.sendall(request)
        except OSError as exc:
            sock.close()
            shared.failed += 1
            shared.ended += 1
            shared.errors[type(exc).__name__] = shared.errors.get(type(exc).__name__, 0) + 1
            continue
        sock.setblocking(False)
        conns[sock.fileno()] = SSEConnection(shared, sock, verify=len(conns) % VERIFY_EVERY == 0)
        poller.register(sock.fileno(), select.EPOLLIN)

    # With many connections, a short sleep between polls lets each poll find many
    # readable sockets (one wake-up for all of them instead of one per write the bridge
    # makes); it can only add to the delays measured, by at most the interval.
    interval = args.poll_interval if args.connections > 1 else 0.0

    def pump(until: Callable[[], bool]) -> None:
        while not until() and time.monotonic() < deadline:
            for fd, _mask in poller.poll(0.5):
                conn = conns.get(fd)
                if conn is None:
                    continue
                conn.readable()
                if conn.finished:
                    del conns[fd]
            if interval:
                time.sleep(interval)

    pump(lambda: shared.ready + shared.failed >= shared.connections)
    emit({"ready": shared.ready, "failed": shared.failed, "connect_seconds": round(time.time() - started, 3),
          "cpu_s": cpu()})
    pump(lambda: shared.ended >= shared.connections)
    streamed_cpu = cpu()  # the generator's load while it competed with the bridge
    hist, worst, events = shared.histogram()
    emit({"done": True, "ready": shared.ready, "failed": shared.failed, "complete": shared.complete,
          "incomplete": shared.ready - shared.complete, "gaps": shared.gaps, "events": events,
          "reads": len(shared.reads), "bytes": shared.bytes, "max_ms": worst * 1000,
          "bucket_ms": BUCKET_S * 1000, "hist": hist, "errors": shared.errors, "cpu_s": streamed_cpu,
          "slowest": shared.slowest()})
    for conn in conns.values():
        conn.sock.close()


if __name__ == "__main__":
    main()
