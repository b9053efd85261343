"""The ``docspasta`` command: ``crawl`` runs the whole pipeline on this machine and
writes the Markdown; ``serve`` runs the whole system with the web page.

Everything a user can get wrong (the URL, an option, an output path) is checked before
the crawl starts, and the heavy modules are imported only after that, so a mistake
is answered at once. ``crawl`` starts its two service processes before those checks
(once the URL is known good), forked once this process has imported what the three
share (docspasta/service_process.py): they spend their first ~0.2 s importing their own
services, in parallel with this process's own start-up, and a mistake found meanwhile
just ends them."""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from collections.abc import Callable
from typing import TYPE_CHECKING, NoReturn

from docspasta.urls import InvalidURL, normalize

if TYPE_CHECKING:
    from docspasta.cli_settings import CliSettings
    from docspasta.service_process import ServiceProcess

EXIT_OK, EXIT_JOB_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
# The service's defaults and bounds, shown in --help (orchestrator/settings.py has the
# same constants; they are repeated here so --help and a bad URL need no heavy import).
DEFAULTS = {"max_pages": 5000, "max_depth": 20, "concurrency": 10, "timeout": 300.0}
LIMITS = {"max_pages": 100_000, "max_depth": 100, "concurrency": 200, "timeout": 86_400.0}
MIN_SPLIT_TOKENS = 500
_HOSTLIKE = re.compile(r"^(?:[\w-]+\.)*[\w-]+(?::\d+)?(?:[/?#]|$)")


def _version() -> str:
    from importlib import metadata  # only for --version: it costs ~40 ms of every start

    try:
        return metadata.version("docspasta")
    except metadata.PackageNotFoundError:
        return "unknown"


