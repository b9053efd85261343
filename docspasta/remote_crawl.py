"""``docspasta crawl URL --server https://bridge...``: the crawl runs on a deployment (its
bridge) instead of this machine. The job is started through docspasta.client, its SSE
events drive the same progress display and summary as a local crawl (the stream is
resumed by Last-Event-ID after a network drop: no event missed or repeated), and its
stored pages are written by the same output code (docspasta/outputs.py), so every
output is byte for byte what a local crawl of the same pages writes.

Ctrl-C stops following, not the job: it keeps running on the server, nothing is written
(earlier files stay as they were), and the same command with ``--resume`` re-attaches
— it follows the job from its first event and writes the outputs when it ends — or
with ``--cancel`` stops the job and writes what it fetched. A lost connection the
client's retries cannot bridge ends the same way. The job id and token
needed to re-attach are kept in the state directory (docspasta/remote_jobs.py)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import shlex
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import IO
from urllib.parse import urlsplit

from rich.console import Console

from docspasta import aio, bundle
from docspasta.cli_settings import CliSettings
from docspasta.client import AsyncClient, ClientError, CrawlOptions, JobNotFound
from docspasta.crawl_command import (CrawlPlan, ProgressView, RunState, _note, _report, _totals, page_targets,
                                     partial_notes)
from docspasta.events import event_from_dict, event_json
from docspasta.outputs import Outputs, write_pages
from docspasta.remote_jobs import RemoteJob, RemoteRecord
from docspasta.v1 import orchestrator_pb2 as pb

EXIT_JOB_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130
# The bridge's request fields as the command line names them (for its refusals).
FLAGS = {"url": "URL", "max_pages": "--max-pages", "max_depth": "--max-depth", "concurrency": "--concurrency",
         "timeout_seconds": "--timeout", "include_patterns": "--include", "exclude_patterns": "--exclude",
         "allowed_domains": "--allow-domain", "use_sitemaps": "--no-sitemaps", "obey_robots": "--no-robots",
         "render": "--render"}
CANCELLED_NOTICE = "partial crawl: the job was cancelled before it finished; pages not reached are missing."
_RENDER = {pb.RENDER_MODE_AUTO: "auto", pb.RENDER_MODE_ALWAYS: "always", pb.RENDER_MODE_NEVER: "never"}



class RemoteUsageError(ValueError):
    """An option that cannot work with --server (or a bad --server), for a human."""


class NothingToCancel(ValueError):
    """--cancel, but this command left no job to cancel."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Remote:
    server: str  # the bridge's base URL, without a trailing slash
    api_key: str = ""
    # The command to show for re-attaching (the API key left out).
    command: str = ""
    # Cancel the job this command started (instead of starting or following one) and write what it has.
    cancel: bool = False


def check_server(text: str) -> str:
    """The bridge's base URL, or RemoteUsageError saying what is wrong with it."""
    text = text.strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RemoteUsageError(f"--server {text!r}: a bridge URL, e.g. https://docspasta.example.com")
    if parts.query or parts.fragment:
        raise RemoteUsageError(f"--server {text!r}: the bridge's base URL, without ?query or #fragment")
    if parts.username or parts.password:
        raise RemoteUsageError("--server: no credentials in the URL (give the API key with --api-key "
                               "or DOCSPASTA_API_KEY)")
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise RemoteUsageError(f"--server {text!r}: the port is not a number from 1 to 65535") from None
    return text.rstrip("/")


def remote_of(args: argparse.Namespace, settings: CliSettings, argv: list[str]) -> Remote | None:
    """--server and what goes with it, checked; None for a local crawl."""
    if args.server is None:
        if args.api_key is not None:
            raise RemoteUsageError("--api-key: only with --server (a local crawl needs no key)")
        if args.cancel:
            raise RemoteUsageError("--cancel: only with --server (Ctrl-C stops a local crawl)")
        return None
    server = check_server(args.server)
    if args.allow_private_network:
        raise RemoteUsageError("--allow-private-network: with --server the server's own policy decides which "
                               "targets it crawls (its operator sets BRIDGE_ALLOW_PRIVATE_NETWORK)")
    if args.api_key is not None and not args.api_key.strip():
        raise RemoteUsageError("--api-key: empty")
    key = (args.api_key or "").strip() or settings.api_key
    return Remote(server=server, api_key=key, command=_shown_command([a for a in argv if a != "--cancel"]),
                  cancel=bool(args.cancel))


