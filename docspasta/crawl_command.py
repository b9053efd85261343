"""``docspasta crawl``: the plan (checked arguments and output targets), the run (the
local stack, the job, its events on a progress display, Ctrl-C), and the outputs."""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import logging
import shlex
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, TYPE_CHECKING

from docspasta import aio, bundle
from docspasta.cli_settings import CliSettings
from docspasta.events import category_name, event_json, event_name
from docspasta.humanize import failure_text, reason_label
from docspasta.outputs import (STDOUT, Outputs, PageTargets, Result, check_dir_target, check_file_target,
                               write_pages)
from docspasta.v1 import orchestrator_pb2 as pb
from orchestrator.options import InvalidOptions, effective_options
from orchestrator.scope import Pattern

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

    from docspasta.local import LocalStack
    from docspasta.service_process import ServiceProcess

EXIT_OK, EXIT_JOB_FAILED, EXIT_INTERRUPTED = 0, 1, 130
# How long the event stream may outlive the job's own deadline.
STREAM_SLACK_SECONDS = 120.0
# A JobEvents stream reopened this many times in a row without a new event: give up.
MAX_STREAM_REOPENS = 5
_OPTION_NAMES = {"max_pages": "--max-pages", "max_depth": "--max-depth", "concurrency": "--concurrency",
                 "timeout_seconds": "--timeout", "include_patterns": "--include", "exclude_patterns": "--exclude",
                 "allowed_domains": "--allow-domain"}

log = logging.getLogger(__name__)


class OptionsError(ValueError):
    """An option the service would refuse, named as the command line names it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CrawlPlan:
    url: str
    options: pb.JobOptions
    output: Path | None  # None: standard output
    jsonl: Path | None = None
    events: Path | None = None
    mirror: Path | None = None
    llms: Path | None = None
    stats: Path | None = None
    max_tokens: int | None = None
    split_tokens: int | None = None
    quiet: bool = False
    allow_private_network: bool = False
    command: str = ""
    resume: bool = False
    state_dir: Path | None = None  # None: the settings' state directory

    @classmethod
    def from_args(cls, args: argparse.Namespace, settings: CliSettings, *, argv: list[str]) -> CrawlPlan:
        options = job_options(args)
        try:
            effective_options(options, settings.orchestrator)
        except InvalidOptions as exc:
            text = str(exc)
            for name, flag in _OPTION_NAMES.items():
                text = text.replace(f"options.{name}", flag)
            raise OptionsError(text) from None
        output = None if args.output == STDOUT else Path(args.output or bundle.default_filename(args.url))
        if output is None and args.split_tokens:
            raise OptionsError("--split-tokens writes several files: give -o FILE, not -o -")
        files = [("-o", output), ("--jsonl", _path(args.jsonl)), ("--events", _path(args.events)),
                 ("--stats", _path(args.stats))]
        dirs = [("--dir", _path(args.dir)), ("--llms", _path(args.llms))]
        seen: dict[Path, str] = {}
        for option, path in [*files, *dirs]:
            if path is None:
                continue
            if str(path) == STDOUT:
                raise OptionsError(f"{option} -: only -o can write to standard output")
            key = path.resolve()
            if key in seen:
                raise OptionsError(f"{option} and {seen[key]} name the same path {path}")
            seen[key] = option
        for option, path in files:
            if path is not None:
                check_file_target(option, path)
        for option, path in dirs:
            if path is not None:
                check_dir_target(option, path)
        return cls(url=args.url, options=options, output=output, jsonl=_path(args.jsonl), events=_path(args.events),
                   mirror=_path(args.dir), llms=_path(args.llms), stats=_path(args.stats),
                   max_tokens=args.max_tokens, split_tokens=args.split_tokens, quiet=args.quiet,
                   allow_private_network=args.allow_private_network, command=shlex.join(["docspasta", *argv]),
                   resume=bool(getattr(args, "resume", False)),
                   state_dir=_path(getattr(args, "state_dir", None)))


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


def job_options(args: argparse.Namespace) -> pb.JobOptions:
    options = pb.JobOptions(
        max_pages=args.max_pages or 0, concurrency=args.concurrency or 0,
        timeout_seconds=args.timeout or 0.0, include_patterns=args.include, exclude_patterns=args.exclude,
        allowed_domains=args.allow_domain)
    if args.max_depth is not None:
        options.max_depth = args.max_depth  # 0 is the start page only (the field has presence)
    if args.no_robots:
        options.obey_robots = False
    if args.no_sitemaps:
        options.use_sitemaps = False
    options.render_mode = {"auto": pb.RENDER_MODE_AUTO, "always": pb.RENDER_MODE_ALWAYS,
                           "never": pb.RENDER_MODE_NEVER}[getattr(args, "render", "auto")]
    return options


# -- the run ----------------------------------------------------------------------------

@dataclass
class RunState:
    """What the events said, for the summary and the pattern warnings."""

    terminal: pb.JobEvent | None = None
    failures: list[tuple[str, str, str]] = field(default_factory=list)  # url, reason, message
    # The --include patterns, and those that matched a URL taken into the crawl (the
    # start page aside): what the warnings need, instead of every URL discovered.
    includes: tuple[str, ...] = ()
    start_url: str = ""
    matched: set[str] = field(default_factory=set)
    scope: list[str] = field(default_factory=list)
    interrupted: bool = False
    started: float = field(default_factory=time.monotonic)


class ProgressView:
    """Live counters on stderr while the job runs; the bar ends at its total. Disabled
    (``-q``), it draws nothing and rich's progress machinery is not even imported."""

    def __init__(self, console: Console, enabled: bool) -> None:
        self._enabled = enabled
        self._done = 0
        self._progress: Progress | None = None
        if not enabled:
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self._progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("queued {task.fields[queued]} · working {task.fields[in_flight]} · "
                       "failed {task.fields[failed]} · {task.fields[elapsed]}"),
            console=console, transient=False)
        self._task = self._progress.add_task("pages", total=None, queued=0, in_flight=0, failed=0, elapsed="0:00")

    def __enter__(self) -> ProgressView:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def update(self, event: pb.JobEvent) -> None:
        name = event_name(event)
        if name == "progress":
            p = event.progress
            # Pages done or failed, out of every URL taken into the crawl.
            self._done = p.processed + p.failed
            if self._progress is not None:
                self._progress.update(self._task, completed=self._done, total=max(p.discovered, self._done, 1),
                                      queued=p.queued, in_flight=p.in_flight, failed=p.failed)
        if self._progress is None:
            return
        if name == "time_update":
            t = event.time_update
            self._progress.update(self._task, elapsed=t.formatted, queued=t.queued, in_flight=t.in_flight)
        elif name == "url_failed" and not event.url_failed.will_retry:
            f = event.url_failed
            self._progress.console.print(f"[yellow]failed[/] {f.url}: {failure_text(category_name(f.error), f.message)}",
                                         highlight=False)
        elif name == "stream_connected":
            self._progress.console.print(f"scope: {'; '.join(event.stream_connected.scope)}", highlight=False)

    def finish(self, totals: pb.Totals | None) -> None:
        """The bar at its end: whatever was taken is done, failed or was skipped."""
        done = (totals.processed + totals.failed) if totals is not None else self._done
        if self._progress is not None:
            self._progress.update(self._task, completed=done, total=max(done, 1), queued=0, in_flight=0)


