"""The frontier: URLs waiting to be crawled, shallow before deep, and the seen set of
every URL key the job knows. Both live in the job store (one row per key, see
orchestrator/store/base.py); memory holds a bounded *window* of the queue and a
bounded cache of keys.

Each host has its own queue in the window, so a host that is paused (Retry-After,
crawl delay) or at its concurrency limit does not hold back the others: ``pop`` takes
the shallowest URL among the hosts that are ready.

The window is every queued row up to a cursor in (depth, order); rows past the cursor
wait in the store (``stored`` counts them) and are read in by ``refill`` when the
window runs low. A row admitted below the cursor goes to the window at once, so
shallow-first holds; a window grown past twice its size gives its deepest rows back.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from orchestrator.cache import BoundedCache
from orchestrator.persist import JobWriter
from orchestrator.store.base import (F_DONE, F_FAILED, F_IN_FLIGHT, F_QUEUED, F_SEEN, F_SKIPPED, FrontierEntry,
                                     JobStore)

DEFAULT_WINDOW = 2000
DEFAULT_SEEN_CACHE = 20_000
# Keys read per query while warming the seen cache of a resumed job.
_WARM_BATCH = 5000


@dataclass(order=True, slots=True)
class Item:
    depth: int
    order: int
    url: str = field(compare=False)  # the form fetched
    key: str = field(compare=False)  # the normalised form, for dedup
    host: str = field(compare=False, default="")  # host[:port] of the key, the politeness unit
    discovered_from: str = field(compare=False, default="")
    attempts: int = field(compare=False, default=0)

    def entry(self, state: str, reason: str = "") -> FrontierEntry:
        return FrontierEntry(key=self.key, url=self.url, depth=self.depth, order=self.order, state=state,
                             reason=reason, attempts=self.attempts, discovered_from=self.discovered_from)


def host_key(url: str) -> str:
    return urlsplit(url).netloc.lower()


@dataclass(frozen=True, slots=True)
class Known:
    """What the job knows of a key: taken (queued, fetched, or another form of a page
    taken), or left out at admission with a reason."""
    state: str
    reason: str = ""
    depth: int = 0
    source: str = ""  # the page it was discovered on (for ``seen``: the page it is another form of)

    @property
    def taken(self) -> bool:
        return self.state != F_SKIPPED


class Frontier:
    def __init__(self, *, job_id: str, store: JobStore, writer: JobWriter, window: int = DEFAULT_WINDOW,
                 seen_cache: int = DEFAULT_SEEN_CACHE) -> None:
        self._job_id = job_id
        self._store = store
        self._writer = writer
        self._window_size = max(1, window)
        self._queues: dict[str, list[Item]] = {}
        self._window = 0
        self._cursor = (-1, -1)
        self.stored = 0  # queued rows past the cursor, in the store only
        self._counter = itertools.count(1)
        self._refilling: list[Item] | None = None
        self.known = BoundedCache[Known](seen_cache)
        self.seen_count = 0
        # Held from a lookup to the rows it leads to (admission, mark_seen): a key written by
        # another admission while this one queried the store could otherwise be evicted
        # from the cache and committed unseen, and be taken twice. Uncontended (no await
        # inside) while the cache holds every key.
        self.admission = asyncio.Lock()

    def __len__(self) -> int:
        return self._window + self.stored

    @property
    def window_len(self) -> int:
        return self._window

    # -- resume ----------------------------------------------------------------

    async def restore(self, *, seen_count: int, on_row: Callable[[FrontierEntry], None] | None = None) -> None:
        """Picks up a job's stored frontier: counts, the next order, a warm seen cache
        (``on_row`` sees each row read, to rebuild other per-URL state)."""
        summary = await self._store.frontier_summary(self._job_id)
        self.stored = summary.counts.get(F_QUEUED, 0)
        self._counter = itertools.count(summary.max_order + 1)
        self.seen_count = seen_count or sum(n for s, n in summary.counts.items() if s != F_SKIPPED)
        self.known = BoundedCache[Known](self.known.capacity, complete=False)
        after = ""
        while len(self.known) < self.known.capacity:
            limit = min(_WARM_BATCH, self.known.capacity - len(self.known))
            rows = await self._store.frontier_scan(self._job_id, after_key=after, limit=limit)
            for row in rows:
                self.known.put(row.key, Known(row.state, row.reason, row.depth, row.discovered_from))
                if on_row is not None:
                    on_row(row)
            if len(rows) < limit:
                self.known.mark_complete()  # every row fitted
                break
            after = rows[-1].key

    # -- the seen set ------------------------------------------------------------

    def peek(self, key: str) -> Known | None:
        """What memory knows of ``key`` (cache or not yet committed rows)."""
        known = self.known.get(key)
        if known is not None:
            return known
        entry = self._writer.frontier_entry(key)
        if entry is not None:
            return Known(entry.state, entry.reason, entry.depth, entry.discovered_from)
        return None

    async def lookup(self, keys: Iterable[str]) -> dict[str, Known]:
        """What the job knows of each key (absent: never seen), from memory or the store:
        a snapshot, so rows the caller then writes cannot evict what it was told."""
        found: dict[str, Known] = {}
        missing: list[str] = []
        for key in keys:
            known = self.peek(key)
            if known is not None:
                found[key] = known
            else:
                missing.append(key)
        ask = [key for key in dict.fromkeys(missing) if self.known.ask_store(key)]
        if ask:
            for key, row in (await self._store.frontier_lookup(self._job_id, ask)).items():
                # A row written while we asked is newer in memory.
                known = self.peek(key) or Known(row.state, row.reason, row.depth, row.discovered_from)
                self.known.put(key, known)
                found[key] = known
        return found

    def _remember(self, entry: FrontierEntry) -> None:
        self._writer.frontier(entry)
        self.known.put(entry.key, Known(entry.state, entry.reason, entry.depth, entry.discovered_from))

    async def mark_seen(self, key: str, url: str, *, source: str) -> bool:
        """Records ``key`` as another form of the page ``source`` (a redirect target, a
        canonical URL); False when the key was already taken by another page."""
        known = (await self.lookup([key])).get(key)
        known = self.peek(key) or known  # anything admitted while we asked
        if known is not None and known.state == F_SEEN and known.source == source:
            return True  # recorded by an earlier attempt at this same page (before a resume)
        if known is not None and known.taken:
            return False
        self.seen_count += 1
        self._remember(FrontierEntry(key=key, url=url, depth=0, order=next(self._counter), state=F_SEEN,
                                     discovered_from=source))
        return True

    def reject(self, key: str, url: str, depth: int, reason: str, *, source: str) -> None:
        self._remember(FrontierEntry(key=key, url=url, depth=depth, order=0, state=F_SKIPPED, reason=reason,
                                     discovered_from=source))

    # -- the queue ---------------------------------------------------------------

    def push(self, key: str, url: str, depth: int, *, source: str = "") -> None:
        """Queues a key the caller found untaken (``lookup`` then ``peek``)."""
        item = Item(depth, next(self._counter), url, key, host_key(key), source)
        self.seen_count += 1
        self._remember(item.entry(F_QUEUED))
        self._place(item)

    def _place(self, item: Item) -> None:
        if (item.depth, item.order) < self._cursor or (self.stored == 0 and self._window < self._window_size
                                                       and self._refilling is None):
            self._add(item)
            self._cursor = max(self._cursor, (item.depth, item.order))
            if self._window > 2 * self._window_size:
                self._shrink()
        else:
            self.stored += 1
            if self._refilling is not None:
                self._refilling.append(item)

    def _add(self, item: Item) -> None:
        heapq.heappush(self._queues.setdefault(item.host, []), item)
        self._window += 1

    def _shrink(self) -> None:
        """Keeps the shallowest ``window`` items; the rest wait in the store."""
        items = sorted(i for q in self._queues.values() for i in q)
        keep, drop = items[:self._window_size], items[self._window_size:]
        self._queues = {}
        self._window = 0
        for item in keep:
            self._add(item)
        self._cursor = (keep[-1].depth, keep[-1].order)
        self.stored += len(drop)

    def needs_refill(self) -> bool:
        return self.stored > 0 and self._window < self._window_size // 2 and self._refilling is None

    async def refill(self) -> None:
        """Reads the next queued rows past the cursor into the window."""
        if self._refilling is not None:
            return
        self._refilling = []
        try:
            await self._writer.flush()  # rows admitted past the cursor are read back from the store
            want = self._window_size - self._window
            rows = await self._store.frontier_queued(self._job_id, after=self._cursor, limit=want)
        finally:
            late, self._refilling = self._refilling, None
        got = {row.key for row in rows}
        for row in rows:
            self._add(Item(row.depth, row.order, row.url, row.key, host_key(row.key), row.discovered_from,
                           row.attempts))
        if rows:
            self._cursor = max(self._cursor, (rows[-1].depth, rows[-1].order))
        # Rows admitted while we read may or may not have been committed in time.
        outside = [i for i in late if i.key not in got]
        if len(rows) < want:
            self.stored = len(outside)  # the store had nothing more
        else:
            self.stored -= len(rows)
        for item in outside:
            if (item.depth, item.order) <= self._cursor:
                self._add(item)
                self.stored -= 1

    def pop(self, ready: Callable[[str], bool] | None = None) -> Item | None:
        """The shallowest (then oldest) item of a ready host; None when there is none.
        The item is in flight from now on."""
        best: list[Item] | None = None
        for host, queue in self._queues.items():
            if queue and (best is None or queue[0] < best[0]) and (ready is None or ready(host)):
                best = queue
        if best is None:
            return None
        item = heapq.heappop(best)
        if not best:
            del self._queues[item.host]
        self._window -= 1
        item.attempts += 1
        self._remember(item.entry(F_IN_FLIGHT))
        return item

    def done(self, item: Item, *, failed: bool = False, reason: str = "") -> None:
        """The URL is finished: processed, failed, or left out after the fetch (``reason``)."""
        self._remember(item.entry(F_FAILED if failed else F_DONE, reason))