class _VersionAction(argparse.Action):
    """--version, with the installed version looked up only when asked for."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, **kwargs: object) -> None:
        super().__init__(option_strings, dest=dest, nargs=0, default=argparse.SUPPRESS,
                         help="show program's version number and exit")

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object,
                 option_string: str | None = None) -> None:
        sys.stdout.write(f"docspasta {_version()}\n")
        parser.exit()


def _number(kind: type[int] | type[float], *, minimum: float, maximum: float | None = None,
            limit_name: str = "") -> Callable[[str], int | float]:
    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected {'a whole number' if kind is int else 'a number'}, got {text!r}") from None
        if value != value or value < minimum:  # NaN, or too small
            raise argparse.ArgumentTypeError(f"must be at least {minimum:g}, got {text}")
        if maximum is not None and value > maximum:
            hint = f" (the limit; {limit_name} raises it)" if limit_name else ""
            raise argparse.ArgumentTypeError(f"must be at most {maximum:g}{hint}, got {text}")
        return value
    return parse


class _Help(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    pass


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="docspasta", description="Documentation site to LLM-ready Markdown.")
    parser.add_argument("--version", action=_VersionAction)
    sub = parser.add_subparsers(dest="command", required=True)
    crawl = sub.add_parser(
        "crawl", help="crawl a documentation site and write Markdown", formatter_class=argparse.RawTextHelpFormatter,
        description="Crawl a documentation site on this machine (or on a deployment: --server) and write it "
                    "as Markdown.",
        epilog="Outputs are written to temporary files and renamed into place when the crawl ends:\n"
               "a failed or empty crawl never replaces an existing file. Ctrl-C stops fetching and\n"
               "writes what is done (with --server: stops following, the job goes on; --resume or\n"
               "--cancel then). Exit status: 0 done, 1 the job failed, 2 bad arguments,\n"
               "130 interrupted. Pattern rules: docs/scope.md.")
    crawl.add_argument("url", help="start page, e.g. https://docs.example.com/guide/")
    out = crawl.add_argument_group("outputs")
    out.add_argument("-o", "--output", metavar="FILE",
                     help="combined Markdown file; - for standard output\n(default: <host>[_<port>]-<path>-<date>.md)")
    out.add_argument("--jsonl", metavar="FILE", help="also write one JSON object per page, in crawl order")
    out.add_argument("--events", metavar="FILE", help="also write every job event as one JSON line")
    out.add_argument("--dir", metavar="DIR", help="also write one .md file per page into DIR, mirroring the site's paths")
    out.add_argument("--llms", metavar="DIR", help="also write DIR/llms.txt and DIR/llms-full.txt")
    out.add_argument("--stats", metavar="FILE", help="also write the final summary as JSON (written for every run)")
    size = out.add_mutually_exclusive_group()
    size.add_argument("--max-tokens", metavar="N", type=_number(int, minimum=1),
                      help="stop adding pages to the combined document past N tokens")
    size.add_argument("--split-tokens", metavar="N", type=_number(int, minimum=MIN_SPLIT_TOKENS),
                      help="write the combined document in parts of at most N tokens each\n"
                           "(FILE.part-1.md, ...); a page is split only when it alone is larger")
    limits = crawl.add_argument_group("limits")
    limits.add_argument("--max-pages", metavar="N", type=_number(int, minimum=1, maximum=LIMITS["max_pages"],
                                                                   limit_name="LIMIT_MAX_PAGES"),
                        help=f"stop after N pages (default {DEFAULTS['max_pages']}, at most {LIMITS['max_pages']})")
    limits.add_argument("--max-depth", metavar="N", type=_number(int, minimum=0, maximum=LIMITS["max_depth"],
                                                                   limit_name="LIMIT_MAX_DEPTH"),
                        help=f"links to follow from the start page; 0 = the start page only\n"
                             f"(default {DEFAULTS['max_depth']}, at most {LIMITS['max_depth']})")
    limits.add_argument("--concurrency", metavar="N", type=_number(int, minimum=1, maximum=LIMITS["concurrency"],
                                                                     limit_name="LIMIT_CONCURRENCY"),
                        help=f"pages fetched at once (default {DEFAULTS['concurrency']}, "
                             f"at most {LIMITS['concurrency']})")
    limits.add_argument("--timeout", metavar="SECONDS",
                        type=_number(float, minimum=0.001, maximum=LIMITS["timeout"], limit_name="LIMIT_TIMEOUT_SECONDS"),
                        help=f"job deadline; what is done is kept (default {DEFAULTS['timeout']:g}, "
                             f"at most {LIMITS['timeout']:g})")
    scope = crawl.add_argument_group("scope (default: the start URL's directory on its host)")
    scope.add_argument("--include", action="append", default=[], metavar="GLOB",
                       help="only URLs matching, e.g. '/docs/**' or '*/tutorial/*' (repeatable)")
    scope.add_argument("--exclude", action="append", default=[], metavar="GLOB",
                       help="never URLs matching, e.g. '*/changelog/*' or '*.pdf' (repeatable)")
    scope.add_argument("--allow-domain", action="append", default=[], metavar="DOMAIN",
                       help="another host to crawl (*.example.com for subdomains)")
    scope.add_argument("--no-robots", action="store_true", help="ignore robots.txt")
    scope.add_argument("--no-sitemaps", action="store_true", help="do not seed from sitemaps")
    scope.add_argument("--allow-private-network", action="store_true",
                       help="allow loopback/private targets and any port (your own local docs)")
    crawl.add_argument("--render", choices=("auto", "always", "never"), default="auto",
                       help="render pages in Chromium: auto = only pages a script builds (default)")
    crawl.add_argument("-q", "--quiet", action="store_true", help="no progress display (the summary still prints)")
    state = crawl.add_argument_group("continuing an interrupted crawl")
    state.add_argument("--resume", action="store_true",
                       help="continue the interrupted crawl of the same URL and options (pages already done are "
                            "not fetched again); without it the same command starts over")
    state.add_argument("--state-dir", metavar="DIR",
                       help="where crawls keep their state for --resume (default: $DOCSPASTA_STATE_DIR, "
                            "else $XDG_STATE_HOME/docspasta, else ~/.local/state/docspasta)")
    remote = crawl.add_argument_group("crawling on a running deployment (docs: README, \"Crawling on a server\")")
    remote.add_argument("--server", metavar="URL",
                        help="run the crawl on this bridge (https://...) instead of this machine: the same\n"
                             "progress and outputs; Ctrl-C stops following (the job keeps running there)\n"
                             "and --resume re-attaches to it")
    remote.add_argument("--cancel", action="store_true",
                        help="with --server: cancel the job this command started (after Ctrl-C, or a lost\n"
                             "connection) and write what it fetched")
    remote.add_argument("--api-key", metavar="KEY",
                        help="the bridge's API key (default: $DOCSPASTA_API_KEY, or the file\n"
                             "$DOCSPASTA_API_KEY_FILE names)")
    serve = sub.add_parser("serve", help="run the whole system with the web page on this machine",
                           formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=_number(int, minimum=0, maximum=65535), default=8080,
                       help="HTTP port (0 picks a free one)")
    serve.add_argument("--allow-private-network", action="store_true",
                       help="allow loopback/private targets and any port (your own local docs)")
    mcp = sub.add_parser("mcp", help="a Model Context Protocol server over stdio, for LLM tools",
                         formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    mcp.add_argument("--server", metavar="URL",
                     help="a running bridge (https://...) to crawl with; default: a local stack started here")
    mcp.add_argument("--api-key", metavar="KEY", help="the bridge's API key (X-API-Key), with --server")
    mcp.add_argument("--allow-private-network", action="store_true",
                     help="(local stack) allow loopback/private targets and any port (your own local docs)")
    return parser


class UsageError(ValueError):
    """Bad arguments, with a message for a human."""


def check_url(text: str) -> str:
    """The start URL, normalised; UsageError with a hint when it is not one."""
    text = text.strip()
    if not text:
        raise UsageError("the URL is empty")
    if "://" not in text and _HOSTLIKE.match(text):
        raise UsageError(f"{text!r} has no scheme: add http:// or https:// (e.g. https://{text})")
    try:
        return normalize(text, fold_index=False)
    except InvalidURL as exc:
        raise UsageError(f"{text!r} is not a URL that can be crawled: {exc}") from None


def check_private(url: str, allowed: bool) -> None:
    if allowed:
        return  # nothing to check (and the bridge's validation module is not needed)
    from bridge.validation import Invalid, check_target

    try:
        check_target(url, allow_private_network=allowed)
    except Invalid:
        raise UsageError(f"{url} is on a loopback or private network: add --allow-private-network "
                         "to crawl your own local docs") from None


def _patterns_of(args: argparse.Namespace) -> None:
    for option, patterns in (("--include", args.include), ("--exclude", args.exclude)):
        for pattern in patterns:
            if not pattern.strip():
                raise UsageError(f"{option}: empty pattern")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "crawl":
        try:
            args.url = check_url(args.url)
            _patterns_of(args)
        except UsageError as exc:
            parser.exit(EXIT_USAGE, f"docspasta crawl: error: {exc}\n")
        return _crawl(args, parser, sys.argv[1:] if argv is None else argv)
    if args.command == "serve":
        settings = _settings(parser)
        from docspasta.serve_command import serve
        return serve(args, settings)
    if args.command == "mcp":
        if args.server and not args.server.startswith(("http://", "https://")):
            parser.exit(EXIT_USAGE, "docspasta mcp: error: --server: a bridge URL (http:// or https://)\n")
        settings = _settings(parser)
        try:
            from docspasta.mcp_server import run
        except ModuleNotFoundError as exc:
            if exc.name != "mcp" and not (exc.name or "").startswith("mcp."):
                raise
            parser.exit(EXIT_USAGE, "docspasta mcp: error: the MCP SDK is not installed: "
                                    "pip install 'docspasta[mcp]'\n")
        return run(args, settings)
    return EXIT_USAGE


def _settings(parser: argparse.ArgumentParser) -> CliSettings:
    from docspasta.cli_settings import CliSettings
    from docspasta.settings import SettingsError

    try:
        return CliSettings.from_env()
    except SettingsError as exc:
        parser.exit(EXIT_USAGE, f"docspasta: error: {exc}\n")


def _crawl(args: argparse.Namespace, parser: argparse.ArgumentParser, argv: list[str]) -> NoReturn:
    children = _start_children(args)
    try:
        code = _crawl_with(args, parser, argv, children)
    finally:
        for child in children:
            child.abandon()  # those the crawl did not take (an error before it); the rest are reaped
    # Everything is written and closed (stores, servers, children): the interpreter's
    # teardown of a process that imported gRPC, protobuf and the converter (~50 ms) does
    # nothing for the user.
    _flush_and_exit(code)


def _start_children(args: argparse.Namespace) -> list[ServiceProcess]:
    """The crawler and processor of a local crawl, forked before this process imports what
    only it needs."""
    from docspasta.cli_settings import CliSettings
    from docspasta.settings import SettingsError

    if args.server is not None or args.api_key is not None or args.cancel:
        return []  # a remote crawl (or a usage error that _crawl_with reports)
    try:
        if not CliSettings.local_processes_from_env():
            return []
    except SettingsError:
        return []  # reported by _settings
    from docspasta.service_process import start_forked

    return start_forked(("crawler", "processor"))


def _flush_and_exit(code: int) -> NoReturn:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass  # a closed pipe (docspasta crawl ... -o - | head): nothing more to say there
    os._exit(code)


def _crawl_with(args: argparse.Namespace, parser: argparse.ArgumentParser, argv: list[str],
                children: list[ServiceProcess]) -> int:
    from docspasta.crawl_command import CrawlPlan, OptionsError, crawl
    from docspasta.outputs import OutputError

    settings = _settings(parser)
    remote = None
    try:
        if args.server is not None or args.api_key is not None or args.cancel:
            from docspasta.remote_crawl import RemoteUsageError, remote_of
            try:
                remote = remote_of(args, settings, argv)
            except RemoteUsageError as exc:
                raise UsageError(str(exc)) from None
        if remote is None:  # a server applies its own policy to the targets it crawls
            check_private(args.url, args.allow_private_network)
        plan = CrawlPlan.from_args(args, settings, argv=argv)
    except (UsageError, OutputError, OptionsError) as exc:
        parser.exit(EXIT_USAGE, f"docspasta crawl: error: {exc}\n")
    if remote is not None:
        from docspasta.remote_crawl import crawl_remote
        return crawl_remote(plan, settings, remote)
    return crawl(plan, settings, children=children)


if __name__ == "__main__":
    sys.exit(main())
