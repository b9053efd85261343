"""The ``docspasta`` command: ``crawl`` runs the whole pipeline on this machine and
writes the Markdown; ``serve`` runs the whole system with the web page."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import IO

import grpc
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from crawler.settings import CrawlerSettings
from docspasta import bundle
from docspasta.events import event_json, event_name
from docspasta.llmstxt import llms_full_head, llms_full_section, llms_txt
from docspasta.local import LocalStack
from docspasta.mirror import write_mirror
from docspasta.v1 import orchestrator_pb2 as pb, processor_pb2
from orchestrator.settings import OrchestratorSettings
from processor.settings import ProcessorSettings

EXIT_OK, EXIT_JOB_FAILED, EXIT_USAGE = 0, 1, 2


def _positive(kind: type[int] | type[float]) -> Callable[[str], int | float]:
    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be greater than 0: {text!r}")
        return value
    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="docspasta", description="Documentation site to LLM-ready Markdown.")
    sub = parser.add_subparsers(dest="command", required=True)
    crawl = sub.add_parser("crawl", help="crawl a documentation site and write Markdown")
    crawl.add_argument("url", help="start page, e.g. https://docs.example.com/guide/")
    crawl.add_argument("-o", "--output", help="combined Markdown file (default: <host>-<date>.md)")
    crawl.add_argument("--jsonl", help="also write one JSON object per page, in crawl order")
    crawl.add_argument("--events", help="also write every job event as one JSON line")
    crawl.add_argument("--dir", help="also write one .md file per page into DIR, mirroring the site's paths")
    crawl.add_argument("--llms", metavar="DIR", help="also write DIR/llms.txt and DIR/llms-full.txt")
    crawl.add_argument("--max-pages", type=_positive(int), default=None)
    crawl.add_argument("--max-depth", type=int, default=None)
    crawl.add_argument("--concurrency", type=_positive(int), default=None)
    crawl.add_argument("--timeout", type=_positive(float), default=None, help="job deadline in seconds (300)")
    crawl.add_argument("--include", action="append", default=[], metavar="GLOB", help="only URLs matching")
    crawl.add_argument("--exclude", action="append", default=[], metavar="GLOB", help="never URLs matching")
    crawl.add_argument("--allow-domain", action="append", default=[], metavar="DOMAIN",
                       help="another host to crawl (*.example.com for subdomains)")
    crawl.add_argument("--no-robots", action="store_true", help="ignore robots.txt")
    crawl.add_argument("--no-sitemaps", action="store_true", help="do not seed from sitemaps")
    crawl.add_argument("--allow-private-network", action="store_true",
                       help="allow loopback/private targets and any port (your own local docs)")
    crawl.add_argument("-q", "--quiet", action="store_true", help="no progress display")
    serve = sub.add_parser("serve", help="run the whole system with the web page on this machine")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="HTTP port (8080; 0 picks a free one)")
    serve.add_argument("--allow-private-network", action="store_true",
                       help="allow loopback/private targets and any port (your own local docs)")
    return parser


def job_options(args: argparse.Namespace) -> pb.JobOptions:
    options = pb.JobOptions(
        max_pages=args.max_pages or 0, max_depth=args.max_depth or 0, concurrency=args.concurrency or 0,
        timeout_seconds=args.timeout or 0.0, include_patterns=args.include, exclude_patterns=args.exclude,
        allowed_domains=args.allow_domain)
    if args.no_robots:
        options.obey_robots = False
    if args.no_sitemaps:
        options.use_sitemaps = False
    return options


class ProgressView:
    """Live counters on stderr while the job runs."""

    def __init__(self, console: Console, enabled: bool) -> None:
        self._progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("queued {task.fields[queued]} · in flight {task.fields[in_flight]} · "
                       "failed {task.fields[failed]} · {task.fields[elapsed]}"),
            console=console, transient=False, disable=not enabled)
        self._task = self._progress.add_task("pages", total=1, queued=0, in_flight=0, failed=0, elapsed="0:00")
        self._failed = 0
        self._console = console
        self._enabled = enabled

    def __enter__(self) -> ProgressView:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def update(self, event: pb.JobEvent) -> None:
        name = event_name(event)
        if name == "progress":
            p = event.progress
            self._failed = p.failed
            self._progress.update(self._task, completed=p.processed, total=max(p.discovered, 1),
                                  queued=p.queued, in_flight=p.in_flight, failed=p.failed)
        elif name == "time_update":
            t = event.time_update
            self._progress.update(self._task, elapsed=t.formatted, completed=t.processed,
                                  total=max(t.discovered, 1), queued=t.queued, in_flight=t.in_flight)
        elif name == "url_failed" and self._enabled and not event.url_failed.will_retry:
            f = event.url_failed
            self._progress.console.print(f"[yellow]failed[/] {f.url}: {f.message}", highlight=False)
        elif name == "stream_connected" and self._enabled:
            self._progress.console.print(f"scope: {'; '.join(event.stream_connected.scope)}", highlight=False)


async def run_crawl(args: argparse.Namespace, console: Console) -> int:
    crawler_settings = CrawlerSettings.from_env()
    if args.allow_private_network:
        crawler_settings = replace(crawler_settings, allow_private_network=True, allowed_ports=None)
    # Crawler and processor in their own processes, so the crawl uses more than one core
    # (DOCSPASTA_LOCAL_PROCESSES=0: everything in this process).
    stack = LocalStack(crawler=crawler_settings, processor=ProcessorSettings.from_env(),
                       orchestrator=replace(OrchestratorSettings.from_env(), instance_id="local"),
                       processes=os.environ.get("DOCSPASTA_LOCAL_PROCESSES", "1") != "0")
    events_file: IO[str] | None = open(args.events, "w", encoding="utf-8") if args.events else None
    try:
        async with stack:
            orchestrator = stack.orchestrator_stub()
            try:
                started = await orchestrator.StartJob(pb.StartJobRequest(url=args.url, options=job_options(args)),
                                                      timeout=30)
            except grpc.aio.AioRpcError as exc:
                console.print(f"[red]error:[/] {exc.details()}")
                return EXIT_USAGE
            job_id = started.job_id
            terminal: pb.JobEvent | None = None
            with ProgressView(console, enabled=not args.quiet) as view:
                # The stream has no end but the job's: its deadline is the job's plus slack.
                timeout = started.job.options.timeout_seconds + 120
                async for event in orchestrator.JobEvents(pb.JobEventsRequest(job_id=job_id), timeout=timeout):
                    if events_file is not None:
                        events_file.write(event_json(event) + "\n")
                    view.update(event)
                    terminal = event
            output = Path(args.output or bundle.default_filename(started.job.url))
            index = await write_outputs(args, stack, job_id, started.job.url, output)
    finally:
        if events_file is not None:
            events_file.close()
    return summarize(console, terminal, index, output)


async def write_outputs(args: argparse.Namespace, stack: LocalStack, job_id: str, source_url: str,
                        output: Path) -> list[bundle.PageDoc]:
    """Streams the stored pages twice, holding one page's Markdown at a time: the first
    pass writes JSONL and the per-page files and notes each page's URL, title and
    counts; the second writes the combined document and llms-full.txt, whose table of
    contents and links need every page known first. Returns the pages without text."""

    async def pages() -> AsyncIterator[bundle.PageDoc]:
        call = stack.processor_stub().ListPages(processor_pb2.ListPagesRequest(job_id=job_id), timeout=600)
        async for p in call:
            yield bundle.PageDoc(url=p.url, title=p.title, markdown=p.markdown, word_count=p.word_count,
                                 token_estimate=p.token_estimate, description=p.description, depth=p.depth)

    index: list[bundle.PageDoc] = []
    mirror = Path(args.dir) if args.dir else None
    with contextlib.ExitStack() as files:
        jsonl = files.enter_context(open(args.jsonl, "w", encoding="utf-8")) if args.jsonl else None
        used: set[PurePosixPath] = set()
        async for doc in pages():
            index.append(replace(doc, markdown=""))
            if jsonl is not None:
                jsonl.write(bundle.jsonl_line(doc))
            if mirror is not None:
                write_mirror([doc], mirror, source_url=source_url, used=used)
    llms = Path(args.llms) if args.llms else None
    with contextlib.ExitStack() as files:
        combined = bundle.CombinedWriter(files.enter_context(open(output, "w", encoding="utf-8")), index,
                                         source_url=source_url)
        full: IO[str] | None = None
        if llms is not None:
            llms.mkdir(parents=True, exist_ok=True)
            (llms / "llms.txt").write_text(llms_txt(index, source_url=source_url), encoding="utf-8")
            full = files.enter_context(open(llms / "llms-full.txt", "w", encoding="utf-8"))
            full.write(llms_full_head(index, source_url=source_url))
        async for doc in pages():
            combined.add(doc)
            if full is not None:
                full.write(llms_full_section(doc))
    return index


def summarize(console: Console, terminal: pb.JobEvent | None, docs: list[bundle.PageDoc], output: Path) -> int:
    name = event_name(terminal) if terminal is not None else ""
    totals = getattr(terminal, name).totals if name else pb.Totals()
    tokens = sum(d.token_estimate for d in docs)
    skipped = ", ".join(f"{k} {v}" for k, v in sorted(totals.skipped.items()) if v) or "none"
    console.print(f"{name or 'no terminal event'}: {totals.processed} pages, {totals.failed} failed, "
                  f"~{tokens} tokens, {totals.elapsed_seconds:.1f} s; skipped: {skipped}", highlight=False)
    console.print(f"wrote {output}", highlight=False)
    if name == "job_failed":
        console.print(f"[red]job failed:[/] {terminal.job_failed.error}")  # type: ignore[union-attr]
        return EXIT_JOB_FAILED
    if name in ("job_timeout", "job_cancelled"):
        return EXIT_JOB_FAILED if not docs else EXIT_OK
    return EXIT_OK if name == "job_completed" else EXIT_JOB_FAILED


async def run_serve(args: argparse.Namespace, console: Console) -> int:
    """Crawler, processor and orchestrator (LocalStack, SQLite), an embedded Redis unless
    REDIS_URL is set, and the bridge with the page; runs until Ctrl-C or SIGTERM."""
    from bridge.server import create_server as create_bridge, wait_for_signal
    from bridge.settings import BridgeSettings

    crawler_settings = CrawlerSettings.from_env()
    if args.allow_private_network:
        crawler_settings = replace(crawler_settings, allow_private_network=True, allowed_ports=None)
    stack = LocalStack(crawler=crawler_settings, processor=ProcessorSettings.from_env(),
                       orchestrator=replace(OrchestratorSettings.from_env(), instance_id="local"))
    async with stack:
        settings = replace(BridgeSettings.from_env(), host=args.host, port=args.port,
                           orchestrator_target=stack.orchestrator_target, processor_target=stack.processor_target,
                           allow_private_network=args.allow_private_network)
        try:
            runner, port = await create_bridge(settings)
        except OSError as exc:
            console.print(f"[red]error:[/] cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")
            return EXIT_USAGE
        try:
            host = f"[{args.host}]" if ":" in args.host else args.host
            print(f"Docspasta is running: open http://{host}:{port}/  (Ctrl-C to stop)", flush=True)
            await wait_for_signal()
            console.print("stopping...")
        finally:
            await runner.cleanup()
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    console = Console(stderr=True)
    if args.command == "crawl":
        try:
            return asyncio.run(run_crawl(args, console))
        except KeyboardInterrupt:
            return 130
    if args.command == "serve":
        try:
            return asyncio.run(run_serve(args, console))
        except KeyboardInterrupt:
            return 130
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