def _shown_command(argv: list[str]) -> str:
    """The command line with the API key's value hidden (it is printed for re-attaching)."""
    shown: list[str] = []
    hide = False
    for arg in argv:
        if hide:
            shown.append("KEY")
            hide = False
        elif arg == "--api-key":
            shown.append(arg)
            hide = True
        elif arg.startswith("--api-key="):
            shown.append("--api-key=KEY")
        else:
            shown.append(arg)
    return shlex.join(["docspasta", *shown])


def crawl_options(options: pb.JobOptions) -> CrawlOptions:
    """The plan's JobOptions as the client's request (unset stays unset: the server's defaults)."""
    return CrawlOptions(
        max_pages=options.max_pages or None, max_depth=options.max_depth if options.HasField("max_depth") else None,
        concurrency=options.concurrency or None, timeout_seconds=options.timeout_seconds or None,
        include_patterns=tuple(options.include_patterns), exclude_patterns=tuple(options.exclude_patterns),
        allowed_domains=tuple(options.allowed_domains),
        use_sitemaps=options.use_sitemaps if options.HasField("use_sitemaps") else None,
        obey_robots=options.obey_robots if options.HasField("obey_robots") else None,
        render=_RENDER.get(options.render_mode))


def crawl_remote(plan: CrawlPlan, settings: CliSettings, remote: Remote) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    console = Console(stderr=True)
    return aio.run(_run(plan, settings, remote, console))


def _reattach_hint(remote: Remote) -> str:
    words = [w for w in shlex.split(remote.command) if w != "--resume"]
    command = shlex.join(words)
    return (f"To follow it again and write the outputs: {command} --resume  "
            f"(to stop it and write what it fetched: {command} --cancel)")


def _refusal(exc: ClientError, remote: Remote) -> str:
    if exc.code == "unauthenticated" or exc.status == 401:
        return (f"{remote.server} refused the API key: give it with --api-key or DOCSPASTA_API_KEY "
                f"({exc.message})" if remote.api_key else
                f"{remote.server} needs an API key: give it with --api-key or DOCSPASTA_API_KEY")
    if exc.code == "permission_denied" or exc.status == 403:
        return f"{remote.server} refused: {exc.message}"
    if exc.field in FLAGS:
        return f"{FLAGS[exc.field]}: {exc.message.removeprefix(exc.field + ': ')}"
    if exc.code in ("unavailable", "deadline_exceeded"):
        return f"cannot reach {remote.server}: {exc.message}"
    return f"{remote.server}: {exc}"


async def _run(plan: CrawlPlan, settings: CliSettings, remote: Remote, console: Console) -> int:
    record = RemoteRecord.of(plan.state_dir or settings.state_dir, remote.server, plan.url, plan.options)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    main_task = asyncio.current_task()
    following = False

    def on_sigint() -> None:
        if following and not stop.is_set():
            stop.set()  # stop following; the job stays on the server
        else:
            assert main_task is not None
            main_task.cancel()  # starting or downloading: give up at once, nothing written

    loop.add_signal_handler(signal.SIGINT, on_sigint)
    outputs = Outputs()
    state = RunState(includes=tuple(plan.options.include_patterns), start_url=plan.url)
    job: RemoteJob | None = None
    try:
        async with AsyncClient(remote.server, api_key=remote.api_key) as client:
            try:
                job = await _attach_or_start(client, plan, remote, record, console)
            except ClientError as exc:
                console.print(f"[red]error:[/] {_refusal(exc, remote)}", highlight=False)
                return EXIT_USAGE if exc.code not in ("unavailable", "deadline_exceeded") else EXIT_JOB_FAILED
            except NothingToCancel as exc:
                console.print(f"[red]error:[/] {exc}", highlight=False)
                return EXIT_USAGE
            events = outputs.open(plan.events) if plan.events else None
            following = True
            with ProgressView(console, enabled=not plan.quiet) as view:
                detached = await _follow(client, job, events, view, state, stop)
                view.finish(_totals(state.terminal))
            following = False
            if detached:
                outputs.abort()
                console.print(f"\n[yellow]stopped following:[/] job {job.job_id} keeps running on {remote.server}; "
                              f"nothing was written. {_reattach_hint(remote)}", highlight=False)
                return EXIT_INTERRUPTED
            result = await write_pages(page_targets(plan), _pages(client, job.job_id), outputs, source_url=job.url,
                                       notes=_notes(state))
    except asyncio.CancelledError:
        outputs.abort()
        where = f"job {job.job_id} stays on {remote.server}. {_reattach_hint(remote)}" if job else \
            "no job was started"
        console.print(f"\n[yellow]interrupted:[/] nothing written; {where}", highlight=False)
        return EXIT_INTERRUPTED
    except ClientError as exc:
        outputs.abort()
        assert job is not None
        console.print(f"[red]error:[/] {_refusal(exc, remote)}\nnothing was written; job {job.job_id} may still be "
                      f"running on the server. {_reattach_hint(remote)}", highlight=False)
        return EXIT_JOB_FAILED
    except BaseException:
        outputs.abort()
        raise
    finally:
        loop.remove_signal_handler(signal.SIGINT)
    record.forget()  # the outputs are written: nothing is left to re-attach to
    return _report(console, plan, state, result, outputs)


