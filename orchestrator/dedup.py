"""The duplicate step: one page served under two URLs is kept once.

* Identical HTML (a content hash) is a duplicate, whatever the URLs.
* ``<link rel=canonical>`` is a claim by the page, and sites get it wrong (every page
  pointing at the home page is common), so it is honoured only where it cannot drop a
  distinct page:

  - a *variant* canonical (same host and path as the page, differing only in the query,
    the scheme, a ``www.`` or an index file name, e.g. ``/guide?lang=en`` ->
    ``/guide``): the page is that canonical URL; if it is already in the job the page
    is a duplicate, else the canonical URL is recorded so it is not fetched again;
  - a canonical to another path: only when the target is in scope, and only when both
    pages have the same main text (the page text without scripts, navigation,
    header, footer and asides). Whichever of the two is fetched second is the
    duplicate. A page whose canonical names a page with different text (the home page,
    say) is kept.
"""

from __future__ import annotations

import asyncio
import hashlib
from urllib.parse import urlsplit

from orchestrator.cache import BoundedCache
from orchestrator.persist import JobWriter
from orchestrator.store.base import HASH_CLAIM, HASH_HTML, HASH_TEXT, HashEntry, JobStore

DUPLICATE = "duplicate"
DEFAULT_CACHE = 10_000


def content_hash(html: str) -> bytes:
    return hashlib.blake2b(html.encode("utf-8", "replace"), digest_size=16).digest()


def _strip_www(host: str) -> str:
    return host.removeprefix("www.")


def is_variant(page_key: str, canonical_key: str) -> bool:
    """True when two normalised URLs differ only in query, scheme, ``www.`` or a trailing slash."""
    a, b = urlsplit(page_key), urlsplit(canonical_key)
    return _strip_www(a.netloc) == _strip_www(b.netloc) and a.path.rstrip("/") == b.path.rstrip("/")


class Dedup:
    """The job's HTML digests, kept pages' main-text hashes and canonical claims, in the
    job store (through the writer), with bounded caches in front."""

    def __init__(self, *, job_id: str, store: JobStore, writer: JobWriter, cache_size: int = DEFAULT_CACHE,
                 complete: bool = True) -> None:
        self._job_id = job_id
        self._store = store
        self._writer = writer
        self._caches = {kind: BoundedCache[frozenset[bytes]](cache_size, complete=complete)
                        for kind in (HASH_HTML, HASH_TEXT, HASH_CLAIM)}
        # Held from a lookup to the hash it records, so two pages checked at once cannot
        # both miss each other (uncontended while the caches hold everything).
        self._lock = asyncio.Lock()

    async def _values(self, kind: str, key: str) -> frozenset[bytes]:
        cache = self._caches[kind]
        cached = cache.get(key)
        if cached is None:
            cached = frozenset()
            if cache.ask_store(key):
                stored = await self._store.hash_lookup(self._job_id, kind, [key])
                cached = frozenset(stored.get(key, ()))
                cache.put(key, cached | (cache.get(key) or frozenset()))
        return cached | self._writer.hashes(kind, key)

    def _add(self, kind: str, key: str, value: bytes) -> None:
        self._writer.hash(HashEntry(kind, key, value))
        cache = self._caches[kind]
        cache.put(key, (cache.get(key) or frozenset()) | {value})

    async def same_html(self, html: str, key: str) -> bool:
        """Records the page ``key``'s HTML; True when another page had identical HTML.
        (The same page fetched again after a resume is not its own duplicate.)"""
        digest = content_hash(html).hex()
        mine = key.encode()
        async with self._lock:
            return self._record_html(digest, mine, await self._values(HASH_HTML, digest))

    def _record_html(self, digest: str, mine: bytes, pages: frozenset[bytes]) -> bool:
        # Again, after the await: another page may have recorded it meanwhile.
        pages |= self._writer.hashes(HASH_HTML, digest) | (self._caches[HASH_HTML].get(digest) or frozenset())
        if pages - {mine}:
            return True
        if not pages:
            self._add(HASH_HTML, digest, mine)
        return False

    async def has_claims(self, key: str) -> bool:
        return bool(await self._values(HASH_CLAIM, key))

    async def claimed(self, key: str, text: bytes) -> bool:
        """True when a kept page named ``key`` its canonical and has the same text."""
        return text in await self._values(HASH_CLAIM, key)

    async def canonical_duplicate(self, key: str, canonical: str, text: bytes) -> bool:
        """For a cross-path canonical in scope: True when the target was kept with the same
        text (so this page is the duplicate); else the claim is remembered for when the
        target is fetched."""
        async with self._lock:
            kept = await self._values(HASH_TEXT, canonical)
            if kept:
                return text in kept
            self._add(HASH_CLAIM, canonical, text)
            return False

    def keep(self, key: str, text: bytes) -> None:
        self._add(HASH_TEXT, key, text)
