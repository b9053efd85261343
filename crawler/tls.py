"""TLS for the fetch step: one verified context, made when the first https request goes out.

aiohttp builds two SSL contexts when it is imported, and each one loads the system's CA
file: OpenSSL 3 parses every certificate in it, ~37 ms apiece here. That was ~80 ms of
the ~0.23 s a local crawl's crawler child needs before it serves, and that start-up is
the longest path to a crawl's first request. A crawl of an http:// site uses neither
context. So a crawler process imports aiohttp inside ``without_default_ca_file``, and
the fetcher passes its own context (``VerifiedContext``) with every https request: the
system's trust store (or the user's ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``), loaded once,
in a thread, the first time one is needed. aiohttp's own contexts are never used."""

from __future__ import annotations

import asyncio
import contextlib
import os
import ssl
from collections.abc import Iterator

# The variable OpenSSL reads for its default CA file ("SSL_CERT_FILE").
_CA_FILE_ENV = ssl.get_default_verify_paths().openssl_cafile_env


@contextlib.contextmanager
def without_default_ca_file() -> Iterator[None]:
    """Inside it, a context made with the default verify paths loads no CA file (the
    hashed CA directory stays, and it is read lazily, certificate by certificate).
    It changes the process's environment, so it is only for a process's start-up,
    while one thread runs: the crawler's entry points, around the import of aiohttp."""
    saved = os.environ.get(_CA_FILE_ENV)
    os.environ[_CA_FILE_ENV] = os.devnull
    try:
        yield
    finally:
        if saved is None:
            del os.environ[_CA_FILE_ENV]
        else:
            os.environ[_CA_FILE_ENV] = saved


def verified_context() -> ssl.SSLContext:
    """What aiohttp's default verified context is: certificates and host names checked
    against the default trust store, ALPN http/1.1. Blocking (it reads the CA file)."""
    context = ssl.create_default_context()
    context.set_alpn_protocols(("http/1.1",))
    return context


class VerifiedContext:
    """The fetcher's verified context, made once on first use, in a thread (its CA file
    is ~37 ms of blocking work); concurrent first requests wait for the same one."""

    def __init__(self) -> None:
        self._made: asyncio.Future[ssl.SSLContext] | None = None

    async def get(self) -> ssl.SSLContext:
        if self._made is None:
            self._made = asyncio.ensure_future(asyncio.to_thread(verified_context))
        # Shielded: a request cancelled while it waits leaves the context to the others.
        return await asyncio.shield(self._made)