def _notes(state: RunState) -> list[str]:
    """A local crawl's notices (a timed-out job), and one for a job cancelled on the server."""
    if state.terminal is not None and state.terminal.WhichOneof("event") == "job_cancelled":
        return [CANCELLED_NOTICE]
    return partial_notes(state)


async def _attach_or_start(client: AsyncClient, plan: CrawlPlan, remote: Remote, record: RemoteRecord,
                           console: Console) -> RemoteJob:
    if remote.cancel:
        earlier = record.load()
        if earlier is None:
            raise NothingToCancel(f"--cancel: this command has no job on {remote.server} (it ended and its outputs "
                                  "were written, or it never started one)")
        client.remember_token(earlier.job_id, earlier.token)
        status = await client.cancel(earlier.job_id)
        if status.terminal and status.state != "cancelled":
            console.print(f"job {earlier.job_id} had already ended ({status.state}): writing its outputs",
                          highlight=False)
        else:
            console.print(f"cancelled job {earlier.job_id} on {remote.server}: writing what it fetched",
                          highlight=False)
        return earlier
    if plan.resume:
        earlier = record.load()
        if earlier is not None:
            client.remember_token(earlier.job_id, earlier.token)
            try:
                status = await client.get(earlier.job_id)
            except JobNotFound:
                console.print(f"job {earlier.job_id} is no longer on {remote.server}: starting a new crawl",
                              highlight=False)
            else:
                console.print(f"re-attached to job {earlier.job_id} on {remote.server} ({status.state})",
                              highlight=False)
                return earlier
        else:
            console.print("nothing to resume for this command: starting a new crawl", highlight=False)
    started = await client.start(plan.url, crawl_options(plan.options))
    job = RemoteJob(server=remote.server, job_id=started.job_id, token=started.token, url=started.url or plan.url)
    record.save(job)  # before following: Ctrl-C or a lost connection from here on can be re-attached
    if not plan.quiet:
        console.print(f"job {job.job_id} on {remote.server}", highlight=False)
    return job


async def _follow(client: AsyncClient, job: RemoteJob, events: IO[str] | None, view: ProgressView,
                  state: RunState, stop: asyncio.Event) -> bool:
    """The job's events, from its first, until the terminal one (False) or Ctrl-C (True:
    detached). The client reconnects a dropped stream with Last-Event-ID itself."""

    async def read() -> None:
        async for item in client.events(job.job_id):
            event = event_from_dict(item.data)
            if events is not None:
                events.write(event_json(event) + "\n")
            _note(event, state)
            view.update(event)

    reader = asyncio.create_task(read())
    stopper = asyncio.create_task(stop.wait())
    try:
        done, _ = await asyncio.wait({reader, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if reader in done:
            reader.result()
            return False
        return True
    finally:
        for task in (reader, stopper):
            task.cancel()
        await asyncio.gather(reader, stopper, return_exceptions=True)


async def _pages(client: AsyncClient, job_id: str) -> AsyncIterator[bundle.PageDoc]:
    async for page in client.iter_pages(job_id):
        yield bundle.PageDoc(url=page.url, title=page.title, markdown=page.markdown, word_count=page.word_count,
                             token_estimate=page.token_estimate, description=page.description)
