"""Docspasta's shared package: the generated gRPC contract (``docspasta.v1``) and the
small pieces every service uses (URL rules, RPC plumbing, settings, event JSON)."""

import os as _os

# gRPC's fork support is compiled on in the grpcio wheels: its pthread_atfork handlers
# restart gRPC's threads in the child of every fork(). uvloop starts subprocesses with
# fork() (libuv; asyncio's own loop uses vfork, which runs no handlers), so a child
# started while gRPC is busy — the renderer mid-crawl, Playwright's driver in the
# renderer — ran gRPC threads on state copied mid-call before its exec, and died of
# SIGSEGV now and then (2-5 % of starts with calls in flight; 0 in 600 with this off).
# No Docspasta process uses gRPC in a forked child (they exec, or are spawned), so the
# handlers are off. gRPC reads this when it is imported: hence here, before any import
# of grpc (every service package imports this one first).
_os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")