def crawl(plan: CrawlPlan, settings: CliSettings, *, children: Sequence[ServiceProcess] = ()) -> int:
    """Runs the crawl on the local stack (``children``: its crawler and processor, already
    started) and writes the outputs; the exit status."""
    import logging as _logging

    from docspasta import metrics

    metrics.disable()  # the command's orchestrator exposes no metrics
    _logging.basicConfig(level=_logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return aio.run(_run(plan, settings, children))
    except KeyboardInterrupt:
        # A second Ctrl-C: the temporary outputs were removed; nothing was replaced.
        _console().print("interrupted again: stopped without writing.", highlight=False)
        return EXIT_INTERRUPTED


def _console() -> Console:
    # rich is imported here, once the children have their settings: ~17 ms of the
    # command's start-up that then overlaps theirs (they are its longest path to serving).
    from rich.console import Console

    return Console(stderr=True)


async def _run(plan: CrawlPlan, settings: CliSettings, children: Sequence[ServiceProcess]) -> int:
    from docspasta import resume
    from docspasta.local import LocalStack

    crawler = settings.crawler
    if plan.allow_private_network:
        crawler = replace(crawler, allow_private_network=True, allowed_ports=None)
    # The crawl's stores live in the state directory, so an interrupted crawl can be resumed.
    crawl_state = resume.prepare(plan.state_dir or settings.state_dir, plan.url, plan.options, resume=plan.resume)
    stack = LocalStack(crawler=crawler, processor=settings.processor,
                       # Only this command's own job is run (adopted again with --resume), not
                       # whatever else an earlier run left in the store.
                       orchestrator=replace(settings.orchestrator, instance_id="local", adopt_orphans=False),
                       database_url=crawl_state.pages_url, jobs_url=crawl_state.jobs_url,
                       processes=settings.local_processes, children=children)
    try:
        stack.launch()
        console = _console()
    except BaseException:
        await stack.close()
        raise
    if plan.resume and not crawl_state.resumable:
        console.print("nothing to resume for this command: starting a new crawl", highlight=False)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    main_task = asyncio.current_task()

    def on_sigint() -> None:
        if stop.is_set():
            assert main_task is not None
            main_task.cancel()  # the second Ctrl-C: give up at once
            return
        stop.set()
        console.print("\n[yellow]interrupted:[/] stopping the crawl and writing what is done "
                      "(Ctrl-C again to quit without writing)", highlight=False)

    loop.add_signal_handler(signal.SIGINT, on_sigint)
    outputs = Outputs()
    state = RunState(includes=tuple(plan.options.include_patterns), start_url=plan.url)
    try:
        async with stack:
            orchestrator = stack.orchestrator_stub()
            import grpc
            try:
                started = await orchestrator.StartJob(pb.StartJobRequest(
                    url=plan.url, options=plan.options, request_id=crawl_state.request_id), timeout=30)
            except grpc.aio.AioRpcError as exc:
                console.print(f"[red]error:[/] {exc.details()}", highlight=False)
                return 2
            events = outputs.open(plan.events) if plan.events else None
            with ProgressView(console, enabled=not plan.quiet) as view:
                # Followed in this process, from the orchestrator's memory (no gRPC stream).
                await _follow(stack.job_events(), started, events, view, state, stop, stack)
                view.finish(_totals(state.terminal))
            result = await _write(plan, stack, started.job_id, started.job.url, outputs, state)
        if not state.interrupted:
            crawl_state.forget()  # the crawl ended and its outputs are written
    except asyncio.CancelledError:
        outputs.abort()
        raise KeyboardInterrupt from None
    except BaseException:
        outputs.abort()
        raise
    finally:
        loop.remove_signal_handler(signal.SIGINT)
    return _report(console, plan, state, result, outputs)


async def _follow(orchestrator: object, started: pb.StartJobResponse, events: IO[str] | None, view: ProgressView,
                  state: RunState, stop: asyncio.Event, stack: object) -> None:
    """Reads the job's events until its terminal one, or until Ctrl-C (then the job is
    suspended: its events up to that moment are read, its stream ends without a
    terminal event, and ``--resume`` continues it). A stream that ends early with
    UNAVAILABLE (the server recycles connections every few minutes) is reopened after
    the last event received, as the JobEvents contract asks of every client."""
    import grpc

    job_id = started.job_id
    timeout = started.job.options.timeout_seconds + STREAM_SLACK_SECONDS

    async def read() -> None:
        # One task reads the whole stream (not one per event, raced against Ctrl-C).
        last = 0
        reopened = 0  # consecutive reopenings without a new event
        after = 0
        while True:
            stream = orchestrator.JobEvents(  # type: ignore[attr-defined]
                pb.JobEventsRequest(job_id=job_id, after_sequence=after), timeout=timeout)
            try:
                async for event in stream:
                    last, reopened = event.sequence, 0
                    if events is not None:
                        events.write(event_json(event) + "\n")
                    _note(event, state)
                    view.update(event)
                return
            except grpc.aio.AioRpcError as exc:
                if state.interrupted:
                    return  # the suspended job's stream ends without a terminal event
                if exc.code() != grpc.StatusCode.UNAVAILABLE or reopened >= MAX_STREAM_REOPENS:
                    raise
                reopened += 1
                after = last
            finally:
                stream.cancel()
                if (close := getattr(stream, "aclose", None)) is not None:
                    await close()  # the in-process stream (LocalStack.job_events)

    reader = asyncio.create_task(read())
    stopper = asyncio.create_task(stop.wait())
    try:
        done, _ = await asyncio.wait({reader, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if reader not in done:
            # Ctrl-C: stop fetching; the pages done so far stay in the store.
            state.interrupted = True
            await _interrupt_job(stack)
            done, _ = await asyncio.wait({reader}, timeout=STREAM_SLACK_SECONDS)
            if not done:
                return
        reader.result()
    finally:
        stopper.cancel()
        reader.cancel()
        await asyncio.gather(stopper, reader, return_exceptions=True)


async def _interrupt_job(stack: object) -> None:
    """Ctrl-C: the job stops fetching without ending — what is processed stays stored,
    the job stays resumable (``--resume``)."""
    await stack.suspend_jobs()  # type: ignore[attr-defined]


def _note(event: pb.JobEvent, state: RunState) -> None:
    name = event_name(event)
    if name == "url_failed" and not event.url_failed.will_retry:
        f = event.url_failed
        state.failures.append((f.url, category_name(f.error) or "error", failure_text(category_name(f.error), f.message)))
    elif name == "urls_discovered":
        _match_includes(state, event.urls_discovered.discovered_urls)
    elif name == "stream_connected":
        state.scope = list(event.stream_connected.scope)
    elif name in ("job_completed", "job_failed", "job_timeout", "job_cancelled"):
        state.terminal = event


def _match_includes(state: RunState, urls: Iterable[str]) -> None:
    waiting = [text for text in state.includes if text not in state.matched]
    for text in waiting:
        pattern = _pattern(text)
        if any(u != state.start_url and pattern.matches(u) for u in urls):
            state.matched.add(text)


@functools.lru_cache(maxsize=64)
def _pattern(text: str) -> Pattern:
    return Pattern.parse(text)


def _totals(terminal: pb.JobEvent | None) -> pb.Totals | None:
    if terminal is None:
        return None
    return getattr(terminal, event_name(terminal)).totals  # type: ignore[no-any-return]


# -- the outputs --------------------------------------------------------------------------

async def _pages(stack: LocalStack, job_id: str) -> AsyncIterator[bundle.PageDoc]:
    # The job is over: what is left is this process's (the children stop meanwhile).
    stack.release_services()
    async for p in stack.stored_pages(job_id):
        yield bundle.PageDoc(url=p.url, title=p.title, markdown=p.markdown, word_count=p.word_count,
                             token_estimate=p.token_estimate, description=p.description, depth=p.depth)


def page_targets(plan: CrawlPlan) -> PageTargets:
    return PageTargets(output=plan.output, jsonl=plan.jsonl, mirror=plan.mirror, llms=plan.llms,
                       max_tokens=plan.max_tokens, split_tokens=plan.split_tokens)


def partial_notes(state: RunState) -> list[str]:
    """The notice a partial crawl's document opens with (none for a whole one)."""
    return [_partial_notice(state)] if state.interrupted or _ended(state) in ("job_timeout",) else []


async def _write(plan: CrawlPlan, stack: LocalStack, job_id: str, source_url: str, outputs: Outputs,
                 state: RunState) -> Result:
    return await write_pages(page_targets(plan), _pages(stack, job_id), outputs, source_url=source_url,
                             notes=partial_notes(state))


def _remove_stale_parts(base: Path, count: int) -> None:
    """Parts past this run's last, left by an earlier run of the same command."""
    from docspasta.parts import part_names

    k = max(count, 1) + 1
    while True:
        stale = part_names(base, k)[-1]
        if not stale.exists():
            return
        stale.unlink()
        k += 1


def _ended(state: RunState) -> str:
    return event_name(state.terminal) if state.terminal is not None else ""


def _partial_notice(state: RunState) -> str:
    if state.interrupted:
        return "partial crawl: it was interrupted (Ctrl-C) before it finished; pages not reached are missing."
    return "partial crawl: the job reached its time limit; pages not reached are missing."


def pattern_warnings(options: pb.JobOptions, state: RunState, start_url: str) -> list[str]:
    """Include patterns that matched no URL taken into the crawl (the start page aside),
    and exclude patterns when no URL was excluded."""
    warnings = []
    for text in options.include_patterns:
        if text not in state.matched:
            warnings.append(f"--include {text!r} matched no URL (see docs/scope.md for the pattern forms)")
    totals = _totals(state.terminal)
    if options.exclude_patterns and totals is not None and not totals.skipped.get("excluded", 0):
        for text in options.exclude_patterns:
            warnings.append(f"--exclude {text!r} matched no URL (see docs/scope.md for the pattern forms)")
    return warnings


def summary_dict(plan: CrawlPlan, state: RunState, result: Result, written: list[str]) -> dict[str, object]:
    totals = _totals(state.terminal) or pb.Totals()
    elapsed = totals.elapsed_seconds or (time.monotonic() - state.started)
    by_reason = Counter(reason for _, reason, _ in state.failures)
    document = result.document
    return {
        "url": plan.url,
        "state": "interrupted" if state.interrupted else (_ended(state).removeprefix("job_") or "unknown"),
        "partial": state.interrupted or _ended(state) in ("job_timeout", "job_cancelled"),
        "pages": result.pages,
        "failed": len(state.failures),
        "failed_by_reason": dict(sorted(by_reason.items())),
        "failures": [{"url": u, "reason": r, "message": m} for u, r, m in state.failures],
        "skipped": {k: v for k, v in sorted(totals.skipped.items()) if v},
        "retries": totals.retries,
        "tokens": result.tokens,
        "document_tokens": document.tokens if document else 0,
        "bytes": document.bytes if document else 0,
        "parts": len(document.files) if document else 0,
        "pages_in_document": document.pages if document else 0,
        "pages_left_out": document.omitted if document else 0,
        "elapsed_seconds": round(elapsed, 3),
        "pages_per_second": round(result.pages / elapsed, 2) if elapsed > 0 else 0.0,
        "outputs": written,
    }


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} B"


def _report(console: Console, plan: CrawlPlan, state: RunState, result: Result, outputs: Outputs) -> int:
    ended = _ended(state)
    failed = ended == "job_failed"
    if result.pages == 0:
        # Nothing to write: earlier files stay as they were. --events and --stats still tell why.
        keep = [p for p in outputs.pending if p.target in (plan.events, plan.stats)]
        outputs.pending = [p for p in outputs.pending if p not in keep]
        outputs.abort()
        outputs.pending = keep
        written, kept = outputs.commit(replace_existing=False)
    else:
        written, kept = outputs.commit(replace_existing=not failed)
    if plan.split_tokens and plan.output is not None and result.document is not None and written:
        _remove_stale_parts(plan.output, len(result.document.files))
    info = summary_dict(plan, state, result, written)
    if plan.stats is not None:
        stats = Outputs()
        with stats.open(plan.stats) as out:
            json.dump(info, out, indent=2, ensure_ascii=False)
            out.write("\n")
        stats.commit()
    for warning in pattern_warnings(plan.options, state, plan.url):
        console.print(f"[yellow]warning:[/] {warning}", highlight=False)
    label = {"job_completed": "[green]completed[/]", "job_failed": "[red]failed[/]",
             "job_timeout": "[yellow]timed out[/]", "job_cancelled": "[yellow]cancelled[/]"}.get(ended, ended)
    if state.interrupted:
        label = "[yellow]interrupted[/]"
    size = result.document.bytes if result.document else 0
    console.print(f"{label}: {result.pages} pages, {len(state.failures)} failed, ~{result.tokens:,} tokens, "
                  f"{_size(size)}, {info['elapsed_seconds']} s ({info['pages_per_second']} pages/s)", highlight=False)
    by_reason = info["failed_by_reason"]
    assert isinstance(by_reason, dict)
    for reason, count in by_reason.items():
        examples = [u for u, r, _ in state.failures if r == reason][:3]
        more = f" (+{count - len(examples)} more)" if count > len(examples) else ""
        console.print(f"  failed, {reason_label(reason)}: {count} — {', '.join(examples)}{more}", highlight=False)
    skipped = info["skipped"]
    assert isinstance(skipped, dict)
    if skipped:
        console.print("  skipped: " + ", ".join(f"{reason_label(k)} {v}" for k, v in skipped.items()),
                      highlight=False)
    document = result.document
    if document is not None and document.omitted:
        console.print(f"  --max-tokens: {document.pages} pages in the document, {document.omitted} left out",
                      highlight=False)
    for name in written:
        console.print(f"wrote {name}", highlight=False)
    for name in kept:
        console.print(f"kept {name} as it was (this crawl failed)", highlight=False)
    if result.pages == 0 and (plan.output is None or plan.output.exists()):
        console.print("nothing written: the crawl got no pages" +
                      (f"; {plan.output} was left as it was" if plan.output is not None else ""), highlight=False)
    elif result.pages == 0:
        console.print("nothing written: the crawl got no pages", highlight=False)
    if failed:
        error = state.terminal.job_failed.error if state.terminal is not None else ""
        console.print(f"[red]job failed:[/] {failure_text('', error)}", highlight=False)
    if state.interrupted:
        console.print(f"[yellow]partial crawl[/] (interrupted). To continue: {plan.command} --resume"
                      if "--resume" not in plan.command else
                      f"[yellow]partial crawl[/] (interrupted). To continue: {plan.command}", highlight=False)
        return EXIT_INTERRUPTED
    if failed or result.pages == 0:
        return EXIT_JOB_FAILED
    return EXIT_OK
